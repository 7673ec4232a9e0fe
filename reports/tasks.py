"""Report generation in the background (DESIGN §6).

Thin: the task takes the report's id and calls `reports.generate.run_report`,
which owns the state (running with progress, done, failed with a reason) and
writes the file. Re-running a report regenerates the same file, so a task that
is redelivered after a worker died (acks_late) is harmless.
"""

from __future__ import annotations

import logging

from django.db import OperationalError
from django.utils import translation
from django.utils.translation import gettext as _

from celery import shared_task
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)

# What publishing raises when the broker cannot be reached (kombu wraps the
# Redis client's errors; sockets raise OSError).
BROKER_ERRORS = (KombuError, OSError)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=3,
    soft_time_limit=900,
    time_limit=960,
)
def generate_report(self, report_id: int) -> str:
    """Generate one report; returns its final state.

    A database error (down, or locked past the busy timeout) is retried with
    backoff; when the retries are used up the report fails and says why, rather
    than staying "queued" for ever.
    """
    from reports.generate import run_report

    try:
        return run_report(report_id)
    except OperationalError as exc:
        if self.request.retries >= self.max_retries:
            logger.exception("Report %s failed: database error", report_id)
            with translation.override(_report_language(report_id)):
                return _fail_report(report_id, database_error_reason(exc))
        raise self.retry(exc=exc, countdown=5 * 2**self.request.retries) from exc


def database_error_reason(exc: Exception) -> str:
    return _(
        "The report could not be made because the database was not available "
        "(%(error)s). Try again."
    ) % {"error": str(exc) or type(exc).__name__}


def enqueue_report(report_id: int) -> None:
    """Publish the task (call in `transaction.on_commit`).

    Only a broker failure is reported as "the job queue is unavailable"; in eager
    mode (unit tests) the report runs here, and its own errors keep their names.
    """
    try:
        generate_report.delay(report_id)
    except BROKER_ERRORS:  # broker down: say so on the report instead of a 500
        logger.exception("Could not enqueue report %s", report_id)
        _fail_report(
            report_id,
            _(
                "The report could not be queued (the job queue is unavailable). Try again later."
            ),
            only_queued=True,
        )
    except OperationalError as exc:  # eager mode: the database, not the queue
        logger.exception("Report %s failed: database error", report_id)
        _fail_report(report_id, database_error_reason(exc))


def _report_language(report_id: int) -> str | None:
    """The language the report was requested in (its failure is told in it too)."""
    from reports.models import Report

    parameters = (
        Report.objects.filter(pk=report_id).values_list("parameters", flat=True).first()
    )
    return (parameters or {}).get("language")


def _fail_report(report_id: int, reason: str, *, only_queued: bool = False) -> str:
    from django.utils import timezone

    from reports.models import Report

    rows = Report.objects.filter(pk=report_id)
    if only_queued:
        rows = rows.filter(state=Report.State.QUEUED)
    rows.update(state=Report.State.FAILED, error=reason, finished_at=timezone.now())
    return Report.State.FAILED
