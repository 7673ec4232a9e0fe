"""The method page explains the rules with an example computed from the real data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from buildingblocks.levels import Level
from scoring.method import worked_example
from tests.factories import BuildingBlockFactory, RequirementFactory

pytestmark = pytest.mark.django_db


def test_the_worked_example_uses_the_real_weights_and_the_level_table():
    blocks = [
        BuildingBlockFactory(order=i, weight=Decimal(w))
        for i, w in enumerate(["2", "1", "1", "3", "5"])
    ]
    example = worked_example(blocks)
    # in use 2×1, implementing 1×0.5, preparing 1×0.25, not started 3×0; N/A left out
    assert example.numerator == Decimal("2.75")
    assert example.denominator == Decimal("7")
    assert example.score == pytest.approx(100 * 2.75 / 7)
    assert [row.level for row in example.rows][-1] == Level.NOT_APPLICABLE


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_method_page_shows_the_example_and_the_conditions(client, lang):
    for i in range(5):
        BuildingBlockFactory(order=i, weight=Decimal("2") if i == 0 else Decimal("1"))
    requirement = RequirementFactory(min_population=100_000)
    url = "/methode/" if lang == "nl" else "/en/methode/"
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    # 100 × (2×1 + 0.5 + 0.25 + 0) / (2 + 1 + 1 + 1) = 55
    assert ("= 55,0" if lang == "nl" else "= 55.0") in html
    assert f"{requirement.agreement.number}." in html
    assert ("100.000" if lang == "nl" else "100,000") in html


def test_the_method_page_without_blocks_has_no_example(client):
    response = client.get("/methode/")
    assert response.status_code == 200
    assert response.context["example"] is None


def test_the_scorecard_links_to_the_method(client, municipality):
    from scoring.compute import recompute_all

    BuildingBlockFactory()
    recompute_all()
    for url in (f"/gemeenten/{municipality.slug}/", "/", "/gemeenten/"):
        assert 'href="/methode/' in client.get(url).content.decode(), url


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nl", ["KWARTIEL.INC", "= 17,5", "= 30,0", "= 50,0", "boxplot"]),
        ("en", ["QUARTILE.INC", "= 17.5", "= 30.0", "= 50.0", "box plot"]),
    ],
)
def test_the_method_page_explains_the_quartiles_with_a_computed_example(
    client, lang, expected
):
    html = client.get("/methode/" if lang == "nl" else "/en/methode/").content.decode()
    assert 'id="spread"' in html
    assert 'href="#spread"' in html
    for text in expected:
        assert text in html
    assert 'id="chart-method-spread-caption"' in html
