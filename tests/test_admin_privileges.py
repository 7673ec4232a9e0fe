"""KING staff manage accounts in the admin but cannot raise anyone's privileges (issue 19),
and every admin action is in the structured audit log."""

from __future__ import annotations

import json
import logging

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

import pytest

from buildingblocks.management.commands.seed_demo import grant_king_staff_permissions
from municipalities.roles import KING_STAFF, ensure_groups
from nupportal.admin_site import AuditedAdmin
from tests.factories import BuildingBlockFactory, UserFactory

User = get_user_model()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def groups(db):
    ensure_groups()
    groups = {group.name: group for group in Group.objects.all()}
    grant_king_staff_permissions(groups[KING_STAFF])
    return groups


@pytest.fixture
def king(groups):
    user = UserFactory(username="king", is_staff=True)
    user.groups.add(groups[KING_STAFF])
    return user


@pytest.fixture
def king_client(client, king):
    client.force_login(king)
    return client


def _change_data(user, **overrides):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "10:00:00",
        "initial-date_joined_0": "2024-01-01",
        "initial-date_joined_1": "10:00:00",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_staff_adding_a_user_cannot_make_a_superuser(king_client, groups):
    response = king_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "nieuw",
            "password1": "Lang-en-sterk-42",
            "password2": "Lang-en-sterk-42",
            "usable_password": "true",
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [groups[KING_STAFF].pk],
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="nieuw")
    assert not created.is_superuser
    assert not created.is_staff
    assert not created.groups.exists()


def test_staff_changing_a_user_cannot_grant_privileges(king_client, groups):
    cio = UserFactory(username="cio")
    permission = Permission.objects.get(codename="change_group")
    response = king_client.post(
        reverse("admin:auth_user_change", args=[cio.pk]),
        _change_data(
            cio,
            first_name="Nieuwe naam",
            is_superuser="on",
            is_staff="on",
            user_permissions=[permission.pk],
        ),
    )
    assert response.status_code == 302
    cio.refresh_from_db()
    assert cio.first_name == "Nieuwe naam"  # the rest of the form still saves
    assert not cio.is_superuser and not cio.is_staff
    assert not cio.user_permissions.exists()

    refused = king_client.post(
        reverse("admin:auth_user_change", args=[cio.pk]),
        _change_data(cio, groups=[groups[KING_STAFF].pk]),
    )
    assert refused.status_code == 200
    assert "groups" in refused.context["adminform"].form.errors
    assert not cio.groups.filter(name=KING_STAFF).exists()


def test_staff_may_put_a_user_in_an_ordinary_group(king_client, groups):
    cio = UserFactory(username="cio")
    king_client.post(
        reverse("admin:auth_user_change", args=[cio.pk]),
        _change_data(cio, groups=[groups["municipal_editor"].pk]),
    )
    assert list(cio.groups.values_list("name", flat=True)) == ["municipal_editor"]


@pytest.mark.parametrize("target", ["self", "superuser", "other_staff"])
def test_staff_cannot_change_or_delete_privileged_accounts(
    king_client, king, groups, target
):
    account = {
        "self": lambda: king,
        "superuser": lambda: User.objects.create_superuser("root", "r@x.nl", "pw"),
        "other_staff": lambda: UserFactory(username="staff2", is_staff=True),
    }[target]()
    change = reverse("admin:auth_user_change", args=[account.pk])
    response = king_client.post(change, _change_data(account, is_superuser="on"))
    assert response.status_code == 403
    password = reverse("admin:auth_user_password_change", args=[account.pk])
    taken_over = {"password1": "Overgenomen-42", "password2": "Overgenomen-42"}
    assert king_client.post(password, taken_over).status_code == 403
    delete = reverse("admin:auth_user_delete", args=[account.pk])
    assert king_client.post(delete, {"post": "yes"}).status_code == 403
    account.refresh_from_db()
    assert not account.check_password("Overgenomen-42")
    assert account.is_superuser == (target == "superuser")


def test_staff_cannot_bulk_delete_a_superuser(king_client):
    root = User.objects.create_superuser("root", "r@x.nl", "pw")
    plain = UserFactory(username="plain")
    response = king_client.post(
        reverse("admin:auth_user_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [root.pk, plain.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 403
    assert User.objects.filter(pk__in=[root.pk, plain.pk]).count() == 2


def test_staff_cannot_edit_a_groups_permissions(king_client, groups):
    group = groups[KING_STAFF]
    before = set(group.permissions.values_list("pk", flat=True))
    everything = list(Permission.objects.values_list("pk", flat=True))
    change = reverse("admin:auth_group_change", args=[group.pk])
    response = king_client.post(change, {"name": group.name, "permissions": everything})
    assert response.status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before
    assert king_client.get(change).status_code == 200  # reading is allowed
    add = reverse("admin:auth_group_add")
    assert king_client.post(add, {"name": "macht"}).status_code == 403


def test_a_superuser_may_grant_privileges(client, groups):
    client.force_login(User.objects.create_superuser("root", "r@x.nl", "pw"))
    cio = UserFactory(username="cio")
    client.post(
        reverse("admin:auth_user_change", args=[cio.pk]),
        _change_data(cio, is_staff="on", groups=[groups[KING_STAFF].pk]),
    )
    cio.refresh_from_db()
    assert cio.is_staff
    assert cio.groups.filter(name=KING_STAFF).exists()


# --- audit of admin actions -----------------------------------------------------------


def _records(caplog, event):
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "nupportal.audit"
        and f'"event": "{event}"' in record.getMessage()
    ]


def test_every_admin_is_audited():
    assert all(
        isinstance(model_admin, AuditedAdmin)
        for model_admin in admin.site._registry.values()
    )  # noqa: SLF001


def test_an_admin_change_is_logged_with_who_which_row_and_old_to_new(
    king_client, caplog
):
    caplog.set_level(logging.INFO, logger="nupportal.audit")
    cio = UserFactory(username="cio", first_name="Oud")
    king_client.post(
        reverse("admin:auth_user_change", args=[cio.pk]),
        _change_data(cio, first_name="Nieuw", password="sha1$fake"),
    )
    [record] = _records(caplog, "admin_change")
    assert record["user"] == "king"
    assert record["model"] == "auth.user"
    assert record["object"] == str(cio.pk)
    assert record["changes"] == {"first_name": ["Oud", "Nieuw"]}
    assert "password" not in json.dumps(record)


def test_admin_additions_and_deletions_are_logged(caplog, client, db):
    caplog.set_level(logging.INFO, logger="nupportal.audit")
    client.force_login(User.objects.create_superuser("root", "r@x.nl", "pw"))
    block = BuildingBlockFactory(code="digid")
    client.post(
        reverse("admin:buildingblocks_buildingblock_delete", args=[block.pk]),
        {"post": "yes"},
    )
    [deleted] = _records(caplog, "admin_delete")
    assert deleted["model"] == "buildingblocks.buildingblock"
    assert deleted["object"] == str(block.pk)
    assert deleted["user"] == "root"
    client.post(reverse("admin:auth_group_add"), {"name": "nieuwe groep"})
    [added] = _records(caplog, "admin_add")
    assert added["model"] == "auth.group"
    assert added["object_repr"] == "nieuwe groep"
