"""Reading deployment settings from the environment, with clear errors.

Kept apart from settings.py so the parsing rules can be tested as plain functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

import environ

SUPPORTED_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql")


def database_config(url: str | None, *, default_sqlite: Path) -> dict[str, Any]:
    """Return a DATABASES['default'] dict for DATABASE_URL, or raise a clear error."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(default_sqlite),
            "OPTIONS": sqlite_options(),
        }
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL {_redact(url)!r} is not understood: use "
            "'postgres://user:password@host:5432/name' or 'sqlite:////path/to/db.sqlite3'."
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types
        raise ImproperlyConfigured(
            f"DATABASE_URL {_redact(url)!r} cannot be parsed: {exc}"
        ) from exc
    if config["ENGINE"].endswith("postgresql"):
        if not config.get("NAME"):
            raise ImproperlyConfigured(
                f"DATABASE_URL {_redact(url)!r} names no database (…/<name>)."
            )
        # Reused connections that notice a restarted server (see DESIGN §8).
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
    elif config["ENGINE"].endswith("sqlite3"):
        config.setdefault("OPTIONS", {}).update(sqlite_options())
    return config


def sqlite_options() -> dict[str, Any]:
    """SQLite for the demo's web server, worker and beat writing at the same time.

    A deferred transaction that reads first and then writes cannot wait for the
    lock (SQLite answers "database is locked" at once); IMMEDIATE takes the write
    lock at BEGIN, where the busy timeout applies. WAL lets readers go on while one
    process writes; NORMAL sync is safe in WAL mode and keeps commits short.
    """
    return {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }


def _redact(url: str) -> str:
    """Hide a password in a URL before it is shown in an error message."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def cache_config(
    redis_url: str | None, *, file_dir: Path | None = None
) -> dict[str, Any]:
    """Redis when configured (tolerant of outages), else files or local memory.

    The file cache is for the demo, where the web server, the worker and beat are
    separate processes that must share one cache (the recompute coalescing key).
    """
    if not redis_url and file_dir:
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(file_dir),
            "KEY_PREFIX": "nup",
        }
    if not redis_url:
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "nupportal",
        }
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL {_redact(redis_url)!r} is not understood: use "
            "'redis://host:6379/0'."
        )
    return {
        "BACKEND": "nupportal.cache.TolerantRedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": "nup",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


def broker_transport_options(
    broker_url: str, *, folder: Path, visibility_timeout: int, restore_interval: int
) -> dict[str, Any]:
    """Transport options for CELERY_BROKER_URL.

    `filesystem://` (the demo's broker, no server needed) keeps its messages in
    `folder`; Redis gets a redelivery timeout and short socket timeouts, so a
    save never hangs on a Redis that is down.
    """
    if broker_url.startswith("filesystem://"):
        queue, control = folder / "queue", folder / "control"
        for path in (queue, control):
            path.mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(control),
            # Files are polled: a short interval keeps "saved → scored" under 2 s.
            "polling_interval": 0.2,
        }
    return {
        # A task whose worker died is redelivered after this many seconds (acks_late).
        "visibility_timeout": visibility_timeout,
        # Scan Redis on every look, not on every 10th (kombu's default throttle).
        "unacked_restore_interval": restore_interval,
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 1,
        "socket_timeout": 2,
    }
