"""Language of parts (WCAG 3.1.2): text in the other language says so with `lang`."""

from __future__ import annotations

import pytest

from tests.factories import BuildingBlockFactory, ResultAgreementFactory

pytestmark = pytest.mark.django_db


def test_an_english_page_shows_the_english_description(client):
    ResultAgreementFactory(
        number=3, description="Nederlandse tekst.", description_en="English text."
    )
    html = client.get("/en/resultaatafspraken/3/").content.decode()
    assert '<p lang="en">English text.</p>' in html
    assert "Nederlandse tekst." not in html


def test_a_dutch_description_on_an_english_page_is_marked_dutch(client):
    ResultAgreementFactory(number=5, description="Nederlandse tekst.")
    html = client.get("/en/resultaatafspraken/5/").content.decode()
    assert '<p lang="nl">Nederlandse tekst.</p>' in html


def test_the_english_source_note_on_a_dutch_page_is_marked_english(client):
    ResultAgreementFactory(number=7, source_note="Date not seen.")
    html = client.get("/resultaatafspraken/7/").content.decode()
    assert '<dd lang="en">Date not seen.</dd>' in html


def test_a_block_without_english_name_is_marked_dutch_on_an_english_page(client):
    BuildingBlockFactory(
        code="berichtenbox", name="Berichtenbox", name_en="", description_en=""
    )
    html = client.get("/en/bouwstenen/berichtenbox/").content.decode()
    assert '<h1 lang="nl">Berichtenbox</h1>' in html
