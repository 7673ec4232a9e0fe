"""A test's language does not leak into the next one (tests/conftest.py)."""

from django.urls import reverse
from django.utils import translation

import pytest

pytestmark = pytest.mark.xdist_group("language_isolation")


@pytest.mark.django_db
def test_an_english_page_activates_english_in_this_thread(client):
    client.get("/en/methode/")
    assert translation.get_language() == "en"


def test_the_next_test_starts_in_dutch_again():
    assert translation.get_language() == "nl"
    assert reverse("login") == "/accounts/login/"
