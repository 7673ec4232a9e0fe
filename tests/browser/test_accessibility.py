"""axe-core on every page of DESIGN §5, in Dutch and English, for each role.

WCAG 2.0/2.1 level A and AA rules, none disabled. A failure lists every violation
with its rule id, impact, the elements (CSS selectors) and axe's help text, so the
owner of the page can fix it without rerunning anything.

axe's colour-contrast rule takes seconds on the big pages (map, matrix), so the
pages of one role are checked a few at a time in separate tabs, whose renderers
run in parallel; each page is still reported by its own test.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from tests.browser.support import LANGS, PAGES_BY_ROLE, lang_path, page_cases

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PARALLEL_TABS = 3

# Starts axe and leaves its promise on the page, to be awaited later.
_START_AXE = """(tags) => {
    window.__nupAxe = axe.run(document, {
        runOnly: {type: 'tag', values: tags},
        resultTypes: ['violations'],
    }).then(results => results.violations.map(v => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map(n => ({
            target: n.target.join(' '),
            summary: n.failureSummary,
            html: n.html.slice(0, 200),
        })),
    })));
}"""


@cache
def axe_source() -> str:
    """axe-core as bundled by axe-playwright-python."""
    from axe_playwright_python.base import AXE_FILE_PATH

    return AXE_FILE_PATH.read_text(encoding="utf-8")


def start_axe(page: Any) -> None:
    """Inject axe-core and start it without waiting.

    page.evaluate goes through the DevTools protocol, which the page's
    Content-Security-Policy does not apply to; a <script> tag would be blocked.
    """
    page.evaluate(axe_source())
    page.evaluate(_START_AXE, WCAG_TAGS)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The violations of the axe run started on `page` (waits for it)."""
    return page.evaluate("() => window.__nupAxe")


def run_axe(page: Any) -> list[dict[str, Any]]:
    start_axe(page)
    return axe_violations(page)


def describe_violations(where: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{where}: {len(violations)} axe violation(s)"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"][:8]:
            lines.append(f"    {node['target']}  {node['html']!r}")
            summary = (node["summary"] or "").replace("\n", " | ")
            lines.append(f"      {summary[:300]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more elements")
    return "\n".join(lines)


def assert_no_axe_violations(page: Any, where: str) -> None:
    """For the journeys: check the page as it is now."""
    violations = run_axe(page)
    assert not violations, describe_violations(where, violations)


@pytest.fixture(scope="session")
def axe_report(
    get_browser: Callable[[], Any], portal, role_state
) -> Callable[[str], dict[tuple[str, str], Any]]:
    """axe_report(role) → {(lang, path): violations or an error text}, made once."""
    reports: dict[str, dict[tuple[str, str], Any]] = {}

    def check_role(role: str) -> dict[tuple[str, str], Any]:
        if role in reports:
            return reports[role]
        browser = get_browser()
        state = role_state(role)
        pending = [(lang, path) for lang in LANGS for path in PAGES_BY_ROLE[role]]
        running: list[tuple[tuple[str, str], Any, Any]] = []
        report: dict[tuple[str, str], Any] = {}
        while pending or running:
            while pending and len(running) < PARALLEL_TABS:
                key = pending.pop(0)
                context = browser.new_context(
                    base_url=portal.base_url, storage_state=state
                )
                context.set_default_timeout(60_000)
                page = context.new_page()
                try:
                    response = page.goto(lang_path(key[1], key[0]))
                    if response is None or response.status != 200:
                        status = response.status if response else "no response"
                        report[key] = f"{page.url} answered {status}"
                        context.close()
                        continue
                    start_axe(page)
                except Exception as exc:
                    report[key] = f"{lang_path(key[1], key[0])}: {exc}"
                    context.close()
                    continue
                running.append((key, context, page))
            if running:
                key, context, page = running.pop(0)
                try:
                    report[key] = axe_violations(page)
                except Exception as exc:
                    report[key] = f"{page.url}: axe failed: {exc}"
                finally:
                    context.close()
        reports[role] = report
        return report

    return check_role


@pytest.mark.parametrize(("role", "lang", "path"), page_cases())
def test_page_has_no_axe_violations(axe_report, role, lang, path):
    result = axe_report(role)[(lang, path)]
    assert not isinstance(result, str), result
    where = f"{lang_path(path, lang)} as {role}"
    assert not result, describe_violations(where, result)
