"""The forecast on the block, agreement and scorecard pages (scoring.projections)."""

from __future__ import annotations

import datetime

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from scoring.forecast import add_months, logistic
from scoring.models import Measure, Scope, Snapshot
from tests.scoring.dashboard_world import (
    COMPUTED_AT,
    add_municipalities,
    build_dashboard,
)
from tests.test_exports import read_csv_bytes

pytestmark = pytest.mark.django_db
START = datetime.date(2011, 1, 1)
MONTHS = 60  # 2011-01 … 2015-12


def monthly(
    values, *, measure, scope=Scope.NATIONAL, key="", block=None, agreement=None
):
    return [
        Snapshot(
            month=add_months(START, i),
            scope=scope,
            key=key,
            measure=measure,
            block=block,
            agreement=agreement,
            value=value,
            computed_at=COMPUTED_AT,
        )
        for i, value in enumerate(values)
    ]


def s_curve(ceiling, rate, midpoint):
    return [float(logistic(i, ceiling, rate, midpoint)) for i in range(MONTHS)]


@pytest.fixture
def world():
    world = build_dashboard(8)
    Snapshot.objects.filter(
        measure__in=[Measure.IN_USE_SHARE, Measure.COMPLIANCE_SHARE]
    ).delete()
    # DigiD nationally: an S-curve at 60 % in December 2015, 90 % in November
    # 2017 (t = 54 + ln 9 / 0.08 = 81.5); size class xs flat at 40 %.
    rows = monthly(
        s_curve(1.0, 0.08, 54), measure=Measure.IN_USE_SHARE, block=world.digid
    )
    rows += monthly(
        [0.4] * MONTHS,
        measure=Measure.IN_USE_SHARE,
        scope=Scope.SIZE_CLASS,
        key="xs",
        block=world.digid,
    )
    # The agreement: nationally the same curve; class m levels off at 50 %,
    # class s is past 90 % already.
    rows += monthly(
        s_curve(1.0, 0.08, 54),
        measure=Measure.COMPLIANCE_SHARE,
        agreement=world.agreement,
    )
    for key, curve in (("m", s_curve(0.5, 0.1, 30)), ("s", s_curve(1.0, 0.2, 20))):
        rows += monthly(
            curve,
            measure=Measure.COMPLIANCE_SHARE,
            scope=Scope.SIZE_CLASS,
            key=key,
            agreement=world.agreement,
        )
    Snapshot.objects.bulk_create(rows)
    # A deadline still ahead, so that "will miss it" can apply.
    world.agreement.deadline = timezone.localdate() + datetime.timedelta(days=400)
    world.agreement.save()
    cache.clear()
    return world


def forecast_table(html: str, table_id: str) -> str:
    start = html.index(f'id="{table_id}"')
    return html[start : html.index("</table>", start)]


def test_block_page_shows_the_forecast_table_and_projection(client, world):
    html = client.get("/en/bouwstenen/digid/").content.decode()
    table = forecast_table(html, "block-forecast")
    national = table[
        table.index("Netherlands") : table.index("</tr>", table.index("Netherlands"))
    ]
    assert "60 % in December 2015" in national
    assert "November 2017" in national
    # xs: flat, so no forecast, and why.
    assert "no forecast: the share hardly changed" in table
    trend = html[html.index('id="chart-block-trend-caption"') :]
    trend = trend[: trend.index("</figure>")]
    assert 'class="chart-line chart-projection"' in trend
    assert 'class="chart-band"' in trend
    assert "90 % nationally in November 2017" in trend
    # The chart's table has the forecast years, with their band.
    assert "December 2016" in trend
    assert "Forecast, Netherlands (80 % band)" in trend


def test_dutch_block_page_has_the_forecast(client, world):
    html = client.get("/bouwstenen/digid/").content.decode()
    assert "november 2017" in forecast_table(html, "block-forecast")


def test_agreement_page_shows_the_burnup_with_deadlines_and_forecast(client, world):
    html = client.get("/en/resultaatafspraken/4/").content.decode()
    burnup = html[html.index('id="chart-agreement-burnup-caption"') :]
    burnup = burnup[: burnup.index("</figure>")]
    assert 'class="chart-line chart-projection"' in burnup
    # Original deadline, the revision, and the deadline in force (solid), in
    # the wide and the narrow drawing.
    assert burnup.count('class="chart-marker"') == 2 * 3
    assert "At the deadline (" in burnup and "the forecast is" in burnup
    table = forecast_table(html, "agreement-forecast")
    assert "November 2017" in table
    assert "not in sight (the curve levels off below 90 %)" in table
    assert "reached in" in table


def test_laggards_say_who_will_miss_the_deadline_and_why(client, world):
    rows = read_csv_bytes(client.get("/en/resultaatafspraken/4/?_export=csv").content)
    flags = {r[0]: r[7] for r in rows[1:]}
    # At risk, not planned (STATUS_CYCLE): 002 in class m (levels off at 50 %)
    # is flagged on pace; 006 in class s (past 90 %) is not.
    assert flags["Gemeente 002"] == "pace of comparable municipalities"
    assert flags["Gemeente 006"] == ""
    html = client.get("/en/resultaatafspraken/4/").content.decode()
    assert "Yes: pace of comparable municipalities" in html


def test_scorecard_flags_the_agreement_it_will_miss(client, world):
    html = client.get("/en/gemeenten/test-gemeente-002/").content.decode()
    table = html[html.index('id="agreements-heading"') :]
    assert "Yes: pace of comparable municipalities" in table[: table.index("</table>")]
    other = client.get("/en/gemeenten/test-gemeente-006/").content.decode()
    assert "Yes: " not in other[other.index('id="agreements-heading"') :]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/en/bouwstenen/digid/",
        "/en/resultaatafspraken/4/",
        "/en/gemeenten/test-gemeente-002/",
    ],
)
def test_forecast_pages_keep_a_constant_number_of_queries(client, world, url):
    cache.clear()
    small = count_queries(client, url)
    add_municipalities(world, 92)
    cache.clear()
    assert count_queries(client, url) == small


@pytest.mark.parametrize(
    ("prefix", "heading", "full"),
    [
        ("/en", "Forecast: when 90 % and 100 % are reached", "passes 99.5 %"),
        ("", "Prognose: wanneer 90 % en 100 % worden bereikt", "99,5 % passeert"),
    ],
)
def test_method_page_explains_the_forecast_and_the_flag(client, prefix, heading, full):
    html = client.get(f"{prefix}/methode/").content.decode()
    section = html[html.index('id="forecast"') :]
    assert heading in section
    assert full in section
    assert 'id="will-miss"' in section
    assert "forecast-backtest.md" in section


def test_dutch_pages_have_the_forecast_in_dutch(client, world):
    html = client.get("/resultaatafspraken/4/").content.decode()
    assert "Burn-up: aandeel gemeenten dat voldoet, afgezet tegen de deadline" in html
    assert "Ja: tempo van vergelijkbare gemeenten" in html
    assert "niet in zicht (de curve vlakt af onder 90 %)" in html
