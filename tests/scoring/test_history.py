"""Time travel: states on a date, monthly snapshots equal direct computation."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.utils import timezone

import pytest

from buildingblocks.levels import Category, Level
from buildingblocks.models import StatusChange
from municipalities import queries
from municipalities.models import Municipality
from scoring import rules
from scoring.history import (
    completed_months,
    end_of_day,
    exists_on,
    figures_on,
    month_end,
    score_series,
    snapshot_scores,
    states_on,
)
from scoring.models import ComplianceStatus, Measure, Scope, Snapshot
from tests.factories import (
    BuildingBlockFactory,
    DeadlineRevisionFactory,
    MunicipalityFactory,
    ProvinceFactory,
    RequirementFactory,
    ResultAgreementFactory,
)

LEVELS = [
    Level.NOT_STARTED,
    Level.PREPARING,
    Level.IMPLEMENTING,
    Level.IN_USE,
    Level.NOT_APPLICABLE,
]
TODAY = datetime.date(2016, 7, 10)


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def build_history(seed: int = 3, n_municipalities: int = 12):
    rng = random.Random(seed)
    provinces = [ProvinceFactory(name=n) for n in ("Utrecht", "Gelderland")]
    municipalities = [
        MunicipalityFactory(
            province=provinces[i % 2], population=[8_000, 30_000, 120_000][i % 3] + i
        )
        for i in range(n_municipalities)
    ]
    merged = MunicipalityFactory(
        province=provinces[0], active=False, valid_until=datetime.date(2013, 12, 31)
    )
    successor = MunicipalityFactory(
        province=provinces[0], population=60_000, valid_from=datetime.date(2014, 1, 1)
    )
    MunicipalityFactory(province=provinces[1], active=False)  # no known period
    everyone = [*municipalities, merged, successor]
    blocks = [
        BuildingBlockFactory(
            category=[Category.AUTHENTICATION, Category.SERVICES][i % 2],
            weight=Decimal(["1", "2", "0.5"][i % 3]),
        )
        for i in range(5)
    ]
    retired = BuildingBlockFactory(active=False)
    a1 = ResultAgreementFactory(number=1, original_deadline=datetime.date(2013, 1, 1))
    a2 = ResultAgreementFactory(number=2, original_deadline=datetime.date(2015, 1, 1))
    a3 = ResultAgreementFactory(number=3)
    RequirementFactory(agreement=a1, block=blocks[0])
    RequirementFactory(agreement=a2, block=blocks[1], minimum_level=Level.PREPARING)
    RequirementFactory(agreement=a2, block=blocks[2])
    RequirementFactory(agreement=a3, block=blocks[3], minimum_level=Level.IMPLEMENTING)
    RequirementFactory(agreement=a3, block=retired)
    RequirementFactory(agreement=a1, block=blocks[4], min_population=100_000)
    # a1 postponed twice (the second decided while the first was in force), a2 once.
    DeadlineRevisionFactory(
        agreement=a1,
        old_deadline=datetime.date(2013, 1, 1),
        new_deadline=datetime.date(2014, 1, 1),
        decided_on=datetime.date(2012, 11, 20),
    )
    DeadlineRevisionFactory(
        agreement=a1,
        old_deadline=datetime.date(2014, 1, 1),
        new_deadline=datetime.date(2015, 7, 1),
        decided_on=datetime.date(2014, 3, 5),
    )
    DeadlineRevisionFactory(
        agreement=a2,
        old_deadline=datetime.date(2015, 1, 1),
        new_deadline=datetime.date(2016, 1, 1),
        decided_on=datetime.date(2014, 12, 1),
    )
    changes = []
    start = datetime.date(2010, 10, 1)
    for m in everyone:
        for b in [*blocks, retired]:
            day = start + datetime.timedelta(days=rng.randint(0, 200))
            previous = ""
            for _ in range(rng.randint(0, 5)):
                day += datetime.timedelta(days=rng.randint(1, 400))
                level = rng.choice(LEVELS)
                planned = rng.choice(
                    [None, day + datetime.timedelta(days=rng.randint(-30, 900))]
                )
                # Same-instant changes: the later id wins.
                when = at(day, rng.choice([0, 12, 12, 23]))
                changes.append(
                    StatusChange(
                        municipality=m,
                        block=b,
                        from_level=previous,
                        to_level=level,
                        to_planned_date=planned,
                        changed_at=when,
                        source=StatusChange.Source.SEED,
                    )
                )
                previous = level
    rng.shuffle(changes)  # ids do not follow time
    StatusChange.objects.bulk_create(changes)
    return everyone, blocks


def test_month_helpers():
    assert month_end(datetime.date(2012, 2, 3)) == datetime.date(2012, 2, 29)
    assert month_end(datetime.date(2014, 12, 31)) == datetime.date(2014, 12, 31)
    assert completed_months(datetime.date(2014, 11, 20), datetime.date(2015, 2, 1)) == [
        datetime.date(2014, 11, 1),
        datetime.date(2014, 12, 1),
        datetime.date(2015, 1, 1),
    ]
    # The current month is not complete until its last day is over.
    assert completed_months(datetime.date(2015, 1, 1), datetime.date(2015, 1, 31)) == []
    assert end_of_day(datetime.date(2014, 3, 1)) == timezone.make_aware(
        datetime.datetime(2014, 3, 2)
    )


@pytest.mark.parametrize(
    ("active", "valid_from", "valid_until", "on", "expected"),
    [
        (True, None, None, datetime.date(2000, 1, 1), True),
        (False, None, None, datetime.date(2000, 1, 1), False),
        (False, None, datetime.date(2013, 12, 31), datetime.date(2013, 12, 31), True),
        (False, None, datetime.date(2013, 12, 31), datetime.date(2014, 1, 1), False),
        (True, datetime.date(2014, 1, 1), None, datetime.date(2013, 12, 31), False),
        (True, datetime.date(2014, 1, 1), None, datetime.date(2014, 1, 1), True),
    ],
)
def test_exists_on(active, valid_from, valid_until, on, expected):
    assert (
        exists_on(on, active=active, valid_from=valid_from, valid_until=valid_until)
        is expected
    )


@pytest.mark.django_db
def test_state_on_a_date_is_the_last_change_before_the_end_of_that_day(municipality):
    block = BuildingBlockFactory()
    day = datetime.date(2013, 5, 1)
    first = StatusChange.objects.create(
        municipality=municipality,
        block=block,
        to_level=Level.PREPARING,
        to_planned_date=datetime.date(2014, 1, 1),
        changed_at=at(day, 9),
        source="form",
    )
    StatusChange.objects.create(
        municipality=municipality,
        block=block,
        to_level=Level.IMPLEMENTING,
        to_planned_date=datetime.date(2014, 2, 1),
        changed_at=at(day, 23),
        source="form",
    )
    StatusChange.objects.create(
        municipality=municipality,
        block=block,
        to_level=Level.IN_USE,
        changed_at=first.changed_at + datetime.timedelta(days=1),
        source="form",
    )
    key = (municipality.id, block.id)
    assert states_on(day - datetime.timedelta(days=1)) == {}
    assert states_on(day)[key] == rules.BlockState(
        Level.IMPLEMENTING, datetime.date(2014, 2, 1)
    )
    assert states_on(day + datetime.timedelta(days=1))[key].level == Level.IN_USE
    assert states_on(day, [municipality.id + 1]) == {}


@pytest.mark.django_db
def test_snapshots_equal_direct_computation_from_the_history():
    build_history()
    written = snapshot_scores(datetime.date(2011, 1, 1), today=TODAY)
    months = completed_months(datetime.date(2011, 1, 1), TODAY)
    assert len(months) == 66
    assert Snapshot.objects.count() == written
    assert Snapshot.objects.dates("month", "month").count() == 66
    stored: dict = {}
    for s in Snapshot.objects.all():
        stored.setdefault(s.month, {})[
            (s.scope, s.key, s.measure, s.block_id, s.agreement_id, s.status)
        ] = s.value
    statuses_seen = set()
    for month in months:  # every month: the fixture is small
        direct = figures_on(month_end(month))
        assert len(direct) == len(stored[month]), month
        for scope, key, measure, block, agreement, status, value in direct:
            got = stored[month][(scope, key, measure, block, agreement, status)]
            if value is None:
                assert got is None, (month, scope, key, measure)
            else:
                assert got == pytest.approx(value), (month, scope, key, measure)
            if measure == Measure.STATUS_COUNT and value:
                statuses_seen.add(status)
    assert statuses_seen == set(ComplianceStatus.values)


@pytest.mark.django_db
def test_merged_municipalities_leave_and_successors_enter_the_figures():
    build_history()
    snapshot_scores(datetime.date(2013, 11, 1), today=datetime.date(2014, 2, 1))
    counts = dict(
        Snapshot.objects.filter(
            scope=Scope.NATIONAL, measure=Measure.MUNICIPALITIES
        ).values_list("month", "value")
    )
    # 12 + the merged one until 2013; 12 + the successor from 2014.
    assert counts == {
        datetime.date(2013, 11, 1): 13,
        datetime.date(2013, 12, 1): 13,
        datetime.date(2014, 1, 1): 13,
    }


@pytest.mark.django_db
def test_rebuilding_from_a_later_month_keeps_earlier_snapshots():
    build_history()
    snapshot_scores(datetime.date(2012, 1, 1), today=TODAY)
    before = Snapshot.objects.filter(month__lt=datetime.date(2015, 1, 1)).count()
    again = snapshot_scores(datetime.date(2015, 1, 1), today=TODAY)
    assert (
        Snapshot.objects.filter(month__lt=datetime.date(2015, 1, 1)).count() == before
    )
    assert (
        Snapshot.objects.filter(month__gte=datetime.date(2015, 1, 1)).count() == again
    )


def series_of(municipality_id: int, months):
    """score_series with what the scorecard reads: the history and the versions."""
    municipality = Municipality.objects.get(pk=municipality_id)
    changes = [
        (row.day, row.block_id, row.level)
        for row in queries.municipality_history(municipality)
    ]
    return score_series(months, changes, queries.BlockVersions().active_weights())


@pytest.mark.django_db
def test_score_series_follows_the_history():
    everyone, blocks = build_history()
    months = completed_months(datetime.date(2011, 1, 1), TODAY)
    for m in everyone[:4]:
        series = dict(series_of(m.id, months))
        for month in months[::7]:
            states = states_on(month_end(month), [m.id])
            expected = rules.adoption_score(
                (b.weight, states.get((m.id, b.id), rules.NOT_STARTED).level)
                for b in blocks
            )
            assert series[month] == pytest.approx(expected)
