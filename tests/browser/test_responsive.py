"""At 360 px wide (a small phone) the main pages do not scroll sideways.

Wide tables may scroll inside their own container; the page itself must not.
"""

from __future__ import annotations

import pytest

from tests.browser.support import EDITOR, LANGS, SCORECARD, goto, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def overflowing_elements(page) -> list[str]:
    """Describe the elements that stick out to the right of the viewport."""
    return page.evaluate(
        """() => {
            const width = window.innerWidth;
            const found = [];
            for (const el of document.body.querySelectorAll('*')) {
                const box = el.getBoundingClientRect();
                if (box.right <= width + 0.5 || box.width === 0) continue;
                // Inside a scrolling container the overflow is that container's.
                let parent = el.parentElement, contained = false;
                while (parent && parent !== document.body) {
                    const style = getComputedStyle(parent);
                    if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)
                        && parent.getBoundingClientRect().right <= width + 0.5) {
                        contained = true; break;
                    }
                    parent = parent.parentElement;
                }
                if (contained) continue;
                const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                    (el.className && typeof el.className === 'string'
                        ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
                found.push(`${name} (right edge ${Math.round(box.right)} px)`);
                if (found.length >= 10) break;
            }
            return found;
        }"""
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("name", "path", "role"),
    [
        ("overview", "/", "anonymous"),
        ("scorecard", SCORECARD, "anonymous"),
        ("editor", EDITOR, "cio"),
    ],
)
def test_page_does_not_scroll_sideways_at_360px(
    new_context, role_state, name, path, role, lang
):
    context = new_context(
        viewport=PHONE,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        storage_state=role_state(role),
    )
    page = context.new_page()
    goto(page, path, lang)
    screenshot(page, "responsive", lang, name)
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (
        f"{page.url} at {inner_width} px scrolls sideways to {scroll_width} px; "
        f"elements sticking out: {overflowing_elements(page)}"
    )
