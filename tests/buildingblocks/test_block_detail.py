"""/bouwstenen/<code>/: what the block is, its figures, map, trend and municipalities."""

from __future__ import annotations

import re

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from buildingblocks.levels import Confidence
from nupportal.formats import round_half_up
from scoring.distribution import spread
from scoring.models import Aggregate, Measure, Scope
from tests.factories import ProvinceFactory, UserFactory
from tests.scoring.dashboard_world import (
    COMPUTED_AT,
    add_municipalities,
    build_dashboard,
)
from tests.test_exports import read_csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_dashboard(8)


@pytest.mark.parametrize("role", ["anonymous", "vdp", "king_staff", "municipal_editor"])
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_block_page_renders_for_every_role_and_language(client, world, role, prefix):
    if role != "anonymous":
        client.force_login(UserFactory(username=f"{role}-b", groups=[role]))
    response = client.get(f"{prefix}/bouwstenen/digid/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert html.count('class="map-area"') == 8


def test_unknown_block_is_404(client, world):
    assert client.get("/bouwstenen/does-not-exist/").status_code == 404


def test_block_page_describes_the_block_in_the_current_language(client, world):
    english = client.get("/en/bouwstenen/digid/").content.decode()
    dutch = client.get("/bouwstenen/digid/").content.decode()
    assert "Citizen login." in english
    assert "Inloggen voor burgers." in dutch
    assert "Logius" in english
    # Medium confidence: the page says the list is a reconstruction.
    assert "reconstruction-note" in english
    assert (
        "reconstruction-note" not in client.get("/en/bouwstenen/bag/").content.decode()
    )
    assert world.bag.confidence == Confidence.HIGH


def test_block_page_shows_levels_share_trend_and_agreements(client, world):
    html = client.get("/en/bouwstenen/digid/").content.decode()
    # 4 of 8 municipalities are in use (LEVEL_CYCLE), national share 75 %.
    assert "4 of 8 municipalities use DigiD." in html
    assert ">4 (50 %)</text>" in html
    assert "75 %" in html
    # Share per size class: 50 % for the smallest class.
    assert ">50 %</text>" in html
    # Trend from the snapshots: 10 % in 2011 to 50 % in 2015.
    assert "from 10 % in 2011 to 50 % in 2015" in html
    assert "Citizen login with DigiD</a>" in html


def test_block_table_filters_by_level(client, world):
    html = client.get("/en/bouwstenen/digid/?level=preparing").content.decode()
    table = html[html.index('id="table-heading"') :]
    assert "2 municipalities" in table
    assert table.count("level level--preparing") == 2
    assert "level level--in_use" not in table


def test_block_table_exports_csv(client, world):
    response = client.get("/en/bouwstenen/digid/?level=in_use&_export=csv")
    assert response.status_code == 200
    rows = read_csv_bytes(response.content)
    assert rows[0][0] == "Municipality"
    assert len(rows) == 1 + 4
    assert {r[3] for r in rows[1:]} == {"In use"}


def test_block_table_exports_xlsx(client, world):
    response = client.get("/en/bouwstenen/digid/?_export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_block_page_query_count_does_not_grow(
    client, world, django_assert_max_num_queries
):
    cache.clear()
    small = count_queries(client, "/en/bouwstenen/digid/")
    add_municipalities(world, 292)
    cache.clear()
    large = count_queries(client, "/en/bouwstenen/digid/")
    assert small == large
    with django_assert_max_num_queries(15):
        client.get("/en/bouwstenen/digid/")
    client.force_login(UserFactory(username="vdp-bq", groups=["vdp"]))
    cache.clear()
    with django_assert_max_num_queries(15):
        client.get("/en/bouwstenen/digid/")


def test_block_page_compares_the_provinces_with_their_spread(client, world):
    shares = {"utrecht": 0.455, "gelderland": 0.8, "zeeland": 0.25}
    for slug, share in shares.items():
        if slug != "utrecht":
            ProvinceFactory(name=slug.capitalize(), slug=slug)
        Aggregate.objects.create(
            scope=Scope.PROVINCE,
            key=slug,
            measure=Measure.IN_USE_SHARE,
            block=world.digid,
            value=share,
            computed_at=COMPUTED_AT,
        )
    html = client.get("/en/bouwstenen/digid/").content.decode()
    section = html[html.index('id="provinces-heading"') :]
    expected = spread(100 * v for v in shares.values())
    spread_table = section[section.index('id="chart-block-province-spread-caption"') :]
    spread_table = spread_table[: spread_table.index("</tbody>")]
    cells = re.findall(r'<td class="num" data-label="[^"]*">([^<]*)</td>', spread_table)
    # 45.5 % is shown as 46 % (half-up), the quartiles interpolated.
    assert cells == ["3"] + [f"{round_half_up(v)} %" for v in expected.five_numbers]
    assert cells[1:] == ["25 %", "35 %", "46 %", "63 %", "80 %"]
    # The ranking per province links each province's page, highest share first.
    bars = section[section.index('id="chart-block-provinces-caption"') :]
    assert re.findall(r'<th scope="row"><a href="/en/provincies/([a-z]+)/">', bars)[
        :3
    ] == ["gelderland", "utrecht", "zeeland"]
    # The country's share marks the box.
    assert "Netherlands: 75 %</text>" in section
