"""Background jobs that keep the scores current (DESIGN §6).

Tasks are thin: they take primary keys and call scoring.compute / scoring.history.
Code that changes scores calls `recompute_after_commit(municipality_id)` (the
status editor) or `recompute_after_commit()` (imports, mergers, deadline
revisions) inside its transaction; reference-data loads call
`enqueue_recompute_all()`. Both tolerate a broker that is down: the save has
committed, the failure is logged, and the nightly full recompute catches up.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from celery import shared_task

logger = logging.getLogger(__name__)

# Saves of one municipality within this window are folded into one recompute.
COALESCE_SECONDS = 0.5
# The key outlives the countdown so a stuck queue cannot leave it set forever.
_PENDING_TIMEOUT = 60

_RETRY_POLICY: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 5,
}


def _pending_key(municipality_id: int) -> str:
    return f"scoring:recompute-pending:{municipality_id}"


def _pending_all_key() -> str:
    return "scoring:recompute-all-pending"


@shared_task(**_RETRY_POLICY, soft_time_limit=60, time_limit=90)
def recompute_municipality(municipality_id: int) -> dict[str, int]:
    """Recompute one municipality's score and compliance, then the aggregates."""
    from scoring.compute import recompute_municipality as compute

    # Cleared first: a save that lands while we compute schedules a fresh run.
    cache.delete(_pending_key(municipality_id))
    return compute(municipality_id)


@shared_task(**_RETRY_POLICY, soft_time_limit=600, time_limit=720)
def recompute_all() -> dict[str, int]:
    """Recompute every municipality and every aggregate (nightly, after bulk changes)."""
    from scoring.compute import recompute_all as compute

    cache.delete(_pending_all_key())
    return compute()


# Beyond this many stale municipalities one full recompute is cheaper.
CATCH_UP_ONE_BY_ONE = 20


@shared_task(**_RETRY_POLICY, soft_time_limit=600, time_limit=720)
def catch_up_stale_scores() -> int:
    """Recompute the municipalities saved while their recompute could not be queued.

    Beat sends this every minute: when the broker comes back, the saves made
    while it was down reach the scores within a minute, not at the nightly run.
    Returns how many municipalities were stale.
    """
    from scoring.compute import recompute_all as compute_all
    from scoring.compute import recompute_municipality as compute
    from scoring.queries import stale_municipality_ids

    stale = stale_municipality_ids()
    if len(stale) > CATCH_UP_ONE_BY_ONE:
        compute_all()
    else:
        for municipality_id in stale:
            compute(municipality_id)
    if stale:
        logger.info("Caught up the scores of %s municipalities.", len(stale))
    return len(stale)


@shared_task(**_RETRY_POLICY, soft_time_limit=600, time_limit=720)
def snapshot_month(since: str | None = None) -> int:
    """Rebuild monthly snapshots from `since` (ISO date; default: the last two months).

    Run by beat on the first of the month, so the month that just ended is
    final; the month before is rebuilt too in case late history arrived.
    """
    from scoring.history import snapshot_scores

    if since:
        start = datetime.date.fromisoformat(since)
    else:
        today = timezone.localdate()
        start = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
        start = (start - datetime.timedelta(days=1)).replace(day=1)
    return snapshot_scores(start)


def _publish(task, *, countdown: float, description: str) -> bool:
    """Send a task to the broker; log and return False when that fails."""
    try:
        task.apply_async(countdown=countdown)
    except Exception:  # broker down, DNS, timeouts: the save must still succeed
        logger.exception(
            "Could not enqueue %s; the nightly full recompute will catch up.",
            description,
        )
        return False
    return True


def enqueue_recompute(municipality_id: int) -> None:
    """Schedule a recompute of one municipality; call it in `transaction.on_commit`.

    Bursts coalesce: the first save in a window sets a cache key and publishes
    the task with a short countdown; later saves see the key and do nothing.
    The task deletes the key before computing, so a save after that point
    schedules another run. In eager mode (no broker) it computes right away.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # No broker (the demo): compute in-process, without eager retry loops.
        from scoring.compute import recompute_municipality as compute

        try:
            compute(municipality_id)
        except Exception:
            logger.exception(
                "Recomputing municipality %s failed; the nightly full recompute "
                "will catch up.",
                municipality_id,
            )
        return
    key = _pending_key(municipality_id)
    if not cache.add(key, 1, timeout=_PENDING_TIMEOUT):
        # A run is already scheduled and has not started yet: it will see this save.
        return
    published = _publish(
        recompute_municipality.s(municipality_id),
        countdown=COALESCE_SECONDS,
        description=f"recompute of municipality {municipality_id}",
    )
    if not published:
        # Let the next save try again rather than waiting out the key.
        cache.delete(key)


def enqueue_recompute_all() -> None:
    """Schedule a full recompute (after imports, mergers, reference-data changes)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        from scoring.compute import recompute_all as compute

        try:
            compute()
        except Exception:
            logger.exception(
                "Full recompute failed; the nightly full recompute will catch up."
            )
        return
    key = _pending_all_key()
    if not cache.add(key, 1, timeout=_PENDING_TIMEOUT):
        return
    if not _publish(recompute_all.s(), countdown=1, description="full recompute"):
        cache.delete(key)


def recompute_after_commit(municipality_id: int | None = None) -> None:
    """Once the transaction commits, recompute one municipality's scores, or (None) all.

    The one way writes ask for a recompute: the status editor for its
    municipality; imports, mergers and deadline revisions for all.
    """
    transaction.on_commit(lambda: _enqueue_after_commit(municipality_id))


def _enqueue_after_commit(municipality_id: int | None) -> None:
    # A failure here must never fail a save that has already committed.
    try:
        if municipality_id is None:
            enqueue_recompute_all()
        else:
            enqueue_recompute(municipality_id)
    except Exception:
        logger.exception(
            "Could not request a score recompute (municipality %s); "
            "the nightly full recompute will catch up.",
            "all" if municipality_id is None else municipality_id,
        )
