"""The portal's look: base template, navigation, language switch, login state,
notices, and the static CSS/JS it relies on."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

import pytest

from nupportal.templatetags.portal import level_badge, nav_items
from tests.factories import EditorMembershipFactory, UserFactory

STATIC = Path(settings.BASE_DIR) / "static"


def page(client, path="/en/gemeenten/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def main_nav(html: str) -> str:
    """The main navigation's markup, so a link elsewhere on the page does not count."""
    start = html.index('<nav class="main-nav"')
    return html[start : html.index("</nav>", start)]


def english_url(name: str) -> str:
    with translation.override("en"):
        return reverse(name)


@pytest.mark.django_db
def test_skip_link_main_landmark_and_one_h1(client):
    html = page(client)

    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert html.count("<h1") == 1


@pytest.mark.django_db
def test_main_navigation_marks_the_current_page(client):
    html = page(client, "/en/gemeenten/")

    assert '<nav class="main-nav" aria-label="Main navigation">' in html
    assert '<a href="/en/gemeenten/" aria-current="page">' in html
    assert html.count('aria-current="page"') == 2  # nav item and breadcrumb


@pytest.mark.django_db
def test_language_switch_links_both_languages(client):
    html = page(client, "/en/matrix/?province=utrecht")

    assert 'href="/matrix/?province=utrecht" lang="nl" hreflang="nl">' in html
    assert (
        'href="/en/matrix/?province=utrecht" lang="en" hreflang="en" aria-current="true"'
        in html
    )


@pytest.mark.django_db
def test_breadcrumbs_are_an_ordered_list_with_the_current_page(client):
    html = page(client, "/en/gemeenten/")

    assert '<nav class="breadcrumbs" aria-label="Breadcrumbs">' in html
    assert '<li><span aria-current="page">Municipalities</span></li>' in html


@pytest.mark.django_db
def test_anonymous_visitors_get_a_login_link(client):
    html = page(client)

    assert 'href="/en/accounts/login/?next=' in html
    assert "Log out" not in html


@pytest.mark.django_db
def test_logout_is_a_post_form(client, vdp_user):
    client.force_login(vdp_user)
    html = page(client)

    assert (
        '<form class="login-state" method="post" action="/en/accounts/logout/">' in html
    )
    assert "csrfmiddlewaretoken" in html
    assert "vdp-test" in html


@pytest.mark.django_db
def test_role_dependent_navigation(client, king_user):
    anonymous = page(client)
    client.force_login(king_user)
    king = page(client)

    for name in ("reports:list", "buildingblocks:import", "admin:index"):
        link = f'href="{english_url(name)}"'
        assert link in main_nav(king), name
        assert link not in anonymous, name
    assert "Reports" in main_nav(king) and "Reports" not in main_nav(anonymous)
    assert "Administration" in king
    assert "Administration" not in anonymous
    assert "My municipality" not in anonymous
    assert f'href="{english_url("buildingblocks:mine")}"' not in anonymous


@pytest.mark.django_db
def test_editor_sees_my_municipality(client, editor):
    client.force_login(editor)
    html = page(client)

    nav = main_nav(html)
    assert f'href="{english_url("buildingblocks:mine")}"' in nav
    assert "My municipality" in nav
    assert "Administration" not in html
    assert f'href="{english_url("reports:list")}"' not in html


@translation.override("nl")
def test_nav_items_pick_the_longest_matching_url():
    user = AnonymousUser()
    items = {item.url: item.current for item in nav_items(user, "/gemeenten/utrecht/")}

    assert items["/gemeenten/"] is True
    assert items["/"] is False
    assert {url for url, current in items.items() if current} == {"/gemeenten/"}
    home = {item.url: item.current for item in nav_items(user, "/")}
    assert home["/"] is True
    provinces = nav_items(user, "/provincies/utrecht/")
    assert [item.url for item in provinces if item.current] == ["/provincies/"]


@pytest.mark.django_db
@translation.override("en")
def test_nav_items_by_role():
    editor = EditorMembershipFactory().user
    king = UserFactory(username="king-nav", groups=["king_staff"], is_staff=True)
    labels = lambda user: {item.label for item in nav_items(user, "/")}  # noqa: E731

    assert {"Administration", "Reports", "Import"} <= labels(king)
    assert not {"Administration", "Reports", "Import"} & labels(editor)
    assert "My municipality" in labels(editor)
    assert "My municipality" not in labels(king)
    assert "Two-step verification" in labels(editor)
    assert "Two-step verification" not in labels(AnonymousUser())


@pytest.mark.django_db
def test_footer_credits_the_data_sources(client):
    # The official Dutch attribution on Dutch pages (CBS's own wording).
    html = page(client, "/gemeenten/")

    assert "Bron: CBS (bevolking 1-1-2025); grenzen: CBS/Kadaster via PDOK" in html


@pytest.mark.django_db
def test_demo_notice_follows_the_setting(client, settings):
    settings.NUP_DEMO_NOTICE = True
    assert 'class="demo-notice"' in page(client)
    settings.NUP_DEMO_NOTICE = False
    assert 'class="demo-notice"' not in page(client)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/en/accounts/login/"])
def test_login_page_in_the_portal_look(client, path):
    html = page(client, path)

    assert html.count("<h1") == 1
    assert 'for="id_username"' in html
    assert 'for="id_password"' in html
    assert 'class="site-header"' in html


@pytest.mark.django_db
def test_locked_out_page_renders(rf):
    request = RequestFactory().get("/accounts/login/")
    request.user = AnonymousUser()
    html = render_to_string("registration/locked_out.html", request=request)

    assert html.count("<h1") == 1


def test_level_badge_has_text_and_class():
    # The English label: the default language (Dutch) has a compiled catalogue.
    with translation.override("en"):
        html = render_to_string("includes/level.html", level_badge("in_use"))
        short = render_to_string(
            "includes/level.html", level_badge("in_use", short=True)
        )

    assert 'class="level level--in_use"' in html
    assert "In use" in html
    assert 'class="visually-hidden">In use<' in short


def test_stylesheet_tokens_focus_and_levels():
    css = (STATIC / "css" / "portal.css").read_text()

    assert "--nup-color-primary:" in css
    assert "--nup-space-4:" in css
    assert "--nup-font-size-base:" in css
    assert "outline: var(--nup-focus-width) solid" in css
    assert "--nup-focus-width: 3px" in css
    assert "outline-offset" in css
    for level in (
        "not_started",
        "preparing",
        "implementing",
        "in_use",
        "not_applicable",
    ):
        assert f".level--{level}" in css
    assert "@import" not in css  # no external fonts or stylesheets
    assert "url(http" not in css


def test_print_stylesheet_hides_navigation_and_writes_out_links():
    css = (STATIC / "css" / "print.css").read_text()

    assert ".main-nav" in css
    assert "attr(href)" in css


@pytest.mark.django_db
def test_tables_scroll_in_a_labelled_focusable_region(client):
    html = page(client, "/en/bouwstenen/")

    assert (
        '<div class="table-scroll" tabindex="0" role="region" aria-label="Building blocks">'
        in html
    )


class _DescribedBy(HTMLParser):
    """The ids on a page and the ids its aria-describedby attributes point at."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described_by: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if attrs.get("aria-describedby"):
            self.described_by.extend(attrs["aria-describedby"].split())


def _described_by(html: str) -> _DescribedBy:
    parser = _DescribedBy()
    parser.feed(html)
    return parser


@pytest.mark.django_db
def test_a_field_with_an_error_is_described_by_its_error_list(client):
    response = client.post("/en/accounts/login/", {"username": "", "password": "x"})

    html = response.content.decode()
    parsed = _described_by(html)
    assert 'aria-invalid="true"' in html
    assert "id_username_error" in parsed.described_by
    assert set(parsed.described_by) <= parsed.ids


@pytest.mark.django_db
def test_a_bad_filter_value_is_described_by_its_error_list(client):
    html = page(client, "/en/gemeenten/?score_min=abc")

    parsed = _described_by(html)
    assert any(ref.endswith("_error") for ref in parsed.described_by)
    assert set(parsed.described_by) <= parsed.ids


# --- error pages and the English footer -------------------------------------


@pytest.mark.django_db
def test_english_footer_has_no_dutch_credit_text(client):
    html = page(client, "/en/gemeenten/")

    assert (
        "Source: CBS (population 1 January 2025); boundaries: CBS/Kadaster via PDOK"
        in html
    )
    assert "Bron:" not in html
    assert "bevolking" not in html
    assert "grenzen:" not in html
    assert "deed.en" in html


def _assert_portal_page(html: str) -> None:
    assert '<a class="skip-link" href="#main">' in html
    assert '<nav class="main-nav"' in html
    assert '<main id="main"' in html
    assert html.count("<h1") == 1
    assert 'class="site-footer"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(("prefix", "lang"), [("", "nl"), ("/en", "en")])
def test_404_page_uses_the_portal_base(client, prefix, lang):
    response = client.get(f"{prefix}/bestaat-niet/")
    html = response.content.decode()

    assert response.status_code == 404
    _assert_portal_page(html)
    assert f'<html lang="{lang}">' in html
    assert f'href="{prefix}/"' in html  # a link home


@pytest.mark.django_db
@pytest.mark.parametrize(("prefix", "lang"), [("", "nl"), ("/en", "en")])
def test_403_page_uses_the_portal_base(client, vdp_user, prefix, lang):
    client.force_login(vdp_user)
    response = client.get(f"{prefix}/import/")
    html = response.content.decode()

    assert response.status_code == 403
    _assert_portal_page(html)
    assert f'<html lang="{lang}">' in html
    assert f'href="{prefix}/"' in html


@pytest.mark.django_db
def test_403_page_in_english_explains_and_links_home(client, vdp_user):
    client.force_login(vdp_user)
    html = client.get("/en/import/").content.decode()

    assert "You do not have access to this page" in html
    assert "Go to the overview" in html


@pytest.mark.django_db
def test_csrf_failure_page_uses_the_portal_base(client, king_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(king_user)
    response = strict.post("/en/rapportages/", {"kind": "full_csv"})
    html = response.content.decode()

    assert response.status_code == 403
    _assert_portal_page(html)
    assert "The form could not be sent" in html


@pytest.mark.parametrize("name", ["400.html", "500.html"])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_400_and_500_pages_render_without_request_or_database(name, lang):
    # Django renders these with an empty context: no request, no database.
    from django.template import loader

    with translation.override(lang):
        html = loader.get_template(name).render()

    assert f'<html lang="{lang}">' in html
    assert '<a class="skip-link" href="#main">' in html
    assert "css/portal.css" in html
    assert html.count("<h1") == 1
    assert f'href="{"/en/" if lang == "en" else "/"}"' in html


def test_500_page_in_english_is_english():
    from django.template import loader

    with translation.override("en"):
        html = loader.get_template("500.html").render()

    assert "Something went wrong on our side" in html
    assert "Source: CBS" in html


def test_date_inputs_get_the_focus_ring():
    css = (STATIC / "css" / "portal.css").read_text()

    assert 'input[type="date"]:focus-within' in css
