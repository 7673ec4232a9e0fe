"""The reference data files, their loader and the map projection."""

from __future__ import annotations

import csv
import datetime
import filecmp
import io
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db.models import Q
from django.forms.models import model_to_dict

import pytest

from agreements.models import (
    PROGRAMME_END,
    PROGRAMME_START,
    Requirement,
    ResultAgreement,
)
from agreements.services import set_requirement
from buildingblocks.levels import Category, Level
from buildingblocks.models import (
    AdoptionStatus,
    BlockVersion,
    BuildingBlock,
    StatusChange,
)
from buildingblocks.versions import new_block_version
from municipalities import geography, reference
from municipalities.models import Merger, Municipality, Province
from municipalities.sizeclasses import SizeClass, size_class_for
from tests.ci import missing_tool
from tests.factories import (
    AdoptionStatusFactory,
    DeadlineRevisionFactory,
    StatusChangeFactory,
)

DATA_DIR = settings.BASE_DIR / "data" / "reference"


def shared_data_dir() -> Path | None:
    """The research data folder build_reference_data reads, if this machine has it.

    NUP_SHARED_DIR names it; otherwise `shared/` beside the clone (CI copies it
    there) or beside the folder of worktrees (/work/wt/NAME → /work/shared).
    """
    named = os.environ.get("NUP_SHARED_DIR")
    repo = Path(settings.BASE_DIR).resolve()
    candidates = (
        [Path(named)]
        if named
        else [repo.parent / "shared", repo.parent.parent / "shared"]
    )
    for shared in candidates:
        if (shared / "data").is_dir():
            return shared / "data"
    return None


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


MERGER_ROWS = _rows("mergers.csv")
FORMER_CODES = {row["old_cbs_code"] for row in MERGER_ROWS}
MERGER_KEYS = {(row["date"], row["new_cbs_code"]) for row in MERGER_ROWS}


def _state() -> dict[str, list[dict]]:
    """Every loaded row's values, to compare two loads field by field."""
    models = (
        Province,
        Municipality,
        BuildingBlock,
        BlockVersion,
        ResultAgreement,
        Requirement,
    )
    state = {
        model.__name__: [model_to_dict(row) for row in model.objects.order_by("pk")]
        for model in models
    }
    # model_to_dict skips non-editable fields (size_class, map_path) and m2m order.
    state["Municipality derived"] = list(
        Municipality.objects.order_by("pk").values("pk", "size_class", "map_path")
    )
    state["Merger"] = list(
        Merger.objects.order_by("pk").values(
            "pk", "date", "successor_id", "applied_at", "source", "note"
        )
    )
    state["Merger.merged"] = sorted(
        Merger.merged.through.objects.values_list("merger_id", "municipality_id")
    )
    return state


@pytest.fixture
def loaded(db):
    return reference.load_reference_data()


# -- the files ------------------------------------------------------------------------


def test_block_categories_are_the_five_categories():
    categories = {row["category"] for row in _rows("building_blocks.csv")}
    assert categories <= set(Category.values)
    assert categories == set(Category.values)


def test_agreements_without_known_deadline_use_the_programme_end():
    rows = _rows("result_agreements.csv")
    assert len(rows) == 19
    assert {row["deadline"] for row in rows} == {PROGRAMME_END.isoformat()}
    assert {row["deadline_is_reference"] for row in rows} == {"1"}


def test_every_current_municipality_has_an_outline():
    codes = {row["cbs_code"] for row in _rows("municipalities.csv")}
    outlines = {row["cbs_code"]: row["path"] for row in _rows("boundaries.csv")}
    assert set(outlines) == codes
    assert all(
        path.startswith("M") and path.endswith("Z") for path in outlines.values()
    )


def test_build_reproduces_the_committed_files(tmp_path):
    shared_data = shared_data_dir()
    if shared_data is None:
        missing_tool(
            "the shared research data (shared/data) is not beside this clone: "
            "set NUP_SHARED_DIR to the folder that holds it"
        )
    call_command(
        "build_reference_data",
        source=str(shared_data),
        output=str(tmp_path),
        stdout=io.StringIO(),
    )
    names = sorted(p.name for p in DATA_DIR.glob("*.csv"))
    assert names == sorted(p.name for p in tmp_path.glob("*.csv"))
    _, mismatch, errors = filecmp.cmpfiles(DATA_DIR, tmp_path, names, shallow=False)
    assert mismatch == [] and errors == []


# -- loading --------------------------------------------------------------------------


def test_loader_gives_the_exact_counts(loaded):
    assert Municipality.objects.filter(active=True).count() == 342
    assert Province.objects.count() == 12
    assert BuildingBlock.objects.count() == 27
    assert ResultAgreement.objects.count() == 19
    assert Requirement.objects.count() == len(_rows("requirements.csv"))
    assert Municipality.objects.filter(active=False).count() == len(FORMER_CODES)
    assert Merger.objects.count() == len(MERGER_KEYS)
    assert loaded["municipalities"].created == 342 + len(FORMER_CODES)
    assert loaded["mergers"].created == len(MERGER_KEYS)


def test_loader_uses_a_bounded_number_of_queries(db, django_assert_max_num_queries):
    # Bulk operations: the count does not grow with the number of rows.
    with django_assert_max_num_queries(40):
        reference.load_reference_data()


def test_second_load_changes_nothing(loaded):
    before = _state()
    again = reference.load_reference_data()
    assert all(counts.changed == 0 for counts in again.values()), again
    assert again["municipalities"].unchanged == 342 + len(FORMER_CODES)
    assert _state() == before


def test_the_first_versions_apply_from_the_programme_start(loaded):
    versions = list(BlockVersion.objects.select_related("block"))
    assert len(versions) == 27
    assert {(v.valid_from, v.valid_until, v.active) for v in versions} == {
        (PROGRAMME_START, None, True)
    }
    assert all(v.weight == v.block.weight for v in versions)
    assert set(Requirement.objects.values_list("valid_from", "valid_until")) == {
        (PROGRAMME_START, None)
    }
    assert loaded["block versions"].created == 27


def test_a_reload_keeps_the_admins_versions(loaded, data_copy):
    block = BuildingBlock.objects.get(code="bag")
    today = datetime.date(2026, 1, 1)
    new_block_version(
        block=block, weight=2, active=False, valid_from=today, today=today
    )
    requirement = Requirement.objects.get(agreement__number=11)
    set_requirement(
        agreement=requirement.agreement,
        block=requirement.block,
        minimum_level=Level.IMPLEMENTING,
        min_population=None,
        valid_from=today,
        today=today,
    )
    before = _state()

    def heavier_bag(row):
        if row["code"] == "bag":
            row["weight"] = "3"

    assert all(c.changed == 0 for c in reference.load_reference_data().values())
    assert _state() == before
    # A corrected file weight is the first version's; the admin's stays in force.
    _rewrite(data_copy / "building_blocks.csv", heavier_bag)
    result = reference.load_reference_data()
    assert result["block versions"].updated == 1
    assert list(
        BlockVersion.objects.filter(block=block)
        .order_by("valid_from")
        .values_list("weight", "active", "valid_from", "valid_until")
    ) == [(3, True, PROGRAMME_START, today), (2, False, today, None)]
    assert Requirement.objects.filter(agreement__number=11).count() == 2


def test_well_known_municipalities(loaded):
    haarlemmermeer = Municipality.objects.get(slug="haarlemmermeer")
    assert haarlemmermeer.cbs_code == "GM0394"
    amsterdam = Municipality.objects.get(cbs_code="GM0363")
    assert amsterdam.size_class == SizeClass.XL
    assert amsterdam.province.name == "Noord-Holland"
    assert amsterdam.population_date == datetime.date(2025, 1, 1)
    assert Municipality.objects.get(cbs_code="GM0518").slug == "s-gravenhage"


def test_every_current_municipality_has_a_map_path(loaded):
    paths = Municipality.objects.filter(active=True).values_list("map_path", flat=True)
    assert all(path and path.startswith("M") for path in paths)


def test_size_class_follows_population(loaded):
    for municipality in Municipality.objects.filter(active=True):
        assert municipality.size_class == size_class_for(municipality.population)


def test_former_municipalities_chain_to_their_successors(loaded):
    millingen = Municipality.objects.get(cbs_code="GM0265")
    groesbeek = Municipality.objects.get(cbs_code="GM0241")
    berg_en_dal = Municipality.objects.get(cbs_code="GM1945")
    assert not millingen.active and not groesbeek.active and berg_en_dal.active
    assert millingen.successor == groesbeek
    assert groesbeek.successor == berg_en_dal
    assert millingen.valid_until == datetime.date(2014, 12, 31)
    assert groesbeek.valid_until == datetime.date(2015, 12, 31)
    # Inherited from the end of the chain.
    assert millingen.province == berg_en_dal.province
    assert millingen.population == 0 and millingen.map_path == ""


def test_a_split_municipality_goes_to_its_largest_part(loaded):
    maasdonk = Municipality.objects.get(cbs_code="GM1671")
    assert maasdonk.successor.cbs_code == "GM0796"  # 's-Hertogenbosch, about 70 %
    # Both receiving municipalities record the split as a merger.
    assert set(
        Merger.objects.filter(merged=maasdonk).values_list(
            "successor__cbs_code", flat=True
        )
    ) == {"GM0796", "GM0828"}


def test_mergers_are_historical_and_applied(loaded):
    weesp = Merger.objects.get(successor__cbs_code="GM0363")
    assert weesp.date == datetime.date(2022, 3, 24)
    assert [m.cbs_code for m in weesp.merged.all()] == ["GM0457"]
    assert not Merger.objects.filter(applied_at__isnull=True).exists()
    assert Municipality.objects.get(cbs_code="GM0457").valid_until == datetime.date(
        2022, 3, 23
    )


def test_blocks_and_agreements(loaded):
    codes = list(BuildingBlock.objects.values_list("code", flat=True))
    assert codes[:2] == ["digid", "digid_machtigen"]  # file order
    block = BuildingBlock.objects.get(code="brp")
    assert block.name == "Basisregistratie Personen (BRP, voorheen GBA)"
    assert block.category == Category.BASE_REGISTERS
    assert block.confidence == "high" and block.source.startswith("http")
    assert block.weight == 1
    # The source note of agreement 3 limits it to municipalities over 100,000.
    contact_centre = Requirement.objects.get(agreement__number=3)
    assert contact_centre.min_population == 100_000
    assert (
        not Requirement.objects.exclude(agreement__number=3)
        .exclude(min_population=None)
        .exists()
    )
    agreement = ResultAgreement.objects.get(number=16)
    assert agreement.deadline == PROGRAMME_END
    assert agreement.deadline_is_reference
    assert set(agreement.requirements.values_list("block__code", "minimum_level")) == {
        ("digikoppeling", Level.IN_USE),
        ("diginetwerk", Level.IN_USE),
        ("pkioverheid", Level.IN_USE),
    }


def test_every_block_and_agreement_has_its_english_text(loaded):
    """No Dutch description shows on an English page (WCAG 3.1.2)."""
    assert not BuildingBlock.objects.filter(description_en="").exists()
    assert not BuildingBlock.objects.filter(name_en="").exists()
    assert not ResultAgreement.objects.filter(description_en="").exists()
    assert not ResultAgreement.objects.filter(title_en="").exists()
    agreement = ResultAgreement.objects.get(number=4)
    assert agreement.description_en.startswith("The municipality lets citizens log in")


# -- updating in place ----------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path, monkeypatch) -> Path:
    copy = tmp_path / "reference"
    shutil.copytree(DATA_DIR, copy)
    monkeypatch.setattr(reference, "DATA_DIR", copy)
    return copy


def _rewrite(path: Path, change) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        change(row)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_a_changed_file_updates_rows_in_place_and_leaves_statuses_alone(
    loaded, data_copy
):
    amsterdam = Municipality.objects.get(cbs_code="GM0363")
    block = BuildingBlock.objects.get(code="digid")
    status = AdoptionStatusFactory(
        municipality=amsterdam, block=block, level=Level.IN_USE, version=3
    )
    change = StatusChangeFactory(municipality=amsterdam, block=block)
    statuses_before = list(AdoptionStatus.objects.values())
    history_before = list(StatusChange.objects.values())

    def smaller_amsterdam(row):
        if row["cbs_code"] == "GM0363":
            row["population"] = "99000"

    _rewrite(data_copy / "municipalities.csv", smaller_amsterdam)
    result = reference.load_reference_data()

    assert result["municipalities"].updated == 1
    assert result["municipalities"].created == 0
    assert all(
        counts.changed == 0
        for name, counts in result.items()
        if name != "municipalities"
    )
    amsterdam_after = Municipality.objects.get(cbs_code="GM0363")
    assert amsterdam_after.pk == amsterdam.pk
    assert amsterdam_after.population == 99_000
    assert amsterdam_after.size_class == SizeClass.L
    assert list(AdoptionStatus.objects.values()) == statuses_before
    assert list(StatusChange.objects.values()) == history_before
    assert AdoptionStatus.objects.get(pk=status.pk).version == 3
    assert StatusChange.objects.filter(pk=change.pk).exists()


def test_a_changed_block_and_requirement_update_in_place(loaded, data_copy):
    block_pk = BuildingBlock.objects.get(code="bag").pk

    def rename_bag(row):
        if row["code"] == "bag":
            row["confidence"] = "medium"

    def webrichtlijnen_implementing(row):
        if row["agreement_number"] == "1":
            row["minimum_level"] = Level.IMPLEMENTING

    _rewrite(data_copy / "building_blocks.csv", rename_bag)
    _rewrite(data_copy / "requirements.csv", webrichtlijnen_implementing)
    result = reference.load_reference_data()

    assert result["building blocks"].updated == 1
    assert result["requirements"].updated == 1
    assert BuildingBlock.objects.get(code="bag").pk == block_pk
    assert BuildingBlock.objects.get(code="bag").confidence == "medium"
    assert (
        Requirement.objects.get(agreement__number=1).minimum_level == Level.IMPLEMENTING
    )


def test_a_revised_deadline_survives_a_reload(loaded):
    agreement = ResultAgreement.objects.get(number=4)
    DeadlineRevisionFactory(
        agreement=agreement,
        old_deadline=PROGRAMME_END,
        new_deadline=datetime.date(2016, 1, 1),
    )
    ResultAgreement.objects.filter(pk=agreement.pk).update(
        deadline=datetime.date(2016, 1, 1)
    )
    result = reference.load_reference_data()
    assert result["result agreements"].changed == 0
    agreement.refresh_from_db()
    assert agreement.deadline == datetime.date(2016, 1, 1)
    assert agreement.original_deadline == PROGRAMME_END


def test_the_command_prints_counts_per_model(db, capsys):
    call_command("load_reference_data")
    call_command("load_reference_data")
    output = capsys.readouterr().out
    total = 342 + len(FORMER_CODES)
    assert f"{total} created, 0 updated, 0 unchanged" in output
    assert f"0 created, 0 updated, {total} unchanged" in output
    assert "already up to date" in output


def test_a_missing_file_is_a_clear_error(db, data_copy):
    (data_copy / "mergers.csv").unlink()
    with pytest.raises(reference.ReferenceDataError, match="mergers.csv"):
        reference.load_reference_data()
    assert not Municipality.objects.exists()  # one transaction: nothing half-loaded


# -- the map projection ---------------------------------------------------------------


def test_view_box_is_fixed():
    assert geography.MAP_VIEW_BOX == "0 0 1000 1183"


def test_projection_puts_north_up_and_west_left():
    west_x, _ = geography.project(3.4, 52.0)
    east_x, _ = geography.project(7.2, 52.0)
    _, north_y = geography.project(5.0, 53.5)
    _, south_y = geography.project(5.0, 50.8)
    assert 0 < west_x < east_x <= 1000
    assert 0 < north_y < south_y <= 1183


def test_ring_path_drops_repeats_and_closes():
    ring = [[5.0, 52.0], [5.0, 52.0], [5.1, 52.0], [5.1, 52.1], [5.0, 52.0]]
    path = geography.ring_path(ring)
    assert path.startswith("M") and path.endswith("Z")
    assert path.count("L") == 1
    assert len(path[1:-1].replace("L", " ").split()) == 6  # three points


def test_multipolygon_with_hole_is_one_path():
    outer = [[5.0, 52.0], [5.4, 52.0], [5.4, 52.4], [5.0, 52.4], [5.0, 52.0]]
    hole = [[5.1, 52.1], [5.2, 52.1], [5.2, 52.2], [5.1, 52.1]]
    island = [[6.0, 53.0], [6.1, 53.0], [6.1, 53.1], [6.0, 53.0]]
    path = geography.geometry_path(
        {"type": "MultiPolygon", "coordinates": [[outer, hole], [island]]}
    )
    assert path.count("M") == 3 and path.count("Z") == 3


def test_a_ring_too_small_to_see_is_left_out():
    assert geography.ring_path([[5.0, 52.0], [5.00001, 52.0], [5.0, 52.0]]) == ""


@pytest.mark.django_db
def test_municipalities_formed_by_a_merger_start_on_that_date():
    from django.core.management import call_command

    from municipalities.models import Municipality

    call_command("load_reference_data", verbosity=0)
    valid_from = dict(Municipality.objects.values_list("cbs_code", "valid_from"))
    assert valid_from["GM1992"] == datetime.date(2023, 1, 1)  # Voorne aan Zee
    assert valid_from["GM1940"] == datetime.date(2015, 7, 1)  # De Fryske Marren
    assert valid_from["GM1945"] == datetime.date(2016, 1, 1)  # Berg en Dal
    assert valid_from["GM0394"] is None  # Haarlemmermeer existed before 2019
    assert valid_from["GM0363"] is None  # Amsterdam absorbed Weesp
    existing_in_2014 = Municipality.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=datetime.date(2014, 12, 31)),
        Q(valid_until__isnull=True) | Q(valid_until__gte=datetime.date(2014, 12, 31)),
    ).count()
    # Mergers before 2015 are not in the data (see data/reference/README.md): 403 then.
    assert 395 <= existing_in_2014 <= 405
