"""The status editor by keyboard: the focused field is never under the sticky save
bar (WCAG 2.4.11), the outcome of a save takes the focus (not <body>), and the
jump list reaches any building block in a few tab stops.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.support import (
    EDITOR,
    LANGS,
    BlockChange,
    apply_change,
    goto,
    read_editor,
)

pytestmark = pytest.mark.browser

# Before the jump list, reaching the last block took 268 tab stops; now it is the
# skip link, the page's few links and one link per block.
MAX_TABS_TO_A_BLOCK = 40

_FOCUS_UNDER_BAR = """() => {
    const el = document.activeElement;
    const bar = document.querySelector('.status-editor .form-actions');
    if (!el || el === document.body || bar.contains(el)) return null;
    const a = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
    const overlap = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return {id: el.id || el.tagName, overlap: overlap, field: [a.top, a.bottom],
            bar: [b.top, b.bottom]};
}"""

_FOCUSED = """() => {
    const el = document.activeElement;
    return {tag: el.tagName.toLowerCase(), id: el.id,
            cls: el.getAttribute('class') || '',
            href: el.getAttribute('href') || ''};
}"""


def open_editor(new_context, role_state, viewport: dict[str, int], lang: str) -> Any:
    context = new_context(viewport=viewport, storage_state=role_state("cio"))
    page = context.new_page()
    goto(page, EDITOR, lang)
    return page


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 800}, {"width": 360, "height": 740}]
)
def test_a_focused_field_is_never_under_the_save_bar(new_context, role_state, viewport):
    page = open_editor(new_context, role_state, viewport, "nl")
    first = read_editor(page)[0]
    page.focus(f"#{first.level_id}")
    checked = 0
    for _ in range(120):
        page.keyboard.press("Tab")
        found = page.evaluate(_FOCUS_UNDER_BAR)
        if found is None:
            continue
        checked += 1
        assert found["overlap"] <= 0, found
    assert checked > 100


@pytest.mark.parametrize("lang", LANGS)
def test_after_saving_the_focus_is_on_the_message(new_context, role_state, lang):
    page = open_editor(new_context, role_state, {"width": 1280, "height": 800}, lang)
    block = next(b for b in read_editor(page) if b.level != "in_use")
    apply_change(page, BlockChange(block, "in_use"))
    with page.expect_navigation():
        page.locator(".status-editor button[type=submit]").click()
    focused = page.evaluate(_FOCUSED)
    assert focused["tag"] == "ul" and "messages" in focused["cls"], focused
    assert page.locator(".messages:focus .message--success").count() == 1


@pytest.mark.parametrize("lang", LANGS)
def test_after_a_validation_error_the_focus_is_on_the_error_summary(
    new_context, role_state, lang
):
    page = open_editor(new_context, role_state, {"width": 1280, "height": 800}, lang)
    block = read_editor(page)[0]
    # "Implementing" needs a planned date: leaving it empty is an error.
    apply_change(page, BlockChange(block, "implementing", planned="", achieved=""))
    with page.expect_navigation():
        page.locator(".status-editor button[type=submit]").click()
    focused = page.evaluate(_FOCUSED)
    assert "error-summary" in focused["cls"], focused
    assert page.locator(".error-summary:focus a").count() >= 1


@pytest.mark.parametrize("lang", LANGS)
def test_the_jump_list_reaches_the_last_block_in_a_few_tab_stops(
    new_context, role_state, lang
):
    page = open_editor(new_context, role_state, {"width": 1280, "height": 800}, lang)
    last = read_editor(page)[-1]
    page.keyboard.press("Tab")
    assert page.evaluate(_FOCUSED)["href"] == "#main"
    page.keyboard.press("Enter")
    tabs = 2
    while page.evaluate(_FOCUSED)["href"] != f"#block-{last.code}":
        page.keyboard.press("Tab")
        tabs += 1
        assert tabs <= MAX_TABS_TO_A_BLOCK, "the jump list is too far away"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    tabs += 2
    assert page.evaluate(_FOCUSED)["id"] == last.level_id
    assert tabs <= MAX_TABS_TO_A_BLOCK


def test_a_date_field_is_one_tab_stop(new_context, role_state):
    page = open_editor(new_context, role_state, {"width": 1280, "height": 800}, "nl")
    block = read_editor(page)[0]
    page.focus(f"#{block.level_id}")
    page.keyboard.press("Tab")
    assert page.evaluate(_FOCUSED)["id"] == block.planned_id
    # Typing a Dutch date into it and one Tab on: the next field, not a segment.
    page.keyboard.type("31-12-2030")
    page.keyboard.press("Tab")
    assert page.evaluate(_FOCUSED)["id"] == block.achieved_id
    assert page.input_value(f"#{block.planned_id}") == "31-12-2030"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(_FOCUSED)["id"] == block.planned_id
