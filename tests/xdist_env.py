"""Give each pytest-xdist worker a Redis database of its own.

Loaded with `-p tests.xdist_env` (pyproject.toml), so it runs before pytest-django
reads the settings. The tests empty the cache before and after each test and use
Redis as the Celery broker; two workers sharing one database would wipe each
other's cache and queues. Worker gwN uses database (D - N), where D is the one in
REDIS_URL (15 in .ci/run), so workers never meet the developer's own database 0.
PostgreSQL needs nothing here: pytest-django already gives each worker its own
test database (test_<name>_gwN).
"""

from __future__ import annotations

import os
import urllib.parse


def worker_redis_url(url: str, worker: str) -> str:
    """`redis://h:p/15`, worker "gw2" → `redis://h:p/13` (never below database 1)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.strip("/")
    base = int(path) if path.isdigit() else 15
    index = int(worker.removeprefix("gw") or 0)
    database = max(1, base - index)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))


def _configure() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker:
        return
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("redis://", "rediss://")):
            os.environ.setdefault(f"NUP_{name}_BEFORE_XDIST", url)
            os.environ[name] = worker_redis_url(url, worker)


_configure()
