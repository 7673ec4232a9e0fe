"""Changing one's own password, and resetting a forgotten one by e-mail (issue 22)."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import translation

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Blauwe-Fiets-42-Zwolle"


@pytest.fixture
def cio(db):
    return UserFactory(username="cio-zwolle", email="cio@zwolle.example.nl")


def _url(name: str, language: str = "nl", **kwargs) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def _change(client, old: str, new: str, repeat: str | None = None):
    return client.post(
        _url("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": repeat or new},
    )


def _password_ok(user, password: str) -> bool:
    return get_user_model().objects.get(pk=user.pk).check_password(password)


# --- changing the password --------------------------------------------------------


def test_changing_the_password_needs_a_login(client):
    response = client.get(_url("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(_url("login") + "?next=")


def test_every_page_links_a_logged_in_user_to_the_password_change(client, cio):
    client.force_login(cio)
    html = client.get(reverse("scoring:overview")).content.decode()
    assert f'href="{_url("password_change")}"' in html
    assert "Wachtwoord wijzigen" in html


def test_a_user_changes_their_password_and_stays_logged_in(client, cio):
    client.force_login(cio)
    page = client.get(_url("password_change"))
    assert page.status_code == 200
    assert "<h1>Wachtwoord wijzigen</h1>" in page.content.decode()

    response = _change(client, "demo", NEW_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == _url("password_change_done")
    assert _password_ok(cio, NEW_PASSWORD)
    done = client.get(response["Location"])
    assert done.status_code == 200
    assert "Uw wachtwoord is gewijzigd." in done.content.decode()


def test_a_wrong_current_password_changes_nothing_and_says_so(client, cio):
    client.force_login(cio)
    response = _change(client, "wrong", NEW_PASSWORD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Verbeter de fouten hieronder." in html
    assert "Uw oude wachtwoord is niet juist ingevoerd." in html
    assert 'id="id_old_password_error"' in html
    assert _password_ok(cio, "demo")


def test_a_weak_new_password_is_refused_with_the_rules_shown(client, cio):
    client.force_login(cio)
    response = _change(client, "demo", "12345678")
    assert response.status_code == 200
    assert 'id="id_new_password2_error"' in response.content.decode()
    assert _change(client, "demo", NEW_PASSWORD, "something else").status_code == 200
    assert _password_ok(cio, "demo")


# --- resetting a forgotten password -------------------------------------------------


def test_the_login_page_links_to_the_reset(client):
    html = client.get(_url("login")).content.decode()
    assert f'href="{_url("password_reset")}"' in html
    assert "Wachtwoord vergeten?" in html


def _ask_reset(client, email: str, language: str = "nl"):
    return client.post(_url("password_reset", language), {"email": email})


def test_a_reset_does_not_reveal_whether_an_address_has_an_account(client, cio):
    known = _ask_reset(client, "cio@zwolle.example.nl")
    unknown = _ask_reset(client, "nobody@example.nl")

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == _url("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["cio@zwolle.example.nl"]
    page = client.get(known["Location"]).content.decode()
    assert "Als het adres bij een account hoort" in page


def _link_in(message) -> str:
    match = re.search(r"https?://\S+", message.body)
    assert match, message.body
    return match.group(0)


def test_the_reset_link_sets_a_new_password_once(client, cio, settings):
    _ask_reset(client, "CIO@zwolle.example.nl")
    message = mail.outbox[0]
    assert message.subject == "Kies een nieuw wachtwoord voor NUP Portal"
    assert "Beste cio-zwolle," in message.body
    link = _link_in(message)
    assert link.startswith(settings.NUP_BASE_URL + "/accounts/wachtwoord-vergeten/")
    path = link.removeprefix(settings.NUP_BASE_URL)

    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    assert "Kies een nieuw wachtwoord" in form_page.content.decode()
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == _url("password_reset_complete")
    assert _password_ok(cio, NEW_PASSWORD)
    used_again = client.get(path, follow=True).content.decode()
    assert "Deze link is ongeldig" in used_again


def test_the_reset_is_english_under_en(client, cio, settings):
    response = _ask_reset(client, "cio@zwolle.example.nl", "en")
    assert response["Location"] == _url("password_reset_done", "en")
    message = mail.outbox[0]
    assert message.subject == "Choose a new password for NUP Portal"
    assert _link_in(message).startswith(
        settings.NUP_BASE_URL + "/en/accounts/wachtwoord-vergeten/"
    )
    page = client.get(response["Location"]).content.decode()
    assert "If the address belongs to an account" in page


def test_a_bogus_reset_link_is_explained(client):
    url = _url("password_reset_confirm", uidb64="MQ", token="not-a-token")
    html = client.get(url).content.decode()
    assert "Deze link is ongeldig" in html
    assert f'href="{_url("password_reset")}"' in html


def test_the_reset_is_open_when_every_page_requires_a_login(client, cio, settings):
    settings.NUP_REQUIRE_LOGIN = True
    assert client.get(_url("password_reset")).status_code == 200
    assert _ask_reset(client, "cio@zwolle.example.nl").status_code == 302
    assert len(mail.outbox) == 1
