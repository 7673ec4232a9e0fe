"""A VDP board member explores the dashboards and takes the figures home.

Overview with its map and size-class chart, the municipality list filtered by
province, size class and a building block's level, a scorecard, the Excel export
of the filtered view, and the language switch.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser.support import LANGS, lang_path, login, screenshot

pytestmark = pytest.mark.browser

# Gelderland is left alone by the other journeys, so its figures are the seeded ones;
# the test still reads the counts from the page instead of assuming them.
PROVINCE = "gelderland"
BLOCK = "digid"
OTHER_LANG = {"nl": "en", "en": "nl"}


def total_rows(page) -> int:
    """The row total the list page reports ("Rows 1–35 of 35" / "Rijen … van 35")."""
    text = page.locator(".pagination-bar__count").first.inner_text()
    numbers = re.findall(r"\d[\d.,]*", text)
    assert numbers, f"no row count in {text!r}"
    return int(re.sub(r"[.,]", "", numbers[-1]))


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize("lang", LANGS)
def test_vdp_reads_overview_filters_and_exports(page, lang, tmp_path):
    login(page, "vdp", lang=lang)
    assert page.url.rstrip("/").endswith(lang_path("/", lang).rstrip("/")), page.url
    assert page.locator("html").get_attribute("lang") == lang

    # The map: one shape per municipality, with the same municipalities as a table.
    map_figure = page.locator("figure.map-figure").first
    expect(map_figure).to_be_visible()
    shapes = map_figure.locator("svg path").count()
    table_rows = map_figure.locator("details table tbody tr").count()
    assert shapes > 300, f"the map has {shapes} shapes"
    assert shapes == table_rows, (shapes, table_rows)
    # The size-class chart: one bar per size class, with the figures as a table.
    size_chart = page.locator("figure[aria-labelledby='chart-gap-caption']")
    expect(size_chart).to_be_visible()
    assert size_chart.locator("svg rect").count() >= 5
    assert size_chart.locator("details table tbody tr").count() == 5
    screenshot(page, "vdp", lang, "1-overview")

    # Filter the municipality list.
    page.locator("nav.main-nav a[href$='/gemeenten/']").click()
    page.wait_for_url(f"**{lang_path('/gemeenten/', lang)}")
    form = page.locator("form.filter-form")
    form.locator("#id_province").select_option(PROVINCE)
    province_name = form.locator("#id_province option:checked").inner_text().strip()
    # 20,000 to 50,000 inhabitants: the commonest size class in Gelderland.
    size_value = "m"
    form.locator("#id_size_class").select_option(size_value)
    form.locator("#id_block").select_option(BLOCK)
    form.locator("#id_level").select_option("in_use")
    size_label = form.locator("#id_size_class option:checked").inner_text().strip()
    with page.expect_navigation():
        form.locator("button[type=submit]").first.click()
    for name, value in (
        ("province", PROVINCE),
        ("size_class", size_value),
        ("block", BLOCK),
        ("level", "in_use"),
    ):
        assert f"{name}={value}" in page.url, page.url
    # The size class is not among the default columns: show it as well.
    page.locator("summary.column-chooser__toggle").click()
    page.check("#column-size_class")
    with page.expect_navigation():
        page.locator(".column-chooser__form button[type=submit]").click()
    query = parse_qs(urlparse(page.url).query)
    assert "size_class" in query["kolommen"][0].split(","), page.url
    assert query["province"] == [PROVINCE], page.url  # the filters are kept
    count = total_rows(page)
    assert count > 0, "the filter found no municipalities"
    rows = page.locator("main table tbody tr")
    shown = rows.count()
    assert shown == min(count, 50)
    # The table may write the class shorter ("20.000–50.000"): compare its bounds.
    size_bounds = digits(size_label)
    for i in range(shown):
        cells = [
            cell.strip() for cell in rows.nth(i).locator("th, td").all_inner_texts()
        ]
        assert province_name in cells, cells
        assert any(digits(cell) == size_bounds for cell in cells), (size_label, cells)
    names = [
        rows.nth(i).locator("td, th").first.inner_text().strip() for i in range(shown)
    ]
    screenshot(page, "vdp", lang, "2-filtered-list")

    # The Excel export holds exactly the filtered rows.
    with page.expect_download() as download_info:
        page.locator(".export-links a[href*='_export=xlsx']").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.suffix == ".xlsx", download.suggested_filename
    sheet = openpyxl.load_workbook(target, read_only=True).active
    exported = [row for row in sheet.iter_rows(values_only=True) if any(row)]
    assert len(exported) - 1 == count, (len(exported) - 1, count)
    exported_names = [str(row[0]) for row in exported[1:]]
    assert exported_names[:shown] == names
    assert all(province_name in [str(cell) for cell in row] for row in exported[1:])

    # A scorecard from the list.
    first = rows.first.locator("a").first
    municipality = first.inner_text().strip()
    with page.expect_navigation():
        first.click()
    expect(page.locator("h1")).to_contain_text(municipality)
    assert re.search(r"/gemeenten/[a-z0-9-]+/$", page.url), page.url
    screenshot(page, "vdp", lang, "3-scorecard")

    # Switch language: same page, other language.
    other = OTHER_LANG[lang]
    path = re.sub(r"^https?://[^/]+", "", page.url)
    page.locator(f".language-switch a[hreflang='{other}']").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == other
    dutch_path = path[3:] if lang == "en" else path
    assert page.url.endswith(lang_path(dutch_path, other)), page.url
    expect(page.locator("h1")).to_contain_text(municipality)
    screenshot(page, "vdp", lang, f"4-switched-to-{other}")
