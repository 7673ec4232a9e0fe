"""Import rules a user relies on: empty means unchanged, stray quotes are caught,
the template passes its own dry run, the preview speaks Dutch, and an apply from a
stale preview overwrites nothing."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

from django.db.models import F
from django.urls import reverse
from django.utils import translation

import pytest

from buildingblocks.import_service import (
    ImportConflict,
    apply_import,
    dry_run_with_versions,
)
from buildingblocks.imports import (
    CLEAR_MARKER,
    TEMPLATE_BLOCKS,
    TEMPLATE_MUNICIPALITY,
    ImportFileError,
    read_table,
    template_csv,
)
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, ImportBatch, StatusChange
from buildingblocks.validation import StatusValues
from tests.buildingblocks.test_imports import (
    LIMITS,
    TODAY,
    csv_bytes,
    make_batch,
    plan,
    raw,
    upload,
)
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    MunicipalityFactory,
)

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- strict CSV -----------------------------------------------------------------


@pytest.mark.parametrize(
    "lines",
    [
        # The quote opens a cell that would run to the end of the file.
        ['GM0001,digid,in_use,,,"Gepland,', "GM0002,digid,in_use,,,,"],
        # The quote closes on a later line: the row between would vanish.
        ['GM0001,digid,in_use,,,"Gepland', 'GM0002,digid,in_use,,,x",'],
        # Text right after a closing quote.
        ['GM0001,digid,in_use,,,"Gepland" in Q2,', "GM0002,digid,in_use,,,,"],
    ],
)
def test_a_stray_quote_is_refused_naming_its_row(lines):
    with pytest.raises(ImportFileError, match="Row 2 has a quote"):
        read_table(csv_bytes(*lines), "x.csv", **LIMITS)


def test_a_quoted_note_over_several_lines_is_still_read():
    data = csv_bytes(
        'GM0001,digid,in_use,,,"eerste regel\ntweede, regel",',
        "GM0002,digid,in_use,,,,",
    )
    rows = read_table(data, "x.csv", **LIMITS)
    assert [raw["note"] for _n, raw in rows] == ["eerste regel\ntweede, regel", ""]


def test_a_line_break_outside_the_note_is_a_stray_quote():
    data = csv_bytes('GM0001,"digid\nGM0002",in_use,,,,')
    with pytest.raises(ImportFileError, match="Row 2 has a quote"):
        read_table(data, "x.csv", **LIMITS)


def test_the_preview_of_a_file_with_a_stray_quote_names_the_row(client, king_user):
    client.force_login(king_user)
    data = csv_bytes(
        "GM0001,digid,in_use,,,,",
        'GM0002,digid,in_use,,,"vergeten aanhalingsteken,',
        "GM0003,digid,in_use,,,,",
        "GM0004,digid,in_use,,,,",
    )
    response = upload(client, "x.csv", data)
    assert response.status_code == 400
    assert "Row 3 has a quote" in " ".join(response.context["form"].errors["file"])
    assert ImportBatch.objects.count() == 0


# --- empty means unchanged ------------------------------------------------------

CURRENT = {
    ("GM0001", "digid"): StatusValues(
        Level.IMPLEMENTING,
        planned_date=datetime.date(2026, 9, 1),
        note="bezig",
        evidence_url="https://example.nl/plan",
    )
}


def test_an_empty_cell_leaves_the_field_unchanged():
    result = plan(raw(level="implementing", note="bijna"), current=CURRENT)
    assert result.ok
    values = result.changes[0].values
    assert values.planned_date == datetime.date(2026, 9, 1)
    assert values.evidence_url == "https://example.nl/plan"
    assert [c.field for c in result.changes[0].changes] == ["note"]


def test_an_empty_level_keeps_the_level():
    result = plan(raw(level="", note="bijna"), current=CURRENT)
    assert result.ok
    assert result.changes[0].values.level == Level.IMPLEMENTING


@pytest.mark.parametrize("marker", [CLEAR_MARKER, "#LEEG", "#empty"])
def test_the_clear_marker_empties_a_field(marker):
    result = plan(raw(level="", note=marker, evidence_url=marker), current=CURRENT)
    assert result.ok
    assert [(c.field, c.new) for c in result.changes[0].changes] == [
        ("note", ""),
        ("evidence_url", ""),
    ]


def test_a_kept_value_that_no_longer_fits_says_how_to_clear_it():
    current = {
        ("GM0001", "digid"): StatusValues(
            Level.IN_USE, achieved_date=datetime.date(2020, 1, 1)
        )
    }
    result = plan(raw(level="implementing", planned_date="2027-01-01"), current=current)
    assert [(e.column) for e in result.errors] == ["achieved_date"]
    assert CLEAR_MARKER in result.errors[0].message
    fixed = plan(
        raw(
            level="implementing", planned_date="2027-01-01", achieved_date=CLEAR_MARKER
        ),
        current=current,
    )
    assert fixed.ok


# --- the template ---------------------------------------------------------------


def _reference_codes(name: str, column: str) -> set[str]:
    with (REFERENCE / name).open(encoding="utf-8") as handle:
        return {row[column] for row in csv.DictReader(handle)}


def test_the_template_uses_real_codes():
    assert TEMPLATE_MUNICIPALITY in _reference_codes("municipalities.csv", "cbs_code")
    assert set(TEMPLATE_BLOCKS) <= _reference_codes("building_blocks.csv", "code")


@pytest.mark.parametrize(
    "current",
    [
        {},  # no status recorded yet
        {
            "digid": dict(
                level=Level.PREPARING, planned_date=datetime.date(2026, 1, 1)
            ),
            "mijnoverheid_berichtenbox": dict(
                level=Level.IN_USE, achieved_date=datetime.date(2014, 5, 1)
            ),
        },
    ],
)
def test_the_downloaded_template_passes_its_own_dry_run(client, king_user, current):
    municipality = MunicipalityFactory(cbs_code=TEMPLATE_MUNICIPALITY, name="Amsterdam")
    blocks = {code: BuildingBlockFactory(code=code) for code in TEMPLATE_BLOCKS}
    for code, values in current.items():
        AdoptionStatusFactory(municipality=municipality, block=blocks[code], **values)
    client.force_login(king_user)

    response = upload(
        client,
        "sjabloon.csv",
        client.get(reverse("buildingblocks:import-template")).content,
    )
    preview = client.get(response["Location"])

    assert preview.context["plan"].ok, preview.context["plan"].errors
    assert preview.context["plan"].rows == 2
    assert "#leeg" in template_csv(TODAY)


# --- the preview speaks Dutch ---------------------------------------------------


def test_the_preview_shows_level_labels_field_names_and_dates_in_dutch(
    client, king_user
):
    municipality = MunicipalityFactory(cbs_code="GM0001")
    block = BuildingBlockFactory(code="digid")
    AdoptionStatusFactory(
        municipality=municipality,
        block=block,
        level=Level.PREPARING,
        planned_date=datetime.date(2026, 9, 1),
    )
    client.force_login(king_user)
    upload(client, "x.csv", csv_bytes("GM0001,digid,implementing,2026-10-01,,,"))

    with translation.override("nl"):
        html = client.get(ImportBatch.objects.get().get_absolute_url()).content.decode()
    changes = html[html.index('id="changes-heading"') :]
    assert "In voorbereiding" in changes and "In implementatie" in changes
    assert "Geplande datum" in changes
    assert "1 oktober 2026" in changes
    assert ">implementing<" not in changes and ">preparing<" not in changes


# --- a stale preview ------------------------------------------------------------


@pytest.fixture
def two_statuses(db, monkeypatch):
    monkeypatch.setattr("scoring.tasks.enqueue_recompute_all", lambda: None)
    municipality = MunicipalityFactory(cbs_code="GM0001")
    blocks = [BuildingBlockFactory(code="digid"), BuildingBlockFactory(code="bag")]
    return [
        AdoptionStatusFactory(
            municipality=municipality, block=b, level=Level.NOT_STARTED
        )
        for b in blocks
    ]


def _rows():
    return [
        (2, raw(level="in_use", achieved_date="2026-01-01")),
        (3, raw(building_block="bag", level="in_use", achieved_date="2026-01-01")),
    ]


def test_a_status_saved_after_the_dry_run_makes_the_apply_refuse_naming_the_row(
    two_statuses, king_user
):
    batch = make_batch(_rows(), king_user)
    _plan, seen = dry_run_with_versions(batch.rows, today=TODAY)
    # Someone saves bag in the editor meanwhile.
    AdoptionStatus.objects.filter(pk=two_statuses[1].pk).update(
        level=Level.PREPARING, version=F("version") + 1
    )

    with pytest.raises(ImportConflict) as excinfo:
        apply_import(batch=batch, user=king_user, today=TODAY, seen_versions=seen)

    assert [(c.row, c.cbs_code, c.block_code) for c in excinfo.value.conflicts] == [
        (3, "GM0001", "bag")
    ]
    assert StatusChange.objects.count() == 0
    assert AdoptionStatus.objects.get(pk=two_statuses[0].pk).level == Level.NOT_STARTED
    batch.refresh_from_db()
    assert batch.applied_at is None


def test_a_status_created_meanwhile_makes_the_apply_refuse_naming_the_row(
    two_statuses, king_user, monkeypatch
):
    """A row inserted by someone else between the lock and the write (no row to
    lock yet) is a conflict, not a crash."""
    new_block = BuildingBlockFactory(code="brp")
    row = raw(building_block="brp", level="in_use", achieved_date="2026-01-01")
    batch = make_batch([(4, row)], king_user)
    real = AdoptionStatus.objects.bulk_create

    def someone_else_first(rows, **kwargs):
        AdoptionStatusFactory(
            municipality=two_statuses[0].municipality, block=new_block
        )
        return real(rows, **kwargs)

    monkeypatch.setattr(AdoptionStatus.objects, "bulk_create", someone_else_first)
    with pytest.raises(ImportConflict) as excinfo:
        apply_import(batch=batch, user=king_user, today=TODAY)

    assert [(c.row, c.cbs_code, c.block_code) for c in excinfo.value.conflicts] == [
        (4, "GM0001", "brp")
    ]
    assert StatusChange.objects.count() == 0


def test_an_unchanged_status_since_the_dry_run_applies(two_statuses, king_user):
    batch = make_batch(_rows(), king_user)
    _plan, seen = dry_run_with_versions(batch.rows, today=TODAY)

    result = apply_import(batch=batch, user=king_user, today=TODAY, seen_versions=seen)

    assert result.changed == 2


def test_the_apply_page_names_the_conflicting_rows(client, king_user, two_statuses):
    client.force_login(king_user)
    response = upload(
        client,
        "x.csv",
        csv_bytes(
            "GM0001,digid,in_use,,2026-01-01,,", "GM0001,bag,in_use,,2026-01-01,,"
        ),
    )
    preview = client.get(response["Location"])
    AdoptionStatus.objects.filter(pk=two_statuses[0].pk).update(
        version=F("version") + 1
    )

    batch = ImportBatch.objects.get()
    result = client.post(
        reverse("buildingblocks:import-apply", args=[batch.pk]),
        {"seen_versions": preview.context["seen_versions"]},
        follow=True,
    )

    html = result.content.decode()
    assert "Nothing was changed: 1 statuses were saved by someone else" in html
    assert "2 (GM0001 digid)" in html
    assert StatusChange.objects.count() == 0


def test_an_apply_without_the_dry_run_it_was_reviewed_on_changes_nothing(
    client, king_user, two_statuses
):
    client.force_login(king_user)
    upload(client, "x.csv", csv_bytes("GM0001,digid,in_use,,2026-01-01,,"))
    batch = ImportBatch.objects.get()

    for token in ("", "forged"):
        client.post(
            reverse("buildingblocks:import-apply", args=[batch.pk]),
            {"seen_versions": token},
        )

    assert StatusChange.objects.count() == 0
    batch.refresh_from_db()
    assert batch.applied_at is None


def test_the_import_page_documents_the_clear_marker_and_groups_numbers(
    client, king_user
):
    client.force_login(king_user)
    with translation.override("nl"):
        html = client.get(reverse("buildingblocks:import")).content.decode()

    assert "Een lege cel laat dat veld ongewijzigd" in html
    assert f"<code>{CLEAR_MARKER}</code>" in html
    assert "20.000 rijen" in html
    assert "Een aanhalingsteken" in html


def test_the_preview_groups_its_counts_in_dutch(king_user, client, two_statuses):
    rows = [(n, raw(level="not_started")) for n in range(2, 1202)]
    batch = make_batch(rows, king_user)
    client.force_login(king_user)

    with translation.override("nl"):
        html = client.get(batch.get_absolute_url()).content.decode()

    assert 'data-testid="rows">1.200<' in html
