"""The status editor /gemeenten/<slug>/bewerken/: formset, validation, tampering, conflicts."""

from __future__ import annotations

import datetime
import re
from unittest import mock

from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, StatusChange
from tests.buildingblocks.editing import change, form_data, make_blocks, prefix_of
from tests.factories import (
    AdoptionStatusFactory,
    EditorMembershipFactory,
    MunicipalityFactory,
    UserFactory,
)

PLANNED = datetime.date(2030, 6, 1)


@pytest.fixture
def blocks(db):
    return make_blocks()


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def edit_url(municipality, language: str = "nl") -> str:
    with translation.override(language):
        return reverse("buildingblocks:edit", kwargs={"slug": municipality.slug})


def status_of(municipality, code: str) -> AdoptionStatus:
    return AdoptionStatus.objects.get(municipality=municipality, block__code=code)


# --- the page ----------------------------------------------------------------


def test_every_active_block_is_on_the_page_grouped_by_category(
    editor_client, municipality, blocks
):
    AdoptionStatusFactory(
        municipality=municipality,
        block=blocks["digid"],
        level=Level.IMPLEMENTING,
        planned_date=PLANNED,
    )
    response = editor_client.get(edit_url(municipality, "en"))

    assert response.status_code == 200
    data = form_data(response)
    assert data["form-TOTAL_FORMS"] == "3"
    assert {
        data[f"{prefix_of(data, code)}-block"] for code in blocks if code != "retired"
    } == {
        "digid",
        "eherkenning",
        "brp",
    }
    with pytest.raises(KeyError):
        prefix_of(data, "retired")
    digid = prefix_of(data, "digid")
    assert data[f"{digid}-level"] == Level.IMPLEMENTING
    # Dates show as dd-mm-yyyy on English pages too.
    assert data[f"{digid}-planned_date"] == "01-06-2030"
    assert data[f"{digid}-version"] == "1"
    # A block without a row shows as not started, version 0 ("no row yet").
    brp = prefix_of(data, "brp")
    assert (data[f"{brp}-level"], data[f"{brp}-version"]) == (Level.NOT_STARTED, "0")
    html = response.content.decode()
    # One fieldset per category, with the category as legend, blocks inside.
    assert html.count('class="status-category"') == 2
    assert "<legend>Authentication</legend>" in html
    assert "<legend>Base registers</legend>" in html
    assert html.count('<fieldset class="status-block') == 3
    # A date is one text field (one tab stop), its format hint linked to it.
    assert 'type="date"' not in html
    control = re.search(rf'<input[^>]*id="id_{digid}-planned_date"[^>]*>', html)
    assert control and 'type="text"' in control.group(0)
    assert 'placeholder="dd-mm-yyyy"' in control.group(0)
    assert f'aria-describedby="id_{digid}-planned_date_helptext"' in control.group(0)
    assert f'id="id_{digid}-planned_date_helptext"' in html


def test_the_page_takes_a_constant_number_of_queries(
    editor_client, municipality, blocks, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):
        editor_client.get(edit_url(municipality))


def test_an_unknown_municipality_is_404(editor_client, blocks):
    response = editor_client.get("/gemeenten/does-not-exist/bewerken/")
    assert response.status_code == 404


# --- saving --------------------------------------------------------------------


def test_several_blocks_are_saved_in_one_post(
    editor_client, editor, municipality, blocks
):
    AdoptionStatusFactory(municipality=municipality, block=blocks["digid"])
    data = form_data(editor_client.get(edit_url(municipality)))
    change(data, "digid", level=Level.PREPARING, planned_date="2030-06-01")
    change(
        data,
        "brp",
        level=Level.IN_USE,
        achieved_date="2020-01-15",
        evidence_url="https://example.nl/brp",
    )

    response = editor_client.post(edit_url(municipality), data)

    assert response.status_code == 302
    assert response["Location"] == edit_url(municipality)
    digid, brp = status_of(municipality, "digid"), status_of(municipality, "brp")
    assert (digid.level, digid.planned_date, digid.version) == (
        Level.PREPARING,
        PLANNED,
        2,
    )
    assert (brp.level, brp.achieved_date, brp.evidence_url, brp.version) == (
        Level.IN_USE,
        datetime.date(2020, 1, 15),
        "https://example.nl/brp",
        1,
    )
    assert brp.updated_by == editor
    history = StatusChange.objects.filter(municipality=municipality)
    assert sorted(change.block.code for change in history) == ["brp", "digid"]
    assert {change.source for change in history} == {StatusChange.Source.FORM}
    assert {change.changed_by for change in history} == {editor}
    # The page after the redirect shows the saved values.
    data = form_data(editor_client.get(edit_url(municipality)))
    assert data[f"{prefix_of(data, 'brp')}-level"] == Level.IN_USE


def test_saving_an_unchanged_form_writes_nothing(editor_client, municipality, blocks):
    AdoptionStatusFactory(municipality=municipality, block=blocks["digid"])
    data = form_data(editor_client.get(edit_url(municipality)))

    response = editor_client.post(edit_url(municipality), data)

    assert response.status_code == 302
    assert AdoptionStatus.objects.count() == 1
    assert status_of(municipality, "digid").version == 1
    assert not StatusChange.objects.exists()


def test_a_note_only_change_is_saved_and_recorded(editor_client, municipality, blocks):
    AdoptionStatusFactory(municipality=municipality, block=blocks["digid"])
    data = form_data(editor_client.get(edit_url(municipality)))
    change(data, "digid", note="Kick-off with the supplier planned.")

    assert editor_client.post(edit_url(municipality), data).status_code == 302
    assert (
        status_of(municipality, "digid").note == "Kick-off with the supplier planned."
    )
    assert StatusChange.objects.get().note == "Kick-off with the supplier planned."


def test_a_save_succeeds_when_the_recompute_cannot_be_enqueued(
    editor_client, municipality, blocks, django_capture_on_commit_callbacks
):
    data = form_data(editor_client.get(edit_url(municipality)))
    change(data, "brp", level=Level.IN_USE)
    with (
        mock.patch(
            "scoring.tasks.enqueue_recompute",
            side_effect=ConnectionError("broker down"),
        ) as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = editor_client.post(edit_url(municipality), data)
    assert response.status_code == 302
    enqueue.assert_called_once_with(municipality.pk)
    assert status_of(municipality, "brp").level == Level.IN_USE


# --- validation -------------------------------------------------------------------

TODAY = timezone.localdate()
TOMORROW = TODAY + datetime.timedelta(days=1)

RULES = [
    pytest.param(
        {"level": Level.IN_USE, "achieved_date": TOMORROW.isoformat()},
        "achieved_date",
        "The achieved date cannot lie in the future.",
        id="achieved date in the future",
    ),
    pytest.param(
        {
            "level": Level.IMPLEMENTING,
            "planned_date": "2030-01-01",
            "achieved_date": "2020-01-01",
        },
        "achieved_date",
        "An achieved date is only possible for the level “In use”.",
        id="achieved date without in use",
    ),
    pytest.param(
        {"level": Level.PREPARING},
        "planned_date",
        "Give the planned date for a block that is being prepared or implemented.",
        id="preparing without planned date",
    ),
    pytest.param(
        {"level": Level.IMPLEMENTING},
        "planned_date",
        "Give the planned date for a block that is being prepared or implemented.",
        id="implementing without planned date",
    ),
    pytest.param(
        {"level": Level.NOT_APPLICABLE, "note": "   "},
        "note",
        "Explain in the note why this block does not apply.",
        id="not applicable without note",
    ),
    pytest.param(
        {"evidence_url": "ftp://example.nl/file"},
        "evidence_url",
        "The evidence link must be a web address starting with http:// or https://.",
        id="evidence url not http",
    ),
    pytest.param(
        {"evidence_url": "javascript:alert(1)"},
        "evidence_url",
        "The evidence link must be a web address starting with http:// or https://.",
        id="evidence url script",
    ),
    pytest.param(
        {"level": "finished"},
        "level",
        "Select a valid choice.",
        id="unknown level",
    ),
    pytest.param(
        {"planned_date": "31-02-2030"},
        "planned_date",
        "Enter an existing date as dd-mm-yyyy, for example 31-12-2030",
        id="impossible date",
    ),
]


@pytest.mark.parametrize(("values", "field", "message"), RULES)
def test_each_rule_is_shown_next_to_its_field_and_nothing_is_saved(
    editor_client, municipality, blocks, values, field, message
):
    url = edit_url(municipality, "en")
    data = form_data(editor_client.get(url))
    # A valid change elsewhere must not be saved either: all or nothing.
    change(data, "digid", level=Level.IN_USE)
    change(data, "brp", **values)

    response = editor_client.post(url, data)

    assert response.status_code == 200
    assert not AdoptionStatus.objects.exists()
    assert not StatusChange.objects.exists()
    html = response.content.decode()
    field_id = f"id_{prefix_of(data, 'brp')}-{field}"
    # The message sits next to the field and the field points at it.
    control = re.search(rf"<(input|select|textarea)[^>]*id=\"{field_id}\"[^>]*>", html)
    assert control, html
    assert 'aria-invalid="true"' in control.group(0)
    described_by = re.search(r'aria-describedby="([^"]*)"', control.group(0))
    assert described_by and f"{field_id}_error" in described_by.group(1).split()
    error_list = re.search(
        rf'<ul class="form-field__errors" id="{field_id}_error">(.*?)</ul>', html, re.S
    )
    assert error_list and message in error_list.group(1)
    # Its hidden "as loaded" copy carries no ARIA attributes.
    copy = re.search(rf'<input type="hidden" name="initial-{field_id[3:]}"[^>]*>', html)
    assert copy and "aria-" not in copy.group(0)
    # The summary at the top links to the field.
    summary = html[html.index('class="error-summary"') : html.index("<form method")]
    assert f'href="#{field_id}"' in summary
    assert message in summary


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize(
    "typed", ["01-06-2030", "1-6-2030", "2030-06-01", "01/06/2030", "01.06.2030"]
)
def test_a_date_is_accepted_as_dutch_day_month_year_or_iso(
    editor_client, municipality, blocks, language, typed
):
    url = edit_url(municipality, language)
    data = form_data(editor_client.get(url))
    change(data, "brp", level=Level.PREPARING, planned_date=typed)

    assert editor_client.post(url, data).status_code == 302
    assert status_of(municipality, "brp").planned_date == PLANNED
    shown = form_data(editor_client.get(url))
    assert shown[f"{prefix_of(shown, 'brp')}-planned_date"] == "01-06-2030"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("nl", "Vul een bestaande datum in als dd-mm-jjjj"),
        ("en", "Enter an existing date as dd-mm-yyyy"),
    ],
)
@pytest.mark.parametrize("typed", ["31-02-2030", "06-01-30", "1 juni 2030"])
def test_a_wrong_date_says_how_to_write_it_and_keeps_what_was_typed(
    editor_client, municipality, blocks, language, message, typed
):
    url = edit_url(municipality, language)
    data = form_data(editor_client.get(url))
    change(data, "brp", level=Level.PREPARING, planned_date=typed)

    response = editor_client.post(url, data)

    assert response.status_code == 200
    assert not AdoptionStatus.objects.exists()
    assert message in response.content.decode()
    again = form_data(response)
    assert again[f"{prefix_of(again, 'brp')}-planned_date"] == typed


def test_a_failed_form_keeps_every_typed_value(editor_client, municipality, blocks):
    url = edit_url(municipality)
    data = form_data(editor_client.get(url))
    typed = {
        "level": Level.PREPARING,
        "planned_date": "",
        "note": "Waiting for the <supplier> & budget",
        "evidence_url": "https://example.nl/plan?x=1&y=2",
    }
    change(data, "brp", **typed)
    change(data, "digid", level=Level.IN_USE, achieved_date="2021-03-04")

    response = editor_client.post(url, data)

    assert response.status_code == 200
    again = form_data(response)
    brp, digid = prefix_of(again, "brp"), prefix_of(again, "digid")
    for name, value in typed.items():
        assert again[f"{brp}-{name}"] == value
    assert again[f"{digid}-level"] == Level.IN_USE
    assert again[f"{digid}-achieved_date"] == "2021-03-04"
    # Fixing the one mistake and posting the page as it stands saves both blocks.
    change(again, "brp", planned_date="2030-06-01")
    assert editor_client.post(url, again).status_code == 302
    assert status_of(municipality, "brp").note == typed["note"]
    assert status_of(municipality, "digid").achieved_date == datetime.date(2021, 3, 4)


# --- tampering ----------------------------------------------------------------------


def _tampered(editor_client, municipality, tamper) -> int:
    url = edit_url(municipality)
    data = form_data(editor_client.get(url))
    change(data, "digid", level=Level.IN_USE)
    tamper(data)
    return editor_client.post(url, data).status_code


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda data: data.update(
                {f"{prefix_of(data, 'brp')}-block": "nonexistent"}
            ),
            id="unknown block code",
        ),
        pytest.param(
            lambda data: data.update({f"{prefix_of(data, 'brp')}-block": "retired"}),
            id="inactive block code",
        ),
        pytest.param(
            lambda data: data.update({f"{prefix_of(data, 'brp')}-block": "digid"}),
            id="block twice",
        ),
        pytest.param(
            lambda data: data.update(
                {
                    "form-TOTAL_FORMS": "4",
                    "form-3-block": "retired",
                    "form-3-version": "0",
                    "form-3-level": Level.IN_USE,
                }
            ),
            id="extra form",
        ),
        pytest.param(
            lambda data: data.pop("form-TOTAL_FORMS"), id="no management form"
        ),
        pytest.param(
            lambda data: data.update({f"{prefix_of(data, 'brp')}-version": "-1"}),
            id="negative version",
        ),
        pytest.param(
            lambda data: data.pop(f"{prefix_of(data, 'brp')}-version"),
            id="no version",
        ),
    ],
)
def test_tampered_block_codes_are_refused_and_nothing_is_saved(
    editor_client, municipality, blocks, tamper
):
    assert _tampered(editor_client, municipality, tamper) == 400
    assert not AdoptionStatus.objects.exists()
    assert not StatusChange.objects.exists()


def test_ids_of_another_municipality_in_the_post_are_ignored(
    editor_client, municipality, blocks
):
    other = MunicipalityFactory()
    theirs = AdoptionStatusFactory(municipality=other, block=blocks["brp"])

    def tamper(data):
        prefix = prefix_of(data, "brp")
        data.update(
            {
                "municipality": str(other.pk),
                f"{prefix}-municipality": str(other.pk),
                f"{prefix}-id": str(theirs.pk),
                f"{prefix}-level": Level.IN_USE,
            }
        )

    assert _tampered(editor_client, municipality, tamper) == 302
    theirs.refresh_from_db()
    assert (theirs.level, theirs.version) == (Level.NOT_STARTED, 1)
    # The edit landed on the municipality of the URL, the only one the form can touch.
    assert status_of(municipality, "brp").level == Level.IN_USE
    assert not StatusChange.objects.filter(municipality=other).exists()


# --- no lost update -------------------------------------------------------------------


@pytest.fixture
def colleague_client(db, municipality):
    colleague = EditorMembershipFactory(
        municipality=municipality,
        user=UserFactory(username="colleague", groups=["municipal_editor"]),
    ).user
    other = Client()
    other.force_login(colleague)
    return other


def test_a_stale_form_gets_a_conflict_and_the_first_save_survives(
    editor_client, colleague_client, municipality, blocks
):
    AdoptionStatusFactory(municipality=municipality, block=blocks["digid"])
    url = edit_url(municipality, "en")
    mine = form_data(editor_client.get(url))
    theirs = form_data(colleague_client.get(url))

    change(theirs, "digid", level=Level.PREPARING, planned_date="2030-06-01")
    assert colleague_client.post(url, theirs).status_code == 302
    change(mine, "digid", level=Level.IN_USE, note="went live")
    change(mine, "brp", level=Level.IN_USE)

    response = editor_client.post(url, mine)

    assert response.status_code == 409
    digid = status_of(municipality, "digid")
    assert (digid.level, digid.planned_date, digid.version) == (
        Level.PREPARING,
        PLANNED,
        2,
    )
    # All or nothing: the non-conflicting brp change was not saved either.
    assert not AdoptionStatus.objects.filter(block=blocks["brp"]).exists()
    assert StatusChange.objects.count() == 1
    html = response.content.decode()
    conflict = html[html.index('id="conflict-digid"') :]
    conflict = conflict[: conflict.index("</div>")]
    assert "colleague" in conflict
    assert "Not started" in conflict and "Preparing" in conflict
    assert "Planned date" in conflict
    assert 'href="#conflict-digid"' in html
    # The user's own values are kept; the versions are refreshed.
    again = form_data(response)
    digid_prefix, brp_prefix = prefix_of(again, "digid"), prefix_of(again, "brp")
    assert again[f"{digid_prefix}-level"] == Level.IN_USE
    assert again[f"{digid_prefix}-note"] == "went live"
    assert again[f"{digid_prefix}-version"] == "2"
    assert again[f"{brp_prefix}-level"] == Level.IN_USE

    # Submitting again applies the user's values deliberately.
    assert editor_client.post(url, again).status_code == 302
    digid.refresh_from_db()
    assert (digid.level, digid.note, digid.version) == (Level.IN_USE, "went live", 3)
    assert status_of(municipality, "brp").level == Level.IN_USE
    assert StatusChange.objects.filter(block=blocks["digid"]).count() == 2


def test_blocks_the_user_left_alone_never_overwrite_a_newer_save(
    editor_client, colleague_client, municipality, blocks
):
    url = edit_url(municipality)
    mine = form_data(editor_client.get(url))
    theirs = form_data(colleague_client.get(url))
    change(theirs, "digid", level=Level.PREPARING, planned_date="2030-06-01")
    assert colleague_client.post(url, theirs).status_code == 302

    # The stale page still shows digid as not started; the user only edits brp.
    change(mine, "brp", level=Level.IN_USE)
    assert editor_client.post(url, mine).status_code == 302

    assert status_of(municipality, "digid").level == Level.PREPARING
    assert status_of(municipality, "brp").level == Level.IN_USE
    assert StatusChange.objects.count() == 2


def test_after_a_conflict_untouched_blocks_show_the_current_values(
    editor_client, colleague_client, municipality, blocks
):
    url = edit_url(municipality)
    mine = form_data(editor_client.get(url))
    theirs = form_data(colleague_client.get(url))
    change(theirs, "digid", level=Level.IN_USE)
    change(theirs, "eherkenning", level=Level.PREPARING, planned_date="2030-06-01")
    assert colleague_client.post(url, theirs).status_code == 302
    change(mine, "digid", level=Level.NOT_APPLICABLE, note="Not for us")

    response = editor_client.post(url, mine)

    assert response.status_code == 409
    again = form_data(response)
    eherkenning = prefix_of(again, "eherkenning")
    assert again[f"{eherkenning}-level"] == Level.PREPARING
    assert again[f"{eherkenning}-version"] == "1"
    # A second save applies only the user's own change.
    assert editor_client.post(url, again).status_code == 302
    assert status_of(municipality, "digid").level == Level.NOT_APPLICABLE
    assert status_of(municipality, "eherkenning").level == Level.PREPARING
    assert StatusChange.objects.filter(block=blocks["eherkenning"]).count() == 1
