"""Every page's HTML, as the server sends it, passes the Nu Html Checker.

The pages are fetched once per role and language (anonymous and logged in) and
validated in one batch, so the JVM starts once. The checker is vnu-jar from the
npm registry (package.json); without npm or Java these tests skip locally and
fail in CI.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.browser.support import (
    LANGS,
    PAGES_BY_ROLE,
    java_and_vnu,
    lang_path,
    page_cases,
)
from tests.ci import missing_tool

pytestmark = pytest.mark.browser


def _file_name(role: str, lang: str, path: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
    return f"{role}--{lang}--{slug}.html"


def checker() -> tuple[str, Path]:
    """java and vnu.jar; skips locally (fails in CI) when either is missing."""
    tools = java_and_vnu()
    if tools is None:
        missing_tool(
            "the Nu Html Checker needs Java and node_modules/vnu-jar: "
            "apt-get install default-jre-headless npm, then npm install "
            "(make test does this when npm is present)"
        )
    return tools


def validate_files(files: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """Run the Nu Html Checker on `files`; return its error messages per file name."""
    java, jar = checker()
    done = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # vnu writes its JSON report to stderr and exits 1 when it found errors.
    try:
        messages = json.loads(done.stderr or done.stdout)["messages"]
    except (ValueError, KeyError) as exc:
        raise AssertionError(
            f"the Nu Html Checker gave no JSON report (exit {done.returncode}): "
            f"{done.stderr[-2000:]} {done.stdout[-2000:]}"
        ) from exc
    by_file: dict[str, list[dict[str, Any]]] = {path.name: [] for path in files}
    for message in messages:
        name = Path(unquote(urlsplit(message.get("url", "")).path)).name
        if name not in by_file:  # e.g. a "non-document-error" of the checker itself
            raise AssertionError(f"the Nu Html Checker could not check: {message}")
        by_file[name].append(message)
    return by_file


@pytest.fixture(scope="session")
def html_report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str, str], Any]:
    """{(role, lang, path): list of checker errors, or an error text}, made once."""
    checker()  # look for the tools before the portal is built for nothing
    http_client: Callable[[str], Any] = request.getfixturevalue("http_client")
    folder = tmp_path_factory.mktemp("html")
    cases = [
        (role, lang, path)
        for role, paths in PAGES_BY_ROLE.items()
        for lang in LANGS
        for path in paths
    ]
    for role in PAGES_BY_ROLE:
        http_client(role)  # log in before the threads share the clients

    def fetch(case: tuple[str, str, str]) -> tuple[tuple[str, str, str], Any]:
        role, lang, path = case
        status, final_url, body = http_client(role).get(lang_path(path, lang))
        if status != 200:
            return case, f"{lang_path(path, lang)} as {role} answered {status}"
        # Some pages are audited with a query string (the what-if); the path counts.
        if urlsplit(final_url).path != urlsplit(lang_path(path, lang)).path:
            return case, f"{lang_path(path, lang)} as {role} redirected to {final_url}"
        target = folder / _file_name(*case)
        target.write_text(body, encoding="utf-8")
        return case, target

    with ThreadPoolExecutor(max_workers=4) as pool:
        fetched = dict(pool.map(fetch, cases))
    files = [value for value in fetched.values() if isinstance(value, Path)]
    by_file = validate_files(files) if files else {}
    return {
        case: by_file.get(value.name, []) if isinstance(value, Path) else value
        for case, value in fetched.items()
    }


def describe_errors(where: str, errors: list[dict[str, Any]]) -> str:
    lines = [f"{where}: {len(errors)} HTML error(s)"]
    for error in errors[:30]:
        extract = (error.get("extract") or "").replace("\n", " ")
        lines.append(
            f"- line {error.get('lastLine', '?')}: {error.get('message')}  {extract!r}"
        )
    if len(errors) > 30:
        lines.append(f"… and {len(errors) - 30} more")
    return "\n".join(lines)


@pytest.mark.parametrize(("role", "lang", "path"), page_cases())
def test_page_is_valid_html(html_report, role, lang, path):
    result = html_report[(role, lang, path)]
    assert not isinstance(result, str), result
    assert not result, describe_errors(f"{lang_path(path, lang)} as {role}", result)


def test_checker_reports_errors_in_broken_html(tmp_path):
    """The checker is really wired up: a broken page does not pass."""
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!DOCTYPE html><html lang=en><head><title>x</title></head>"
        "<body><p><div></p></span></body></html>",
        encoding="utf-8",
    )
    fine = tmp_path / "fine.html"
    fine.write_text(
        "<!DOCTYPE html><html lang=en><head><title>x</title></head>"
        "<body><p>fine</p></body></html>",
        encoding="utf-8",
    )
    report = validate_files([broken, fine])
    assert report["broken.html"], "vnu found no error in broken HTML"
    assert report["fine.html"] == []
