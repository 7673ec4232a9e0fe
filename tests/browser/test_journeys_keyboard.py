"""The CIO journey with the keyboard only, and a visible focus at every step.

Only Tab, Shift+Tab, Enter, Space, arrow keys (in selects), Backspace (to clear a
date) and typing. After every key that moves the focus, the focused element must
show a focus indicator (a computed outline or box-shadow).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    EDITOR,
    LANGS,
    BlockChange,
    goto,
    lang_path,
    plan_score_changes,
    read_editor,
    read_mine_score,
    screenshot,
    wait_for_mine_score,
)

pytestmark = pytest.mark.browser

CIO = "cio-haarlemmermeer"
MAX_TABS = 400  # the editor has about 150 tab stops

_FOCUS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) {
        return {visible: false, what: 'nothing focused'};
    }
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow && style.boxShadow !== 'none';
    const what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.getAttribute('href') ? `[href="${el.getAttribute('href')}"]` : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().replace(/\\s+/g, '.') : '');
    // A skip link's target (tabindex=-1) takes the focus but is no control.
    const control = el.matches(
        'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])');
    return {
        visible: !control ||
            ((outline || shadow) && box.width > 0 && box.height > 0),
        what, id: el.id, href: el.getAttribute('href') || '', tag: el.tagName.toLowerCase(),
        type: el.getAttribute('type') || '',
        outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
        shadow: style.boxShadow,
    };
}"""


class Keyboard:
    """Presses keys and checks the focus indicator after each one."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.steps = 0

    def focused(self) -> dict[str, Any]:
        return self.page.evaluate(_FOCUS)

    def press(self, key: str) -> dict[str, Any]:
        self.page.keyboard.press(key)
        self.steps += 1
        focus = self.focused()
        assert focus["visible"], (
            f"after {key} (step {self.steps}) on {self.page.url} the focus on "
            f"{focus['what']} is not visible (outline {focus.get('outline')}, "
            f"box-shadow {focus.get('shadow')})"
        )
        return focus

    def tab_to(self, matches, description: str, *, backwards: bool = False):
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(MAX_TABS):
            focus = self.press(key)
            if matches(focus):
                return focus
        raise AssertionError(f"{description} cannot be reached with {key}")

    def tab_to_id(self, element_id: str) -> None:
        self.tab_to(lambda f: f["id"] == element_id, f"#{element_id}")

    def tab_to_link(self, path: str, *, backwards: bool = False) -> None:
        self.tab_to(
            lambda f: f["tag"] == "a" and f["href"].endswith(path),
            f"a link to {path}",
            backwards=backwards,
        )

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)


def choose_with_arrows(keys: Keyboard, select_id: str, current: str, target: str):
    """Change a focused <select> with the arrow keys (no list opened)."""
    options = keys.page.eval_on_selector(
        f"#{select_id}", "select => [...select.options].map(o => o.value)"
    )
    steps = options.index(target) - options.index(current)
    for _ in range(abs(steps)):
        keys.press("ArrowDown" if steps > 0 else "ArrowUp")
    assert keys.page.input_value(f"#{select_id}") == target


def type_date(keys: Keyboard, iso_date: str) -> None:
    """Type a date into a focused date field (ISO is accepted beside dd-mm-yyyy).

    Tabbing into a text field selects what it holds, so typing replaces it.
    """
    keys.type(iso_date)


def clear_date(keys: Keyboard) -> None:
    """Empty a focused date field (its text is selected on arrival by Tab)."""
    keys.press("Backspace")


def make_change(keys: Keyboard, change: BlockChange) -> None:
    block = change.block
    keys.tab_to_id(block.level_id)
    choose_with_arrows(keys, block.level_id, block.level, change.level)
    if change.planned is not None and change.planned != block.planned:
        keys.tab_to_id(block.planned_id)
        # A date field is one tab stop: the next Tab leaves it.
        type_date(keys, change.planned)
    if change.achieved == "" and block.achieved:
        keys.tab_to_id(block.achieved_id)
        clear_date(keys)
    page = keys.page
    if change.planned is not None:
        assert page.input_value(f"#{block.planned_id}") == change.planned
    if change.achieved is not None:
        assert page.input_value(f"#{block.achieved_id}") == change.achieved


@pytest.mark.parametrize("lang", LANGS)
def test_cio_journey_with_keyboard_only(new_context, lang):
    page = new_context(locale="en-US").new_page()
    keys = Keyboard(page)

    goto(page, "/accounts/login/", lang)
    # The user name field may have the focus already (autofocus).
    if keys.focused().get("id") != "id_username":
        keys.tab_to_id("id_username")
    keys.type(CIO)
    keys.press("Tab")
    assert keys.focused()["id"] == "id_password"
    keys.type("demo")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(f"**{lang_path('/mijn-gemeente/', lang)}")
    score_before = read_mine_score(page)
    screenshot(page, "keyboard", lang, "1-mijn-gemeente")

    # The skip link comes first and moves the focus to the content.
    focus = keys.press("Tab")
    assert focus["href"] == "#main", focus["what"]
    keys.press("Enter")
    keys.tab_to_link(EDITOR)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(lang_path(EDITOR, lang)), page.url
    direction, changes = plan_score_changes(read_editor(page))
    for change in changes:
        make_change(keys, change)
    screenshot(page, "keyboard", lang, "2-editor-filled")

    keys.tab_to(
        lambda f: f["tag"] == "button" and f["type"] == "submit",
        "the save button",
    )
    # Back and forth once: Shift+Tab must show the focus as well.
    keys.press("Shift+Tab")
    keys.press("Tab")
    with page.expect_navigation() as navigation:
        page.keyboard.press("Space")
    assert navigation.value.status == 200
    expect(page.locator(".message--success")).to_be_visible()
    saved = {block.code: block for block in read_editor(page)}
    for change in changes:
        assert saved[change.block.code].level == change.level, change.block.code
    screenshot(page, "keyboard", lang, "3-saved")
    # The message about the save has the focus, visibly; the menu is behind it.
    focus = keys.focused()
    assert focus["tag"] == "ul" and "messages" in focus["what"], focus["what"]
    assert not focus["outline"].startswith("none"), focus["outline"]

    keys.tab_to_link("/mijn-gemeente/", backwards=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # The worker recomputes after the save: wait for the score to move.
    wait_for_mine_score(page, score_before, direction)
    screenshot(page, "keyboard", lang, "4-new-score")
