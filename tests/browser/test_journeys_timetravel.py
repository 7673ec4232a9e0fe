"""A VDP member opens the overview as of 31 December 2014 and compares it with today.

The date picker on the overview (a plain GET form), the banner, a link to a
scorecard that stays on that date, the compare-with date on the scorecard and
the overview, and the way back to today.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import LANGS, lang_path, login, screenshot

pytestmark = pytest.mark.browser

ON = "2014-12-31"
BANNER = {
    "nl": "U bekijkt de stand van 31 december 2014",
    "en": "You are viewing the figures as of 31 December 2014",
}
COMPARED = {"nl": "ten opzichte van", "en": "compared with"}


@pytest.mark.parametrize("lang", LANGS)
def test_vdp_travels_to_2014_and_compares_with_today(page, lang):
    login(page, "vdp", lang=lang)
    today_score = page.locator(".headline__value").first.inner_text()

    # The date picker: a GET form, no script needed.
    picker = page.locator("form.date-picker")
    picker.locator("#id_peildatum").fill(ON)
    with page.expect_navigation():
        picker.locator("button[type=submit]").click()
    assert f"peildatum={ON}" in page.url, page.url
    banner = page.locator(".time-travel")
    expect(banner).to_contain_text(BANNER[lang])
    assert picker.locator("#id_peildatum").input_value() == ON
    screenshot(page, "timetravel", lang, "1-overview-2014")

    # Through the navigation to the list and on to a scorecard: still 2014.
    page.locator("nav.main-nav a[href*='/gemeenten/']").click()
    page.wait_for_load_state()
    assert f"peildatum={ON}" in page.url, page.url
    expect(page.locator(".time-travel")).to_contain_text(BANNER[lang])
    first = page.locator("main table tbody tr").first.locator("a").first
    name = first.inner_text().strip()
    with page.expect_navigation():
        first.click()
    expect(page.locator("h1")).to_contain_text(name)
    assert f"peildatum={ON}" in page.url, page.url
    expect(page.locator(".time-travel")).to_contain_text(BANNER[lang])

    # Compare that day's score with today's.
    compare = page.locator("form.date-picker")
    today = compare.locator("#id_vergelijk").get_attribute("max")
    compare.locator("#id_vergelijk").fill(today)
    with page.expect_navigation():
        compare.locator("button[type=submit]").click()
    assert f"peildatum={ON}" in page.url and f"vergelijk={today}" in page.url
    change = page.locator(".key-figure--main .headline__change")
    expect(change).to_contain_text(COMPARED[lang])
    screenshot(page, "timetravel", lang, "2-scorecard-compared")

    # The overview as of 2014 compared with today, then back to today.
    page.goto(lang_path(f"/?peildatum={ON}&vergelijk={today}", lang))
    expect(page.locator(".headline__change").first).to_contain_text(COMPARED[lang])
    with page.expect_navigation():
        page.locator(".time-travel a[data-today]").click()
    expect(page.locator(".time-travel")).to_have_count(0)
    assert "peildatum" not in page.url
    assert page.locator(".headline__value").first.inner_text() == today_score
    screenshot(page, "timetravel", lang, "3-back-to-today")
