"""The score explanation on the scorecard and the what-if page (issue 16)."""

from __future__ import annotations

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

from django.urls import reverse
from django.utils import timezone, translation

import pytest

from agreements.models import ResultAgreement
from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, StatusChange
from municipalities.models import Municipality
from scoring.compute import recompute_all, recompute_municipality
from scoring.models import Aggregate, AgreementCompliance, MunicipalityScore
from tests.factories import (
    AdoptionStatusFactory,
    BuildingBlockFactory,
    MunicipalityFactory,
    ProvinceFactory,
    RequirementFactory,
    ResultAgreementFactory,
)
from tests.municipalities.portal_world import add_municipalities, build_world

pytestmark = pytest.mark.django_db


def url(name: str, lang: str = "nl", **kwargs) -> str:
    with translation.override(lang):
        return reverse(name, kwargs=kwargs or None)


@pytest.fixture
def town(db):
    """Three blocks of different weights, two agreements (one past its deadline),
    five municipalities with different levels, scores computed by the recompute."""
    province = ProvinceFactory(name="Utrecht", slug="utrecht")
    digid = BuildingBlockFactory(code="digid", name="DigiD", weight=Decimal("3"))
    bag = BuildingBlockFactory(code="bag", name="BAG", weight=Decimal("2"))
    box = BuildingBlockFactory(
        code="berichtenbox", name="Berichtenbox", weight=Decimal("1")
    )
    future = timezone.localdate() + datetime.timedelta(days=365)
    past = timezone.localdate() - datetime.timedelta(days=30)
    first = ResultAgreementFactory(number=1, title="Afspraak DigiD", deadline=future)
    second = ResultAgreementFactory(number=2, title="Afspraak BAG", deadline=past)
    RequirementFactory(agreement=first, block=digid)
    RequirementFactory(agreement=second, block=bag, minimum_level=Level.IMPLEMENTING)
    municipalities = [
        MunicipalityFactory(name=f"Stad {i}", slug=f"stad-{i}", province=province)
        for i in range(5)
    ]
    levels = [
        (Level.PREPARING, Level.NOT_STARTED, Level.IN_USE),
        (Level.IN_USE, Level.IN_USE, Level.IN_USE),
        (Level.IMPLEMENTING, Level.PREPARING, None),
        (Level.NOT_STARTED, Level.IN_USE, Level.PREPARING),
        (Level.IN_USE, Level.IMPLEMENTING, Level.NOT_STARTED),
    ]
    for municipality, row in zip(municipalities, levels, strict=True):
        for block, level in zip((digid, bag, box), row, strict=True):
            if level is not None:
                AdoptionStatusFactory(
                    municipality=municipality,
                    block=block,
                    level=level,
                    planned_date=future if level == Level.PREPARING else None,
                )
    recompute_all()
    return municipalities


def html_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            AdoptionStatus,
            StatusChange,
            MunicipalityScore,
            AgreementCompliance,
            Aggregate,
        )
    }


# --- the explanation on the scorecard ------------------------------------------


def test_scorecard_explains_the_points_per_block_and_the_best_step(client, town):
    # Stad 0: DigiD preparing (3 × ¼), BAG not started, Berichtenbox in use (1 × 1).
    html = html_of(client.get(url("municipalities:detail", slug="stad-0")))

    assert "Waarom deze score" in html
    assert "Bijdrage van elke bouwsteen aan de score" in html
    section = html[html.index('id="explain-points-caption"') :]
    section = section[: section.index("</table>")]
    # 100 × 0.75 / 6 = 12.5 and 100 × 1 / 6 = 16.67; the total is the score.
    assert re.search(r"DigiD</th>.*?12,50</td>", section, re.S)
    assert re.search(r"Berichtenbox</th>.*?16,67</td>", section, re.S)
    assert "29,17" in section  # 29.1666…, rounded half up as every figure is
    raise_section = html[html.index('id="explain-raise-caption"') :]
    raise_section = raise_section[: raise_section.index("</table>")]
    rows = re.findall(r'<th scope="row">([^<]+)</th>', raise_section)
    # DigiD to in use gains 3 × ¾ / 6 = 37.5 points, more than BAG (2 / 6 = 33.3).
    assert rows[0] == "DigiD: In voorbereiding → In gebruik"
    assert rows[1] == "BAG: Niet gestart → In gebruik"
    assert "+37,50" in raise_section
    assert 'href="/resultaatafspraken/1/">nr. 1</a>' in raise_section
    assert 'href="/gemeenten/stad-0/wat-als/?digid=in_use"' in raise_section


def test_scorecard_in_english_explains_too(client, town):
    html = html_of(client.get(url("municipalities:detail", "en", slug="stad-0")))

    assert "Why this score" in html
    assert "What raises the score most" in html
    assert 'href="/en/gemeenten/stad-0/wat-als/?digid=in_use"' in html


def test_scorecard_shows_the_gap_to_the_size_class_and_province_mean(client, town):
    scores = [s.score for s in MunicipalityScore.objects.all()]
    mean = sum(scores) / len(scores)  # all in one size class and province
    own = MunicipalityScore.objects.get(municipality__slug="stad-1").score

    html = html_of(client.get(url("municipalities:detail", "en", slug="stad-1")))

    section = html[html.index('id="explain-gap-caption"') :]
    section = section[: section.index("</table>")]
    # One decimal, rounded half up like every shown figure.
    gap = "+" + str(Decimal(str(own - mean)).quantize(Decimal("0.1"), ROUND_HALF_UP))
    assert section.count(gap) == 3  # size class, province and country


def test_everything_in_use_leaves_nothing_to_raise(client, town):
    html = html_of(client.get(url("municipalities:detail", slug="stad-1")))

    assert "Niets meer te verhogen" in html
    assert 'id="explain-raise-caption"' not in html


# --- the what-if -----------------------------------------------------------------


def test_whatif_shows_score_rank_and_agreements_for_the_chosen_levels(client, town):
    html = html_of(
        client.get(
            url("municipalities:whatif", slug="stad-0")
            + "?digid=in_use&bag=implementing"
        )
    )

    # 100 × (3 + 1 + 1) / 6 = 83.3: second of five (after Stad 1's 100), both
    # agreements met (BAG's needs "implementing" only).
    assert '<span class="key-figure__value" data-whatif="score">83,3</span>' in html
    assert 'data-whatif="rank">2e van 5<' in html
    assert '<span class="key-figure__note">(nu 5e van 5)</span>' in html
    for number in (1, 2):
        assert re.search(
            rf'data-whatif-agreement="{number}"><span class="status status--met">',
            html,
        )
    assert "Gewijzigd: DigiD, BAG." in html


def test_whatif_saves_nothing(client, town):
    before = counts()
    stored = list(MunicipalityScore.objects.order_by("pk").values_list("score", "rank"))
    levels = list(AdoptionStatus.objects.order_by("pk").values_list("level"))

    html_of(
        client.get(
            url("municipalities:whatif", slug="stad-0")
            + "?digid=in_use&bag=not_applicable&berichtenbox=not_started"
        )
    )

    assert counts() == before
    assert (
        list(MunicipalityScore.objects.order_by("pk").values_list("score", "rank"))
        == stored
    )
    assert list(AdoptionStatus.objects.order_by("pk").values_list("level")) == levels


@pytest.mark.parametrize(
    "levels",
    [
        {"digid": Level.IN_USE},
        {"bag": Level.IN_USE, "berichtenbox": Level.NOT_APPLICABLE},
        {"digid": Level.NOT_STARTED, "bag": Level.IMPLEMENTING},
        {"digid": Level.NOT_APPLICABLE, "bag": Level.NOT_APPLICABLE},
        {
            "digid": Level.NOT_APPLICABLE,
            "bag": Level.NOT_APPLICABLE,
            "berichtenbox": Level.NOT_APPLICABLE,
        },
    ],
)
def test_whatif_equals_what_the_recompute_would_store(client, town, levels):
    municipality = Municipality.objects.get(slug="stad-2")
    response = client.get(
        url("municipalities:whatif", slug=municipality.slug), data=levels
    )
    result = response.context["result"]

    # Now really store those levels and recompute.
    for code, level in levels.items():
        AdoptionStatus.objects.update_or_create(
            municipality=municipality,
            block__code=code,
            defaults={"level": level, "note": "test"},
            create_defaults={
                "level": level,
                "note": "test",
                "block_id": town_block_id(code),
            },
        )
    recompute_municipality(municipality.pk)
    stored = MunicipalityScore.objects.get(municipality=municipality)
    statuses = dict(
        AgreementCompliance.objects.filter(municipality=municipality).values_list(
            "agreement_id", "status"
        )
    )

    if stored.score is None:
        assert result["score"] is None
    else:
        assert result["score"] == pytest.approx(stored.score, abs=1e-9)
    assert result["rank"] == stored.rank
    assert result["statuses"] == statuses


def town_block_id(code: str) -> int:
    from buildingblocks.models import BuildingBlock

    return BuildingBlock.objects.get(code=code).pk


def test_whatif_without_levels_shows_the_form_with_the_current_levels(client, town):
    response = client.get(url("municipalities:whatif", slug="stad-0"))
    html = html_of(response)

    assert response.context["result"] is None
    assert re.search(
        r'<select name="digid"[^>]*>.*?<option value="preparing" selected>',
        html,
        re.S,
    )
    assert '<form class="whatif-form" method="get"' in html


def test_whatif_keeps_the_blocks_the_url_leaves_out(client, town):
    response = client.get(
        url("municipalities:whatif", "en", slug="stad-0") + "?bag=in_use"
    )

    result = response.context["result"]
    # DigiD stays preparing, Berichtenbox in use: 100 × (0.75 + 2 + 1) / 6.
    assert result["score"] == pytest.approx(62.5)
    assert [b.code for b in result["changed"]] == ["bag"]


def test_whatif_with_an_unknown_level_explains_and_shows_no_result(client, town):
    response = client.get(
        url("municipalities:whatif", slug="stad-0") + "?digid=finished"
    )
    html = html_of(response)

    assert response.context["result"] is None
    assert 'class="error-summary" role="alert"' in html
    assert "Selecteer een geldige keuze" in html


def test_whatif_of_a_municipality_with_everything_in_use(client, town):
    html = html_of(
        client.get(url("municipalities:whatif", "en", slug="stad-1") + "?bag=in_use")
    )

    assert "Nothing left to raise" in html
    assert "These are the current levels" in html


def test_whatif_of_an_unknown_municipality_is_404(client, town):
    assert client.get("/gemeenten/nergens/wat-als/").status_code == 404


def test_whatif_query_count_does_not_grow_with_the_number_of_municipalities(
    client, django_assert_max_num_queries
):
    build_world(10)
    path = "/gemeenten/plaats-003/wat-als/?digid=in_use&bag=preparing"

    def count() -> int:
        with django_assert_max_num_queries(15) as captured:
            response = client.get(path)
        assert response.context["result"] is not None
        return len(captured.captured_queries)

    small = count()
    add_municipalities(290, start=10)
    assert count() == small


def test_agreements_listed_in_the_whatif_are_all_agreements(client, town):
    response = client.get(url("municipalities:whatif", slug="stad-0") + "?bag=in_use")

    rows = response.context["result"]["agreement_rows"]
    assert [row["agreement"].number for row in rows] == list(
        ResultAgreement.objects.order_by("number").values_list("number", flat=True)
    )
