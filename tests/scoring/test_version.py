"""The data version (scoring.version): cached for readers, moved by every writer."""

from __future__ import annotations

import datetime
import os

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from nupportal.cache import TolerantRedisCache
from scoring import version
from scoring.compute import recompute_all, recompute_municipality
from scoring.history import snapshot_scores
from tests.scoring.dashboard_world import build_dashboard

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = build_dashboard(4)
    recompute_all()
    return world


def queries_of(fn):
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    return result, len(captured.captured_queries)


def test_a_cached_version_costs_no_query(world):
    first, queries = queries_of(version.current_version)
    assert queries == 1
    again, queries = queries_of(version.current_version)
    assert queries == 0
    assert again == first
    assert first.stamps == version.read_stamps()


def test_a_recompute_moves_the_version_within_its_own_transaction(world):
    before = version.data_version()
    AdoptionStatus.objects.update(level=Level.IN_USE)
    recompute_all()
    after = version.data_version()
    assert after != before
    assert after == version.read_stamps()


def test_one_municipality_and_snapshots_move_it_too(world):
    before = version.current_version()
    municipality = world.municipalities[0]
    recompute_municipality(municipality.pk)
    middle = version.current_version()
    assert middle.stamps != before.stamps
    snapshot_scores(since=datetime.date(2024, 1, 1))
    assert version.current_version().stamps != middle.stamps


def test_the_commit_publishes_the_new_version(
    world, django_capture_on_commit_callbacks
):
    version.current_version()
    with django_capture_on_commit_callbacks(execute=True):
        recompute_all()
    published = cache.get(version.VERSION_KEY)
    assert isinstance(published, version.DataVersion)
    assert published.stamps == version.read_stamps()
    _, queries = queries_of(version.current_version)
    assert queries == 0


def test_a_reader_never_overwrites_what_a_writer_published(world, monkeypatch):
    """The reader read the old stamps before the writer's commit; the writer's
    publish came first, so the reader's add() fails and it takes the published one."""
    published = version.DataVersion(("newer",), "writer")
    real_read = version.read_stamps

    def read_then_writer_publishes():
        stamps = real_read()
        cache.set(version.VERSION_KEY, published, version.VERSION_SECONDS)
        return stamps

    monkeypatch.setattr(version, "read_stamps", read_then_writer_publishes)
    assert version.current_version() == published
    assert cache.get(version.VERSION_KEY) == published


def test_clearing_the_cache_gives_a_new_generation(world):
    first = version.current_version()
    cache.clear()
    second = version.current_version()
    assert second.stamps == first.stamps
    assert second.generation != first.generation


def test_the_redis_client_is_reused_across_calls():
    backend = TolerantRedisCache(
        os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15", {}
    )
    # Building the client does not connect: no server needed for this check.
    assert backend._cache.get_client() is backend._cache.get_client()
    assert backend._cache.get_client(write=True) is backend._cache.get_client()
