"""/resultaatafspraken/<number>/: agreement, deadline history, compliance and laggards."""

from __future__ import annotations

from collections import Counter
from html import escape

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from tests.factories import UserFactory
from tests.scoring.dashboard_world import add_municipalities, build_dashboard
from tests.test_exports import read_csv_bytes

pytestmark = pytest.mark.django_db
URL = "/resultaatafspraken/4/"


@pytest.fixture
def world():
    return build_dashboard(8)


@pytest.mark.parametrize("role", ["anonymous", "vdp", "king_staff", "municipal_editor"])
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_agreement_page_renders_for_every_role_and_language(
    client, world, role, prefix
):
    if role != "anonymous":
        client.force_login(UserFactory(username=f"{role}-a", groups=[role]))
    response = client.get(prefix + URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert html.count('class="map-area"') == 8


def test_unknown_agreement_is_404(client, world):
    assert client.get("/resultaatafspraken/77/").status_code == 404


def test_agreement_page_shows_what_was_agreed_and_the_deadline_history(client, world):
    html = client.get("/en" + URL).content.decode()
    assert "4. Citizen login with DigiD" in html
    assert "reconstruction" in html
    assert "Original deadline: 1 January 2015" in html
    assert "1 January 2015 → 1 January 2016, decided on 1 October 2014" in html
    assert "synthetic demo data" in html
    assert "Extra time for small municipalities" in html
    # A deadline from a source: no "programme end" note.
    assert "reference deadline" not in html
    # Required block and its minimum level.
    assert 'href="/en/bouwstenen/digid/">DigiD</a>' in html
    assert "level level--in_use" in html


def test_reference_deadline_is_explained(client, world):
    world.agreement.deadline_is_reference = True
    world.agreement.save()
    html = client.get("/en" + URL).content.decode()
    assert "reference deadline" in html


def test_agreement_page_shows_compliance_and_trend(client, world):
    html = client.get("/en" + URL).content.decode()
    # STATUS_CYCLE over 8 municipalities: 2 of each status.
    assert "2 of 8 municipalities meet this agreement; 2 are overdue." in html
    assert ">2 (25 %)</text>" in html
    assert "from 5 % in 2011 to 25 % in 2015" in html


def test_laggards_table_lists_overdue_and_at_risk_with_what_is_missing(client, world):
    html = client.get("/en" + URL).content.decode()
    table = html[html.index('id="laggards-heading"') :]
    assert "4 municipalities" in table
    assert table.count("status status--overdue") == 2
    assert table.count("status status--at_risk") == 2
    assert "status--met" not in table
    # Laggards i=1 (preparing, planned) and i=2 (not started) per LEVEL_CYCLE.
    assert "DigiD (Preparing, planned 1 Jun 2015)" in table
    assert "DigiD (Not started)" in table


def test_laggards_export_csv(client, world):
    response = client.get("/en" + URL + "?_export=csv")
    assert response.status_code == 200
    rows = read_csv_bytes(response.content)
    assert rows[0] == [
        "Municipality",
        "Province",
        "Size class",
        "Status",
        "Reason",
        "Date passed",
        "What is missing",
        "Will miss the deadline",
        "Data",
    ]
    assert len(rows) == 5
    assert {r[3] for r in rows[1:]} == {"Overdue", "At risk"}
    assert all(r[6].startswith("DigiD (") for r in rows[1:])
    # The deadline (1 January 2016) has passed: nobody is still to miss it.
    assert {r[7] for r in rows[1:]} == {""}
    assert {r[4] for r in rows[1:]} <= {
        "not planned",
        "planned after the deadline",
        "plan expired",
        "deadline passed",
    }


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_agreement_page_query_count_does_not_grow(
    client, world, django_assert_max_num_queries
):
    cache.clear()
    small = count_queries(client, URL)
    add_municipalities(world, 292)
    cache.clear()
    large = count_queries(client, URL)
    assert small == large
    with django_assert_max_num_queries(15):
        client.get(URL)
    client.force_login(UserFactory(username="vdp-aq", groups=["vdp"]))
    cache.clear()
    with django_assert_max_num_queries(15):
        client.get(URL)


def test_every_page_of_laggards_says_what_is_missing(client, world):
    """What is missing is loaded for the page shown (not for every laggard), so
    later pages must have it too; an export still has it for every row."""
    add_municipalities(world, 142)  # 150 municipalities, 75 laggards: two pages
    rows = read_csv_bytes(client.get("/en" + URL + "?_export=csv").content)[1:]
    assert len(rows) == 75
    assert all(r[6].startswith("DigiD (") for r in rows)
    for page in (1, 2):
        html = client.get("/en" + URL, {"page": page}).content.decode()
        table = html[html.index('id="laggards-heading"') :]
        table = table[: table.index("</table>")]
        shown = table.count("status status--overdue") + table.count(
            "status status--at_risk"
        )
        assert shown == (50 if page == 1 else 25)
        # The same text per municipality as the export (which loads every row).
        on_page = [r for r in rows if f">{escape(r[0])}<" in table]
        assert len(on_page) == shown
        for text, count in Counter(r[6] for r in on_page).items():
            assert table.count(escape(text)) == count, text
