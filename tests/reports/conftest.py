"""A small but complete data set for the report tests."""

from __future__ import annotations

import datetime

from django.utils import timezone

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, StatusChange
from tests.factories import (
    BuildingBlockFactory,
    EditorMembershipFactory,
    MunicipalityFactory,
    ProvinceFactory,
    RequirementFactory,
    ResultAgreementFactory,
)


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def report_data(db):
    """Two provinces, four municipalities, three blocks, two agreements, a history."""
    utrecht = ProvinceFactory(name="Utrecht")
    fryslan = ProvinceFactory(name="Fryslân")
    municipalities = [
        MunicipalityFactory(
            cbs_code="GM0344",
            name="Utrecht",
            slug="utrecht",
            province=utrecht,
            population=360_000,
            map_path="M0 0L10 0L10 10Z",
        ),
        MunicipalityFactory(
            cbs_code="GM0345",
            name="Veenendaal",
            slug="veenendaal",
            province=utrecht,
            population=68_000,
        ),
        MunicipalityFactory(
            cbs_code="GM0080",
            name="=Leeuwarden",
            slug="leeuwarden",
            province=fryslan,
            population=125_000,
        ),
        MunicipalityFactory(
            cbs_code="GM0088",
            name="Schiermonnikoog",
            slug="schiermonnikoog",
            province=fryslan,
            population=950,
        ),
    ]
    blocks = [
        BuildingBlockFactory(code="digid", name="DigiD"),
        BuildingBlockFactory(code="mijnoverheid", name="MijnOverheid"),
        BuildingBlockFactory(code="bag", name="BAG"),
    ]
    a1 = ResultAgreementFactory(
        number=1,
        title="Aansluiten DigiD",
        deadline=datetime.date(2030, 1, 1),
        original_deadline=datetime.date(2030, 1, 1),
    )
    a2 = ResultAgreementFactory(
        number=2, title="Berichtenbox", deadline=datetime.date(2015, 1, 1)
    )
    RequirementFactory(agreement=a1, block=blocks[0])
    RequirementFactory(agreement=a2, block=blocks[1])
    history = [
        # (municipality, block, level, planned, day)
        (0, 0, Level.PREPARING, datetime.date(2012, 6, 1), datetime.date(2011, 3, 1)),
        (0, 0, Level.IN_USE, None, datetime.date(2012, 5, 1)),
        (0, 1, Level.IN_USE, None, datetime.date(2013, 2, 1)),
        (
            1,
            0,
            Level.IMPLEMENTING,
            datetime.date(2029, 1, 1),
            datetime.date(2012, 1, 1),
        ),
        (2, 0, Level.IN_USE, None, datetime.date(2014, 9, 1)),
        (2, 2, Level.PREPARING, datetime.date(2031, 1, 1), datetime.date(2013, 9, 1)),
        (3, 1, Level.PREPARING, datetime.date(2016, 1, 1), datetime.date(2012, 9, 1)),
    ]
    current: dict = {}
    for m, b, level, planned, day in history:
        previous = current.get((m, b))
        StatusChange.objects.create(
            municipality=municipalities[m],
            block=blocks[b],
            from_level=previous[0] if previous else "",
            to_level=level,
            to_planned_date=planned,
            to_achieved_date=day if level == Level.IN_USE else None,
            changed_at=_at(day),
            source=StatusChange.Source.SEED,
            note='=HYPERLINK("http://evil")' if m == 2 else "",
        )
        current[(m, b)] = (level, planned, day)
    for (m, b), (level, planned, day) in current.items():
        AdoptionStatus.objects.create(
            municipality=municipalities[m],
            block=blocks[b],
            level=level,
            planned_date=planned,
            achieved_date=day if level == Level.IN_USE else None,
            note='=HYPERLINK("http://evil")' if m == 2 else "",
            updated_at=_at(day),
        )
    editor = EditorMembershipFactory(municipality=municipalities[3]).user
    from scoring.compute import recompute_all

    recompute_all()
    return {
        "municipalities": municipalities,
        "blocks": blocks,
        "agreements": [a1, a2],
        "editor": editor,
    }


@pytest.fixture
def plan_too_late(report_data):
    """Veenendaal, planning DigiD after agreement 1's deadline (2030): the
    scorecard forecasts it will miss it."""
    from scoring.compute import recompute_all

    veenendaal = report_data["municipalities"][1]
    AdoptionStatus.objects.filter(
        municipality=veenendaal, block=report_data["blocks"][0]
    ).update(planned_date=datetime.date(2031, 1, 1))
    recompute_all()
    return veenendaal


@pytest.fixture
def report_worker(transactional_db, monkeypatch, settings, tmp_path):
    """A real Celery worker for reports (see tests/celery_worker.py)."""
    from reports import tasks
    from tests.celery_worker import (
        celery_worker,
        private_queue,
        route_to,
    )

    queue = private_queue("test-reports")
    route_to(monkeypatch, tasks.generate_report, queue)
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    with celery_worker(
        queue,
        log_path=tmp_path / "worker.log",
        extra_env={"NUP_MEDIA_ROOT": str(media)},
    ) as process:
        yield process
