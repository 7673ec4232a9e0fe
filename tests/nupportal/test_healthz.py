import copy
import socket
from unittest import mock

from django.db import connections
from django.db.utils import OperationalError
from django.test import override_settings

import pytest

from nupportal import health


@pytest.mark.django_db
def test_healthz_reports_every_dependency(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert set(body) >= {"database", "cache", "broker", "worker", "scores_age_seconds"}
    assert body["cache"] == "ok"


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unreachable_database(db, tmp_path):
    """The default connection pointed at a database that cannot be reached.

    A real connection attempt that fails: PostgreSQL on a port nothing listens
    on, SQLite in a folder that does not exist. The test's own connection (and
    its transaction) is put back afterwards.
    """
    original = connections["default"]
    broken = connections.create_connection("default")
    broken.settings_dict = copy.deepcopy(original.settings_dict)
    if original.vendor == "postgresql":
        broken.settings_dict["PORT"] = _closed_port()
        broken.settings_dict["OPTIONS"]["connect_timeout"] = 2
    else:
        broken.settings_dict["NAME"] = str(tmp_path / "absent" / "db.sqlite3")
    connections["default"] = broken
    try:
        yield
    finally:
        broken.close()
        connections["default"] = original


def test_healthz_is_503_when_the_database_is_down(client, unreachable_database):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"].startswith("error")
    assert body["cache"] == "ok"  # only what is down is reported down


@pytest.mark.django_db
def test_database_check_turns_driver_errors_into_text():
    with mock.patch.object(
        health.connection, "cursor", side_effect=OperationalError("server closed")
    ):
        assert health._check_database() == "error: server closed"


@pytest.mark.django_db
@override_settings(
    REDIS_URL="redis://127.0.0.1:1/0",
    CACHES={
        "default": {
            "BACKEND": "nupportal.cache.TolerantRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    },
)
def test_healthz_reports_a_stopped_redis_without_crashing(client):
    """Port 1 has no Redis: the cache check says so, the page still answers."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["cache"].startswith("error")


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "nupportal.cache.TolerantRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
)
def test_tolerant_cache_treats_an_unreachable_redis_as_a_miss():
    from django.core.cache import caches

    cache = caches.create_connection("default")
    assert cache.set("k", "v") is None
    assert cache.get("k", "fallback") == "fallback"
    assert cache.add("k", "v") is True  # unknown: let the caller go ahead
    assert cache.get_many(["a", "b"]) == {}
