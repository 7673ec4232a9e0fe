"""The import pages at 360 px with data: an upload with changes and errors.

The upload list, the columns table, the error list and the diff scroll inside
their own box; the page itself never scrolls sideways (WCAG 1.4.10).
"""

from __future__ import annotations

import pytest

from tests.browser.support import LANGS, screenshot
from tests.browser.test_journeys_king import as_csv, upload
from tests.browser.test_responsive import PHONE, overflowing_elements

pytestmark = pytest.mark.browser

# Zwolle's BAG with a long note (a change), and a row with an unknown block (an
# error): both tables of the preview have rows. The file is never applied.
ROWS = [
    {
        "cbs_code": "GM0193",
        "building_block": "bag",
        "level": "implementing",
        "planned_date": "2030-06-30",
        "achieved_date": "#leeg",
        "note": "Gepland na aanbesteding; " * 12,
        # No hyphen or space to break at: the longest token a cell may hold.
        "evidence_url": "https://www.zwolle.nl/raadsinformatie/"
        "besluitenlijstaanbestedingbasisregistratiesvierdekwartaal2030.pdf",
    },
    {
        "cbs_code": "GM0193",
        "building_block": "geen_bestaande_bouwsteen_met_een_lange_naam",
        "level": "in_use",
        "planned_date": "",
        "achieved_date": "",
        "note": "",
        "evidence_url": "",
    },
]


def assert_no_sideways_scroll(page) -> None:
    # clientWidth, not innerWidth: a mobile browser zooms out to fit wide content,
    # and innerWidth then grows with the overflow it should reveal.
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth,"
        " document.documentElement.clientWidth]"
    )
    assert inner_width == PHONE["width"]
    assert scroll_width <= inner_width, (
        f"{page.url} at {inner_width} px scrolls sideways to {scroll_width} px; "
        f"elements sticking out: {overflowing_elements(page)}"
    )


@pytest.mark.parametrize("lang", LANGS)
def test_import_pages_do_not_scroll_sideways_at_360px(new_context, role_state, lang):
    context = new_context(
        viewport=PHONE,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        storage_state=role_state("king"),
    )
    page = context.new_page()

    upload(page, lang, f"zwolle-{lang}-met-een-lange-bestandsnaam.csv", as_csv(ROWS))
    assert page.locator("tr.import-change").count() > 0
    assert page.locator("tr.import-error").count() > 0
    screenshot(page, "responsive", lang, "import-preview")
    assert_no_sideways_scroll(page)

    page.goto(page.url.split("/import/")[0] + "/import/")
    assert page.locator("#recent-heading").count() == 1
    screenshot(page, "responsive", lang, "import")
    assert_no_sideways_scroll(page)
