"""Login throttling behind a proxy and against password spraying (issues 19, 22)."""

from __future__ import annotations

from django.test import RequestFactory
from django.urls import reverse

import pytest

from nupportal.throttling import client_ip
from tests.factories import UserFactory

PROXY = "203.0.113.5"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _login(client, username, password, **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, **extra
    )


def _request(**meta):
    return RequestFactory().post("/accounts/login/", **meta)


def test_without_a_proxy_the_forwarded_header_is_ignored(settings):
    settings.NUP_BEHIND_PROXY = False
    request = _request(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_ip(request) == PROXY


def test_behind_a_proxy_the_address_the_proxy_appended_counts(settings):
    settings.NUP_BEHIND_PROXY = True
    # The client wrote "1.2.3.4" itself; the proxy appended the address it saw.
    request = _request(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1")
    assert client_ip(request) == "198.51.100.1"


def test_behind_a_proxy_a_missing_or_garbled_header_falls_back(settings):
    settings.NUP_BEHIND_PROXY = True
    assert client_ip(_request(REMOTE_ADDR=PROXY)) == PROXY
    garbled = _request(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(garbled) == PROXY


def test_behind_a_proxy_each_client_is_locked_on_its_own(client, settings, db):
    settings.NUP_BEHIND_PROXY = True
    UserFactory(username="cio", password="demo")
    for _attempt in range(5):
        _login(
            client,
            "cio",
            "wrong",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="198.51.100.1",
        )
    locked = _login(
        client, "cio", "demo", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1"
    )
    assert locked.status_code == 429
    # Another client behind the same proxy is not locked out with the attacker.
    other = _login(
        client, "cio", "demo", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    assert other.status_code == 302


def test_without_a_proxy_a_forged_header_does_not_escape_the_lock(client, settings, db):
    settings.NUP_BEHIND_PROXY = False
    UserFactory(username="cio", password="demo")
    for attempt in range(5):
        _login(
            client,
            "cio",
            "wrong",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}",
        )
    forged = _login(
        client, "cio", "demo", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="10.9.9.9"
    )
    assert forged.status_code == 429


def test_one_address_spraying_many_user_names_is_locked_out(client, settings, db):
    settings.NUP_LOGIN_IP_FAILURE_LIMIT = 6
    UserFactory(username="victim", password="demo")
    # One wrong password per user name: no user name + address pair is ever locked.
    for number in range(6):
        response = _login(client, f"user{number}", "Welkom01", REMOTE_ADDR=PROXY)
        assert response.status_code == 200

    sprayed = _login(client, "victim", "demo", REMOTE_ADDR=PROXY)

    assert sprayed.status_code == 429
    assert "_auth_user_id" not in client.session
    # The limit is per address: the real user elsewhere still logs in.
    assert (
        _login(client, "victim", "demo", REMOTE_ADDR="198.51.100.7").status_code == 302
    )


def test_a_few_failures_from_one_address_do_not_lock_it(client, settings, db):
    settings.NUP_LOGIN_IP_FAILURE_LIMIT = 6
    UserFactory(username="victim", password="demo")
    for number in range(5):
        _login(client, f"user{number}", "Welkom01", REMOTE_ADDR=PROXY)
    assert _login(client, "victim", "demo", REMOTE_ADDR=PROXY).status_code == 302
