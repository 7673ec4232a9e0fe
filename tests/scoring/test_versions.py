"""Changing reference data never rewrites the past (issue 14, item 5).

Block weights and active flags (BlockVersion) and requirements carry validity
periods [valid_from, valid_until). The recompute uses the versions in force on
its day, the replay and snapshots those in force at each month end.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreements.models import PROGRAMME_START, Requirement
from agreements.services import end_requirement, set_requirement
from buildingblocks.levels import Level
from buildingblocks.models import BlockVersion, BuildingBlock
from buildingblocks.versions import new_block_version
from nupportal.validity import version_start_errors
from scoring import rules
from scoring.compute import recompute_all
from scoring.history import (
    _Reference,
    completed_months,
    figures_on,
    month_end,
    rules_in_force,
    snapshot_scores,
    states_on,
)
from scoring.models import Measure, Scope, Snapshot
from tests.factories import (
    BuildingBlockFactory,
    MunicipalityFactory,
    StatusChangeFactory,
)
from tests.scoring.conftest import TODAY
from tests.scoring.test_compute import expected_per_municipality
from tests.scoring.test_compute_levels import assert_same_figures, stored_figures
from tests.scoring.test_history import TODAY as HISTORY_TODAY
from tests.scoring.test_history import at, build_history, series_of

D = datetime.date
JAN = D(2014, 1, 1)


# --- pure: which version is in force ------------------------------------------------


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "on", "expected"),
    [
        (JAN, None, D(2013, 12, 31), False),
        (JAN, None, JAN, True),  # the first day counts
        (JAN, None, D(2099, 1, 1), True),  # open: still in force
        (JAN, D(2014, 3, 1), D(2014, 2, 28), True),
        (JAN, D(2014, 3, 1), D(2014, 3, 1), False),  # valid_until is excluded
    ],
)
def test_in_force_is_half_open(valid_from, valid_until, on, expected):
    assert rules.in_force(valid_from, valid_until, on) is expected


def test_the_version_in_force_on_each_side_of_a_boundary():
    versions = [
        (D(2011, 1, 1), D(2014, 3, 1), "first"),
        (D(2014, 3, 1), None, "second"),
    ]
    assert rules.version_in_force(versions, D(2010, 12, 31)) is None
    assert rules.version_in_force(versions, D(2011, 1, 1)) == "first"
    assert rules.version_in_force(versions, D(2014, 2, 28)) == "first"
    assert rules.version_in_force(versions, D(2014, 3, 1)) == "second"
    ended = [(D(2011, 1, 1), D(2012, 1, 1), "only")]
    assert rules.version_in_force(ended, D(2012, 1, 1)) is None


def test_a_new_version_starts_today_or_earlier_and_not_before_the_latest():
    versions = [(D(2011, 1, 1), D(2014, 1, 1)), (D(2014, 1, 1), None)]
    today = D(2016, 1, 1)
    assert version_start_errors(versions, D(2015, 6, 1), today) == []
    assert version_start_errors(versions, today, today) == []
    assert version_start_errors(versions, D(2014, 1, 1), today) == []  # correction
    assert len(version_start_errors(versions, D(2016, 1, 2), today)) == 1
    assert len(version_start_errors(versions, D(2013, 12, 31), today)) == 1
    assert version_start_errors([], D(2011, 1, 1), today) == []


# --- the database refuses overlapping and empty periods -----------------------------


@pytest.mark.django_db
def test_the_database_refuses_overlapping_block_versions():
    block = BuildingBlockFactory()  # one open version from the programme start
    with pytest.raises(IntegrityError), transaction.atomic():
        BlockVersion.objects.create(
            block=block,
            weight=2,
            active=True,
            valid_from=D(2012, 1, 1),
            valid_until=D(2013, 1, 1),
        )
    first = BlockVersion.objects.get(block=block)
    with pytest.raises(IntegrityError), transaction.atomic():
        BlockVersion.objects.filter(pk=first.pk).update(valid_until=first.valid_from)
    # Adjacent periods do not overlap.
    BlockVersion.objects.filter(pk=first.pk).update(valid_until=D(2014, 1, 1))
    BlockVersion.objects.create(
        block=block, weight=2, active=True, valid_from=D(2014, 1, 1)
    )
    assert BlockVersion.objects.filter(block=block).count() == 2


@pytest.mark.django_db
def test_the_database_refuses_overlapping_requirements(world):
    requirement = Requirement.objects.filter(valid_until__isnull=True).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Requirement.objects.create(
            agreement=requirement.agreement,
            block=requirement.block,
            valid_from=D(2013, 1, 1),
            valid_until=D(2013, 6, 1),
        )


@pytest.mark.django_db
def test_clean_explains_an_overlap_and_an_empty_period_in_dutch():
    block = BuildingBlockFactory()
    overlapping = BlockVersion(
        block=block, weight=1, active=True, valid_from=D(2012, 1, 1)
    )
    empty = BlockVersion(
        block=block,
        weight=1,
        active=True,
        valid_from=D(2012, 1, 1),
        valid_until=D(2012, 1, 1),
    )
    # The messages are lazy: read them in Dutch too, whatever an earlier test
    # left active in this thread.
    with translation.override("nl"):
        with pytest.raises(ValidationError) as overlap:
            overlapping.clean()
        with pytest.raises(ValidationError) as period:
            empty.clean()
        overlap_text, period_text = str(overlap.value), str(period.value)
    assert "overlapt" in overlap_text
    assert "1 jan 2011" in overlap_text
    assert "eindigen na" in period_text


# --- the recompute uses the versions in force on its day ---------------------------


@pytest.mark.django_db
def test_a_weight_change_from_a_date_changes_the_recompute_from_that_date_on(world):
    block = world.blocks[0]
    new_block_version(
        block=block, weight=Decimal("4"), active=True, valid_from=TODAY, today=TODAY
    )
    before, on = TODAY - datetime.timedelta(days=1), TODAY
    recompute_all(today=before)
    old = stored_figures()
    assert_same_figures(old, expected_per_municipality(before))
    recompute_all(today=on)
    new = stored_figures()
    assert_same_figures(new, expected_per_municipality(on))
    assert {m: f[0] for m, f in old.items()} != {m: f[0] for m, f in new.items()}
    block.refresh_from_db()
    assert block.weight == Decimal("4")  # today's value on the block


@pytest.mark.django_db
def test_a_withdrawn_requirement_counts_until_the_day_before(world):
    requirement = Requirement.objects.get(agreement=world.agreements[0])
    end_requirement(requirement=requirement, valid_until=TODAY, today=TODAY)
    recompute_all(today=TODAY - datetime.timedelta(days=1))
    assert_same_figures(
        stored_figures(), expected_per_municipality(TODAY - datetime.timedelta(days=1))
    )
    recompute_all(today=TODAY)
    expected = expected_per_municipality(TODAY)
    assert_same_figures(stored_figures(), expected)
    # No requirement left: agreement 1 applies to no one from that day.
    assert {o[2][world.agreements[0].pk].status for o in expected.values()} == {
        "not_applicable"
    }


@pytest.mark.django_db
def test_a_changed_requirement_is_a_new_version_and_keeps_the_old(world):
    requirement = Requirement.objects.get(agreement=world.agreements[0])
    new = set_requirement(
        agreement=requirement.agreement,
        block=requirement.block,
        minimum_level=Level.PREPARING,
        min_population=None,
        valid_from=D(2014, 1, 1),
        today=TODAY,
    )
    requirement.refresh_from_db()
    assert requirement.valid_until == D(2014, 1, 1)
    assert requirement.minimum_level == Level.IN_USE
    assert (new.valid_from, new.valid_until, new.minimum_level) == (
        D(2014, 1, 1),
        None,
        Level.PREPARING,
    )
    recompute_all(today=TODAY)
    assert_same_figures(stored_figures(), expected_per_municipality(TODAY))
    with pytest.raises(ValidationError):
        set_requirement(
            agreement=requirement.agreement,
            block=requirement.block,
            minimum_level=Level.IN_USE,
            min_population=None,
            valid_from=D(2013, 1, 1),  # before the latest version began
            today=TODAY,
        )


# Per block: up to two later versions, each (days after the programme start,
# weight, active). Requirement: optionally ended some days after the start.
block_changes = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=2400),
        st.sampled_from([Decimal("0.5"), Decimal("1"), Decimal("2.5"), Decimal("3")]),
        st.booleans(),
    ),
    max_size=2,
    unique_by=lambda change: change[0],
)


@pytest.mark.django_db
def test_recompute_equals_the_rules_for_any_versioned_weights(world):
    """The hypothesis property of test_compute_levels, with versioned reference data:
    weights, flags and requirement ends drawn at random, and the day of the recompute."""
    originals = {
        b.pk: (b.weight, b.active) for b in BuildingBlock.objects.order_by("pk")
    }
    requirement_ids = list(
        Requirement.objects.order_by("pk").values_list("pk", flat=True)
    )

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        changes=st.fixed_dictionaries({pk: block_changes for pk in originals}),
        ends=st.lists(
            st.one_of(st.none(), st.integers(min_value=1, max_value=2400)),
            min_size=len(requirement_ids),
            max_size=len(requirement_ids),
        ),
        day=st.integers(min_value=0, max_value=2400),
    )
    def check(changes, ends, day) -> None:
        BlockVersion.objects.all().delete()
        rows = []
        for pk, (weight, active) in originals.items():
            starts = [PROGRAMME_START] + [
                PROGRAMME_START + datetime.timedelta(days=d)
                for d, _, _ in sorted(changes[pk])
            ]
            values = [(weight, active)] + [(w, a) for _, w, a in sorted(changes[pk])]
            for i, (start, (w, a)) in enumerate(zip(starts, values, strict=True)):
                until = starts[i + 1] if i + 1 < len(starts) else None
                rows.append(
                    BlockVersion(
                        block_id=pk,
                        weight=w,
                        active=a,
                        valid_from=start,
                        valid_until=until,
                    )
                )
        BlockVersion.objects.bulk_create(rows)
        for pk, end in zip(requirement_ids, ends, strict=True):
            Requirement.objects.filter(pk=pk).update(
                valid_until=None
                if end is None
                else PROGRAMME_START + datetime.timedelta(days=end)
            )
        on = PROGRAMME_START + datetime.timedelta(days=day)
        recompute_all(today=on)
        assert_same_figures(stored_figures(), expected_per_municipality(on))

    check()


# --- history and snapshots use the versions in force at each date -----------------


def _snapshots() -> dict[datetime.date, dict[tuple, float | None]]:
    stored: dict = {}
    for s in Snapshot.objects.all():
        stored.setdefault(s.month, {})[
            (s.scope, s.key, s.measure, s.block_id, s.agreement_id, s.status)
        ] = s.value
    return stored


@pytest.mark.django_db
def test_deactivating_a_block_changes_no_snapshot_before_its_end():
    everyone, blocks = build_history()
    start = D(2011, 1, 1)
    snapshot_scores(start, today=HISTORY_TODAY)
    before = _snapshots()
    cut = D(2014, 3, 1)
    new_block_version(
        block=blocks[1],
        weight=blocks[1].weight,
        active=False,
        valid_from=cut,
        today=HISTORY_TODAY,
    )
    snapshot_scores(start, today=HISTORY_TODAY)
    after = _snapshots()
    assert after.keys() == before.keys()
    for month in before:
        if month_end(month) < cut:
            assert after[month] == before[month], month
        else:
            # The block's own figures are gone from its end on, the rest follows.
            assert (
                Scope.NATIONAL,
                "",
                Measure.IN_USE_SHARE,
                blocks[1].pk,
                None,
                "",
            ) in (before[month])
            assert not any(key[3] == blocks[1].pk for key in after[month]), month
    national_mean = (Scope.NATIONAL, "", Measure.MEAN_SCORE, None, None, "")
    assert any(
        after[m][national_mean] != before[m][national_mean]
        for m in before
        if month_end(m) >= cut
    )


@pytest.mark.django_db
def test_snapshots_equal_direct_computation_under_changing_versions():
    """The replay re-evaluates everyone when a version starts; figures_on agrees."""
    everyone, blocks = build_history()
    new_block_version(
        block=blocks[0],
        weight=Decimal("3"),
        active=True,
        valid_from=D(2012, 5, 17),
        today=HISTORY_TODAY,
    )
    new_block_version(
        block=blocks[2],
        weight=blocks[2].weight,
        active=False,
        valid_from=D(2013, 2, 1),
        today=HISTORY_TODAY,
    )
    requirement = Requirement.objects.filter(block=blocks[1]).first()
    set_requirement(
        agreement=requirement.agreement,
        block=blocks[1],
        minimum_level=Level.IN_USE,
        min_population=None,
        valid_from=D(2014, 8, 31),
        today=HISTORY_TODAY,
    )
    snapshot_scores(D(2011, 1, 1), today=HISTORY_TODAY)
    stored = _snapshots()
    for month in completed_months(D(2011, 1, 1), HISTORY_TODAY):
        direct = figures_on(month_end(month))
        assert len(direct) == len(stored[month]), month
        for scope, key, measure, block, agreement, status, value in direct:
            got = stored[month][(scope, key, measure, block, agreement, status)]
            assert got == (None if value is None else pytest.approx(value)), (
                month,
                scope,
                key,
                measure,
            )


@pytest.mark.django_db
def test_score_series_and_rules_in_force_use_the_weights_of_each_date():
    everyone, blocks = build_history()
    new_block_version(
        block=blocks[0],
        weight=Decimal("3"),
        active=True,
        valid_from=D(2013, 1, 1),
        today=HISTORY_TODAY,
    )
    before, after = rules_in_force(D(2012, 12, 31)), rules_in_force(D(2013, 1, 1))
    assert before.weights[blocks[0].pk] == 1.0
    assert after.weights[blocks[0].pk] == 3.0
    months = completed_months(D(2011, 1, 1), HISTORY_TODAY)
    m = everyone[0]
    series = dict(series_of(m.id, months))
    for month in months[::5]:
        on = month_end(month)
        weights = rules_in_force(on).weights
        states = states_on(on, [m.id])
        expected = rules.adoption_score(
            (w, states.get((m.id, b), rules.NOT_STARTED).level)
            for b, w in weights.items()
        )
        assert series[month] == pytest.approx(expected), month


@pytest.mark.django_db
def test_the_reference_loads_every_version_in_a_constant_number_of_queries(
    django_assert_num_queries,
):
    build_history()
    with django_assert_num_queries(5):
        reference = _Reference.load()
    few = reference.rules_on(D(2013, 1, 31))
    for day in (D(2013, 2, 28), D(2016, 1, 31)):
        # Same versions, same rules object: the replay compares them by identity.
        assert reference.rules_on(day) is few


@pytest.mark.django_db
def test_the_progress_report_uses_the_weights_in_force_on_each_date():
    from reports import progress

    everyone, blocks = build_history()
    cut = D(2014, 3, 1)
    new_block_version(
        block=blocks[1],
        weight=blocks[1].weight,
        active=False,
        valid_from=cut,
        today=HISTORY_TODAY,
    )
    reference = progress.Reference()
    national_mean = (Scope.NATIONAL, "", Measure.MEAN_SCORE, None, None, "")
    for day in (D(2013, 12, 31), D(2014, 3, 31)):
        direct = {row[:6]: row[6] for row in figures_on(day)}
        report = progress.figures_on(day, reference)
        assert report.mean_score == pytest.approx(direct[national_mean]), day


@pytest.mark.django_db
def test_the_scorecard_trend_scores_each_month_with_the_weights_of_its_end():
    from municipalities import queries

    first, second = BuildingBlockFactory(), BuildingBlockFactory()
    new_block_version(
        block=second,
        weight=second.weight,
        active=False,
        valid_from=D(2014, 2, 1),
        today=HISTORY_TODAY,
    )
    versions = queries.BlockVersions()
    assert versions.blocks_on(D(2014, 1, 31)) == [first, second]
    assert versions.blocks_on(D(2014, 2, 1)) == [first]
    municipality = MunicipalityFactory()
    StatusChangeFactory(
        municipality=municipality,
        block=first,
        from_level=Level.NOT_STARTED,
        to_level=Level.IN_USE,
        changed_at=at(D(2013, 12, 5)),
    )
    trend = queries.municipality_trend(municipality, until=D(2014, 2, 28))
    # In use of two blocks, then of the only one still counted.
    assert [(p.month, p.score) for p in trend] == [
        (D(2013, 12, 31), 50.0),
        (D(2014, 1, 31), 50.0),
        (D(2014, 2, 28), 100.0),
    ]
