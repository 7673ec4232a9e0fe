"""Who may do what with a municipality's statuses (DESIGN §2, §8), and login throttling.

The matrix: role (anonymous, logged in without a role, vdp, editor of A, editor of
B, KING staff) × action (view the editor, save, view the history, read the notes
on the scorecard, download the status export with every note) × municipality
(A, B), with the expected answer of every cell. Anonymous users are sent to the
login page when they GET a page, and refused (403) when they POST: a redirect
would drop what they posted. The export holds both municipalities' notes, so its
answer is the same for A and B.
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

import pytest

from buildingblocks.levels import Level
from buildingblocks.models import AdoptionStatus, StatusChange
from tests.buildingblocks.editing import change, form_data, make_blocks, prefix_of
from tests.factories import (
    AdoptionStatusFactory,
    EditorMembershipFactory,
    MunicipalityFactory,
    UserFactory,
)
from tests.test_exports import read_csv_bytes

ROLES = ("anonymous", "plain", "vdp", "editor_a", "editor_b", "king_staff")
ACTIONS = ("edit", "save", "history", "notes", "export")
OK, SAVED, LOGIN, FORBIDDEN = 200, 302, "login", 403
# The scorecard is public; what differs is whether the note and evidence are on it.
SHOWN, HIDDEN = "shown", "hidden"

# Expected answer per (role, action) on municipality A and on municipality B.
MATRIX = {
    ("anonymous", "edit"): (LOGIN, LOGIN),
    ("anonymous", "save"): (FORBIDDEN, FORBIDDEN),
    ("anonymous", "history"): (LOGIN, LOGIN),
    ("anonymous", "notes"): (HIDDEN, HIDDEN),
    ("anonymous", "export"): (LOGIN, LOGIN),
    ("plain", "edit"): (FORBIDDEN, FORBIDDEN),
    ("plain", "save"): (FORBIDDEN, FORBIDDEN),
    ("plain", "history"): (FORBIDDEN, FORBIDDEN),
    ("plain", "notes"): (HIDDEN, HIDDEN),
    ("plain", "export"): (FORBIDDEN, FORBIDDEN),
    ("vdp", "edit"): (FORBIDDEN, FORBIDDEN),
    ("vdp", "save"): (FORBIDDEN, FORBIDDEN),
    ("vdp", "history"): (OK, OK),
    ("vdp", "notes"): (SHOWN, SHOWN),
    ("vdp", "export"): (OK, OK),
    ("editor_a", "edit"): (OK, FORBIDDEN),
    ("editor_a", "save"): (SAVED, FORBIDDEN),
    ("editor_a", "history"): (OK, FORBIDDEN),
    ("editor_a", "notes"): (SHOWN, HIDDEN),
    ("editor_a", "export"): (FORBIDDEN, FORBIDDEN),
    ("editor_b", "edit"): (FORBIDDEN, OK),
    ("editor_b", "save"): (FORBIDDEN, SAVED),
    ("editor_b", "history"): (FORBIDDEN, OK),
    ("editor_b", "notes"): (HIDDEN, SHOWN),
    ("editor_b", "export"): (FORBIDDEN, FORBIDDEN),
    ("king_staff", "edit"): (OK, OK),
    ("king_staff", "save"): (SAVED, SAVED),
    ("king_staff", "history"): (OK, OK),
    ("king_staff", "notes"): (SHOWN, SHOWN),
    ("king_staff", "export"): (OK, OK),
}


def note_of(municipality) -> str:
    return f"Vertrouwelijke toelichting van {municipality.slug}"


def evidence_of(municipality) -> str:
    return f"https://intranet.example.nl/{municipality.slug}/bewijs.pdf"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Many users per test: a cheap hasher keeps the matrix fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db):
    """Two municipalities, a block with a status in each, and a user per role."""
    blocks = make_blocks()
    a = MunicipalityFactory(slug="gemeente-a")
    b = MunicipalityFactory(slug="gemeente-b")
    for municipality in (a, b):
        AdoptionStatusFactory(
            municipality=municipality,
            block=blocks["digid"],
            note=note_of(municipality),
            evidence_url=evidence_of(municipality),
        )
    users = {
        "anonymous": None,
        "plain": UserFactory(username="plain"),
        "vdp": UserFactory(username="vdp", groups=["vdp"]),
        "editor_a": EditorMembershipFactory(
            municipality=a,
            user=UserFactory(username="cio-a", groups=["municipal_editor"]),
        ).user,
        "editor_b": EditorMembershipFactory(
            municipality=b,
            user=UserFactory(username="cio-b", groups=["municipal_editor"]),
        ).user,
        "king_staff": UserFactory(username="king", groups=["king_staff"]),
    }
    return {"a": a, "b": b, "users": users, "blocks": blocks}


def _valid_post(municipality) -> dict[str, str]:
    """What the editor page of `municipality` posts after setting digid in use."""
    king = Client()
    king.force_login(UserFactory(username="form-reader", groups=["king_staff"]))
    data = form_data(king.get(reverse("buildingblocks:edit", args=[municipality.slug])))
    return change(data, "digid", level=Level.IN_USE)


URLS = {
    "edit": lambda m: reverse("buildingblocks:edit", args=[m.slug]),
    "save": lambda m: reverse("buildingblocks:edit", args=[m.slug]),
    "history": lambda m: reverse("buildingblocks:history", args=[m.slug]),
    "notes": lambda m: m.get_absolute_url(),
    "export": lambda m: reverse("buildingblocks:status-export"),
}


def _body(response) -> str:
    if response.streaming:
        return b"".join(
            p if isinstance(p, bytes) else p.encode()
            for p in response.streaming_content
        ).decode()
    return response.content.decode()


@pytest.mark.parametrize("target", ["a", "b"])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(client, world, role, action, target):
    municipality = world[target]
    expected = MATRIX[(role, action)][0 if target == "a" else 1]
    user = world["users"][role]
    url = URLS[action](municipality)
    data = _valid_post(municipality) if action == "save" else None
    if user is not None:
        client.force_login(user)

    response = client.post(url, data) if action == "save" else client.get(url)

    body = _body(response)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    elif expected in (SHOWN, HIDDEN):
        assert response.status_code == 200
        shown = expected == SHOWN
        assert (note_of(municipality) in body) is shown
        assert (evidence_of(municipality) in body) is shown
    else:
        assert response.status_code == expected
    if action == "export" and response.status_code == 200:
        header, *rows = read_csv_bytes(body.encode())
        notes = {dict(zip(header, row, strict=True))["note"] for row in rows}
        assert {note_of(world["a"]), note_of(world["b"])} <= notes
    else:
        # A page of one municipality never shows another's notes; a refusal none.
        other = world["b" if target == "a" else "a"]
        assert note_of(other) not in body
        if response.status_code != 200:
            assert note_of(municipality) not in body
    status = AdoptionStatus.objects.get(municipality=municipality, block__code="digid")
    if expected == SAVED:
        assert response["Location"] == url
        assert status.level == Level.IN_USE
        assert StatusChange.objects.filter(municipality=municipality).count() == 1
    else:
        assert (status.level, status.version) == (Level.NOT_STARTED, 1)
        assert not StatusChange.objects.exists()


def test_the_matrix_covers_every_cell():
    assert set(MATRIX) == {(role, action) for role in ROLES for action in ACTIONS}


def test_a_post_with_another_municipalitys_form_cannot_reach_it(client, world):
    """Editor of A posts B's page (its block codes and versions) to A's URL."""
    client.force_login(world["users"]["editor_a"])
    data = _valid_post(world["b"])
    data["municipality"] = str(world["b"].pk)

    response = client.post(reverse("buildingblocks:edit", args=["gemeente-a"]), data)

    # Same block codes, so it lands on A (the URL's municipality) — never on B.
    assert response.status_code == 302
    b_status = AdoptionStatus.objects.get(municipality=world["b"])
    assert (b_status.level, b_status.version) == (Level.NOT_STARTED, 1)
    assert not StatusChange.objects.filter(municipality=world["b"]).exists()


def test_a_tampered_block_code_is_refused_for_every_role_that_may_save(client, world):
    for role, target in (("editor_a", "a"), ("king_staff", "b")):
        client.force_login(world["users"][role])
        municipality = world[target]
        data = _valid_post(municipality)
        data[f"{prefix_of(data, 'brp')}-block"] = "retired"
        url = reverse("buildingblocks:edit", args=[municipality.slug])
        assert client.post(url, data).status_code == 400
    assert not StatusChange.objects.exists()
    assert set(AdoptionStatus.objects.values_list("level", flat=True)) == {
        Level.NOT_STARTED
    }


def test_an_unknown_municipality_is_404_for_editors_and_login_for_anonymous(
    client, world
):
    url = reverse("buildingblocks:edit", args=["nowhere"])
    assert client.get(url).status_code == 302
    client.force_login(world["users"]["editor_a"])
    assert client.get(url).status_code == 404


# --- login and throttling ---------------------------------------------------------

ADDRESS = {"REMOTE_ADDR": "192.0.2.10"}


def _login(client, username, password, **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, **extra
    )


def test_a_cio_logs_in_and_lands_on_my_municipality(client, world):
    response = _login(client, "cio-a", "demo", **ADDRESS)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-after-login")
    response = client.get(response["Location"])
    assert response["Location"] == reverse("buildingblocks:mine")
    assert client.get(reverse("buildingblocks:mine")).status_code == 200


def test_a_wrong_password_is_refused(client, world):
    response = _login(client, "cio-a", "wrong", **ADDRESS)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, world):
    for _attempt in range(4):
        assert _login(client, "cio-a", "wrong", **ADDRESS).status_code == 200
    # The fifth failure locks: its answer is already the lockout page.
    assert _login(client, "cio-a", "wrong", **ADDRESS).status_code == 429

    response = _login(client, "cio-a", "demo", **ADDRESS)

    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_user_name_and_address(client, world):
    for _attempt in range(5):
        _login(client, "cio-a", "wrong", **ADDRESS)
    # Another user from the same address, and the same user from elsewhere, may log in.
    assert _login(client, "cio-b", "demo", **ADDRESS).status_code == 302
    client.logout()
    assert (
        _login(client, "cio-a", "demo", REMOTE_ADDR="198.51.100.7").status_code == 302
    )


def test_four_failures_then_success_resets_the_count(client, world):
    for _attempt in range(4):
        _login(client, "cio-a", "wrong", **ADDRESS)
    assert _login(client, "cio-a", "demo", **ADDRESS).status_code == 302
    client.logout()
    for _attempt in range(4):
        _login(client, "cio-a", "wrong", **ADDRESS)
    assert _login(client, "cio-a", "demo", **ADDRESS).status_code == 302


def test_logout_is_a_post_and_ends_the_session(client, world):
    client.force_login(world["users"]["editor_a"])
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    edit = reverse("buildingblocks:edit", args=["gemeente-a"])
    assert client.get(edit).status_code == 302


# --- the admin --------------------------------------------------------------------
# Role × admin path: who reaches it, and that no one but a superuser raises
# privileges through it (issue 19; the details in tests/test_admin_privileges.py).

ADMIN_ROLES = ("anonymous", "vdp", "editor_a", "king_staff", "superuser")
ADMIN_LOGIN = "admin-login"
# Expected answer per role for: index, user list, promote a plain user to superuser,
# promote oneself, edit the king_staff group's permissions.
ADMIN_MATRIX = {
    "anonymous": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN),
    "vdp": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN),
    "editor_a": (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN),
    # Staff may edit a plain user, but the privilege fields are not theirs to set.
    "king_staff": (OK, OK, SAVED, FORBIDDEN, FORBIDDEN),
    "superuser": (OK, OK, SAVED, SAVED, SAVED),
}
ADMIN_PATHS = ("index", "users", "promote_other", "promote_self", "edit_group")


@pytest.fixture
def admin_world(world):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from buildingblocks.management.commands.seed_demo import (
        grant_king_staff_permissions,
    )

    king = world["users"]["king_staff"]
    king.is_staff = True
    king.save()
    grant_king_staff_permissions(Group.objects.get(name="king_staff"))
    world["users"]["superuser"] = get_user_model().objects.create_superuser(
        "root", "root@example.nl", "pw"
    )
    world["plain"] = UserFactory(username="plain")
    return world


def _user_post(user, **extra):
    return {
        "username": user.username,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "10:00:00",
        "is_superuser": "on",
        "is_staff": "on",
        **extra,
    }


@pytest.mark.parametrize("path", range(len(ADMIN_PATHS)), ids=ADMIN_PATHS)
@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_admin_authorization_matrix(client, admin_world, role, path):
    from django.contrib.auth.models import Group, Permission

    user = admin_world["users"][role]
    if user is not None:
        client.force_login(user)
    plain = admin_world["plain"]
    group = Group.objects.get(name="king_staff")
    name = ADMIN_PATHS[path]
    if name == "index":
        response = client.get(reverse("admin:index"))
    elif name == "users":
        response = client.get(reverse("admin:auth_user_changelist"))
    elif name == "promote_other":
        url = reverse("admin:auth_user_change", args=[plain.pk])
        response = client.post(url, _user_post(plain))
    elif name == "promote_self":
        target = user or plain
        url = reverse("admin:auth_user_change", args=[target.pk])
        response = client.post(url, _user_post(target))
    else:
        url = reverse("admin:auth_group_change", args=[group.pk])
        everything = list(Permission.objects.values_list("pk", flat=True))
        response = client.post(url, {"name": group.name, "permissions": everything})

    expected = ADMIN_MATRIX[role][path]
    if expected == ADMIN_LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    else:
        assert response.status_code == expected
    plain.refresh_from_db()
    assert plain.is_superuser == (role == "superuser" and name == "promote_other")
    if role != "superuser":
        from django.contrib.auth import get_user_model

        assert list(
            get_user_model()
            .objects.filter(is_superuser=True)
            .values_list("username", flat=True)
        ) == ["root"]
