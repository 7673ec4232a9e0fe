"""Each xdist worker gets its own Redis database (tests/xdist_env.py)."""

from __future__ import annotations

import os

from django.conf import settings

import pytest

from tests.xdist_env import worker_redis_url


def test_workers_count_down_from_the_configured_database():
    assert worker_redis_url("redis://127.0.0.1:6379/15", "gw0") == (
        "redis://127.0.0.1:6379/15"
    )
    assert worker_redis_url("redis://127.0.0.1:6379/15", "gw1") == (
        "redis://127.0.0.1:6379/14"
    )
    assert worker_redis_url("redis://:secret@redis:6379/15", "gw3") == (
        "redis://:secret@redis:6379/12"
    )


def test_a_url_without_a_database_starts_at_15_and_never_reaches_database_0():
    assert worker_redis_url("redis://127.0.0.1:6379", "gw2") == (
        "redis://127.0.0.1:6379/13"
    )
    assert worker_redis_url("redis://127.0.0.1:6379/2", "gw5") == (
        "redis://127.0.0.1:6379/1"
    )


@pytest.mark.skipif(
    not (
        os.environ.get("PYTEST_XDIST_WORKER")
        and os.environ.get("NUP_REDIS_URL_BEFORE_XDIST")
    ),
    reason="runs under `make test` (xdist workers) with REDIS_URL set",
)
def test_this_worker_uses_the_database_for_its_number():
    worker = os.environ["PYTEST_XDIST_WORKER"]
    configured = os.environ["NUP_REDIS_URL_BEFORE_XDIST"]
    assert worker_redis_url(configured, worker) == settings.REDIS_URL
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
