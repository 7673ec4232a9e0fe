"""Browser tests: a live portal with the demo data, driven by Debian's Chromium.

One gunicorn server with a fresh database (SQLite file, or a throw-away PostgreSQL
database when DATABASE_URL points at PostgreSQL) serves the whole session; one
Chromium serves every test, each test in a new browser context. Without Chromium
the tests skip locally and fail in CI (CI=true): a missing browser must never
look like a green build.

Journeys change the shared server's data, so every test reads the state it needs
before acting instead of assuming the seeded one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.support import (
    ARTIFACTS,
    CHROMIUM,
    REPO,
    ROLE_USERS,
    HttpClient,
    lang_path,
    login,
)
from tests.celery_worker import stop_process
from tests.ci import missing_tool

BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 20_000


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """All browser tests on one xdist worker: they share one portal server and one
    Chromium, which cost a demo build and a browser start per worker."""
    for item in items:
        if BROWSER_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


# --------------------------------------------------------------------------------
# The portal server
# --------------------------------------------------------------------------------


@dataclass
class Portal:
    base_url: str
    log_path: Path
    media_root: Path

    def url(self, path: str, lang: str = "nl") -> str:
        return self.base_url + lang_path(path, lang)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _is_postgres(url: str) -> bool:
    return url.split("://", 1)[0] in ("postgres", "postgresql", "pgsql")


@contextlib.contextmanager
def _browser_database(tmp_dir: Path) -> Iterator[str]:
    """A DATABASE_URL for a database of its own, removed afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not _is_postgres(url):
        yield f"sqlite:///{tmp_dir / 'browser.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    name = f"{parts.path.lstrip('/')}_browser_{secrets.token_hex(4)}"[:63]
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


def _server_env(database_url: str, media_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        # Tasks run in-process in the server; the real worker is tested elsewhere.
        REDIS_URL="",
        CELERY_BROKER_URL="",
        DJANGO_DEBUG="true",  # whitenoise serves static files from the finders
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="nupportal.settings",
        NUP_REQUIRE_LOGIN="false",
        NUP_MEDIA_ROOT=str(media_root),
        PYTHONUNBUFFERED="1",
    )
    # The server must not be protected by secure cookies or redirected to https.
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_COOKIES"):
        env.pop(name, None)
    return env


def _wait_for_health(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    tail = log_path.read_text(errors="replace")[-4000:]
    raise RuntimeError(f"the portal did not come up at {url}; log tail:\n{tail}")


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A gunicorn server of the portal with the demo data (seed 42)."""
    tmp_dir = tmp_path_factory.mktemp("portal")
    media_root = tmp_dir / "media"
    media_root.mkdir()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "browser-server.log"
    with _browser_database(tmp_dir) as database_url, log_path.open("w") as log:
        env = _server_env(database_url, media_root)
        python = sys.executable
        for command in (
            ["migrate", "--no-input", "-v", "0"],
            ["load_reference_data"],
            ["seed_demo", "--seed", "42"],
            ["recompute_scores"],
            ["snapshot_scores", "--since", "2011-01"],
        ):
            log.write(f"$ manage.py {' '.join(command)}\n")
            log.flush()
            done = subprocess.run(
                [python, "manage.py", *command],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
            if done.returncode != 0:
                log.flush()
                tail = log_path.read_text(errors="replace")[-4000:]
                pytest.fail(
                    f"manage.py {command[0]} failed ({done.returncode}):\n{tail}",
                    pytrace=False,
                )
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        log.write(f"$ gunicorn on {base_url}\n")
        log.flush()
        process = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "nupportal.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "120",
                "--access-logfile",
                "-",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_health(base_url, process, log_path)
            yield Portal(base_url=base_url, log_path=log_path, media_root=media_root)
        finally:
            stop_process(process)


# --------------------------------------------------------------------------------
# Plain HTTP (no browser): raw HTML for the Nu Html Checker
# --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def http_client(portal: Portal) -> Callable[[str], HttpClient]:
    """http_client(role) → a client logged in as that role's demo user (or anonymous)."""
    clients: dict[str, HttpClient] = {}

    def get(role: str) -> HttpClient:
        if role not in clients:
            client = HttpClient(portal.base_url)
            if role != "anonymous":
                client.login(ROLE_USERS[role])
            clients[role] = client
        return clients[role]

    return get


# --------------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------------


class _BrowserHolder:
    """One Chromium per session, started on first use.

    Playwright's sync API leaves an asyncio loop marked as running in the main
    thread while it lives, and Django then refuses ORM calls ("async context") in
    the tests that follow this folder. So the browser is stopped as soon as the
    last browser test is done (see pytest_runtest_teardown below), not at session end.
    """

    playwright: Any = None
    browser: Any = None

    @staticmethod
    def check_binary() -> None:
        if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
            missing_tool(
                f"Chromium not found at {CHROMIUM}: apt-get install chromium "
                "(or point NUP_CHROMIUM at a Chromium binary)"
            )

    @classmethod
    def get(cls) -> Any:
        if cls.browser is None:
            cls.check_binary()
            try:
                from playwright.sync_api import sync_playwright
            except ImportError:
                missing_tool("Playwright is not installed: pip install -e '.[dev]'")
            cls.playwright = sync_playwright().start()
            try:
                cls.browser = cls.playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
            except Exception as exc:
                cls.stop()
                missing_tool(f"Chromium at {CHROMIUM} did not start: {exc}")
        return cls.browser

    @classmethod
    def stop(cls) -> None:
        if cls.browser is not None:
            with contextlib.suppress(Exception):
                cls.browser.close()
        if cls.playwright is not None:
            with contextlib.suppress(Exception):
                cls.playwright.stop()
        cls.browser = None
        cls.playwright = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    yield  # the test's own contexts are closed first
    if nextitem is None or BROWSER_DIR not in Path(nextitem.path).parents:
        _BrowserHolder.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _BrowserHolder.stop()


@pytest.fixture(scope="session")
def get_browser() -> Callable[[], Any]:
    """get_browser() → the session's Chromium (started on first call).

    Looks for the binary first, so a machine without it skips (or, in CI, fails)
    before the portal server is built.
    """
    _BrowserHolder.check_binary()
    return _BrowserHolder.get


@pytest.fixture
def browser(get_browser: Callable[[], Any], portal: Portal) -> Any:
    return get_browser()


@pytest.fixture
def new_context(browser: Any, portal: Portal) -> Iterator[Callable[..., Any]]:
    """new_context(**options) → a fresh browser context; all closed after the test."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("base_url", portal.base_url)
        options.setdefault("viewport", {"width": 1280, "height": 900})
        options.setdefault("accept_downloads", True)
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


@pytest.fixture
def context(new_context: Callable[..., Any]) -> Any:
    return new_context()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture(scope="session")
def role_state(get_browser: Callable[[], Any], portal: Portal) -> Callable[[str], Any]:
    """role_state(role) → a logged-in storage state, made once per role and session.

    For read-only checks only: a journey that logs out would end this session for
    every context that shares it, so journeys log in themselves.
    """

    states: dict[str, Any] = {}

    def get(role: str) -> Any:
        if role == "anonymous":
            return None
        if role not in states:
            context = get_browser().new_context(base_url=portal.base_url)
            try:
                page = context.new_page()
                login(page, ROLE_USERS[role])
                states[role] = context.storage_state()
            finally:
                context.close()
        return states[role]

    return get
