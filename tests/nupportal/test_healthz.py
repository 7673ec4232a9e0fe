import copy
import json
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
    assert body["database"] == "unavailable"  # no driver text in public
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
    assert response.json()["cache"] == "unavailable"


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


@pytest.mark.django_db
def test_healthz_answers_plain_http_even_when_https_is_enforced(client, settings):
    """A 301 to https would make every health check (docker compose) succeed."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301  # the rest of the portal redirects
    with mock.patch.object(health, "_check_database", return_value="error: down"):
        assert client.get("/healthz").status_code == 503


def test_the_compose_health_check_fails_on_an_error_status():
    import yaml

    from tests.nupportal.test_deployment_files import ROOT

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    test = compose["services"]["web"]["healthcheck"]["test"]
    # -f makes curl fail on 4xx/5xx; following redirects (-L) would hide the 301.
    assert "curl" in test and "-fsS" in test and "-L" not in " ".join(test)
    assert test[-1].endswith("/healthz")


@pytest.mark.django_db
def test_public_healthz_says_unavailable_and_staff_see_the_driver_error(
    client, king_user, caplog
):
    driver_error = "error: could not connect to server at 10.0.0.5:6379"
    with mock.patch.object(health, "_check_cache", return_value=driver_error):
        public = client.get("/healthz").json()
        client.force_login(king_user)
        staff = client.get("/healthz").json()
    assert public["cache"] == "unavailable"
    assert "10.0.0.5" not in json.dumps(public)
    assert staff["cache"] == driver_error
    assert "10.0.0.5" in caplog.text  # the log keeps the details


@pytest.mark.django_db
def test_healthz_with_the_database_down_answers_publicly(client, king_user):
    client.force_login(king_user)
    with mock.patch.object(
        health, "_check_database", return_value="error: FATAL password for nup"
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
