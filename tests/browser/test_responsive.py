"""Every page at 360 px (a small phone) and at 1280 px (a laptop) without sideways
scrolling of the page (WCAG 1.4.10 reflow).

A table with many columns may scroll inside its own container; the page itself
must not. The public pages are checked once, as the anonymous visitor; the pages
only a role sees, as that role. The import pages are checked by the import tests.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.support import (
    LANGS,
    PAGES_BY_ROLE,
    SCORECARD,
    goto,
    screenshot,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1280, "height": 800}
WIDTHS = {"360": PHONE, "1280": LAPTOP}


def responsive_cases() -> list[Any]:
    """(role, path) for every page of DESIGN §5, each page once."""
    seen: set[str] = set()
    cases = []
    for role in ("anonymous", "vdp", "cio", "king"):
        for path in PAGES_BY_ROLE[role]:
            if path in seen or path.startswith("/import/"):
                continue
            seen.add(path)
            cases.append((role, path))
    cases.append(("anonymous", "/bestaat-niet/"))  # the 404 page
    return [
        pytest.param(role, path, id=f"{role}-{path.strip('/') or 'home'}")
        for role, path in cases
    ]


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


def open_at(new_context, role_state, role: str, width: str, path: str, lang: str):
    mobile = width == "360"
    context = new_context(
        viewport=WIDTHS[width],
        device_scale_factor=1,
        is_mobile=mobile,
        has_touch=mobile,
        storage_state=role_state(role),
    )
    page = context.new_page()
    expect = 404 if path == "/bestaat-niet/" else 200
    goto(page, path, lang, expect_status=expect)
    return page


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("role", "path"), responsive_cases())
def test_page_does_not_scroll_sideways(
    new_context, role_state, role, path, width, lang
):
    page = open_at(new_context, role_state, role, width, path, lang)
    screenshot(
        page, f"responsive-{width}", lang, path.strip("/").replace("/", "-") or "home"
    )
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (
        f"{page.url} at {inner_width} px scrolls sideways to {scroll_width} px; "
        f"elements sticking out: {overflowing_elements(page)}"
    )


_CHARTS = """() => [...document.querySelectorAll('.chart-figure__graphic')]
    .filter(g => g.offsetParent !== null)
    .map(g => {
        const shown = [...g.querySelectorAll('svg.chart')]
            .filter(svg => getComputedStyle(svg).display !== 'none');
        return {
            shown: shown.map(svg => svg.getAttribute('class')),
            fits: g.scrollWidth <= g.clientWidth + 0.5
                && g.getBoundingClientRect().right <= window.innerWidth + 0.5,
            // Rendered px per SVG unit: text keeps its size when this is ~1.
            scale: shown.length ? shown[0].getBoundingClientRect().width
                / shown[0].viewBox.baseVal.width : 0,
        };
    })"""


@pytest.mark.parametrize(
    ("width", "variant"), [("360", "chart--narrow"), ("1280", "chart--wide")]
)
@pytest.mark.parametrize("path", ["/", SCORECARD, "/bouwstenen/digid/"])
def test_charts_reflow_to_the_width_at_a_legible_size(
    new_context, role_state, path, width, variant
):
    page = open_at(new_context, role_state, "anonymous", width, path, "nl")
    charts = page.evaluate(_CHARTS)
    assert charts, f"{path} shows no charts"
    for chart in charts:
        assert len(chart["shown"]) == 1, chart
        assert variant in chart["shown"][0], chart
        assert chart["fits"], chart
        assert chart["scale"] >= 0.8, chart


@pytest.mark.parametrize("lang", LANGS)
def test_scorecard_tables_show_every_column_at_360px(new_context, role_state, lang):
    """No status badge or date hides behind a table's own sideways scroll."""
    page = open_at(new_context, role_state, "vdp", "360", SCORECARD, lang)
    hidden = page.evaluate(
        """() => [...document.querySelectorAll('main .table-scroll')]
            .filter(t => t.scrollWidth > t.clientWidth + 0.5)
            .map(t => t.getAttribute('aria-label')
                || t.getAttribute('aria-labelledby'))"""
    )
    assert hidden == []
    badges = page.locator("main .table--statuses .level")
    assert badges.count() > 0
    # Every badge shows its whole text (not cut to "In geb…").
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('main .table--statuses .level')]
            .filter(b => b.scrollWidth > b.clientWidth + 0.5
                || b.getBoundingClientRect().right > window.innerWidth)
            .map(b => b.textContent)"""
    )
    assert clipped == []
