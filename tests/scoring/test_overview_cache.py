"""The overview's validators: an ETag per data version and language, revalidated
with a 304 (the page cache itself: tests/nupportal/test_pagecache.py)."""

from __future__ import annotations

from django.core.cache import cache

import pytest

from scoring.compute import recompute_all
from tests.factories import UserFactory
from tests.scoring.dashboard_world import build_dashboard


@pytest.fixture
def world(db):
    cache.clear()
    return build_dashboard()


def test_anonymous_overview_carries_an_etag_and_answers_304(client, world):
    first = client.get("/")
    assert first.status_code == 200
    etag = first["ETag"]
    assert first["Last-Modified"]
    again = client.get("/")
    assert again.content == first.content
    assert again["ETag"] == etag
    assert client.get("/", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_recompute_gives_a_new_version(client, world):
    etag = client.get("/")["ETag"]
    recompute_all()
    fresh = client.get("/", HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert fresh["ETag"] != etag


def test_languages_are_cached_apart(client, world):
    dutch = client.get("/")
    english = client.get("/en/")
    assert dutch["ETag"] != english["ETag"]
    assert english.content != dutch.content


def test_logged_in_users_get_the_page_uncached(client, world):
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert not response.has_header("ETag")
