"""Small things people notice: the favicon, the language switch on a 404, words."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders
from django.utils import translation

import pytest


@pytest.mark.django_db
def test_every_page_names_the_portals_own_favicon(client):
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg"' in html
    icon = finders.find("img/favicon.svg")
    assert icon and "<svg" in Path(icon).read_text(encoding="utf-8")


@pytest.mark.django_db
def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/img/favicon.svg"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "dutch", "english"),
    [
        ("/en/bestaat-niet/", "/bestaat-niet/", "/en/bestaat-niet/"),
        ("/bestaat-niet/", "/bestaat-niet/", "/en/bestaat-niet/"),
    ],
)
def test_the_language_switch_of_a_404_page_leads_to_the_other_language(
    client, path, dutch, english
):
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    assert f'<a href="{dutch}" lang="nl" hreflang="nl"' in html
    assert f'<a href="{english}" lang="en" hreflang="en"' in html


def test_the_state_of_a_report_is_its_status_in_dutch():
    with translation.override("nl"):
        assert translation.gettext("State") == "Status"
