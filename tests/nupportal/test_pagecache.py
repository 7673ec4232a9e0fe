"""The overview's fast path (nupportal.pagecache): a cached anonymous overview is
replayed before the middleware stack runs, with the same body and headers the full
stack gave, and only to requests whose answer cannot depend on who asks."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus
from nupportal import pagecache
from scoring.compute import recompute_all
from tests.factories import UserFactory
from tests.scoring.dashboard_world import build_dashboard

pytestmark = pytest.mark.django_db

# Headers every full-stack page carries; the replay must carry the same values.
SECURITY_HEADERS = (
    "Content-Type",
    "Content-Language",
    "Vary",
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "ETag",
    "Last-Modified",
)


@pytest.fixture
def world():
    return build_dashboard(6)


@pytest.fixture
def replays(monkeypatch):
    """Counts the responses answered by the fast path."""
    calls = []
    real = pagecache.replay

    def spy(request, entry):
        calls.append(request.path)
        return real(request, entry)

    monkeypatch.setattr(pagecache, "replay", spy)
    return calls


def get_counting(client, path, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **extra)
    return response, len(queries.captured_queries)


def test_middleware_sits_right_after_whitenoise():
    middleware = django_settings.MIDDLEWARE
    position = middleware.index("nupportal.pagecache.OverviewPageCacheMiddleware")
    assert middleware[position - 1] == "whitenoise.middleware.WhiteNoiseMiddleware"


@pytest.mark.parametrize("path", ["/", "/en/"])
def test_second_anonymous_request_is_replayed_byte_for_byte(
    client, world, replays, path
):
    first = client.get(path)
    assert first.status_code == 200
    assert replays == []
    second, queries = get_counting(client, path)
    assert replays == [path]
    assert queries == 0  # the data version comes from the cache
    assert second.status_code == 200
    assert second.content == first.content
    for header in SECURITY_HEADERS:
        assert second[header] == first[header], header
    assert dict(second.items()) == dict(first.items())
    assert "nonce-" not in second["Content-Security-Policy"]


def test_english_and_dutch_are_cached_apart(client, world, replays):
    dutch, english = client.get("/"), client.get("/en/")
    dutch_again, english_again = client.get("/"), client.get("/en/")
    assert replays == ["/", "/en/"]
    assert dutch_again.content == dutch.content
    assert english_again.content == english.content
    assert dutch.content != english.content
    assert dutch_again["Content-Language"] == "nl"
    assert english_again["Content-Language"] == "en"
    assert dutch_again["ETag"] != english_again["ETag"]


def test_accept_language_does_not_change_the_unprefixed_page(client, world, replays):
    """`/` is Dutch whatever the browser prefers (prefix_default_language=False):
    the full stack and the replay give the same page for an English browser."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    full = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert full.status_code == 200
    assert full["Content-Language"] == "nl"
    replayed = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert replays == ["/"]
    assert replayed.content == full.content
    assert dict(replayed.items()) == dict(full.items())


def test_if_none_match_gets_a_304_from_the_fast_path(client, world, replays):
    first = client.get("/")
    response, queries = get_counting(client, "/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 304
    assert replays == ["/"]
    assert queries == 0
    assert response.content == b""
    assert response["ETag"] == first["ETag"]
    assert response["Last-Modified"] == first["Last-Modified"]
    assert response["Vary"] == first["Vary"]
    assert response["Content-Security-Policy"] == first["Content-Security-Policy"]
    # A stale validator gets the full page.
    other = client.get("/", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200
    assert other.content == first.content


def test_the_full_stacks_304_carries_the_validators_too(client, world, replays):
    # A query string keeps the request off the fast path; the view still caches.
    etag = client.get("/?from=test")["ETag"]
    response = client.get("/?from=test", HTTP_IF_NONE_MATCH=etag)
    assert replays == []
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert response["Last-Modified"]


def test_head_is_replayed_with_the_get_headers(client, world, replays):
    head = client.head("/")  # stores the page (Django renders the body for HEAD)
    assert head.status_code == 200
    head_again = client.head("/")
    get = client.get("/")
    assert replays == ["/", "/"]
    assert head_again.content == b""
    assert get.content.count(b"<h1") == 1
    assert int(get["Content-Length"]) == len(get.content)
    assert dict(head_again.items()) == dict(get.items())


def test_logged_in_users_never_get_the_cached_page(client, world, replays):
    client.get("/")
    client.force_login(UserFactory(username="someone"))
    response = client.get("/")
    assert replays == []
    assert response.status_code == 200
    assert not response.has_header("ETag")
    assert b"someone" in response.content


@pytest.mark.parametrize(
    "cookie",
    [django_settings.SESSION_COOKIE_NAME, "messages"],
    ids=["session", "messages"],
)
def test_a_session_or_messages_cookie_skips_the_fast_path(
    client, world, replays, cookie
):
    client.get("/")
    client.cookies[cookie] = "anything"
    response = client.get("/")
    assert response.status_code == 200
    assert replays == []


def test_require_login_is_never_bypassed(client, world, replays, settings):
    client.get("/")
    settings.NUP_REQUIRE_LOGIN = True
    response = client.get("/")
    assert replays == []
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_query_string_takes_the_full_stack(client, world, replays):
    client.get("/?x=1")
    client.get("/?x=1")
    assert replays == []


def test_a_disallowed_host_is_refused_as_before(client, world, replays):
    client.get("/")
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert replays == []


def test_a_status_change_and_recompute_give_a_new_page(client, world, replays):
    recompute_all()
    before = client.get("/")
    assert client.get("/").content == before.content
    assert replays == ["/"]
    AdoptionStatus.objects.exclude(level=Level.IN_USE).update(level=Level.IN_USE)
    recompute_all()
    after = client.get("/")
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert after.content != before.content
    assert replays == ["/"]  # the new version was rendered, not replayed
    assert client.get("/").content == after.content
    assert replays == ["/", "/"]


def test_clearing_the_cache_reaches_the_process_memo(client, world, replays):
    from django.core.cache import cache

    client.get("/")
    cache.clear()
    client.get("/")
    assert replays == []


def test_responses_that_used_a_csp_nonce_are_not_stored(rf, world):
    request = rf.get("/")
    request._csp_nonce = "abc"
    request.user = UserFactory.build()
    from django.http import HttpResponse

    response = HttpResponse("x")
    response["ETag"] = '"e"'
    assert not pagecache._storable(request, response)
    del request._csp_nonce
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert pagecache._storable(request, response)
    response.set_cookie("csrftoken", "t")
    assert not pagecache._storable(request, response)
