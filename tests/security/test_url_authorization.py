"""Every URL of the project, checked against who may read it and who may write (DESIGN §2, §8).

The test walks the URL resolver (including the i18n patterns and the admin), so
a new view appears here automatically. It must then be put in ACCESS (who may
use it) and, when its route has parameters, in SAMPLES (which object to put in
the URL) — otherwise the test fails and says what to add. Each view is then
requested by every role with GET, POST, PUT and DELETE, and:

- a role without the right is refused (anonymous: redirect to the login page or
  403; logged in: 403; a view without that method: 405) and nothing in the
  database changes — the POST bodies are valid, so a missing check would show;
- a role with the right gets the page (or its write succeeds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, ImportBatch, StatusChange
from reports.models import Report
from tests.buildingblocks.editing import change, form_data
from tests.security.conftest import ROLES, Portal, fingerprint

# --- the table ------------------------------------------------------------------

PUBLIC_READ = "public-read"  # anyone may GET; no view accepts a write
AUTH = "authentication"  # the login and logout forms themselves
LOGIN_READ = "login-read"  # any logged-in user may GET; no writes
# Notes, evidence and history: VDP and KING staff; of one municipality (a route
# with a slug, sampled with A) also A's editors. No writes.
NOTES_READ = "notes-read"
EDITOR_WRITE = "editor-write"  # editors of this municipality and KING staff write
STAFF_ONLY = "staff-only"  # KING staff only, for reading and writing
ADMIN = "admin"  # the Django admin as a whole: is_staff only
STATIC_REDIRECT = "static-redirect"  # anyone: a permanent redirect to a static file
DEBUG_ONLY = "debug-only"  # development helpers, only routed when DEBUG is on

ACCESS: dict[str, str] = {
    "healthz": PUBLIC_READ,
    "favicon.ico": STATIC_REDIRECT,
    "scoring:overview": PUBLIC_READ,
    "scoring:method": PUBLIC_READ,
    "municipalities:list": PUBLIC_READ,
    "municipalities:detail": PUBLIC_READ,
    "municipalities:whatif": PUBLIC_READ,  # a GET form: it saves nothing
    "municipalities:matrix": PUBLIC_READ,
    "municipalities:provinces": PUBLIC_READ,
    "municipalities:province": PUBLIC_READ,
    "buildingblocks:list": PUBLIC_READ,
    "buildingblocks:detail": PUBLIC_READ,
    "agreements:list": PUBLIC_READ,
    "agreements:detail": PUBLIC_READ,
    "open-data": PUBLIC_READ,
    "api:municipality-list": PUBLIC_READ,
    "api:municipality-detail": PUBLIC_READ,
    "api:block-list": PUBLIC_READ,
    "api:block-detail": PUBLIC_READ,
    "api:agreement-list": PUBLIC_READ,
    "api:agreement-detail": PUBLIC_READ,
    "api:figures": PUBLIC_READ,
    "api:trends": PUBLIC_READ,
    "api:openapi": PUBLIC_READ,
    "api:docs": PUBLIC_READ,
    "login": AUTH,
    "logout": AUTH,
    "password_change": AUTH,
    "password_change_done": AUTH,
    "password_reset": AUTH,
    "password_reset_done": AUTH,
    "password_reset_confirm": AUTH,
    "password_reset_complete": AUTH,
    "mfa-verify": AUTH,
    "mfa-setup": AUTH,
    "portal-after-login": LOGIN_READ,
    "buildingblocks:mine": LOGIN_READ,
    "buildingblocks:history": NOTES_READ,
    "buildingblocks:status-export": NOTES_READ,
    "buildingblocks:edit": EDITOR_WRITE,
    "reports:scorecard": EDITOR_WRITE,
    "reports:list": STAFF_ONLY,
    "reports:detail": STAFF_ONLY,  # a scorecard also for its editors: see below
    "reports:status": STAFF_ONLY,
    "reports:download": STAFF_ONLY,
    "reports:delete": STAFF_ONLY,
    "reports:retry": STAFF_ONLY,  # like the detail page: a scorecard also for its editors
    "reports:reminders": STAFF_ONLY,
    "reports:reminder-preview": STAFF_ONLY,
    "buildingblocks:import": STAFF_ONLY,
    "buildingblocks:import-template": STAFF_ONLY,
    "buildingblocks:import-preview": STAFF_ONLY,
    "buildingblocks:import-apply": STAFF_ONLY,
    "admin:*": ADMIN,
    # The development media server (nupportal/urls.py, DEBUG only).
    "media/<path:path>": DEBUG_ONLY,
}

# Which object goes into the URL of a route with parameters, by URL name.
SAMPLES: dict[str, Callable[[Portal], dict[str, Any]]] = {
    "municipalities:detail": lambda p: {"slug": p.a.slug},
    "municipalities:whatif": lambda p: {"slug": p.a.slug},
    "municipalities:province": lambda p: {"slug": p.a.province.slug},
    "buildingblocks:detail": lambda p: {"code": "digid"},
    "buildingblocks:edit": lambda p: {"slug": p.a.slug},
    "buildingblocks:history": lambda p: {"slug": p.a.slug},
    "agreements:detail": lambda p: {"number": p.agreement.number},
    "api:municipality-detail": lambda p: {"cbsCode": p.a.cbs_code},
    "api:block-detail": lambda p: {"code": "digid"},
    "api:agreement-detail": lambda p: {"number": p.agreement.number},
    "reports:detail": lambda p: {"pk": p.report.pk},
    "reports:status": lambda p: {"pk": p.report.pk},
    "reports:download": lambda p: {"pk": p.report.pk},
    "reports:delete": lambda p: {"pk": p.report.pk},
    "reports:retry": lambda p: {"pk": p.report.pk},
    "reports:scorecard": lambda p: {"slug": p.a.slug},
    "reports:reminder-preview": lambda p: {"slug": p.a.slug},
    "buildingblocks:import-preview": lambda p: {"pk": p.batch.pk},
    "buildingblocks:import-apply": lambda p: {"pk": p.batch.pk},
    "media/<path:path>": lambda p: {"path": p.report.file.name},
    # A link that was never sent: the page must explain, and change nothing.
    "password_reset_confirm": lambda p: {"uidb64": "MQ", "token": "not-a-token"},
}

# Admin routes are filled generically: every admin parameter by its name.
ADMIN_SAMPLES = {
    "object_id": lambda p: str(p.a.pk),
    "id": lambda p: str(p.users["plain"].pk),
    "app_label": lambda p: "municipalities",
    "content_type_id": lambda p: _municipality_content_type(),
    "url": lambda p: "missing",
    "pk": lambda p: "1",  # admin:municipalities_merger_apply (refused before lookup)
}


def rev(name: str, **kwargs) -> str:
    """reverse() in Dutch: a previous /en/ request leaves English active."""
    with translation.override("nl"):
        return reverse(name, kwargs=kwargs or None)


def _municipality_content_type() -> int:
    from django.contrib.contenttypes.models import ContentType

    from municipalities.models import Municipality

    return ContentType.objects.get_for_model(Municipality).pk


# --- walking the resolver -------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL name ("app:name"), "admin:*", or the route of an unnamed one
    name: str | None  # the name to reverse (namespaced), None when unnamed
    route: str  # the pattern as text, for messages
    params: tuple[str, ...]  # the route's parameter names


def _params(pattern) -> tuple[str, ...]:
    regex = pattern.pattern.regex
    return tuple(regex.groupindex)


def walk(patterns=None, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    """Every URL pattern of the project, with its namespaced name."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or ""
            ns = ":".join(part for part in (namespace, inner) if part)
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = (
                f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            )
            params = _params(entry)
            is_admin = namespace.split(":")[0] == "admin"
            key = "admin:*" if is_admin else name or route
            yield Route(key, name, route, params)


ROUTES = list(walk())
KEYS = sorted({route.key for route in ROUTES if route.key != "admin:*"})


def test_every_url_is_in_the_access_table():
    missing = sorted({route.key for route in ROUTES} - ACCESS.keys())
    assert not missing, (
        f"URLs without an entry in ACCESS of {__file__}: {missing}. Add each with "
        "who may use it (PUBLIC_READ, LOGIN_READ, EDITOR_WRITE, STAFF_ONLY, ...), and "
        "make sure the view enforces that."
    )
    debug_only = {key for key, kind in ACCESS.items() if kind == DEBUG_ONLY}
    stale = sorted(ACCESS.keys() - {route.key for route in ROUTES} - debug_only)
    assert not stale, f"ACCESS names URLs that no longer exist: {stale}"


def test_every_route_with_parameters_has_a_sample():
    missing = [
        f"{route.key} ({route.route})"
        for route in ROUTES
        if route.params and route.key != "admin:*" and route.key not in SAMPLES
    ]
    assert not missing, (
        f"Add a sample to SAMPLES in {__file__} for: {missing} "
        "(a function of the portal fixture giving the URL's keyword arguments)."
    )
    admin_params = {p for r in ROUTES if r.key == "admin:*" for p in r.params}
    assert admin_params <= ADMIN_SAMPLES.keys(), (
        f"Admin routes with parameters that ADMIN_SAMPLES cannot fill: "
        f"{sorted(admin_params - ADMIN_SAMPLES.keys())}"
    )


def url_of(route: Route, portal: Portal, language: str = "nl") -> str:
    if route.key == "admin:*":
        kwargs = {name: ADMIN_SAMPLES[name](portal) for name in route.params}
    elif route.params:
        if route.key not in SAMPLES:
            pytest.fail(f"No sample for {route.key}: add one to SAMPLES in {__file__}.")
        kwargs = SAMPLES[route.key](portal)
    else:
        kwargs = {}
    if route.name is None:
        # Unnamed (the DEBUG media server): fill the converters by hand.
        path = route.route
        for name, value in kwargs.items():
            path = path.replace(f"<path:{name}>", str(value))
        return "/" + path
    with translation.override(language):
        try:
            return reverse(route.name, kwargs=kwargs)
        except NoReverseMatch as error:
            pytest.fail(f"Cannot build a URL for {route.key} from its sample: {error}")


def routes_for(key: str) -> list[Route]:
    return [route for route in ROUTES if route.key == key]


# --- what a write would send ------------------------------------------------------


def _import_file() -> SimpleUploadedFile:
    body = (
        "cbs_code,building_block,level,planned_date,achieved_date,note,evidence_url\r\n"
        "GM0901,digid,in_use,,2014-01-01,,\r\n"
    )
    return SimpleUploadedFile("statuses.csv", body.encode(), content_type="text/csv")


def valid_post(key: str, portal: Portal) -> dict[str, Any]:
    """A body that would change data if the view let the request through."""
    if key == "buildingblocks:edit":
        data = form_data(portal.client("king").get(url_of(routes_for(key)[0], portal)))
        return change(data, "digid", level=Level.IN_USE)
    if key == "reports:list":
        return {"kind": Report.Kind.FULL_CSV}
    if key == "buildingblocks:import":
        return {"file": _import_file()}
    return {}


def _is_login_redirect(response, login_url: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        login_url + "?"
    )


def _login_url(language: str = "nl") -> str:
    with translation.override(language):
        return reverse("login")


def _send(client: Client, method: str, url: str, data: dict[str, Any]):
    if method == "post":
        return client.post(url, data)
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url)


# --- the checks per kind ----------------------------------------------------------


def _assert_refused(response, role: str, where: str, *, login: str) -> None:
    code = response.status_code
    assert code < 200 or code >= 300, f"{where}: {role} got {code}"
    if role == "anonymous":
        assert code in (403, 405) or _is_login_redirect(response, login), (
            f"{where}: anonymous got {code}"
        )
    else:
        assert code in (403, 405), f"{where}: {role} got {code}"


def _check_writes_refused(
    portal: Portal, key: str, roles, *, methods=("post", "put", "delete")
) -> None:
    """Every write by these roles is refused and changes nothing."""
    before = fingerprint()
    for route in routes_for(key):
        for language in ("nl", "en"):
            url = url_of(route, portal, language)
            for role in roles:
                client = portal.client(role)
                for method in methods:
                    data = valid_post(key, portal) if method == "post" else {}
                    response = _send(client, method, url, data)
                    where = f"{method.upper()} {url}"
                    _assert_refused(response, role, where, login=_login_url(language))
                    if method == "post" and role != "anonymous":
                        assert response.status_code in (403, 405), where
                    assert fingerprint() == before, f"{where} by {role} changed data"


@pytest.mark.parametrize("key", KEYS)
def test_access(portal, key):
    kind = ACCESS.get(key)
    if kind is None:
        pytest.fail(f"{key} is not in ACCESS of {__file__}: add it.")
    route = routes_for(key)[0]
    url = url_of(route, portal)
    others = [role for role in ROLES if role != "king"]

    if kind == PUBLIC_READ:
        for role in ROLES:
            response = portal.client(role).get(url)
            assert response.status_code == 200, f"GET {url} by {role}"
        _check_writes_refused(portal, key, ROLES)

    elif kind == STATIC_REDIRECT:
        for role in ROLES:
            response = portal.client(role).get(url)
            assert response.status_code == 301, f"GET {url} by {role}"
            assert response["Location"].startswith(settings.STATIC_URL)
        _check_writes_refused(portal, key, ROLES)

    elif kind == LOGIN_READ:
        response = portal.client("anonymous").get(url)
        assert _is_login_redirect(response, _login_url()), f"GET {url} anonymous"
        for role in ROLES[1:]:
            response = portal.client(role).get(url)
            assert response.status_code in (200, 302), f"GET {url} by {role}"
            if response.status_code == 302:
                assert not _is_login_redirect(response, _login_url())
        _check_writes_refused(portal, key, ROLES)

    elif kind == NOTES_READ:
        readers = {"vdp", "king"} | ({"editor_a"} if "slug" in route.params else set())
        response = portal.client("anonymous").get(url)
        assert _is_login_redirect(response, _login_url()), f"GET {url} anonymous"
        for role in ROLES[1:]:
            response = portal.client(role).get(url)
            expected = 200 if role in readers else 403
            assert response.status_code == expected, f"GET {url} by {role}"
        _check_writes_refused(portal, key, ROLES)

    elif kind == EDITOR_WRITE:
        _check_writes_refused(portal, key, ["anonymous", "plain", "vdp", "editor_b"])
        for role in ("plain", "vdp", "editor_b"):
            response = portal.client(role).get(url)
            assert response.status_code in (403, 405), f"GET {url} by {role}"
        for role in ("editor_a", "king"):
            _check_editor_write_succeeds(portal, key, role)

    elif kind == STAFF_ONLY:
        for role in others:
            response = portal.client(role).get(url)
            if role == "anonymous":
                assert response.status_code == 405 or _is_login_redirect(
                    response, _login_url()
                ), f"GET {url} anonymous: {response.status_code}"
            else:
                assert response.status_code in (403, 405), f"GET {url} by {role}"
        _check_writes_refused(portal, key, others)
        response = portal.client("king").get(url)
        assert response.status_code in (200, 405), f"GET {url} by KING staff"

    elif kind == AUTH:
        _check_authentication_views(portal, key, url)

    elif kind == DEBUG_ONLY:
        _check_debug_only(portal, key, url)

    else:  # pragma: no cover - a kind without checks is a mistake in this file
        pytest.fail(f"No checks for access kind {kind!r}")


def _check_editor_write_succeeds(portal: Portal, key: str, role: str) -> None:
    url = url_of(routes_for(key)[0], portal)
    client = portal.client(role)
    if key == "buildingblocks:edit":
        assert client.get(url).status_code == 200
        # Each role sets another level, so each save really changes something.
        level, planned = {
            "editor_a": (Level.IN_USE, ""),
            "king": (Level.IMPLEMENTING, "2031-01-01"),
        }[role]
        data = form_data(client.get(url))
        change(data, "digid", level=level, planned_date=planned)
        before = StatusChange.objects.count()
        response = client.post(url, data)
        assert response.status_code == 302, f"POST {url} by {role}"
        status = AdoptionStatus.objects.get(municipality=portal.a, block__code="digid")
        assert status.level == level
        assert StatusChange.objects.count() == before + 1
    elif key == "reports:scorecard":
        before = Report.objects.count()
        response = client.post(url)
        assert response.status_code == 302, f"POST {url} by {role}"
        assert Report.objects.count() == before + 1
    else:  # pragma: no cover
        pytest.fail(f"No success check for {key}")


def _check_authentication_views(portal: Portal, key: str, url: str) -> None:
    client = portal.client("anonymous")
    if key in ("mfa-setup", "mfa-verify"):
        # Two-step verification belongs to a logged-in account (tests/nupportal/test_mfa.py).
        assert _is_login_redirect(client.get(url), _login_url())
        assert _is_login_redirect(client.post(url, {"token": "123456"}), _login_url())
        response = portal.client("plain").get(url)
        assert response.status_code == (200 if key == "mfa-setup" else 302)
    elif key == "login":
        assert client.get(url).status_code == 200
        response = client.post(url, {"username": "cio-a", "password": "wrong"})
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    elif key in ("password_change", "password_change_done"):
        # One's own password only: anonymous users log in first; nothing else to pass.
        assert _is_login_redirect(client.get(url), _login_url())
        before = fingerprint()
        response = client.post(url, {"new_password1": "x", "new_password2": "x"})
        assert response.status_code in (403, 405) or _is_login_redirect(
            response, _login_url()
        )
        assert fingerprint() == before
        for role in ROLES[1:]:
            assert portal.client(role).get(url).status_code == 200, (url, role)
    elif key.startswith("password_reset"):
        # Open to anyone (a forgotten password); a bogus link changes nothing.
        before = fingerprint()
        for role in ROLES:
            assert portal.client(role).get(url).status_code == 200, (url, role)
        if key == "password_reset_confirm":
            response = client.post(url, {"new_password1": "x", "new_password2": "x"})
            assert response.status_code == 200
        assert fingerprint() == before
    else:  # logout: a POST only; GET must not log out (no CSRF-less logout)
        client = portal.client("editor_a")
        assert client.get(url).status_code == 405
        assert "_auth_user_id" in client.session
        assert client.post(url).status_code == 302
        assert "_auth_user_id" not in client.session


def _check_debug_only(portal: Portal, key: str, url: str) -> None:
    """The development media server must not outlive DEBUG.

    It serves MEDIA_ROOT without any permission check, which would bypass the
    report download's check: it must never be routed in production.
    """
    from django.conf import settings

    if not settings.DEBUG:
        # pytest-django runs with DEBUG off, but the URLconf was imported with
        # the environment's DEBUG; document that the route follows the setting.
        import inspect

        from nupportal import urls

        assert "if settings.DEBUG:" in inspect.getsource(urls)


# --- the admin, as a whole ----------------------------------------------------------

# The login page is open; logout sends non-staff to the index (then to the login).
ADMIN_OPEN = {"admin:login", "admin:logout"}


def test_the_admin_refuses_everyone_but_staff(portal):
    admin_routes = routes_for("admin:*")
    assert admin_routes, "the admin is not routed"
    admin_login = rev("admin:login")
    before = fingerprint()
    # Not staff, whatever the role: anonymous, no role, and a CIO (the admin
    # checks is_staff, so vdp is the same case as "plain").
    clients = {role: portal.client(role) for role in ("anonymous", "plain", "editor_a")}
    for route in admin_routes:
        if route.name in ADMIN_OPEN:
            continue
        url = url_of(route, portal)
        for role, client in clients.items():
            for method in ("get", "post"):
                response = _send(client, method, url, {})
                assert response.status_code == 302, f"{method} {url} by {role}"
                assert response["Location"].startswith(admin_login + "?"), (
                    f"{method} {url} by {role} → {response['Location']}"
                )
    assert fingerprint() == before, "a refused admin request changed data"
    king = portal.client("king")
    assert king.get(rev("admin:index")).status_code == 200


# --- object-level rules that the table cannot express --------------------------------


def test_a_scorecard_report_is_for_its_municipalitys_editors_only(portal):
    for view in ("reports:detail", "reports:status"):
        url = rev(view, pk=portal.scorecard.pk)
        assert portal.client("editor_a").get(url).status_code == 200
        assert portal.client("king").get(url).status_code == 200
        for role in ("editor_b", "vdp", "plain"):
            assert portal.client(role).get(url).status_code == 403, (view, role)
        anonymous = portal.client("anonymous").get(url)
        assert _is_login_redirect(anonymous, _login_url())
    # Editors may not delete even their own scorecard.
    delete = rev("reports:delete", pk=portal.scorecard.pk)
    assert portal.client("editor_a").post(delete).status_code == 403
    assert Report.objects.filter(pk=portal.scorecard.pk).exists()


def test_an_editor_cannot_request_another_municipalitys_scorecard(portal):
    url = rev("reports:scorecard", slug=portal.b.slug)
    before = Report.objects.count()
    assert portal.client("editor_a").post(url).status_code == 403
    assert Report.objects.count() == before


def test_an_import_is_applied_by_staff_only_and_once(portal):
    url = rev("buildingblocks:import-apply", pk=portal.batch.pk)
    king = portal.client("king")
    # Applied from the dry run the user saw (its status versions go along).
    seen = king.get(portal.batch.get_absolute_url()).context["seen_versions"]
    assert king.post(url, {"seen_versions": seen}).status_code == 302
    portal.batch.refresh_from_db()
    assert portal.batch.applied_at is not None
    status = AdoptionStatus.objects.get(municipality=portal.a, block__code="digid")
    assert status.level == Level.IN_USE
    assert portal.client("king").post(url).status_code == 302
    assert StatusChange.objects.filter(batch_id=portal.batch.batch_id).count() == 1
    assert ImportBatch.objects.count() == 1


def test_with_require_login_every_page_but_login_and_health_needs_a_login(
    portal, settings
):
    settings.NUP_REQUIRE_LOGIN = True
    open_keys = {
        "login",
        "healthz",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
    }
    client = portal.client("anonymous")
    for key in KEYS:
        if key in open_keys or ACCESS.get(key) == DEBUG_ONLY:
            continue
        for language in ("nl", "en"):
            url = url_of(routes_for(key)[0], portal, language)
            response = client.get(url)
            if key.startswith("api:"):
                # An API client is told 401 (problem+json), not sent to a form.
                assert response.status_code == 401, f"GET {url}"
                continue
            assert _is_login_redirect(response, _login_url(language)) or (
                response.status_code == 302
                and response["Location"].startswith(_login_url() + "?")
            ), f"GET {url}: {response.status_code}"
    assert client.get(rev("healthz")).status_code in (200, 503)
    assert client.get(_login_url("en")).status_code == 200
    for key in sorted(open_keys - {"login", "healthz"}):
        for language in ("nl", "en"):
            url = url_of(routes_for(key)[0], portal, language)
            assert client.get(url).status_code == 200, url
