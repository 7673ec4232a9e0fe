"""What /healthz reports: each dependency `ok` or its error text.

The error texts come from drivers (host names, ports, sometimes SQL); the public
answer says only "unavailable" (see `public_report`), staff and the log get the text.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

UNAVAILABLE = "unavailable"


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return f"error: {exc}".strip()
    return "ok"


def _check_cache() -> str:
    if not settings.REDIS_URL:
        return "ok"
    try:
        client = cache._cache.get_client(write=True)  # bypass the tolerant wrapper
        client.ping()
    except Exception as exc:
        return f"error: {exc}"
    return "ok"


def _check_broker() -> str:
    from nupportal.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception as exc:
        return f"error: {exc}"
    return "ok"


def _check_worker(broker: str) -> str:
    from nupportal.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    if broker != "ok":
        return "unknown: broker unreachable"
    try:
        replies = app.control.ping(timeout=0.5)
    except Exception as exc:
        return f"error: {exc}"
    return "ok" if replies else "error: no worker answered"


def _scores_age_seconds(database: str) -> float | None:
    if database != "ok":
        return None
    try:
        from scoring.models import Aggregate

        # Every recompute rewrites the aggregates with its stamp (score rows only
        # where a figure changed), so the newest aggregate dates the last run;
        # the newest row has the highest id.
        latest = (
            Aggregate.objects.order_by("-id").values_list("computed_at", flat=True)
        ).first()
    except Exception:
        return None
    if latest is None:
        return None
    return round((timezone.now() - latest).total_seconds(), 1)


def _stale_count(database: str) -> int | None:
    """Municipalities whose latest save is not in their score yet (broker was down)."""
    if database != "ok":
        return None
    try:
        from scoring.queries import stale_municipality_ids

        return len(stale_municipality_ids())
    except Exception:
        return None


def collect_health() -> tuple[dict[str, Any], bool]:
    """Return the report and whether the portal can serve (the database is up)."""
    database = _check_database()
    broker = _check_broker()
    report: dict[str, Any] = {
        "database": database,
        "cache": _check_cache(),
        "broker": broker,
        "worker": _check_worker(broker),
        "scores_age_seconds": _scores_age_seconds(database),
        "stale_municipalities": _stale_count(database),
    }
    return report, database == "ok"


def public_report(report: dict[str, Any]) -> dict[str, Any]:
    """The report with every error text replaced by "unavailable"."""
    return {
        key: UNAVAILABLE if isinstance(value, str) and _is_error(value) else value
        for key, value in report.items()
    }


def log_errors(report: dict[str, Any]) -> None:
    for key, value in report.items():
        if isinstance(value, str) and _is_error(value):
            logger.warning("healthz: %s %s", key, value)


def _is_error(value: str) -> bool:
    return value.startswith("error")
