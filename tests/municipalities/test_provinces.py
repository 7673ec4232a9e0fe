"""The province dashboard: /provincies/ and /provincies/<slug>/, their figures and exports."""

from __future__ import annotations

import csv
import io
import re

from django.urls import reverse
from django.utils import translation

import pytest
from openpyxl import load_workbook

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from municipalities.models import Municipality
from nupportal.formats import format_percent, round_half_up
from scoring.compute import recompute_all
from scoring.distribution import spread
from scoring.models import AgreementCompliance, ComplianceStatus, MunicipalityScore
from tests.factories import ProvinceFactory
from tests.municipalities.portal_world import add_municipalities, build_world
from tests.scoring.conftest import TODAY
from tests.scoring.conftest import build_world as build_scoring_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return build_world(20)


def url(name: str, lang: str = "nl", **kwargs) -> str:
    with translation.override(lang):
        return reverse(name, kwargs=kwargs or None)


def scores_of(province_slug: str | None = None, size_class: str | None = None):
    """The scores of the active municipalities, straight from the table."""
    rows = MunicipalityScore.objects.filter(
        municipality__active=True, score__isnull=False
    )
    if province_slug:
        rows = rows.filter(municipality__province__slug=province_slug)
    if size_class:
        rows = rows.filter(municipality__size_class=size_class)
    return list(rows.values_list("score", flat=True))


def shown(value: float) -> str:
    """A score as the English pages write it: one decimal, half-up."""
    return f"{round_half_up(value, 1)}"


def csv_rows(response) -> list[list[str]]:
    text = b"".join(
        response.streaming_content if response.streaming else [response.content]
    )
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))


def test_the_list_shows_every_province_with_its_spread(client, world):
    response = client.get(url("municipalities:provinces", "en"))
    assert response.status_code == 200
    html = response.content.decode()
    for slug, name in (("gelderland", "Gelderland"), ("utrecht", "Utrecht")):
        expected = spread(scores_of(slug))
        row = re.search(
            rf'<th scope="row"[^>]*><a href="/en/provincies/{slug}/">{name}</a></th>(.*?)</tr>',
            html,
            re.S,
        ).group(1)
        cells = re.findall(r"<td[^>]*>\s*([^<]*?)\s*</td>", row)
        count = Municipality.objects.filter(province__slug=slug, active=True).count()
        assert cells == [
            str(count),
            str(expected.count),
            shown(expected.mean),
            shown(expected.median),
            shown(expected.minimum),
            shown(expected.q1),
            shown(expected.q3),
            shown(expected.maximum),
        ]
    # The box plot, with a table alternative that links each province's page.
    assert 'id="chart-spread-province-caption"' in html
    assert '<th scope="row"><a href="/en/provincies/utrecht/">Utrecht</a></th>' in html


def test_the_list_sorts_and_exports(client, world):
    response = client.get(url("municipalities:provinces") + "?sort=-median")
    html = response.content.decode()
    names = re.findall(r'<a href="/provincies/([a-z]+)/">', html)
    medians = {s: spread(scores_of(s)).median for s in ("gelderland", "utrecht")}
    assert names[:2] == sorted(medians, key=medians.get, reverse=True)

    rows = csv_rows(client.get(url("municipalities:provinces") + "?_export=csv"))
    header, body = rows[0], rows[1:]
    assert header[:4] == [
        "Provincie",
        "Gemeenten",
        "Gemeenten met een score",
        "Gemiddelde",
    ]
    assert "Mediaan (exact)" in header
    utrecht = next(r for r in body if r[0] == "Utrecht")
    expected = spread(scores_of("utrecht"))
    median_at = header.index("Mediaan (exact)")
    assert float(utrecht[median_at].replace(",", ".")) == pytest.approx(expected.median)


def test_the_province_page_figures_equal_a_direct_computation(client, world):
    response = client.get(url("municipalities:province", "en", slug="utrecht"))
    assert response.status_code == 200
    html = response.content.decode()
    mine, country = spread(scores_of("utrecht")), spread(scores_of())
    # The box plot against the country, its table alternative.
    table = html[html.index('id="chart-province-spread-caption"') :]
    table = table[table.index("<tbody>") : table.index("</tbody>")]
    assert re.findall(r"<td[^>]*>([^<]*)</td>", table) == [
        str(mine.count),
        *(shown(v) for v in mine.five_numbers),
        str(country.count),
        *(shown(v) for v in country.five_numbers),
    ]
    # Ranked within the province, best first; ties share a rank.
    utrecht = sorted(scores_of("utrecht"), reverse=True)
    ranking = html[html.index('id="ranking-heading"') :]
    ranking = ranking[: ranking.index("</table>")]
    scores_shown = re.findall(r'<td class="num">(\d+\.\d)</td>', ranking)
    assert scores_shown == [shown(s) for s in utrecht]
    # Size classes within the province.
    sizes = html[html.index('id="sizes-heading"') :]
    sizes = sizes[: sizes.index("</table>")]
    xs = spread(scores_of("utrecht", "xs"))
    national_xs = spread(scores_of(None, "xs"))
    row = re.search(
        r"<th scope=\"row\"[^>]*>\s*&lt; 10,000\s*</th>(.*?)</tr>", sizes, re.S
    )
    cells = re.findall(r"<td[^>]*>\s*([^<]*?)\s*</td>", row.group(1))
    assert cells == [
        str(xs.count),
        shown(xs.mean),
        shown(xs.median),
        shown(xs.minimum),
        shown(xs.q1),
        shown(xs.q3),
        shown(xs.maximum),
        shown(national_xs.median),
    ]


def test_the_province_page_compares_blocks_and_agreements_with_the_country(
    client, world
):
    html = client.get(
        url("municipalities:province", "en", slug="utrecht")
    ).content.decode()
    blocks = html[html.index('id="blocks-heading"') :]
    blocks = blocks[: blocks.index("</table>")]
    # The world stores 50 % in use everywhere.
    assert re.search(
        r'<a href="/en/bouwstenen/digid/">DigiD</a>.*?50 %.*?50 %', blocks, re.S
    )
    agreements = html[html.index('id="agreements-heading"') :]
    agreements = agreements[: agreements.index("</table>")]
    # National 25 %; no province share stored: a dash.
    assert re.search(r"1\. DigiD</a>.*?—.*?25 %", agreements, re.S)


def test_unknown_province_is_404(client, world):
    assert client.get("/provincies/atlantis/").status_code == 404
    assert client.get("/en/provincies/atlantis/").status_code == 404


@pytest.mark.parametrize(
    "table", ["gemeenten", "bouwstenen", "afspraken", "grootteklassen"]
)
def test_every_table_of_the_province_page_exports(client, world, table):
    base = url("municipalities:province", slug="gelderland")
    response = client.get(f"{base}?_export=csv&tabel={table}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "gelderland-" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert len(rows) > 1
    xlsx = client.get(f"{base}?_export=xlsx&tabel={table}")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == rows[0]


def test_the_ranking_export_holds_every_municipality_of_the_province(client, world):
    base = url("municipalities:province", slug="gelderland")
    rows = csv_rows(client.get(f"{base}?_export=csv"))
    header, body = rows[0], rows[1:]
    assert header[0] == "Gemeente"
    names = {r[0] for r in body}
    assert names == set(
        Municipality.objects.filter(
            province__slug="gelderland", active=True
        ).values_list("name", flat=True)
    )


def _query_count(client, django_assert_max_num_queries, path) -> int:
    with django_assert_max_num_queries(15) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "path",
    [
        "/provincies/",
        "/provincies/?_export=xlsx",
        "/provincies/utrecht/",
        "/provincies/utrecht/?_export=csv&tabel=bouwstenen",
        "/gemeenten/plaats-003/",
    ],
)
def test_query_count_does_not_grow_with_the_number_of_municipalities(
    client, django_assert_max_num_queries, path
):
    build_world(10)
    small = _query_count(client, django_assert_max_num_queries, path)
    add_municipalities(290, start=10)
    large = _query_count(client, django_assert_max_num_queries, path)
    assert small == large


def test_links_to_the_province_pages(client, world):
    scorecard = client.get(
        url("municipalities:detail", slug="plaats-003")
    ).content.decode()
    municipality = Municipality.objects.get(slug="plaats-003")
    assert f'<a href="/provincies/{municipality.province.slug}/">' in scorecard
    assert 'id="chart-spread-benchmark-caption"' in scorecard
    overview = client.get("/").content.decode()
    assert 'href="/provincies/"' in overview
    assert 'id="chart-spread-size-caption"' in overview
    assert 'id="chart-spread-province-caption"' in overview


def test_each_table_of_the_province_page_sorts_on_its_own(client, world):
    base = url("municipalities:province", "en", slug="utrecht")
    html = client.get(f"{base}?sort=name&g-sort=-median").content.decode()
    ranking = html[html.index('id="ranking-heading"') :]
    ranking = ranking[: ranking.index("</table>")]
    names = re.findall(r'<a href="/en/gemeenten/[^"]+/">(Plaats \d+)</a>', ranking)
    assert names == sorted(names)
    sizes = html[html.index('id="sizes-heading"') :]
    sizes = sizes[: sizes.index("</table>")]
    assert 'aria-sort="descending"' in sizes
    medians = [
        float(cells[2])
        for cells in (
            re.findall(r"<td[^>]*>\s*([^<]*?)\s*</td>", row)
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", sizes, re.S)
        )
        if len(cells) > 2 and cells[2] != "—"
    ]
    assert len(medians) >= 2
    assert medians == sorted(medians, reverse=True)


def test_after_a_recompute_the_shares_equal_a_direct_count(client, db):
    """With the real engine: the province's shares in use and compliance shares are
    the counts over its active municipalities, as the page shows them."""
    scoring_world = build_scoring_world()
    recompute_all(today=TODAY)
    province = scoring_world.municipalities[0].province
    members = Municipality.objects.filter(province=province, active=True)
    with translation.override("en"):
        html = client.get(
            url("municipalities:province", "en", slug=province.slug)
        ).content.decode()

        blocks = html[html.index('id="blocks-heading"') :]
        blocks = blocks[: blocks.index("</table>")]
        block = scoring_world.blocks[0]
        levels = list(
            AdoptionStatus.objects.filter(
                municipality__in=members, block=block
            ).values_list("level", flat=True)
        )
        applicable = members.count() - levels.count(Level.NOT_APPLICABLE)
        expected = format_percent(levels.count(Level.IN_USE) / applicable)
        row = re.search(
            rf'<a href="{block.get_absolute_url()}">[^<]*</a></th>(.*?)</tr>',
            blocks,
            re.S,
        ).group(1)
        assert re.findall(r"<td[^>]*>\s*([^<]*?)\s*</td>", row)[0] == expected

        agreements = html[html.index('id="agreements-heading"') :]
        agreements = agreements[: agreements.index("</table>")]
        agreement = scoring_world.agreements[0]
        statuses = list(
            AgreementCompliance.objects.filter(
                municipality__in=members, agreement=agreement
            ).values_list("status", flat=True)
        )
        applicable = len(statuses) - statuses.count(ComplianceStatus.NOT_APPLICABLE)
        expected = format_percent(statuses.count(ComplianceStatus.MET) / applicable)
        row = re.search(
            rf'<a href="{agreement.get_absolute_url()}">[^<]*</a></th>(.*?)</tr>',
            agreements,
            re.S,
        ).group(1)
        assert re.findall(r"<td[^>]*>\s*([^<]*?)\s*</td>", row)[1] == expected


def test_empty_portal_says_so_in_both_languages(client, db):
    html = client.get("/provincies/").content.decode()
    assert "Er zijn geen provincies geladen." in html
    ProvinceFactory(name="Zeeland", slug="zeeland")
    html = client.get("/en/provincies/zeeland/").content.decode()
    assert "This province has no municipalities." in html
    assert "No scores in Zeeland yet." in html
