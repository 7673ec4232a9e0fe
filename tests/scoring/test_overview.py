"""The national overview `/`: renders for everyone in both languages, shows the known
figures, and costs the same number of queries at 10 and at 300 municipalities."""

from __future__ import annotations

import re

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from scoring.compute import recompute_all
from tests.factories import UserFactory
from tests.scoring.dashboard_world import add_municipalities, build_dashboard

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_dashboard(10)


def login(client, role):
    if role == "anonymous":
        return
    user = UserFactory(username=f"{role}-user", groups=[role])
    client.force_login(user)


@pytest.mark.parametrize("role", ["anonymous", "vdp", "king_staff", "municipal_editor"])
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_overview_renders_for_every_role_and_language(client, world, role, prefix):
    login(client, role)
    response = client.get(f"{prefix}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert 'class="map"' in html
    assert 'href="/static/css/charts.css"' in html or "charts.css" in html


def test_overview_shows_the_known_figures(client, world):
    html = client.get("/en/").content.decode()
    # Headline: mean score 42.5 → "42", DigiD covers 80 % of inhabitants.
    assert re.search(r'headline__value">4[23]<', html)
    assert re.search(r">DigiD</a> <span[^>]*>80 %<", html)
    # Adoption per block: a bar labelled DigiD with 75 %.
    assert ">DigiD<title>DigiD</title></text>" in html
    assert ">75 %</text>" in html
    # The agreement with its overdue municipalities (3 of 10 in the fixture)…
    assert "Citizen login with DigiD</a>:" in html
    assert "3 municipalities overdue" in html
    # …the trend since 2011 and the size-class gap.
    assert "Netherlands 50</text>" in html
    assert "Municipalities with &lt; 10,000 inhabitants score 20 on average" in html
    assert "Scores as of" in html


def test_overview_map_has_one_link_per_active_municipality(client, world):
    html = client.get("/").content.decode()
    svg = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="map"') :]
    svg = svg[: svg.index("</svg>")]
    assert svg.count('class="map-area"') == 10
    assert f'href="{world.known.get_absolute_url()}"' in svg
    assert 'class="map-c4"><title>' in svg  # 85 to 90


def test_overview_every_chart_has_a_caption_summary_and_table(client, world):
    html = client.get("/en/").content.decode()
    figures = html.count('<figure class="chart-figure"')
    assert figures == 8
    assert html.count("<figcaption") == figures + 1  # and the map
    assert html.count('<details class="chart-figure__table">') == figures + 1
    # Each chart is drawn twice, wide and for a phone; CSS shows one of them.
    assert html.count('role="img"') == 2 * figures
    assert html.count('class="chart chart--narrow"') == figures


def test_overview_has_no_inline_style_or_script(client, world):
    html = client.get("/en/").content.decode()
    assert "style=" not in html
    assert "<style" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None


def test_overview_before_the_first_computation_says_so(client, db):
    response = client.get("/en/")
    assert response.status_code == 200
    assert "Scores are being computed" in response.content.decode()


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/", "/en/"])
def test_overview_query_count_does_not_grow_with_municipalities(
    client, world, url, django_assert_max_num_queries
):
    cache.clear()
    cold_small = count_queries(client, url)
    warm_small = count_queries(client, url)
    add_municipalities(world, 290)
    cache.clear()
    cold_large = count_queries(client, url)
    warm_large = count_queries(client, url)
    assert cold_small == cold_large
    assert warm_small == warm_large
    assert warm_large < cold_large  # the map came from the cache
    with django_assert_max_num_queries(15):
        client.get(url)


def test_overview_query_count_for_a_logged_in_user(client, world):
    client.force_login(UserFactory(username="vdp-q", groups=["vdp"]))
    cache.clear()
    assert count_queries(client, "/") <= 15


def test_overview_after_a_real_recompute(client, world):
    recompute_all()
    response = client.get("/en/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Scores are being computed" not in html
    assert html.count('class="map-area"') == 10
