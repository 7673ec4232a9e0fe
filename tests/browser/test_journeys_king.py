"""KING staff import status updates and produce a progress report.

An import file with one bad row is refused as a whole and names the row; the
corrected file applies. Then a progress report is requested, followed until it is
done, and its PDF downloaded.
"""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.support import (
    FUTURE_DATE,
    LANGS,
    WORKER_TIMEOUT_MS,
    EditorBlock,
    goto,
    login,
    read_editor,
    screenshot,
)
from tests.browser.test_accessibility import assert_no_axe_violations

pytestmark = pytest.mark.browser

# Zwolle (Overijssel): no other journey edits it.
MUNICIPALITY_CODE = "GM0193"
EDITOR = "/gemeenten/zwolle/bewerken/"
BLOCKS = ("bag", "brp")
COLUMNS = (
    "cbs_code",
    "building_block",
    "level",
    "planned_date",
    "achieved_date",
    "note",
    "evidence_url",
)


def toggled_row(block: EditorBlock) -> dict[str, str]:
    """A valid status for `block` that differs from its current one."""
    row = dict.fromkeys(COLUMNS, "")
    row.update(cbs_code=MUNICIPALITY_CODE, building_block=block.code)
    if block.level == "in_use":
        # An empty cell keeps the achieved date, which "implementing" cannot
        # have: the clear marker empties it.
        row.update(
            level="implementing", planned_date=FUTURE_DATE, achieved_date="#leeg"
        )
    else:
        row.update(level="in_use", achieved_date="2024-01-15")
    return row


def as_csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def upload(page, lang: str, name: str, content: bytes) -> None:
    goto(page, "/import/", lang)
    page.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def current_levels(page, lang: str) -> dict[str, EditorBlock]:
    goto(page, EDITOR, lang)
    return {block.code: block for block in read_editor(page)}


@pytest.mark.parametrize("lang", LANGS)
def test_king_imports_with_one_bad_row_then_applies_and_gets_report(
    page, lang, tmp_path
):
    login(page, "king", lang=lang)
    before = current_levels(page, lang)
    good, fixed = (toggled_row(before[code]) for code in BLOCKS)
    bad = {**fixed, "level": "almost_done"}

    # One bad row (spreadsheet row 3): the preview names it and nothing can apply.
    upload(page, lang, f"statuses-{lang}-bad.csv", as_csv([good, bad]))
    expect(page.locator("[data-testid=errors]")).to_have_text("1")
    error_rows = page.locator("tr.import-error")
    expect(error_rows).to_have_count(1)
    expect(error_rows.first.locator("th")).to_have_text("3")
    expect(error_rows.first).to_contain_text("level")
    assert not page.locator("form[action*='/toepassen/'] button").count()
    screenshot(page, "king", lang, "1-import-row-error")
    assert_no_axe_violations(page, f"{page.url} (import with an error)")
    after_bad = current_levels(page, lang)
    for code in BLOCKS:
        assert after_bad[code].level == before[code].level, f"{code} changed"

    # The corrected file: both rows would change; apply.
    upload(page, lang, f"statuses-{lang}-fixed.csv", as_csv([good, fixed]))
    expect(page.locator("[data-testid=errors]")).to_have_text("0")
    expect(page.locator("[data-testid=changes]")).to_have_text("2")
    screenshot(page, "king", lang, "2-import-preview")
    with page.expect_navigation():
        page.locator("form[action*='/toepassen/'] button[type=submit]").click()
    expect(page.locator(".message--success").first).to_be_visible()
    screenshot(page, "king", lang, "3-import-applied")
    after = current_levels(page, lang)
    assert after[BLOCKS[0]].level == good["level"]
    assert after[BLOCKS[1]].level == fixed["level"]

    # A progress report: request it, follow it to "done", download the PDF.
    goto(page, "/rapportages/", lang)
    page.locator("#id_kind").select_option("progress")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert "/rapportages/" in page.url
    download_link = page.locator(".report-download a")
    # The page follows the progress by itself (script, or a Refresh header).
    expect(download_link).to_be_visible(timeout=WORKER_TIMEOUT_MS)
    expect(page.locator("progress")).to_have_attribute("value", "100")
    # An unfinished page carries a Refresh header (for browsers without
    # JavaScript), so it may still reload once after the script showed "done":
    # load the finished page, which has none, before checking it.
    with page.expect_navigation():
        page.reload()
    expect(download_link).to_be_visible()
    screenshot(page, "king", lang, "4-report-done")
    assert_no_axe_violations(page, f"{page.url} (finished report)")
    with page.expect_download() as download_info:
        download_link.click()
    target = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF"), target
    assert len(PdfReader(target).pages) >= 1
