"""A report's progress reaches "done" through a real Celery worker (CI: Redis + PostgreSQL)."""

from __future__ import annotations

import time

from django.core.files.storage import default_storage

import pytest

from reports.models import Report
from reports.tasks import enqueue_report
from tests.factories import AdoptionStatusFactory


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_generates_a_report(report_worker):
    AdoptionStatusFactory.create_batch(3)
    report = Report.objects.create(
        kind=Report.Kind.FULL_CSV, parameters={"language": "en"}
    )
    enqueue_report(report.pk)

    states = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert report_worker.poll() is None, "the worker exited"
        report.refresh_from_db()
        states.add(report.state)
        if report.state in (Report.State.DONE, Report.State.FAILED):
            break
        time.sleep(0.2)
    assert report.state == Report.State.DONE, report.error
    assert report.progress == 100 and report.started_at and report.finished_at
    assert default_storage.exists(report.file.name)
