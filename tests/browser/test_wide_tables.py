"""Wide tables at 1280 px: the default columns fit, and the chooser works by keyboard.

/gemeenten/ and /matrix/ neither scroll the page sideways nor hide columns inside
their scrolling region with the default columns; choosing a column with the
keyboard only (Tab, Enter, Space) puts it in the URL and the table.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.support import LANGS, goto

pytestmark = pytest.mark.browser

_WIDTHS = """() => {
    const d = document.documentElement;
    return {
        page: [d.scrollWidth, d.clientWidth],
        tables: [...document.querySelectorAll('.table-scroll')].map(
            e => [e.scrollWidth, e.clientWidth]),
    };
}"""

_FOCUSED = """() => {
    const el = document.activeElement;
    return {tag: el.tagName.toLowerCase(), id: el.id,
            cls: el.getAttribute('class') || '', type: el.getAttribute('type') || ''};
}"""


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/gemeenten/", "/matrix/"])
def test_the_default_columns_fit_at_1280_px(new_context, lang, path):
    page = new_context(viewport={"width": 1280, "height": 800}).new_page()
    goto(page, path, lang)

    widths = page.evaluate(_WIDTHS)

    page_width, viewport = widths["page"]
    assert page_width <= viewport, f"{path} scrolls sideways: {widths}"
    assert widths["tables"], f"{path} has no table"
    for scroll_width, visible in widths["tables"]:
        assert scroll_width <= visible + 1, f"{path} hides columns: {widths}"


def tab_until(page, matches, what: str, limit: int = 80) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if matches(focused):
            return focused
    raise AssertionError(f"{what} cannot be reached with Tab")


@pytest.mark.parametrize("lang", LANGS)
def test_the_column_chooser_works_by_keyboard(new_context, lang):
    page = new_context(viewport={"width": 1280, "height": 800}).new_page()
    goto(page, "/gemeenten/", lang)
    assert page.locator("thead th", has_text="CBS").count() == 0

    tab_until(
        page,
        lambda f: f["tag"] == "summary" and "column-chooser" in f["cls"],
        "summary",
    )
    page.keyboard.press("Enter")
    assert page.locator("details.column-chooser").get_attribute("open") is not None
    tab_until(page, lambda f: f["id"] == "column-cbs_code", "the CBS code box")
    page.keyboard.press("Space")
    assert page.is_checked("#column-cbs_code")
    tab_until(
        page,
        lambda f: (
            f["tag"] == "button"
            and "column-chooser" not in f["cls"]
            and f["type"] == "submit"
        ),
        "the submit button",
    )
    with page.expect_navigation():
        page.keyboard.press("Enter")

    query = parse_qs(urlparse(page.url).query)
    assert query["kolommen"] == [
        "name,cbs_code,province,adoption_score,agreements_met,"
        "agreements_at_risk,agreements_overdue,last_status_update"
    ], page.url
    assert page.locator("thead th", has_text="CBS").count() == 1
    # The chooser stays open after the choice, the box still checked.
    assert page.is_checked("#column-cbs_code")
