"""Helpers shared by the browser tests: paths, log-in, screenshots, tool look-ups."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("NUP_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("NUP_ARTIFACTS") or REPO / "ci-artifacts")
SCREENSHOTS = ARTIFACTS / "screenshots"
LANGS = ("nl", "en")
DEMO_PASSWORD = "demo"
# How long a test waits for work the portal's Celery worker does after a request
# (a report, the recompute after a save or an import). The worker runs beside the
# server, as in `make demo`, so a request returns at once and the result shows up
# later; a progress-report PDF took ~50 s on a loaded 2-core machine (issue #15).
# Generous, because it bounds a wait for a visible result, never a click.
WORKER_TIMEOUT_MS = 120_000
# The demo users of seed_demo, one per role the pages are checked for.
ROLE_USERS = {
    "vdp": "vdp",
    "cio": "cio-haarlemmermeer",
    "king": "king",
}
VNU_JAR = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def lang_path(path: str, lang: str) -> str:
    """Dutch lives at /…, English at /en/… (prefix_default_language=False)."""
    if lang == "nl":
        return path
    return f"/{lang}{path}"


def goto(page: Any, path: str, lang: str = "nl", *, expect_status: int | None = 200):
    """Open `path` in `lang`; checks the final status unless expect_status is None."""
    response = page.goto(lang_path(path, lang))
    if expect_status is not None:
        assert response is not None, f"no response for {path}"
        assert response.status == expect_status, (
            f"{lang_path(path, lang)} answered {response.status}, "
            f"expected {expect_status}"
        )
    return response


def login(
    page: Any, username: str, password: str = DEMO_PASSWORD, lang: str = "nl"
) -> None:
    """Log in through the login form and wait for the page it leads to."""
    goto(page, "/accounts/login/", lang)
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/accounts/login/" not in page.url, f"login as {username} failed"


def screenshot(page: Any, journey: str, lang: str, step: str) -> Path:
    """Save a full-page screenshot as <journey>-<lang>-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{journey}-{lang}-{step}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def java_and_vnu() -> tuple[str, Path] | None:
    """The java binary and vnu.jar, or None when either is missing."""
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        return None
    return java, VNU_JAR


class HttpClient:
    """A cookie-keeping HTTP client that logs in through the real login form.

    Used where the raw HTML matters (the Nu Html Checker): no browser needed.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def get(self, path: str) -> tuple[int, str, str]:
        """Return (status, final URL, body)."""
        try:
            with self.opener.open(self.base_url + path, timeout=60) as response:
                body = response.read().decode("utf-8")
                return response.status, response.geturl(), body
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read().decode("utf-8", "replace")

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        status, _, body = self.get("/accounts/login/")
        assert status == 200, f"login page answered {status}"
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert match, "the login form has no CSRF token"
        data = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": match.group(1),
                "username": username,
                "password": password,
                "next": "",
            }
        ).encode()
        request = urllib.request.Request(
            self.base_url + "/accounts/login/",
            data=data,
            headers={"Referer": self.base_url + "/accounts/login/"},
        )
        with self.opener.open(request, timeout=60) as response:
            assert "/accounts/login/" not in response.geturl(), (
                f"login as {username} failed"
            )


# The pages of DESIGN §5 and the roles that see each one. Logged-in users are
# redirected away from the login page, so only the anonymous visitor checks it.
SCORECARD = "/gemeenten/haarlemmermeer/"
EDITOR = "/gemeenten/haarlemmermeer/bewerken/"
HISTORY = "/gemeenten/haarlemmermeer/geschiedenis/"
WHATIF = "/gemeenten/haarlemmermeer/wat-als/"
REMINDERS = "/rapportages/herinneringen/"
REMINDER_PREVIEW = "/rapportages/herinneringen/haarlemmermeer/"
PUBLIC_PAGES = (
    "/",
    "/gemeenten/",
    SCORECARD,
    # The what-if with a result: the form, the result and its explanation.
    f"{WHATIF}?digid=in_use&bag=not_applicable",
    "/bouwstenen/",
    "/bouwstenen/digid/",
    "/resultaatafspraken/",
    "/resultaatafspraken/4/",
    # A deadline still ahead in the demo (1 January 2027): the burn-up's
    # forecast and the "will miss the deadline" column.
    "/resultaatafspraken/18/",
    "/matrix/",
    "/provincies/",
    "/provincies/noord-holland/",
    "/methode/",
    "/open-data/",
)
# A former municipality (split over four) and a successor: the merger parts of a
# scorecard, checked once (the page is the same for every role).
MERGER_PAGES = ("/gemeenten/haaren/", "/gemeenten/krimpenerwaard/")
# Wide tables with the column chooser open (a ?kolommen= choice opens it) and a
# matrix filtered by category and by a block's level; the same for every role.
COLUMN_PAGES = (
    "/gemeenten/?kolommen=name,cbs_code,population,adoption_score",
    "/matrix/?kolommen=score,digid,bag&category=basisregistratie",
    "/matrix/?block=digid&level=in_use&province=noord-holland",
)
# The dashboard on a past date (issue 16): a month end from the snapshots, a
# mid-month day replayed from the history, the compare-with states, a filtered
# list and a refused date. Checked
# once (the pages are the same for every role).
TIME_TRAVEL_PAGES = (
    "/?peildatum=2014-12-31&vergelijk=2012-12-31",
    "/?peildatum=2099-01-01",
    "/gemeenten/?peildatum=2013-06-15&province=gelderland&sort=-adoption_score",
    f"{SCORECARD}?peildatum=2014-12-31&vergelijk=2012-12-31",
    "/bouwstenen/digid/?peildatum=2013-06-15",
    "/resultaatafspraken/4/?peildatum=2014-12-31",
    "/matrix/?peildatum=2014-12-31&sort=-score",
)
PAGES_BY_ROLE: dict[str, tuple[str, ...]] = {
    "anonymous": (
        *PUBLIC_PAGES,
        *MERGER_PAGES,
        *COLUMN_PAGES,
        *TIME_TRAVEL_PAGES,
        "/accounts/login/",
        "/accounts/wachtwoord-vergeten/",
    ),
    "vdp": (*PUBLIC_PAGES, HISTORY, "/mijn-gemeente/"),
    "cio": (
        *PUBLIC_PAGES,
        EDITOR,
        HISTORY,
        "/mijn-gemeente/",
        "/accounts/wachtwoord-wijzigen/",
    ),
    "king": (
        *PUBLIC_PAGES,
        EDITOR,
        HISTORY,
        "/mijn-gemeente/",
        "/rapportages/",
        REMINDERS,
        REMINDER_PREVIEW,
        "/import/",
        # The history with its chooser open and the source column shown.
        f"{HISTORY}?kolommen=changed_at,block,level,source",
    ),
}


def page_cases() -> list[Any]:
    """(role, lang, path) for every page every role sees, as pytest params."""
    return [
        pytest.param(role, lang, path, id=f"{role}-{lang}-{path.strip('/') or 'home'}")
        for role, paths in PAGES_BY_ROLE.items()
        for lang in LANGS
        for path in paths
    ]


# --------------------------------------------------------------------------------
# The status editor: read the blocks, plan changes that always change something
# --------------------------------------------------------------------------------

FUTURE_DATE = "2031-06-01"  # a planned date well after any run of these tests


@dataclass(frozen=True)
class EditorBlock:
    """One building block as the editor shows it."""

    code: str
    name: str
    level: str
    planned: str
    achieved: str
    level_id: str
    planned_id: str
    achieved_id: str


@dataclass(frozen=True)
class BlockChange:
    block: EditorBlock
    level: str
    planned: str | None = None  # None: leave the field as it is
    achieved: str | None = None


_READ_EDITOR = """() => [...document.querySelectorAll(
        'form.status-editor fieldset.status-block')].map(f => {
    const field = (name) => f.querySelector(
        `[id^="id_form-"][id$="-${name}"]:not([type=hidden])`);
    const level = field('level'), planned = field('planned_date'),
          achieved = field('achieved_date');
    return {
        code: f.id.replace(/^block-/, ''),
        name: f.querySelector('legend').textContent.trim(),
        level: level.value, planned: planned.value, achieved: achieved.value,
        level_id: level.id, planned_id: planned.id, achieved_id: achieved.id,
    };
})"""


def read_editor(page: Any) -> list[EditorBlock]:
    """The blocks of the editor page that is open, in page order."""
    blocks = [EditorBlock(**row) for row in page.evaluate(_READ_EDITOR)]
    assert blocks, f"{page.url} shows no building blocks to edit"
    return blocks


def plan_score_changes(
    blocks: list[EditorBlock], count: int = 3
) -> tuple[str, list[BlockChange]]:
    """`count` changes that all move the adoption score the same way.

    Raises blocks that are started but not in use to "in use" when there are
    enough of them (no dates to touch), else takes blocks in use back to
    "implementing" (a planned date is then required and the achieved date must
    go). Returns ("up" | "down", changes in page order).
    """
    raisable = [
        b for b in blocks if b.level in ("not_started", "preparing", "implementing")
    ]
    if len(raisable) >= count:
        return "up", [BlockChange(b, "in_use") for b in raisable[:count]]
    in_use = [b for b in blocks if b.level == "in_use"]
    assert len(in_use) >= count, "not enough blocks to change in one direction"
    return "down", [
        BlockChange(b, "implementing", planned=b.planned or FUTURE_DATE, achieved="")
        for b in in_use[:count]
    ]


def apply_change(page: Any, change: BlockChange) -> None:
    """Fill one block's fields with the mouse-and-keyboard shortcuts of Playwright."""
    page.select_option(f"#{change.block.level_id}", change.level)
    if change.planned is not None:
        page.fill(f"#{change.block.planned_id}", change.planned)
    if change.achieved is not None:
        page.fill(f"#{change.block.achieved_id}", change.achieved)


def parse_score(text: str) -> float:
    """'96,3' (Dutch) or '96.3' (English) → 96.3."""
    cleaned = text.strip().replace("\u00a0", "").replace(",", ".")
    match = re.search(r"-?\d+(?:\.\d+)?", cleaned)
    assert match, f"no score in {text!r}"
    return float(match.group(0))


def read_mine_score(page: Any) -> float:
    """The adoption score on /mijn-gemeente/ (the page must be open)."""
    return parse_score(
        page.locator(".key-figure--main .key-figure__value").inner_text()
    )


def wait_for_mine_score(page: Any, before: float, direction: str) -> float:
    """The score on /mijn-gemeente/ (open) once the worker's recompute moved it.

    The save returns before its recompute has run, so the page is reloaded until
    the score went `direction` ("up" or "down") from `before`.
    """
    deadline = time.monotonic() + WORKER_TIMEOUT_MS / 1000
    while True:
        score = read_mine_score(page)
        if score > before if direction == "up" else score < before:
            return score
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the score stayed at {score} (was {before}, expected {direction}) "
                f"for {WORKER_TIMEOUT_MS // 1000} s after the save"
            )
        page.wait_for_timeout(500)
        page.reload()
