"""Scorecards of a former municipality and of a successor (issue 14, item 6)."""

from __future__ import annotations

import datetime

from django.utils import timezone, translation

import pytest

from buildingblocks.levels import Level
from municipalities import queries
from municipalities.models import Merger
from scoring import rules
from tests.factories import (
    BuildingBlockFactory,
    MunicipalityFactory,
    StatusChangeFactory,
)

pytestmark = pytest.mark.django_db

LAST_DAY = datetime.date(2020, 12, 31)


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def haaren(db):
    """Haaren, split over four successors on 1 January 2021, with a history."""
    blocks = [BuildingBlockFactory(code="bag"), BuildingBlockFactory(code="digid")]
    successors = [
        MunicipalityFactory(name=name, slug=name.lower())
        for name in ("Boxtel", "Oisterwijk", "Tilburg", "Vught")
    ]
    haaren = MunicipalityFactory(
        name="Haaren",
        slug="haaren",
        cbs_code="GM0788",
        population=0,
        population_date=None,
        active=False,
        valid_until=LAST_DAY,
        successor=successors[1],
    )
    for successor in successors:
        merger = Merger.objects.create(
            date=datetime.date(2021, 1, 1),
            successor=successor,
            applied_at=timezone.now(),
        )
        merger.merged.set([haaren])
    StatusChangeFactory(
        municipality=haaren,
        block=blocks[0],
        to_level=Level.IN_USE,
        changed_at=at(datetime.date(2012, 3, 1)),
    )
    StatusChangeFactory(
        municipality=haaren,
        block=blocks[1],
        to_level=Level.PREPARING,
        to_planned_date=datetime.date(2021, 6, 1),
        changed_at=at(datetime.date(2015, 5, 1)),
    )
    # A stray row after its end (bad data) is not its state nor its score.
    StatusChangeFactory(
        municipality=haaren,
        block=blocks[1],
        from_level=Level.PREPARING,
        to_level=Level.IN_USE,
        changed_at=at(datetime.date(2022, 2, 1)),
    )
    return haaren


def page(client, municipality, lang: str = "en"):
    with translation.override(lang):
        return client.get(municipality.get_absolute_url())


def test_former_municipality_shows_its_final_state_and_score_at_dissolution(
    client, haaren
):
    response = page(client, haaren)

    levels = {
        row["block"].code: row["level"]
        for category in response.context["categories"]
        for row in category["rows"]
    }
    assert levels == {"bag": Level.IN_USE, "digid": Level.PREPARING}
    expected = rules.adoption_score([(1, Level.IN_USE), (1, Level.PREPARING)])
    assert response.context["final_score"] == pytest.approx(expected)
    html = response.content.decode()
    assert "Score at dissolution" in html
    assert "As it stood on its last day, 31 December 2020." in html


def test_former_municipality_lists_all_its_successors(client, haaren):
    html = page(client, haaren).content.decode()

    assert "It was divided over" in html
    for name in ("boxtel", "oisterwijk", "tilburg", "vught"):
        assert f'<a href="/en/gemeenten/{name}/">' in html
    assert "Tilburg</a> and <a" in html


def test_former_municipality_has_no_trend_past_its_end_and_no_zero_inhabitants(
    client, haaren
):
    trend = queries.municipality_trend(haaren)
    assert trend[-1].month == LAST_DAY
    assert trend[0].month == datetime.date(2012, 3, 31)

    response = page(client, haaren, "nl")
    html = response.content.decode()
    population = html[html.index("<dt>Inwoners</dt>") :]
    population = population[: population.index("</dd>")]
    assert "onbekend" in population
    assert ">0<" not in population and " 0 " not in population
    assert response.context["trend_chart"].rows[-1][0] == "december 2020"
    assert 'id="comparison-heading"' not in html


def test_successor_lists_its_predecessors_and_starts_its_trend_when_formed(client, db):
    block = BuildingBlockFactory()
    formed = datetime.date(2015, 1, 1)
    successor = MunicipalityFactory(
        name="Krimpenerwaard", slug="krimpenerwaard", valid_from=formed
    )
    formers = [
        MunicipalityFactory(
            name=name,
            slug=name.lower(),
            population=0,
            active=False,
            valid_until=formed - datetime.timedelta(days=1),
            successor=successor,
        )
        for name in ("Bergambacht", "Schoonhoven")
    ]
    merger = Merger.objects.create(
        date=formed, successor=successor, applied_at=timezone.now()
    )
    merger.merged.set(formers)
    # A row dated before it existed counts from its first day, not from 2011.
    StatusChangeFactory(
        municipality=successor, block=block, changed_at=at(datetime.date(2011, 1, 1))
    )

    response = page(client, successor)

    html = response.content.decode()
    assert "Went up in this municipality:" in html
    assert (
        '<a href="/en/gemeenten/bergambacht/">Bergambacht</a> (1 January 2015)' in html
    )
    assert '<a href="/en/gemeenten/schoonhoven/">Schoonhoven</a>' in html
    assert response.context["trend_chart"].rows[0][0] == "December 2015"
    trend = queries.municipality_trend(successor)
    assert trend[0].month == datetime.date(2015, 1, 31)

    former_page = page(client, formers[0]).content.decode()
    assert "It merged into" in former_page
    assert '<a href="/en/gemeenten/krimpenerwaard/">Krimpenerwaard</a>' in former_page


def test_former_municipality_page_queries_do_not_grow_with_successors_or_history(
    client, haaren, django_assert_max_num_queries
):
    def count() -> int:
        with django_assert_max_num_queries(20) as captured:
            page(client, haaren)
        return len(captured.captured_queries)

    small = count()
    for i in range(6):
        merger = Merger.objects.create(
            date=datetime.date(2021, 1, 1),
            successor=MunicipalityFactory(name=f"Extra {i}"),
            applied_at=timezone.now(),
        )
        merger.merged.set([haaren])
        StatusChangeFactory(
            municipality=haaren,
            block=BuildingBlockFactory(),
            changed_at=at(datetime.date(2016, 1, 1 + i)),
        )
    assert count() == small
