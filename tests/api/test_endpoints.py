"""The open data API: resources, reference dates, rules of the NL API Design Rules."""

from __future__ import annotations

import csv
import datetime
import io

from django.test import Client

import pytest
from rest_framework.authtoken.models import Token

from buildingblocks.levels import Level
from buildingblocks.models import StatusChange
from scoring import rules, timetravel
from scoring.history import end_of_day
from scoring.method_version import METHOD_VERSION
from tests.api.conftest import EDITOR_NAME, EVIDENCE, NOTE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"
ENDPOINTS = [
    "/gemeenten",
    "/gemeenten?provincie=utrecht&peildatum=2014-12-31",
    "/gemeenten/GM0344",
    "/gemeenten/GM0344?peildatum=2013-01-15",
    "/bouwstenen",
    "/bouwstenen/digid?peildatum=2014-12-31",
    "/resultaatafspraken",
    "/resultaatafspraken/1?peildatum=2014-01-01",
    "/cijfers",
    "/cijfers?peildatum=2014-12-31",
    "/cijfers?peildatum=2014-12-30",
    "/trends?schaal=provincie&sleutel=utrecht",
]


def get(path: str, client: Client | None = None, **meta):
    return (client or Client()).get(API + path, **meta)


def expected_score(municipality, blocks, on: datetime.date) -> float | None:
    """The adoption score on `on`, straight from the rule and the raw history."""
    levels = {}
    for change in StatusChange.objects.filter(
        municipality=municipality, changed_at__lt=end_of_day(on)
    ).order_by("changed_at", "id"):
        levels[change.block_id] = change.to_level
    return rules.adoption_score(
        (block.weight, levels.get(block.pk, Level.NOT_STARTED)) for block in blocks
    )


def test_municipalities_of_a_province_on_a_reference_date_have_that_days_figures(world):
    response = get("/gemeenten?provincie=utrecht&peildatum=2014-12-31")
    assert response.status_code == 200
    body = response.json()
    assert body["peildatum"] == "2014-12-31"
    by_code = {row["cbsCode"]: row for row in body["results"]}
    assert set(by_code) == {"GM0344", "GM0307", "GM0355"}  # not Arnhem (Gelderland)
    blocks = [world.digid, world.bag]
    for municipality in (world.utrecht, world.amersfoort, world.zeist):
        expected = expected_score(municipality, blocks, datetime.date(2014, 12, 31))
        assert by_code[municipality.cbs_code]["adoptionScore"] == pytest.approx(
            expected
        )
    # Utrecht: DigiD in use (2013), BAG implementing from 31 December 2014 itself.
    assert by_code["GM0344"]["adoptionScore"] == pytest.approx(75.0)
    # Amersfoort only reached DigiD in 2015: on track for agreement 1 then.
    assert by_code["GM0307"]["adoptionScore"] == pytest.approx(0.0)
    assert by_code["GM0344"]["agreementStatusCounts"]["met"] == 1
    assert by_code["GM0307"]["agreementStatusCounts"]["met"] == 0
    assert response["API-Version"] == "1.0.0"


def test_today_the_list_has_the_current_scores_and_ranks(world):
    body = get("/gemeenten?sorteer=-score").json()
    assert [row["cbsCode"] for row in body["results"]][:1] == ["GM0344"]
    assert body["results"][0]["rank"] == 1
    assert body["count"] == 4


def test_filters_as_on_the_municipality_page_on_any_date(world):
    today = get("/gemeenten?bouwsteen=digid&niveau=in_use").json()
    assert {r["cbsCode"] for r in today["results"]} == {"GM0344", "GM0307", "GM0202"}
    past = get("/gemeenten?bouwsteen=digid&niveau=in_use&peildatum=2014-12-31").json()
    assert {r["cbsCode"] for r in past["results"]} == {"GM0344", "GM0202"}
    met = get(
        "/gemeenten?resultaatafspraak=1&afspraakstatus=met&peildatum=2013-01-01"
    ).json()
    assert {r["cbsCode"] for r in met["results"]} == {"GM0202"}
    scored = get("/gemeenten?scoreMin=60&peildatum=2014-12-31").json()
    assert {r["cbsCode"] for r in scored["results"]} == {"GM0344"}


def test_one_municipality_on_a_reference_date(world):
    body = get("/gemeenten/GM0344?peildatum=2012-12-31").json()
    levels = {row["block"]: row for row in body["statuses"]}
    assert levels["digid"]["level"] == Level.PREPARING
    assert levels["digid"]["plannedDate"] == "2013-06-01"
    assert levels["bag"]["level"] == Level.NOT_STARTED
    # The deadline in force before the postponement of June 2014.
    assert body["agreements"][0]["deadline"] == "2015-01-01"
    assert body["agreements"][0]["status"] == "on_track"


def test_agreements_with_deadlines_and_revisions(world):
    body = get("/resultaatafspraken").json()
    agreement = body["results"][0]
    assert agreement["deadline"] == "2016-01-01"
    assert agreement["revisions"][0]["newDeadline"] == "2016-01-01"
    assert agreement["requirements"] == [{"block": "digid", "minimumLevel": "in_use"}]
    before = get("/resultaatafspraken/1?peildatum=2014-01-01").json()
    assert before["deadline"] == "2015-01-01"
    assert before["revisions"] == []


def test_aggregates_on_a_month_end_equal_those_on_another_day(world):
    """Snapshot (month end) and direct reconstruction (any day) give one answer."""
    month_end = get("/cijfers?schaal=nederland&peildatum=2014-12-31").json()
    assert month_end["results"][0]["municipalities"] == 4
    # Nothing changed between 30 and 31 December except Utrecht's BAG on the 31st.
    day_before = get("/cijfers?schaal=nederland&peildatum=2014-12-30").json()
    assert month_end["results"][0]["meanScore"] > day_before["results"][0]["meanScore"]
    scores = [75.0, 0.0, 50.0, 50.0]  # Utrecht, Amersfoort, Zeist, Arnhem
    assert month_end["results"][0]["meanScore"] == pytest.approx(sum(scores) / 4)


def test_provinces_and_size_classes_in_the_figures(world):
    body = get("/cijfers?schaal=provincie").json()
    assert {row["key"] for row in body["results"]} == {"utrecht", "gelderland"}
    assert all(row["scope"] == "provincie" for row in body["results"])


def test_trend_from_the_snapshots(world):
    body = get("/trends?vanaf=2014-12-01&tot=2014-12-31").json()
    assert [point["month"] for point in body["results"]] == ["2014-12-01"]
    assert body["results"][0]["meanScore"] == pytest.approx(43.75)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_responses_hold_no_notes_evidence_or_user_names(world, path):
    response = get(path)
    assert response.status_code == 200
    text = response.content.decode()
    for secret in (NOTE, EVIDENCE, EDITOR_NAME, '"note"', "evidenceUrl"):
        assert secret not in text


def test_the_openapi_document_holds_no_data_either(world):
    text = get("/openapi.json").content.decode()
    for secret in (NOTE, EVIDENCE, EDITOR_NAME):
        assert secret not in text


def test_logged_in_users_see_notes_and_evidence_as_on_the_scorecard(world):
    client = Client()
    client.force_login(UserFactory(groups=["vdp"]))
    body = get("/gemeenten/GM0344", client).json()
    bag = next(row for row in body["statuses"] if row["block"] == "bag")
    assert bag["note"] == NOTE
    assert bag["evidenceUrl"] == EVIDENCE
    assert EDITOR_NAME not in get("/gemeenten/GM0344", client).content.decode()


def test_an_editor_sees_no_notes_of_a_municipality_not_theirs(world):
    client = Client()
    client.force_login(world.editor)  # assigned to no municipality
    body = get("/gemeenten/GM0344", client).json()
    assert all(not row.get("note") for row in body["statuses"])
    assert all(not row.get("evidenceUrl") for row in body["statuses"])


def test_token_authentication(world):
    token = Token.objects.create(user=UserFactory(groups=["vdp"]))
    body = get("/gemeenten/GM0344", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert body.status_code == 200
    response = Client().get(
        API + "/gemeenten/GM0344", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert any(row.get("note") == NOTE for row in response.json()["statuses"])
    bad = Client().get(API + "/gemeenten", HTTP_AUTHORIZATION="Token nonsense")
    assert bad.status_code == 401
    assert bad["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/gemeenten?pagina=0", 400),
        ("get", "/gemeenten?provincie=atlantis", 400),
        ("get", "/gemeenten?bouwsteen=digid", 400),  # a block needs a level
        ("get", "/gemeenten?peildatum=2014-13-01", 400),
        ("get", "/gemeenten?onbekend=1", 400),
        ("get", "/gemeenten?pagina=99", 404),
        ("get", "/gemeenten/GM9999", 404),
        ("get", "/gemeenten/", 404),  # no trailing slashes
        ("get", "/bestaat-niet", 404),
        ("post", "/gemeenten", 405),
        ("delete", "/cijfers", 405),
    ],
)
def test_errors_are_problem_details_with_the_version_header(
    world, method, path, status
):
    response = getattr(Client(), method)(API + path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response["API-Version"] == "1.0.0"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]


def test_bad_parameters_are_named(world):
    body = get("/gemeenten?paginaGrootte=1000&grootteklasse=huge").json()
    assert {p["name"] for p in body["invalidParams"]} == {
        "paginaGrootte",
        "grootteklasse",
    }


def test_not_acceptable_is_a_problem(world):
    response = get("/gemeenten", HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/problem+json"


def test_page_size_is_capped_and_pages_link_to_each_other(world):
    body = get("/gemeenten?paginaGrootte=2&pagina=1").json()
    assert len(body["results"]) == 2
    assert "pagina=2" in body["_links"]["next"]["href"]
    assert get("/gemeenten?paginaGrootte=101").status_code == 400


def test_csv_alternative(world):
    response = get("/gemeenten?provincie=utrecht", HTTP_ACCEPT="text/csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert {row["cbsCode"] for row in rows} == {"GM0344", "GM0307", "GM0355"}
    by_format = get("/trends?format=csv")
    assert by_format["Content-Type"].startswith("text/csv")
    assert by_format.content.decode().splitlines()[0].startswith("month,")


def test_conditional_get_on_the_figures(world):
    first = get("/cijfers")
    tag = first["ETag"]
    again = get("/cijfers", HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304
    assert again["API-Version"] == "1.0.0"
    other = get("/cijfers?schaal=provincie", HTTP_IF_NONE_MATCH=tag)
    assert other.status_code == 200


def test_cors_for_reads_only(world):
    response = get("/gemeenten", HTTP_ORIGIN="https://journalist.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = Client().options(
        API + "/gemeenten",
        HTTP_ORIGIN="https://journalist.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert "POST" not in preflight["Access-Control-Allow-Methods"]
    page = Client().get("/gemeenten/", HTTP_ORIGIN="https://journalist.example")
    assert "Access-Control-Allow-Origin" not in page


def test_rate_limit_per_client(world, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "100/minute"},
    }
    for _ in range(3):
        assert get("/bouwstenen").status_code == 200
    limited = get("/bouwstenen")
    assert limited.status_code == 429
    assert limited["Content-Type"] == "application/problem+json"
    assert int(limited["Retry-After"]) > 0
    other = Client(REMOTE_ADDR="10.0.0.9").get(API + "/bouwstenen")
    assert other.status_code == 200


def test_synthetic_data_notice_in_every_response(world, settings):
    assert "Synthetic-Data" in get("/gemeenten")
    assert "Synthetic-Data" in get("/bestaat-niet")
    settings.NUP_DEMO_NOTICE = False
    assert "Synthetic-Data" not in get("/gemeenten")


def test_a_future_reference_date_is_refused(world):
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    assert get(f"/cijfers?peildatum={tomorrow}").status_code == 400


def test_openapi_document_follows_the_design_rules(world):
    spec = get("/openapi.json").json()
    assert spec["info"]["version"] == "1.0.0"
    assert set(spec["info"]["contact"]) >= {"name", "url", "email"}
    assert spec["servers"][0]["url"].startswith("https://")  # tests run with DEBUG off
    assert all(not path.endswith("/") for path in spec["paths"])
    planned = spec["components"]["schemas"]["BlockStatus"]["properties"]["plannedDate"]
    assert planned["format"] == "date"


def test_docs_page_is_served_by_the_portal_within_the_csp(world):
    response = Client().get(API + "/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<style" not in html and "<script>" not in html
    assert "/static/drf_spectacular_sidecar/" in html
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    script = Client().get(API + "/docs?script=")
    assert script.status_code == 200
    assert "openapi.json" in script.content.decode()


def test_open_data_page_in_both_languages(world):
    for url, heading in (("/open-data/", "Open data"), ("/en/open-data/", "Open data")):
        response = Client().get(url)
        assert response.status_code == 200
        assert f"<h1>{heading}</h1>" in response.content.decode()
        assert "CC BY 4.0" in response.content.decode()
        assert "peildatum=2014-12-31" in response.content.decode()
    assert 'href="/open-data/"' in Client().get("/").content.decode()


def test_with_login_required_anonymous_api_clients_get_401_not_a_redirect(
    world, settings
):
    settings.NUP_REQUIRE_LOGIN = True
    response = get("/gemeenten")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    client = Client()
    client.force_login(world.editor)
    assert get("/gemeenten", client).status_code == 200


@pytest.mark.parametrize(
    "path", ["/resultaatafspraken/99999999999", "/gemeenten/GM0344%00", "/gemeenten/x"]
)
def test_identifiers_out_of_range_are_not_found_not_a_server_error(world, path):
    response = get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_an_empty_or_unknown_format_is_a_bad_request(world):
    assert get("/bouwstenen?format=").status_code == 400
    # DRF refuses a representation the resource does not have before the view.
    assert get("/bouwstenen?format=xml").status_code == 404


# --- the scoring method behind the figures ---------------------------------------------


def test_a_municipality_carries_the_method_version_of_its_score_row(world):
    from scoring.models import MunicipalityScore

    # Another version than the current one: the key is read from the row.
    MunicipalityScore.objects.filter(municipality=world.utrecht).update(
        method_version="7"
    )
    listed = {
        row["cbsCode"]: row["methodVersion"]
        for row in get("/gemeenten").json()["results"]
    }
    assert listed["GM0344"] == "7"
    assert listed["GM0307"] == METHOD_VERSION
    assert get("/gemeenten/GM0344").json()["methodVersion"] == "7"
    rows = list(
        csv.DictReader(
            io.StringIO(get("/gemeenten", HTTP_ACCEPT="text/csv").content.decode())
        )
    )
    assert {row["cbsCode"]: row["methodVersion"] for row in rows}["GM0344"] == "7"


def test_on_a_reference_date_a_municipality_has_the_version_of_the_replay(world):
    from scoring.models import MunicipalityScore

    MunicipalityScore.objects.update(method_version="7")
    body = get("/gemeenten?peildatum=2014-12-30").json()
    assert {row["methodVersion"] for row in body["results"]} == {
        timetravel.REPLAY_METHOD_VERSION
    }
    detail = get("/gemeenten/GM0344?peildatum=2013-01-15").json()
    assert detail["methodVersion"] == timetravel.REPLAY_METHOD_VERSION


def test_figures_carry_the_version_of_the_rows_that_made_them(world):
    from scoring.models import Aggregate, Snapshot

    Aggregate.objects.update(method_version="7")
    Snapshot.objects.filter(month=datetime.date(2014, 12, 1)).update(method_version="5")
    today = get("/cijfers").json()["results"]
    assert {row["methodVersion"] for row in today} == {"7"}
    # A month end: the snapshot of that month; another day: the replay.
    month_end = get("/cijfers?peildatum=2014-12-31").json()["results"]
    assert {row["methodVersion"] for row in month_end} == {"5"}
    other_day = get("/cijfers?peildatum=2014-12-30").json()["results"]
    assert {row["methodVersion"] for row in other_day} == {
        timetravel.REPLAY_METHOD_VERSION
    }
    blocks = get("/bouwstenen").json()["results"]
    assert {row["methodVersion"] for row in blocks} == {"7"}
    past_block = get("/bouwstenen/digid?peildatum=2014-12-31").json()
    assert past_block["methodVersion"] == "5"
    agreement = get("/resultaatafspraken/1?peildatum=2014-12-31").json()
    assert agreement["methodVersion"] == "5"
    assert get("/resultaatafspraken").json()["results"][0]["methodVersion"] == "7"


def test_each_trend_month_carries_the_version_of_its_snapshot(world):
    from scoring.models import Snapshot

    Snapshot.objects.filter(month=datetime.date(2014, 11, 1)).update(method_version="1")
    body = get("/trends?vanaf=2014-11-01&tot=2014-12-31").json()
    assert [(p["month"], p["methodVersion"]) for p in body["results"]] == [
        ("2014-11-01", "1"),
        ("2014-12-01", METHOD_VERSION),
    ]
    rows = list(csv.DictReader(io.StringIO(get("/trends?format=csv").content.decode())))
    assert all(row["methodVersion"] for row in rows)


def test_the_openapi_document_describes_the_method_version(world):
    schemas = get("/openapi.json").json()["components"]["schemas"]
    for name in (
        "MunicipalitySummary",
        "MunicipalityDetail",
        "Block",
        "Agreement",
        "ScopeFigures",
        "TrendPoint",
    ):
        field = schemas[name]["properties"]["methodVersion"]
        assert field["type"] == "string"
        assert field["nullable"] is True
        assert "/methode/" in field["description"]  # the link to the changelog
        assert "methodVersion" in schemas[name]["required"]


def test_the_method_version_costs_no_query_per_municipality(
    world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one_page:
        get("/gemeenten?paginaGrootte=1")
    with django_assert_max_num_queries(len(one_page)):
        get("/gemeenten?paginaGrootte=4")
