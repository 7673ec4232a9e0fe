"""Running one report: state, progress, the file in storage, a readable failure.

`run_report` is what the Celery task calls. It is idempotent: running it again
for the same report regenerates the file under the same name, replacing the
previous one, so a redelivered task (acks_late) does no harm.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from celery.exceptions import SoftTimeLimitExceeded

from reports.models import Report

logger = logging.getLogger(__name__)

Generator = Callable[[Report, IO[bytes], Callable[[int], None]], None]


class ReportError(Exception):
    """A report cannot be made for a reason the requester can act on."""


def _generators() -> dict[str, Generator]:
    from reports import exports, pdf, xlsx

    return {
        Report.Kind.PROGRESS: pdf.progress_report,
        Report.Kind.SCORECARD: pdf.scorecard,
        Report.Kind.COMPLIANCE: xlsx.compliance_workbook,
        Report.Kind.LAGGARDS: xlsx.laggards_workbook,
        Report.Kind.FULL_CSV: exports.full_csv,
        Report.Kind.FULL_XLSX: exports.full_xlsx,
    }


class _Progress:
    """Writes the percentage only when it changes (one UPDATE per step).

    On SQLite the generator's streaming read keeps a snapshot open on the
    default connection; a write on that connection after anyone else committed
    fails at once with "database is locked" (the busy timeout cannot help a
    snapshot that is out of date). So there, progress goes through a connection
    of its own, in autocommit.
    """

    def __init__(self, report_id: int):
        self.report_id = report_id
        self.last = -1
        # Not in a transaction (tests): a second connection could not see it.
        separate = (
            connection.vendor == "sqlite"
            and not connection.in_atomic_block
            and not connection.is_in_memory_db()
        )
        self._own = (
            connections.create_connection(DEFAULT_DB_ALIAS) if separate else None
        )

    def __call__(self, percent: int) -> None:
        percent = max(0, min(99, int(percent)))
        if percent == self.last:
            return
        self.last = percent
        if self._own is None:
            Report.objects.filter(pk=self.report_id).update(progress=percent)
            return
        with self._own.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Report._meta.db_table} SET progress = %s WHERE id = %s",
                [percent, self.report_id],
            )

    def close(self) -> None:
        if self._own is not None:
            self._own.close()


def run_report(report_id: int) -> str:
    """Generate the report's file; returns the final state."""
    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        return "missing"  # deleted before it ran
    language = report.parameters.get("language") or settings.LANGUAGE_CODE
    Report.objects.filter(pk=report_id).update(
        state=Report.State.RUNNING, progress=0, error="", started_at=timezone.now()
    )
    try:
        with translation.override(language):
            generate = _generators()[report.kind]
            progress = _Progress(report_id)
            try:
                with tempfile.TemporaryFile() as out:
                    generate(report, out, progress)
                    out.seek(0)
                    name = _store(report, out)
            finally:
                progress.close()
    except OperationalError:
        # The database went away: let the task retry (and say so meanwhile).
        Report.objects.filter(pk=report_id).update(state=Report.State.QUEUED)
        raise
    except SoftTimeLimitExceeded:
        return _fail(report_id, _("The report took too long to make and was stopped."))
    except ReportError as exc:
        return _fail(report_id, str(exc))
    except Exception as exc:
        logger.exception("Report %s (%s) failed", report_id, report.kind)
        return _fail(
            report_id,
            _(
                "The report could not be made because of an unexpected error (%(error)s)."
            )
            % {"error": type(exc).__name__},
        )
    updated = Report.objects.filter(pk=report_id).update(
        state=Report.State.DONE, progress=100, file=name, finished_at=timezone.now()
    )
    if not updated:  # deleted while it ran: do not leave the file behind
        default_storage.delete(name)
        return "missing"
    return Report.State.DONE


def _store(report: Report, out: IO[bytes]) -> str:
    name = report.storage_name
    # Same name on every run of this report: replace what an earlier run left.
    if report.file and report.file.name != name:
        report.file.delete(save=False)
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, File(out, name=name))


def _fail(report_id: int, reason: str) -> str:
    Report.objects.filter(pk=report_id).update(
        state=Report.State.FAILED, error=reason, finished_at=timezone.now()
    )
    return Report.State.FAILED
