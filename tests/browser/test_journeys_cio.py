"""The CIO of Haarlemmermeer keeps the municipality's statuses up to date.

Logs in and lands on /mijn-gemeente/, changes three building blocks in one save,
sees the new score and the history entries, is refused another municipality's
editor, and is told about (not silently overwritten by) a colleague's save.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    EDITOR,
    FUTURE_DATE,
    HISTORY,
    LANGS,
    SCORECARD,
    WHATIF,
    BlockChange,
    apply_change,
    goto,
    lang_path,
    login,
    parse_score,
    plan_score_changes,
    read_editor,
    read_mine_score,
    screenshot,
    wait_for_mine_score,
)
from tests.browser.test_accessibility import assert_no_axe_violations

pytestmark = pytest.mark.browser

CIO = "cio-haarlemmermeer"


def save_editor(page):
    """Press "Save statuses"; return the response of the page that follows."""
    with page.expect_navigation() as navigation:
        page.locator("form.status-editor button[type=submit]").click()
    return navigation.value


@pytest.mark.parametrize("lang", LANGS)
def test_cio_updates_three_blocks_and_sees_score_and_history(page, lang):
    login(page, CIO, lang=lang)
    assert page.url.endswith(lang_path("/mijn-gemeente/", lang)), page.url
    expect(page.locator("h1")).to_contain_text("Haarlemmermeer")
    score_before = read_mine_score(page)
    screenshot(page, "cio", lang, "1-mijn-gemeente")

    page.locator(f"main a[href$='{EDITOR}']").first.click()
    page.wait_for_url(f"**{lang_path(EDITOR, lang)}")
    direction, changes = plan_score_changes(read_editor(page))
    for change in changes:
        apply_change(page, change)
    screenshot(page, "cio", lang, "2-editor-filled")
    response = save_editor(page)
    assert response.status == 200, f"save answered {response.status}"
    assert page.url.endswith(lang_path(EDITOR, lang)), page.url
    expect(page.locator(".message--success")).to_be_visible()
    assert not page.locator(".error-summary").count(), page.locator(
        ".error-summary"
    ).inner_text()
    saved = {block.code: block for block in read_editor(page)}
    for change in changes:
        assert saved[change.block.code].level == change.level, change.block.code
    screenshot(page, "cio", lang, "3-saved")

    goto(page, "/mijn-gemeente/", lang)
    # The worker recomputes after the save: wait for the score to move.
    wait_for_mine_score(page, score_before, direction)
    screenshot(page, "cio", lang, "4-new-score")

    page.locator(f"main a[href$='{HISTORY}']").first.click()
    page.wait_for_url(f"**{lang_path(HISTORY, lang)}")
    newest = page.locator("main table tbody tr")
    top_rows = [newest.nth(i).inner_text() for i in range(len(changes))]
    for change in changes:
        assert any(change.block.name in row and CIO in row for row in top_rows), (
            f"no history entry by {CIO} for {change.block.name} among the newest "
            f"rows: {top_rows}"
        )
    screenshot(page, "cio", lang, "5-history")


@pytest.mark.parametrize("lang", LANGS)
def test_cio_is_refused_another_municipalitys_editor(page, lang):
    login(page, CIO, lang=lang)
    goto(page, "/gemeenten/utrecht/bewerken/", lang, expect_status=403)
    assert not page.locator("form.status-editor").count()
    screenshot(page, "cio", lang, "6-refused")
    # The refusal is a page of the portal too: in the user's language, accessible.
    assert_no_axe_violations(page, f"{page.url} (403)")


def _conflicting_targets(level: str) -> tuple[str, str]:
    """Two different new states (colleague's, own) that both differ from `level`."""
    return {
        "not_started": ("preparing", "implementing"),
        "preparing": ("not_started", "implementing"),
    }.get(level, ("not_started", "preparing"))


@pytest.mark.parametrize("lang", LANGS)
def test_cio_gets_conflict_message_instead_of_silent_overwrite(new_context, lang):
    mine = new_context().new_page()
    login(mine, CIO, lang=lang)
    goto(mine, EDITOR, lang)
    block = read_editor(mine)[0]

    colleague = new_context().new_page()
    login(colleague, CIO, lang=lang)
    goto(colleague, EDITOR, lang)
    theirs_level, mine_level = _conflicting_targets(block.level)
    apply_change(
        colleague, BlockChange(block, theirs_level, planned=FUTURE_DATE, achieved="")
    )
    assert save_editor(colleague).status == 200
    expect(colleague.locator(".message--success")).to_be_visible()

    apply_change(mine, BlockChange(block, mine_level, planned=FUTURE_DATE, achieved=""))
    response = save_editor(mine)
    assert response.status == 409, f"a stale save answered {response.status}"
    expect(mine.locator(".error-summary--conflict")).to_be_visible()
    expect(mine.locator(f"#conflict-{block.code}")).to_be_visible()
    # The user's own value is kept in the form for a deliberate second save.
    assert mine.input_value(f"#{block.level_id}") == mine_level
    screenshot(mine, "cio", lang, "7-conflict")
    assert_no_axe_violations(mine, f"{mine.url} (conflict)")

    goto(colleague, EDITOR, lang)
    current = {b.code: b for b in read_editor(colleague)}
    assert current[block.code].level == theirs_level, "the colleague's save was lost"


@pytest.mark.parametrize("lang", LANGS)
def test_cio_tries_the_best_step_in_the_whatif_and_nothing_is_saved(page, lang):
    login(page, CIO, lang=lang)
    goto(page, SCORECARD, lang)
    stored = read_mine_score(page)
    explanation = page.locator("section.score-explanation")
    expect(explanation.locator("caption").first).to_be_visible()
    top = explanation.locator("table.table--suggestions tbody tr").first
    block = top.locator("th").inner_text().split(":")[0]

    top.locator("a").last.click()
    page.wait_for_url(f"**{lang_path(WHATIF, lang)}?*")
    tried = parse_score(page.locator("[data-whatif=score]").inner_text())
    assert tried > stored, (stored, tried)
    expect(page.locator(".whatif-result")).to_contain_text(block)
    screenshot(page, "cio-whatif", lang, "1-best-step")
    assert_no_axe_violations(page, f"what-if after the best step ({lang})")

    # Then also mark every other block in use, by hand, in the form.
    selects = page.locator("form.whatif-form select")
    for i in range(selects.count()):
        selects.nth(i).select_option("in_use")
    with page.expect_navigation():
        page.locator("form.whatif-form button[type=submit]").click()
    assert "digid=in_use" in page.url, page.url
    assert parse_score(page.locator("[data-whatif=score]").inner_text()) == 100
    expect(page.locator("[data-whatif=rank]")).to_contain_text("1")
    expect(page.locator(".whatif-result .empty-state")).to_be_visible()
    screenshot(page, "cio-whatif", lang, "2-everything-in-use")
    assert_no_axe_violations(page, f"what-if with everything in use ({lang})")

    # Nothing was saved: the scorecard still shows the stored score.
    goto(page, SCORECARD, lang)
    assert read_mine_score(page) == stored
