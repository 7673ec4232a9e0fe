"""A killed worker's task comes back within a bound tied to the task limits (issue 19)."""

from __future__ import annotations

from django.conf import settings

from nupportal.celery import app


def test_no_task_may_run_longer_than_the_longest_time_limit():
    app.loader.import_default_modules()
    portal_tasks = [
        task
        for name, task in app.tasks.items()
        if name.split(".")[0] in ("scoring", "reports", "agreements", "buildingblocks")
    ]
    assert portal_tasks
    for task in portal_tasks:
        limit = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        assert limit <= settings.CELERY_LONGEST_TASK_TIME_LIMIT, task.name


def test_the_visibility_timeout_outlasts_the_longest_task():
    # Shorter, and a task still running would be handed to a second worker.
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert options["visibility_timeout"] > settings.CELERY_LONGEST_TASK_TIME_LIMIT
    # One scan per look: the bound is the visibility timeout plus one interval.
    assert options["unacked_restore_throttle"] == 1
    assert options["unacked_restore_interval"] <= 10
