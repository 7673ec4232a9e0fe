"""Every dashboard page on a past date (?peildatum=): the figures equal a direct
computation from the history, a bad date is refused with a message (never a
500), links keep the date, and the queries do not grow with the municipalities."""

from __future__ import annotations

import datetime
import re

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import BuildingBlock
from municipalities.models import Merger, Municipality
from scoring import history, rules
from scoring.charts import number
from scoring.compute import recompute_all
from scoring.history import snapshot_scores
from scoring.models import Measure, Scope
from tests.api.conftest import set_level
from tests.factories import MunicipalityFactory, UserFactory
from tests.timetravel.conftest import MID_MONTH, MONTH_END

pytestmark = pytest.mark.django_db

DATES = [MONTH_END, MID_MONTH]
DASHBOARD_PATHS = [
    "/en/",
    "/en/gemeenten/",
    "/en/gemeenten/utrecht/",
    "/en/matrix/",
    "/en/bouwstenen/",
    "/en/bouwstenen/digid/",
    "/en/resultaatafspraken/",
    "/en/resultaatafspraken/1/",
]


def direct_scores(on: datetime.date) -> dict[str, float | None]:
    """slug → score, from history.states_on and the rules: no page code involved."""
    states = history.states_on(on)
    blocks = list(BuildingBlock.objects.filter(active=True).values_list("id", "weight"))
    scores = {}
    for m in Municipality.objects.all():
        if not history.exists_on(
            on, active=m.active, valid_from=m.valid_from, valid_until=m.valid_until
        ):
            continue
        scores[m.slug] = rules.adoption_score(
            (weight, states.get((m.pk, block_id), rules.NOT_STARTED).level)
            for block_id, weight in blocks
        )
    return scores


def national(on: datetime.date, measure: str, **match) -> float | None:
    for scope, _key, m, block_id, agreement_id, status, value in history.figures_on(on):
        if scope != Scope.NATIONAL or m != measure:
            continue
        if match.get("block_id") != block_id:
            continue
        if match.get("agreement_id") != agreement_id:
            continue
        if match.get("status", status) != status:
            continue
        return value
    return None


@pytest.mark.parametrize("on", DATES, ids=["month-end", "mid-month"])
def test_overview_headlines_equal_the_direct_figures(client, world, on):
    response = client.get(f"/en/?peildatum={on.isoformat()}")
    assert response.status_code == 200
    headlines = response.context["headlines"]
    assert headlines[0].value == number(national(on, Measure.MEAN_SCORE))
    assert headlines[1].value == number(national(on, Measure.ALL_MET))
    overdue = national(
        on, Measure.STATUS_COUNT, agreement_id=world.agreement.pk, status="overdue"
    )
    assert headlines[2].value == number(overdue or 0)
    map_slugs = {
        url.rstrip("/").split("/")[-1]
        for _name, url, _value, _class in response.context["score_map"].rows
    }
    assert map_slugs == set(direct_scores(on))


@pytest.mark.parametrize("on", DATES, ids=["month-end", "mid-month"])
def test_list_scorecard_and_matrix_equal_the_direct_scores(client, world, on):
    expected = direct_scores(on)
    table = client.get(f"/en/gemeenten/?peildatum={on.isoformat()}").context["table"]
    shown = {row.record.slug: row.record.adoption_score for row in table.rows}
    assert shown.keys() == expected.keys()
    for slug, score in expected.items():
        assert shown[slug] == pytest.approx(score)

    scorecard = client.get(f"/en/gemeenten/utrecht/?peildatum={on.isoformat()}")
    assert scorecard.context["score"].score == pytest.approx(expected["utrecht"])
    ranked = sorted((s for s in expected.values() if s is not None), reverse=True)
    assert scorecard.context["score"].rank == ranked.index(expected["utrecht"]) + 1

    matrix = client.get(f"/en/matrix/?peildatum={on.isoformat()}").context
    states = history.states_on(on)
    for row in matrix["rows"]:
        for cell in row["cells"]:
            state = states.get((row["municipality"].pk, cell["block"].pk))
            assert cell["level"] == (state.level if state else Level.NOT_STARTED)


@pytest.mark.parametrize("on", DATES, ids=["month-end", "mid-month"])
def test_block_and_agreement_pages_equal_the_direct_figures(client, world, on):
    blocks = client.get(f"/en/bouwstenen/?peildatum={on.isoformat()}").context["table"]
    for row in blocks.rows:
        block = row.record
        assert block.in_use_share == national(
            on, Measure.IN_USE_SHARE, block_id=block.pk
        )
    detail = client.get(f"/en/bouwstenen/digid/?peildatum={on.isoformat()}")
    in_use = [
        row.record.municipality.slug
        for row in detail.context["table"].rows
        if row.record.level == Level.IN_USE
    ]
    states = history.states_on(on)
    existing = direct_scores(on)
    assert sorted(in_use) == sorted(
        m.slug
        for m in Municipality.objects.filter(slug__in=existing)
        if getattr(states.get((m.pk, world.digid.pk)), "level", None) == Level.IN_USE
    )
    agreements = client.get(f"/en/resultaatafspraken/?peildatum={on.isoformat()}")
    (row,) = agreements.context["table"].rows
    assert row.record.compliance_share == national(
        on, Measure.COMPLIANCE_SHARE, agreement_id=world.agreement.pk
    )
    page = client.get(f"/en/resultaatafspraken/1/?peildatum={on.isoformat()}")
    lagging = (
        national(
            on, Measure.STATUS_COUNT, agreement_id=world.agreement.pk, status="at_risk"
        )
        or 0
    )
    lagging += (
        national(
            on, Measure.STATUS_COUNT, agreement_id=world.agreement.pk, status="overdue"
        )
        or 0
    )
    assert len(page.context["table"].rows) == lagging


def test_only_the_municipalities_of_that_day(client, world):
    def slugs(on: str) -> set[str]:
        table = client.get(f"/en/gemeenten/?peildatum={on}").context["table"]
        return {row.record.slug for row in table.rows}

    assert "maarssen" in slugs("2014-12-31")
    assert "nieuwegein-vianen" not in slugs("2014-12-31")
    assert "maarssen" not in slugs("2015-06-01")
    assert "nieuwegein-vianen" in slugs("2015-06-01")
    html = client.get("/en/gemeenten/nieuwegein-vianen/?peildatum=2014-12-31")
    assert "did not exist on 31 December 2014" in html.content.decode()


def test_banner_in_both_languages_with_a_way_back(client, world):
    nl = client.get("/gemeenten/?peildatum=31-12-2014&province=utrecht").content
    assert "U bekijkt de stand van 31 december 2014" in nl.decode()
    en = client.get("/en/gemeenten/?peildatum=2014-12-31&province=utrecht")
    html = en.content.decode()
    assert "You are viewing the figures as of 31 December 2014" in html
    assert '<a href="/en/gemeenten/?province=utrecht" data-today>' in html


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2999-01-01", "is in the future"),
        ("2010-12-31", "before the programme started"),
        ("31-02-2014", "is not a date"),
        ("gisteren", "is not a date"),
    ],
)
def test_a_bad_date_gives_its_reason(client, world, value, message):
    response = client.get(f"/en/gemeenten/?peildatum={value}")
    assert response.status_code == 200
    assert message in response.content.decode()


@pytest.mark.parametrize("path", DASHBOARD_PATHS)
def test_a_bad_date_gives_a_message_and_todays_figures(client, world, path):
    response = client.get(f"{path}?peildatum=2999-01-01")
    assert response.status_code == 200
    html = response.content.decode()
    assert "is in the future" in html
    assert "You are viewing the figures as of" not in html
    assert "You are viewing today" in html
    today = client.get(path)
    assert response.context.get("score") == today.context.get("score")


def test_a_bad_date_in_dutch(client, world):
    html = client.get("/?peildatum=2999-01-01").content.decode()
    assert "ligt in de toekomst" in html


def test_today_is_todays_figures(client, world):
    from django.utils import timezone

    html = client.get(f"/en/?peildatum={timezone.localdate().isoformat()}").content
    assert b"You are viewing the figures as of" not in html


LINK = re.compile(r'<a\b[^>]*href="([^"]*)"[^>]*>')


@pytest.mark.parametrize("path", DASHBOARD_PATHS)
def test_links_to_dashboard_pages_keep_the_date(client, world, path):
    html = client.get(f"{path}?peildatum=2014-12-31").content.decode()
    dashboard = re.compile(
        r"^/en/(gemeenten/(?!.*/(bewerken|geschiedenis|wat-als)/)|matrix/|"
        r"bouwstenen/(?!statussen)|resultaatafspraken/)?$"
    )
    checked = 0
    for match in LINK.finditer(html):
        tag, url = match.group(0), match.group(1)
        if "data-today" in tag:
            continue
        target = url.split("?")[0].split("#")[0]
        if url.startswith("?") or dashboard.match(target):
            assert "peildatum=2014-12-31" in url, url
            checked += 1
    assert checked >= 6  # the navigation at least
    for form in re.findall(r"<form\b[^>]*>.*?</form>", html, re.DOTALL):
        if 'method="post"' in form:
            continue
        assert 'name="peildatum"' in form


def test_links_away_from_the_dashboard_leave_the_date(client, world):
    html = client.get("/en/gemeenten/utrecht/?peildatum=2014-12-31").content.decode()
    assert 'href="/en/methode/#score"' in html
    assert "/en/open-data/?peildatum" not in html


def test_exports_hold_that_day_and_say_so(client, world):
    response = client.get(
        "/en/gemeenten/?peildatum=2013-06-15&kolommen=name,cbs_code&_export=csv"
    )
    assert "municipalities-2013-06-15.csv" in response["Content-Disposition"]
    body = response.content.decode("utf-8-sig")
    assert "Nieuwegein-Vianen" not in body
    assert '"Utrecht";"GM0344"' in body


def test_overview_compares_with_another_date(client, world):
    html = client.get("/en/?peildatum=2014-12-31&vergelijk=2013-06-15").content.decode()
    then = national(MID_MONTH, Measure.MEAN_SCORE)
    now = national(MONTH_END, Measure.MEAN_SCORE)
    from scoring.timetravel import change

    assert f"{change(now, then)} points compared with 15 June 2013" in html
    assert 'name="vergelijk" value="2013-06-15"' in html


def test_scorecard_compares_with_today(client, world):
    from django.utils import timezone

    today = timezone.localdate()
    html = client.get(
        f"/en/gemeenten/utrecht/?peildatum=2013-06-15&vergelijk={today.isoformat()}"
    ).content.decode()
    then = world.utrecht.score.score
    now = direct_scores(MID_MONTH)["utrecht"]
    from scoring.timetravel import change

    assert f"{change(now, then)} points compared with" in html


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


PAGES = [
    "/en/?peildatum={on}",
    "/en/gemeenten/?peildatum={on}",
    "/en/gemeenten/?peildatum={on}&block=digid&level=in_use&sort=-adoption_score",
    "/en/gemeenten/utrecht/?peildatum={on}&vergelijk=2013-01-31",
    "/en/matrix/?peildatum={on}&sort=-score",
    "/en/bouwstenen/?peildatum={on}",
    "/en/bouwstenen/digid/?peildatum={on}",
    "/en/resultaatafspraken/?peildatum={on}",
    "/en/resultaatafspraken/1/?peildatum={on}",
    "/en/gemeenten/?peildatum={on}&_export=xlsx",
]


def test_queries_do_not_grow_with_the_municipalities(client, world):
    client.force_login(UserFactory(username="vdp-tt", groups=["vdp"]))
    urls = [page.format(on=on.isoformat()) for page in PAGES for on in DATES]
    cache.clear()
    small = {url: _count(client, url) for url in urls}
    province = world.arnhem.province
    for i in range(12):
        m = MunicipalityFactory(province=province, population=30_000 + i)
        set_level(m, world.digid, Level.IN_USE, datetime.date(2012, 4, 1 + i))
        set_level(m, world.bag, Level.PREPARING, datetime.date(2013, 6, 1 + i))
    recompute_all()
    snapshot_scores(datetime.date(2012, 1, 1))
    cache.clear()
    large = {url: _count(client, url) for url in urls}
    assert small == large


# The house budget: at most 15 queries per page, whatever the number of
# municipalities (docs/performance.md, "Pages on a past date").
BUDGET = 15


def _merge_into(
    successor: Municipality, date: datetime.date, *merged: Municipality
) -> None:
    merger = Merger.objects.create(
        date=date, successor=successor, applied_at=timezone.now()
    )
    merger.merged.set(merged)


@pytest.mark.parametrize("on", DATES, ids=["month-end", "other-day"])
@pytest.mark.parametrize(
    "path",
    ["/en/?peildatum={on}", "/en/gemeenten/utrecht/?peildatum={on}"],
    ids=["overview-cache-emptied", "scorecard-with-merger-links"],
)
def test_past_pages_keep_the_budget_whatever_the_size(client, world, path, on):
    url = path.format(on=on.isoformat())
    former = Municipality.objects.get(slug="maarssen")
    _merge_into(world.utrecht, datetime.date(2015, 1, 1), former)

    def count() -> int:
        # Anonymous, with the cache emptied: the overview is rendered, not replayed.
        cache.clear()
        return _count(client, url)

    small = count()
    province = world.utrecht.province
    for i in range(12):
        m = MunicipalityFactory(province=province, population=30_000 + i)
        set_level(m, world.digid, Level.IN_USE, datetime.date(2012, 4, 1 + i))
        set_level(m, world.bag, Level.PREPARING, datetime.date(2013, 6, 1 + i))
    _merge_into(
        world.utrecht,
        datetime.date(2016, 1, 1),
        *MunicipalityFactory.create_batch(
            3, province=province, population=0, active=False, successor=world.utrecht
        ),
    )
    recompute_all()
    snapshot_scores(datetime.date(2012, 1, 1))
    large = count()

    assert small <= BUDGET, small
    assert small == large


def test_scorecard_shares_change_in_percentage_points(client, world):
    response = client.get(
        "/en/gemeenten/utrecht/?peildatum=2014-12-31&vergelijk=2012-12-31"
    )
    rows = [row for c in response.context["categories"] for row in c["rows"]]
    digid = next(row for row in rows if row["block"].pk == world.digid.pk)
    now = national(MONTH_END, Measure.IN_USE_SHARE, block_id=world.digid.pk)
    then = national(
        datetime.date(2012, 12, 31), Measure.IN_USE_SHARE, block_id=world.digid.pk
    )
    from scoring.timetravel import change

    assert digid["changes"]["national"] == change(now, then, scale=100) == "+20"
    assert f"{digid['changes']['national']} pp</span>" in response.content.decode()


@pytest.mark.parametrize(
    ("on", "deadline", "postponed"),
    [("2014-05-31", datetime.date(2015, 1, 1), 0), ("2014-06-15", None, 1)],
)
def test_agreement_list_shows_the_deadline_in_force_then(
    client, world, on, deadline, postponed
):
    (row,) = client.get(f"/en/resultaatafspraken/?peildatum={on}").context["table"].rows
    expected = deadline or world.agreement.deadline
    assert row.record.deadline == expected
    assert row.record.times_postponed == postponed
    assert history.standings_on(datetime.date.fromisoformat(on)).deadlines == {
        world.agreement.pk: expected
    }


def test_forecasts_on_a_past_date_see_only_the_history_until_then(client, world):
    from scoring import projections
    from scoring.dashboards import line_labels, snapshot_trend

    block = BuildingBlock.objects.filter(active=True).order_by("pk").first()
    with_peildatum = client.get(
        f"/en/bouwstenen/{block.code}/?peildatum={MONTH_END.isoformat()}"
    ).context["forecast_rows"]
    today = client.get(f"/en/bouwstenen/{block.code}/").context["forecast_rows"]

    def expected(until):
        rows = snapshot_trend(Measure.IN_USE_SHARE, block=block, until=until)
        forecasts = projections.forecasts_for(rows)
        assert all(
            f.last_month is None or until is None or f.last_month <= until
            for f in forecasts.values()
        )
        return projections.forecast_rows(forecasts, line_labels())

    assert with_peildatum == expected(MONTH_END)
    assert today == expected(None)
