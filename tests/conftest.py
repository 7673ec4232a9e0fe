"""Shared fixtures, and the servers that marked tests need."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.ci import missing_tool
from tests.factories import EditorMembershipFactory, MunicipalityFactory, UserFactory

# A property either holds or not: how long an example takes on a loaded 2-core
# machine (a CI run beside the browser tests) must not fail it. The default
# 200 ms deadline and the too-slow health check did, now and then.
hypothesis_settings.register_profile(
    "portal", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("portal")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """`postgres` and `redis` tests skip without their server, and fail in CI.

    Checked before any fixture starts a worker or a private server, in one place,
    so no test can quietly skip itself on the real stack's absence.
    """
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        missing_tool(
            "needs PostgreSQL: set DATABASE_URL=postgres://… "
            f"(the tests run on {connection.vendor})"
        )
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        missing_tool("needs Redis: set REDIS_URL=redis://…")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in Dutch: a request to an /en/ page leaves English active
    in the thread, and a later test's reverse() then gave /en/ URLs."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Tests share one cache (Redis in CI); start each from an empty one."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def municipality(db):
    return MunicipalityFactory()


@pytest.fixture
def vdp_user(db):
    return UserFactory(username="vdp-test", groups=["vdp"])


@pytest.fixture
def king_user(db):
    return UserFactory(username="king-test", groups=["king_staff"], is_staff=True)


@pytest.fixture
def editor(db, municipality):
    """A municipal editor (CIO) assigned to `municipality`."""
    return EditorMembershipFactory(municipality=municipality).user


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Real hashing costs ~0.3 s per login; the tests check who may log in, not PBKDF2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def recomputes(monkeypatch):
    """The full recomputes requested (imports, mergers, deadline revisions)."""
    calls: list[None] = []
    monkeypatch.setattr(
        "scoring.tasks.enqueue_recompute_all", lambda: calls.append(None)
    )
    return calls
