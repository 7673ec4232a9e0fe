"""Report generation in the background (DESIGN §6).

Thin: the task takes the report's id and calls `reports.generate.run_report`,
which owns the state (running with progress, done, failed with a reason) and
writes the file. Re-running a report regenerates the same file, so a task that
is redelivered after a worker died (acks_late) is harmless.
"""

from __future__ import annotations

import logging

from django.db import OperationalError
from django.utils.translation import gettext as _

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=900,
    time_limit=960,
)
def generate_report(report_id: int) -> str:
    """Generate one report; returns its final state."""
    from reports.generate import run_report

    return run_report(report_id)


def enqueue_report(report_id: int) -> None:
    """Publish the task (call in `transaction.on_commit`); a broker failure fails the report."""
    from reports.models import Report

    try:
        generate_report.delay(report_id)
    except Exception:  # broker down: say so on the report instead of a 500
        logger.exception("Could not enqueue report %s", report_id)
        Report.objects.filter(pk=report_id, state=Report.State.QUEUED).update(
            state=Report.State.FAILED,
            error=_(
                "The report could not be queued (the job queue is unavailable). Try again later."
            ),
        )
