"""Shared fixtures."""

from __future__ import annotations

from django.core.cache import cache

import pytest

from tests.factories import EditorMembershipFactory, MunicipalityFactory, UserFactory


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
