"""What /healthz reports: each dependency `ok` or its error text."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone


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
    }
    return report, database == "ok"
