"""Response headers and session timeouts (issue 22)."""

from __future__ import annotations

import time

from django.conf import settings as django_settings
from django.urls import reverse

import pytest

from nupportal.middleware import LAST_SEEN, LOGGED_IN_AT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# --- Permissions-Policy and Cache-Control ------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", "/en/", "/gemeenten/", "/accounts/login/", "/healthz", "/no-such-page/"],
)
def test_every_response_denies_device_features(client, path):
    response = client.get(path)
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_a_static_file_has_a_permissions_policy_and_stays_cacheable(
    client, editor, settings
):
    # WhiteNoise serves from the finders here (no collectstatic in the tests).
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    client.force_login(editor)
    response = client.get(django_settings.STATIC_URL + "css/portal.css")
    assert response.status_code == 200
    assert "camera=()" in response["Permissions-Policy"]
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_logged_in_page_is_private_and_not_stored(client, editor, municipality):
    client.force_login(editor)
    for url in (
        municipality.get_absolute_url(),
        reverse("buildingblocks:history", args=[municipality.slug]),
        reverse("buildingblocks:edit", args=[municipality.slug]),
        reverse("scoring:overview"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, url
        assert "public" not in directives, url


def test_the_login_answer_that_sets_the_session_is_private(client):
    UserFactory(username="someone", password="demo-password-1")
    response = client.post(
        reverse("login"), {"username": "someone", "password": "demo-password-1"}
    )
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]


def test_an_anonymous_public_page_is_not_marked_private(client, municipality):
    response = client.get(municipality.get_absolute_url())
    assert "private" not in response.get("Cache-Control", "")


# --- session timeouts ----------------------------------------------------------------


def _age_session(client, **seconds_ago: int) -> None:
    session = client.session
    now = int(time.time())
    for key, ago in seconds_ago.items():
        session[key] = now - ago
    session.save()


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _mine(client):
    return client.get(reverse("buildingblocks:mine"))


def test_an_editor_is_logged_out_after_an_hour_without_requests(client, editor):
    client.force_login(editor)
    assert _mine(client).status_code == 200
    _age_session(client, **{LAST_SEEN: 61 * 60})

    response = _mine(client)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert not _logged_in(client)
    page = client.get(response["Location"])
    assert "U bent uitgelogd omdat u een tijd niet actief was." in page.content.decode()


def test_an_editor_idle_for_less_than_the_limit_stays_logged_in(client, editor):
    client.force_login(editor)
    _mine(client)
    _age_session(client, **{LAST_SEEN: 59 * 60})
    assert _mine(client).status_code == 200
    assert _logged_in(client)
    # The request counted as activity: the idle time starts again.
    assert int(time.time()) - client.session[LAST_SEEN] < 5


def test_king_staff_are_logged_out_after_thirty_minutes(client, king_user):
    client.force_login(king_user)
    _mine(client)
    _age_session(client, **{LAST_SEEN: 31 * 60})
    _mine(client)
    assert not _logged_in(client)


def test_the_idle_limit_comes_from_the_settings(client, editor, settings):
    settings.NUP_SESSION_IDLE_SECONDS = 5 * 60
    client.force_login(editor)
    _mine(client)
    _age_session(client, **{LAST_SEEN: 6 * 60})
    _mine(client)
    assert not _logged_in(client)


def test_an_active_session_still_ends_at_its_maximum_age(client, editor):
    client.force_login(editor)
    _mine(client)
    _age_session(client, **{LAST_SEEN: 10, LOGGED_IN_AT: 12 * 3600 + 60})
    _mine(client)
    assert not _logged_in(client)


def test_the_session_cookie_lasts_no_longer_than_the_maximum_age(client, editor):
    assert django_settings.SESSION_COOKIE_AGE == django_settings.NUP_SESSION_MAX_SECONDS
    assert django_settings.NUP_SESSION_MAX_SECONDS <= 24 * 3600
    client.force_login(editor)
    assert client.session.get_expiry_age() <= 12 * 3600


def test_last_seen_is_not_written_on_every_request(client, editor):
    client.force_login(editor)
    _mine(client)
    _age_session(client, **{LAST_SEEN: 20})
    before = client.session[LAST_SEEN]
    _mine(client)
    assert client.session[LAST_SEEN] == before


def test_the_clocks_start_at_the_login(client, editor):
    client.force_login(editor)
    now = int(time.time())
    assert now - client.session[LOGGED_IN_AT] < 5
    assert now - client.session[LAST_SEEN] < 5
