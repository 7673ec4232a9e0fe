"""Recompute on commit: eager in the demo, through the broker otherwise, never failing a save."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from unittest import mock

from django.conf import settings as django_settings
from django.db import transaction

import pytest
from kombu.exceptions import OperationalError

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from scoring import tasks
from scoring.compute import recompute_all
from scoring.models import MunicipalityScore
from tests.celery_worker import (
    celery_worker,
    private_queue,
    route_to,
)
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    MunicipalityFactory,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scored(db):
    """One municipality with two blocks, not started, scores computed."""
    municipality = MunicipalityFactory()
    status = AdoptionStatusFactory(
        municipality=municipality, block=BuildingBlockFactory()
    )
    AdoptionStatusFactory(municipality=municipality, block=BuildingBlockFactory())
    recompute_all()
    assert MunicipalityScore.objects.get(municipality=municipality).score == 0
    return status


def save_in_use(status: AdoptionStatus) -> None:
    """What the status editor does: save, then enqueue on commit."""
    with transaction.atomic():
        status.level = Level.IN_USE
        status.save()
        transaction.on_commit(lambda: tasks.enqueue_recompute(status.municipality_id))


def test_eager_mode_recomputes_on_commit(
    scored, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):
        save_in_use(scored)
    assert MunicipalityScore.objects.get(municipality=scored.municipality).score == 50


def test_eager_full_recompute(scored, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    AdoptionStatus.objects.update(level=Level.IN_USE)
    tasks.enqueue_recompute_all()
    assert MunicipalityScore.objects.get(municipality=scored.municipality).score == 100


def test_a_failing_eager_recompute_is_logged_not_raised(scored, settings, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with mock.patch("scoring.compute.recompute_municipality", side_effect=RuntimeError):
        tasks.enqueue_recompute(scored.municipality_id)
    assert "nightly full recompute will catch up" in caplog.text


@pytest.mark.parametrize("enqueue", ["one", "all"])
def test_broker_down_is_logged_and_the_save_still_succeeds(
    scored, settings, caplog, django_capture_on_commit_callbacks, enqueue
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    down = OperationalError("Error 111 connecting to redis:6379. Connection refused.")
    with (
        mock.patch.object(
            tasks.recompute_municipality, "apply_async", side_effect=down
        ),
        mock.patch.object(tasks.recompute_all, "apply_async", side_effect=down),
        caplog.at_level(logging.ERROR, logger="scoring.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        if enqueue == "one":
            save_in_use(scored)
        else:
            tasks.enqueue_recompute_all()
    assert "Could not enqueue" in caplog.text
    if enqueue == "one":
        scored.refresh_from_db()
        assert scored.level == Level.IN_USE  # the save committed
    # The key is released so the next save tries again.
    from django.core.cache import cache

    assert cache.get(tasks._pending_key(scored.municipality_id)) is None


def test_a_burst_of_saves_enqueues_one_run(scored, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    m_id = scored.municipality_id
    with mock.patch.object(tasks.recompute_municipality, "apply_async") as publish:
        for _ in range(5):
            tasks.enqueue_recompute(m_id)
        assert publish.call_count == 1
        assert publish.call_args.kwargs["countdown"] == tasks.COALESCE_SECONDS
        # The run clears the key before computing: a later save schedules again.
        tasks.recompute_municipality.run(m_id)
        tasks.enqueue_recompute(m_id)
        assert publish.call_count == 2
        # Another municipality is not held back by the first one's key.
        tasks.enqueue_recompute(m_id + 1)
        assert publish.call_count == 3


def test_tasks_are_late_acked_retried_and_time_limited():
    for task in (
        tasks.recompute_municipality,
        tasks.recompute_all,
        tasks.snapshot_month,
    ):
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert task.autoretry_for
        assert task.retry_backoff
        assert task.max_retries
        assert task.soft_time_limit < task.time_limit


def test_beat_schedule_names_existing_tasks():
    from nupportal.celery import app

    for entry in django_settings.CELERY_BEAT_SCHEDULE.values():
        if entry["task"].startswith("scoring."):
            assert entry["task"] in app.tasks


def test_snapshot_month_task_rebuilds_recent_months(db):
    with mock.patch("scoring.history.snapshot_scores", return_value=7) as snapshot:
        assert tasks.snapshot_month.run() == 7
        assert snapshot.call_args.args[0].day == 1
        tasks.snapshot_month.run("2011-01-01")
        assert snapshot.call_args.args[0].isoformat() == "2011-01-01"


# --- a real worker ------------------------------------------------------------------


@pytest.fixture
def worker(transactional_db, monkeypatch, tmp_path):
    """A Celery worker subprocess on its own queue (see tests/celery_worker.py)."""
    queue = private_queue("test-scoring")
    route_to(monkeypatch, tasks.recompute_municipality, queue)
    with celery_worker(queue, log_path=tmp_path / "worker.log") as process:
        yield process


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_picks_up_a_saved_status(worker):
    municipality = MunicipalityFactory()
    status = AdoptionStatusFactory(
        municipality=municipality, block=BuildingBlockFactory()
    )
    recompute_all()
    assert MunicipalityScore.objects.get(municipality=municipality).score == 0

    save_in_use(status)  # transactional_db: on_commit runs right away

    deadline = time.monotonic() + 30
    score = 0
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the worker exited"
        score = MunicipalityScore.objects.get(municipality=municipality).score
        if score == 100:
            break
        time.sleep(0.2)
    assert score == 100
