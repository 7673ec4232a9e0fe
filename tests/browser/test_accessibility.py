"""axe-core on every page of DESIGN §5, in Dutch and English, for each role.

WCAG 2.0/2.1 level A and AA rules, none disabled. A failure lists every violation
with its rule id, impact, the elements (CSS selectors) and axe's help text, so the
owner of the page can fix it without rerunning anything.

axe's colour-contrast rule takes seconds on the big pages (map, matrix), so audits
run a few at a time in separate tabs, whose renderers work in parallel: each test
starts the audits of the next pages it is about to be asked for and then waits
for its own. Every test so carries about its own page's cost (no test carries a
whole batch), and a test run alone (-k) audits only its page and the next two.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest

from tests.browser.support import lang_path, page_cases

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


Key = tuple[str, str, str]  # role, lang, path


class AxePipeline:
    """Audits in up to PARALLEL_TABS tabs, started ahead of the tests that read them."""

    def __init__(self, browser: Any, base_url: str, role_state: Callable) -> None:
        self.browser = browser
        self.base_url = base_url
        self.role_state = role_state
        self.running: dict[Key, tuple[Any, Any]] = {}
        self.done: dict[Key, Any] = {}

    def result(self, key: Key, upcoming: list[Key]) -> Any:
        """The violations of `key` (or an error text); starts audits of `upcoming`."""
        if key not in self.done and key not in self.running:
            self._start(key)
        for ahead in upcoming:
            if len(self.running) >= PARALLEL_TABS:
                break
            if ahead not in self.done and ahead not in self.running:
                self._start(ahead)
        if key in self.running:
            self._finish(key)
        return self.done.pop(key)

    def close(self) -> None:
        for context, _page in self.running.values():
            with contextlib.suppress(Exception):
                context.close()
        self.running.clear()

    def _start(self, key: Key) -> None:
        role, lang, path = key
        context = self.browser.new_context(
            base_url=self.base_url, storage_state=self.role_state(role)
        )
        context.set_default_timeout(60_000)
        page = context.new_page()
        try:
            response = page.goto(lang_path(path, lang))
            if response is None or response.status != 200:
                status = response.status if response else "no response"
                self.done[key] = f"{page.url} answered {status}"
                context.close()
                return
            start_axe(page)
        except Exception as exc:
            self.done[key] = f"{lang_path(path, lang)}: {exc}"
            context.close()
            return
        self.running[key] = (context, page)

    def _finish(self, key: Key) -> None:
        context, page = self.running.pop(key)
        try:
            self.done[key] = axe_violations(page)
        except Exception as exc:
            self.done[key] = f"{page.url}: axe failed: {exc}"
        finally:
            context.close()


@pytest.fixture(scope="session")
def axe_pipeline(
    get_browser: Callable[[], Any], portal, role_state
) -> Iterator[AxePipeline]:
    pipeline = AxePipeline(get_browser(), portal.base_url, role_state)
    yield pipeline
    pipeline.close()


def _upcoming(request: pytest.FixtureRequest) -> list[Key]:
    """The pages of the axe tests this session runs after the current one."""
    items = request.session.items
    index = items.index(request.node)
    return [
        (
            item.callspec.params["role"],
            item.callspec.params["lang"],
            item.callspec.params["path"],
        )
        for item in items[index + 1 : index + 1 + PARALLEL_TABS]
        if getattr(item, "originalname", None) == request.node.originalname
    ]


@pytest.mark.parametrize(("role", "lang", "path"), page_cases())
def test_page_has_no_axe_violations(axe_pipeline, request, role, lang, path):
    result = axe_pipeline.result((role, lang, path), _upcoming(request))
    assert not isinstance(result, str), result
    where = f"{lang_path(path, lang)} as {role}"
    assert not result, describe_violations(where, result)
