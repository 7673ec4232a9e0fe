"""Statuses stay consistent with their history: no admin deletion, one note limit (issue 22)."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.urls import reverse

import pytest

from buildingblocks import imports
from buildingblocks.levels import Level
from buildingblocks.mergers import carry_over
from buildingblocks.models import AdoptionStatus, StatusChange
from buildingblocks.services import StatusEdit, StatusValidationError, save_statuses
from buildingblocks.validation import NOTE_MAX_LENGTH, StatusValues, validate_status
from tests.buildingblocks.editing import change, form_data, make_blocks
from tests.factories import AdoptionStatusFactory

TODAY = datetime.date(2026, 1, 1)
TOO_LONG = "x" * (NOTE_MAX_LENGTH + 1)
DUTCH_ERROR = f"De toelichting is {NOTE_MAX_LENGTH + 1} tekens lang"


@pytest.fixture
def blocks(db):
    return make_blocks()


@pytest.fixture
def superuser_client(client, db):
    client.force_login(
        get_user_model().objects.create_superuser("root", "root@example.nl", "pw")
    )
    return client


def _admin_url(view: str, *args) -> str:
    return reverse(f"admin:buildingblocks_adoptionstatus_{view}", args=args)


# --- deleting a status in the admin --------------------------------------------------


@pytest.mark.parametrize("who", ["superuser", "king_staff"])
def test_a_status_cannot_be_deleted_in_the_admin(client, who, king_user, blocks):
    if who == "superuser":
        user = get_user_model().objects.create_superuser("root", "r@example.nl", "pw")
    else:
        user = king_user
    client.force_login(user)
    status = AdoptionStatusFactory(level=Level.IN_USE, block=blocks["digid"])

    page = client.get(_admin_url("delete", status.pk))
    post = client.post(_admin_url("delete", status.pk), {"post": "yes"})
    bulk = client.post(
        _admin_url("changelist"),
        {"action": "delete_selected", "_selected_action": [status.pk], "post": "yes"},
    )

    assert page.status_code == 403
    assert post.status_code == 403
    assert bulk.status_code in (200, 302)
    assert AdoptionStatus.objects.filter(pk=status.pk, level=Level.IN_USE).exists()


def test_the_change_page_says_how_to_withdraw_a_status(superuser_client, blocks):
    status = AdoptionStatusFactory(block=blocks["digid"])
    html = superuser_client.get(_admin_url("change", status.pk)).content.decode()
    assert "Een status kan niet worden verwijderd" in html
    assert "deletelink" not in html


def test_withdrawing_in_the_admin_writes_history_and_the_scorecard_agrees(
    superuser_client, blocks
):
    status = AdoptionStatusFactory(
        level=Level.IN_USE, achieved_date=TODAY, block=blocks["digid"]
    )
    response = superuser_client.post(
        _admin_url("change", status.pk),
        {
            "level": Level.NOT_STARTED,
            "planned_date": "",
            "achieved_date": "",
            "note": "",
            "evidence_url": "",
            "loaded_version": status.version,
        },
    )
    assert response.status_code == 302
    change_row = StatusChange.objects.get()
    assert (change_row.source, change_row.from_level, change_row.to_level) == (
        StatusChange.Source.ADMIN,
        Level.IN_USE,
        Level.NOT_STARTED,
    )


# --- one limit on the length of a note -----------------------------------------------


def test_the_rule_allows_the_limit_and_refuses_one_more():
    at_limit = StatusValues(level=Level.NOT_STARTED, note="x" * NOTE_MAX_LENGTH)
    assert validate_status(at_limit, today=TODAY) == {}
    errors = validate_status(
        StatusValues(Level.NOT_STARTED, note=TOO_LONG), today=TODAY
    )
    assert list(errors) == ["note"]


def test_the_service_refuses_a_five_million_character_note(
    editor, municipality, blocks
):
    with pytest.raises(StatusValidationError) as excinfo:
        save_statuses(
            user=editor,
            municipality=municipality,
            changes=[
                StatusEdit(
                    "digid", 0, StatusValues(Level.NOT_STARTED, note="x" * 5_000_000)
                )
            ],
        )
    assert list(excinfo.value.errors["digid"]) == ["note"]
    assert not AdoptionStatus.objects.exists()


def test_the_editor_shows_a_dutch_error_and_keeps_the_rest(
    client, editor, municipality, blocks
):
    client.force_login(editor)
    url = reverse("buildingblocks:edit", args=[municipality.slug])
    page = client.get(url)
    assert f'maxlength="{NOTE_MAX_LENGTH}"' in page.content.decode()
    data = change(form_data(page), "digid", note=TOO_LONG)

    response = client.post(url, data)

    assert response.status_code == 200
    assert DUTCH_ERROR in response.content.decode()
    assert not AdoptionStatus.objects.exists()
    assert not StatusChange.objects.exists()


def test_the_admin_refuses_a_too_long_note(superuser_client, blocks):
    status = AdoptionStatusFactory(block=blocks["digid"])
    response = superuser_client.post(
        _admin_url("change", status.pk),
        {
            "level": Level.NOT_STARTED,
            "note": TOO_LONG,
            "evidence_url": "",
            "loaded_version": status.version,
        },
    )
    assert response.status_code == 200
    assert DUTCH_ERROR in response.content.decode()
    status.refresh_from_db()
    assert status.note == ""


def test_the_import_uses_the_same_limit():
    assert imports.NOTE_MAX_LENGTH is NOTE_MAX_LENGTH


def test_a_merger_shortens_combined_notes_to_the_limit():
    long_reason = "r" * 3000
    values = carry_over(
        [
            ("A", StatusValues(Level.NOT_APPLICABLE, note=long_reason)),
            ("B", StatusValues(Level.NOT_APPLICABLE, note=long_reason)),
        ],
        date=TODAY,
    )
    assert len(values.note) == NOTE_MAX_LENGTH
    assert validate_status(values, today=TODAY) == {}
