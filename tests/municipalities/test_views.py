"""The municipality list, scorecard and matrix, and the block and agreement lists."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.urls import reverse
from django.utils import translation

import pytest

from buildingblocks.levels import Level
from municipalities.models import Municipality
from tests.factories import EditorMembershipFactory, MunicipalityFactory, UserFactory
from tests.municipalities.portal_world import add_municipalities, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return build_world(40)


def url(name: str, lang: str = "nl", **kwargs) -> str:
    with translation.override(lang):
        return reverse(name, kwargs=kwargs or None)


def names_in(response) -> list[str]:
    """Municipality names in the row headers of the page's table."""
    return re.findall(
        r'<th scope="row"[^>]*><a href="[^"]+">(Plaats \d+)</a>',
        response.content.decode(),
    )


class FormAudit(HTMLParser):
    """Collects what the accessibility checks below need from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0
        self.th = 0
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.inline_style = False
        self.inline_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs or tag == "style":
            self.inline_style = True
        if tag == "script" and "src" not in attrs:
            self.inline_script = True
        if tag == "h1":
            self.h1 += 1
        elif tag == "th":
            self.th += 1
        elif tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea") and attrs.get("type") not in (
            "hidden",
            "submit",
            "button",
        ):
            self.controls.append(attrs)

    def unlabelled(self) -> list[dict]:
        return [
            c
            for c in self.controls
            if c.get("id") not in self.label_for
            and not c.get("aria-label")
            and not c.get("aria-labelledby")
        ]


def audit(response) -> FormAudit:
    parser = FormAudit()
    parser.feed(response.content.decode())
    return parser


# --- every page, every role, both languages -------------------------------------


@pytest.fixture
def role_client(client, world):
    def make(role: str):
        if role == "vdp":
            client.force_login(UserFactory(username="vdp-x", groups=["vdp"]))
        elif role == "editor":
            user = EditorMembershipFactory(municipality=world.municipalities[0]).user
            client.force_login(user)
        elif role == "king_staff":
            client.force_login(
                UserFactory(username="king-x", groups=["king_staff"], is_staff=True)
            )
        return client

    return make


PAGES = [
    ("municipalities:list", {}),
    ("municipalities:detail", {"slug": "plaats-003"}),
    ("municipalities:matrix", {}),
    ("buildingblocks:list", {}),
    ("agreements:list", {}),
]


@pytest.mark.parametrize("role", ["anonymous", "vdp", "editor", "king_staff"])
@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_every_page_renders_for_every_role_in_both_languages(
    role_client, role, lang, name, kwargs
):
    response = role_client(role).get(url(name, lang, **kwargs))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{lang}">' in html
    page = audit(response)
    assert page.h1 == 1
    assert page.th > 0
    assert page.unlabelled() == []
    assert not page.inline_style
    assert not page.inline_script


def test_english_pages_are_under_en(client, world):
    assert url("municipalities:list", "en") == "/en/gemeenten/"
    response = client.get("/en/gemeenten/")
    assert "Municipalities" in response.content.decode()


# --- /gemeenten/ -------------------------------------------------------------------


def test_list_shows_every_active_municipality_on_one_page_when_asked(client, world):
    Municipality.objects.filter(pk=world.municipalities[0].pk).update(active=False)

    response = client.get(url("municipalities:list"), {"per_page": 400})

    assert len(names_in(response)) == 39
    assert "Plaats 000" not in names_in(response)


def test_list_paginates_with_a_per_page_choice(client, world):
    response = client.get(url("municipalities:list"), {"per_page": 25, "page": 2})

    assert names_in(response) == [f"Plaats {i:03d}" for i in range(25, 40)]


def test_filters_combine_province_size_class_and_block_level(client, world):
    response = client.get(
        url("municipalities:list"),
        {
            "province": "gelderland",
            "size_class": "s",
            "block": "digid",
            "level": "not_in_use",
            "per_page": 400,
        },
    )

    expected = [
        f"Plaats {i:03d}"
        for i in range(40)
        if i % 2 == 0 and i % 5 == 1 and i % 4 in (1, 2)
    ]
    assert expected  # the world has such municipalities
    assert names_in(response) == expected


def test_block_level_not_started_includes_municipalities_without_a_status(
    client, world
):
    response = client.get(
        url("municipalities:list"),
        {"block": "digid", "level": Level.NOT_STARTED, "per_page": 400},
    )

    assert names_in(response) == [f"Plaats {i:03d}" for i in range(40) if i % 4 == 2]


def test_agreement_status_filter(client, world):
    response = client.get(
        url("municipalities:list"),
        {"agreement": 1, "compliance": "overdue", "per_page": 400},
    )

    assert names_in(response) == [f"Plaats {i:03d}" for i in range(40) if i % 2]


def test_search_by_name_or_cbs_code(client, world):
    assert names_in(client.get(url("municipalities:list"), {"q": "plaats 01"})) == [
        f"Plaats {i:03d}" for i in range(10, 20)
    ]
    assert names_in(client.get(url("municipalities:list"), {"q": "gm0004"})) == [
        "Plaats 003"
    ]


def test_score_range(client, world):
    response = client.get(
        url("municipalities:list"), {"score_min": "10", "score_max": "12.5"}
    )

    assert names_in(response) == ["Plaats 010", "Plaats 011", "Plaats 012"]


def test_sorting_by_score_descending(client, world):
    response = client.get(url("municipalities:list"), {"sort": "-adoption_score"})

    assert names_in(response)[:2] == ["Plaats 039", "Plaats 038"]


@pytest.mark.parametrize(
    "params",
    [
        {"size_class": "zz"},
        {"score_min": "abc"},
        {"province": "99999"},
        {"score_min": "-5"},
        {"block": "digid"},  # a block without a level
        {"agreement": "1"},  # an agreement without a status
        {"score_min": "50", "score_max": "10"},
    ],
)
def test_bad_filter_values_give_an_error_message_not_a_500(client, world, params):
    response = client.get(url("municipalities:list", "en"), params)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert names_in(response) == []


def test_bad_page_size_is_reported_and_the_default_used(client, world):
    response = client.get(url("municipalities:list", "en"), {"per_page": "-1"})

    assert response.status_code == 200
    assert "form-field__errors" in response.content.decode()
    assert len(names_in(response)) == 40  # default page size 50


def test_bad_page_number_shows_a_page(client, world):
    assert client.get(url("municipalities:list"), {"page": "zz"}).status_code == 200
    assert client.get(url("municipalities:list"), {"page": "999"}).status_code == 200


def test_municipality_without_a_score_shows_a_dash(client, world):
    MunicipalityFactory(name="Plaats 999", slug="plaats-999")

    response = client.get(url("municipalities:list"), {"q": "Plaats 999"})

    assert names_in(response) == ["Plaats 999"]
    assert "—" in response.content.decode()


# --- scorecard ------------------------------------------------------------------------


def test_cbs_code_redirects_permanently_to_the_slug(client, world):
    response = client.get("/gemeenten/GM0004/")

    assert response.status_code == 301
    assert response["Location"] == "/gemeenten/plaats-003/"


def test_unknown_municipality_is_404(client, world):
    assert client.get("/gemeenten/nergens/").status_code == 404
    assert client.get("/gemeenten/GM9999/").status_code == 404


def test_scorecard_shows_rank_levels_agreements_and_comparison(client, world):
    response = client.get(url("municipalities:detail", "en", slug="plaats-003"))

    html = response.content.decode()
    assert "4th of 40" in html
    assert 'class="level level--not_applicable"' in html
    assert 'class="level level--in_use"' in html
    assert 'class="status status--overdue"' in html
    assert "50 %" in html  # share in use in size class / province / country
    assert 'href="/gemeenten/plaats-003/bewerken/"' not in html


def test_notes_and_evidence_are_hidden_from_anonymous_visitors(client, world):
    page = url("municipalities:detail", slug="plaats-003")

    anonymous = client.get(page).content.decode()
    client.force_login(UserFactory(username="vdp-y", groups=["vdp"]))
    logged_in = client.get(page).content.decode()

    assert "Geheime notitie" not in anonymous
    assert "https://example.org/bewijs" not in anonymous
    assert "Geheime notitie" in logged_in
    assert "https://example.org/bewijs" in logged_in


def test_edit_link_for_the_municipalitys_editor_and_king_staff_only(client, world):
    municipality = world.municipalities[3]
    edit = f'href="/gemeenten/{municipality.slug}/bewerken/"'
    page = url("municipalities:detail", slug=municipality.slug)

    client.force_login(EditorMembershipFactory(municipality=municipality).user)
    assert edit in client.get(page).content.decode()
    client.force_login(
        EditorMembershipFactory(municipality=world.municipalities[4]).user
    )
    assert edit not in client.get(page).content.decode()
    client.force_login(UserFactory(username="king-y", groups=["king_staff"]))
    assert edit in client.get(page).content.decode()


def test_scorecard_without_score_or_history(client, db):
    municipality = MunicipalityFactory()

    response = client.get(municipality.get_absolute_url())

    assert response.status_code == 200
    assert response.context["score"] is None
    assert response.context["trend_chart"] is None


def test_scorecard_trend_from_history(client, world):
    response = client.get(url("municipalities:detail", "en", slug="plaats-000"))

    chart = response.context["trend_chart"]
    assert chart is not None
    assert "<svg" in chart.svg
    # Rebuilt from the history alone: only BAG changed, to in use — 1 of 3 blocks.
    assert chart.rows[-1][-1] == "33"


# --- matrix ----------------------------------------------------------------------------


def test_matrix_has_a_text_level_in_every_cell(client, world):
    response = client.get(url("municipalities:matrix", "en"), {"per_page": 400})

    html = response.content.decode()
    assert len(names_in(response)) == 40
    assert html.count('class="matrix__cell"') == 40 * 3
    assert html.count('<th scope="col" class="matrix__block">') == 3
    assert "Not applicable" in html  # full label for screen readers


def test_matrix_filters_and_sorts(client, world):
    response = client.get(
        url("municipalities:matrix"),
        {"province": "utrecht", "size_class": "xs", "sort": "-score"},
    )

    expected = [i for i in range(40) if i % 2 == 1 and i % 5 == 0]
    assert names_in(response) == [
        f"Plaats {i:03d}" for i in sorted(expected, reverse=True)
    ]


def test_matrix_bad_values(client, world):
    response = client.get(
        url("municipalities:matrix", "en"),
        {"province": "99999", "sort": "nonsense", "per_page": "-1"},
    )

    assert response.status_code == 200
    assert 'class="error-summary"' in response.content.decode()


# --- building blocks and agreements -----------------------------------------------------


def test_block_list_shows_national_figures_and_links(client, world):
    response = client.get(url("buildingblocks:list", "en"))

    html = response.content.decode()
    assert 'href="/en/bouwstenen/digid/"' in html
    assert "50 %" in html
    assert "Addresses" in html  # English name on the English page


def test_agreement_list_shows_deadline_postponements_and_compliance(client, world):
    response = client.get(url("agreements:list"))

    table = response.context["table"]
    rows = {row.record.number: row.record for row in table.rows}
    assert rows[1].times_postponed == 1
    assert rows[2].times_postponed == 0
    assert rows[1].overdue_count == 20
    assert rows[1].compliance_share == 0.25
    assert 'href="/resultaatafspraken/1/"' in response.content.decode()


# --- query counts ---------------------------------------------------------------------------


def _query_count(client, django_assert_max_num_queries, path) -> int:
    # The house budget of 15, also for the editor's scorecard with its PDF
    # button and the one query of the size class's compliance history for
    # "will miss the deadline" (its trend replays the history and block
    # versions the page has read already).
    with django_assert_max_num_queries(15) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "path",
    [
        "/gemeenten/",
        "/gemeenten/?per_page=400&province=gelderland&block=digid&level=in_use",
        "/gemeenten/?_export=csv",
        "/gemeenten/plaats-003/",
        "/gemeenten/plaats-003/wat-als/",
        "/gemeenten/plaats-003/wat-als/?digid=in_use&bag=not_applicable",
        "/matrix/?per_page=400",
        "/bouwstenen/",
        "/bouwstenen/?_export=xlsx",
        "/resultaatafspraken/",
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


# --- scorecard PDF ---------------------------------------------------------------------------


def _pdf_form(slug: str) -> str:
    return f'<form method="post" action="/en/gemeenten/{slug}/scorecard-pdf/"'


def test_scorecard_pdf_button_for_the_municipalitys_editor_and_king_staff_only(
    client, world
):
    municipality = world.municipalities[3]
    page = url("municipalities:detail", "en", slug=municipality.slug)
    pdf_form = _pdf_form(municipality.slug)

    assert pdf_form not in client.get(page).content.decode()  # anonymous
    client.force_login(UserFactory(username="vdp-pdf", groups=["vdp"]))
    assert pdf_form not in client.get(page).content.decode()
    client.force_login(
        EditorMembershipFactory(municipality=world.municipalities[4]).user
    )
    assert pdf_form not in client.get(page).content.decode()

    client.force_login(EditorMembershipFactory(municipality=municipality).user)
    html = client.get(page).content.decode()
    assert pdf_form in html
    form = html[html.index(pdf_form) :]
    form = form[: form.index("</form>")]
    assert 'name="csrfmiddlewaretoken"' in form
    assert "Scorecard as PDF" in form

    client.force_login(UserFactory(username="king-pdf", groups=["king_staff"]))
    assert pdf_form in client.get(page).content.decode()


@pytest.mark.parametrize("role", ["editor", "king_staff"])
def test_scorecard_with_the_pdf_button_keeps_its_query_budget(
    client, django_assert_max_num_queries, role
):
    world = build_world(10)
    municipality = world.municipalities[3]
    if role == "editor":
        user = EditorMembershipFactory(municipality=municipality).user
    else:
        user = UserFactory(username="king-budget", groups=["king_staff"])
    client.force_login(user)
    path = f"/gemeenten/{municipality.slug}/"

    small = _query_count(client, django_assert_max_num_queries, path)
    add_municipalities(290, start=10)
    large = _query_count(client, django_assert_max_num_queries, path)

    assert _pdf_form(municipality.slug).replace("/en/", "/") in (
        client.get(path).content.decode()
    )
    assert small == large
