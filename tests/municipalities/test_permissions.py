"""municipalities.permissions: who may edit which municipality."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.views import View

import pytest

from municipalities.permissions import (
    MunicipalityEditMixin,
    assigned_municipalities,
    can_edit_municipality,
    can_see_notes,
)
from tests.factories import EditorMembershipFactory, MunicipalityFactory, UserFactory


@pytest.fixture
def other(db):
    return MunicipalityFactory()


def test_an_editor_may_edit_only_assigned_municipalities(editor, municipality, other):
    assert can_edit_municipality(editor, municipality)
    assert not can_edit_municipality(editor, other)


def test_an_editor_with_several_memberships_may_edit_each(editor, municipality, other):
    EditorMembershipFactory(user=editor, municipality=other)
    assert can_edit_municipality(editor, other)
    assert set(assigned_municipalities(editor)) == {municipality, other}


def test_king_staff_may_edit_every_municipality(king_user, municipality, other):
    assert can_edit_municipality(king_user, municipality)
    assert can_edit_municipality(king_user, other)
    # ... but has no municipality of their own.
    assert list(assigned_municipalities(king_user)) == []


def test_a_superuser_counts_as_king_staff(db, municipality):
    admin = UserFactory(is_superuser=True, is_staff=True)
    assert can_edit_municipality(admin, municipality)


@pytest.mark.parametrize("role", [None, "vdp"])
def test_other_roles_may_edit_nothing(db, municipality, role):
    user = UserFactory(groups=[role] if role else [])
    assert not can_edit_municipality(user, municipality)


def test_anonymous_may_edit_nothing(municipality):
    anonymous = AnonymousUser()
    assert not can_edit_municipality(anonymous, municipality)
    assert not assigned_municipalities(anonymous).exists()


def test_a_membership_without_the_editor_role_gives_no_right(db, municipality):
    """Taking the role away revokes every membership at once."""
    user = EditorMembershipFactory(
        municipality=municipality, user=UserFactory(groups=[])
    ).user
    assert not can_edit_municipality(user, municipality)


def test_an_inactive_user_may_edit_nothing(editor, municipality):
    editor.is_active = False
    assert not can_edit_municipality(editor, municipality)


def test_a_merged_municipality_is_closed_to_its_editors_but_not_to_king(
    editor, king_user, municipality
):
    municipality.active = False
    municipality.save()
    assert not can_edit_municipality(editor, municipality)
    assert can_edit_municipality(king_user, municipality)


def test_the_membership_lookup_is_cached_per_user(
    editor, municipality, other, django_assert_num_queries
):
    can_edit_municipality(editor, municipality)
    with django_assert_num_queries(0):
        can_edit_municipality(editor, municipality)
        can_edit_municipality(editor, other)


class _EditView(MunicipalityEditMixin, View):
    def get(self, request, *args, **kwargs):
        return HttpResponse(self.municipality.slug)

    post = get


def _call(user, municipality, method="get"):
    request = getattr(RequestFactory(), method)(f"/gemeenten/{municipality.slug}/x/")
    request.user = user
    return _EditView.as_view()(request, slug=municipality.slug)


def test_the_mixin_passes_the_municipality_to_an_allowed_user(editor, municipality):
    assert _call(editor, municipality).content.decode() == municipality.slug


def test_the_mixin_refuses_others_with_403(editor, other, vdp_user, municipality):
    with pytest.raises(PermissionDenied):
        _call(editor, other)
    with pytest.raises(PermissionDenied):
        _call(vdp_user, municipality, "post")


def test_the_mixin_sends_anonymous_get_to_login_and_refuses_post(municipality):
    response = _call(AnonymousUser(), municipality)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    with pytest.raises(PermissionDenied):
        _call(AnonymousUser(), municipality, "post")


# --- who may read notes, evidence and history (issue 22) ------------------------------


def test_vdp_and_king_staff_read_every_municipalitys_notes_and_exports(
    vdp_user, king_user, municipality, other
):
    for user in (vdp_user, king_user):
        assert can_see_notes(user, municipality)
        assert can_see_notes(user, other)
        assert can_see_notes(user)  # every municipality at once: the exports


def test_an_editor_reads_the_notes_of_assigned_municipalities_only(
    editor, municipality, other
):
    assert can_see_notes(editor, municipality)
    assert not can_see_notes(editor, other)
    assert not can_see_notes(editor)  # no export of every municipality's notes


def test_an_editor_still_reads_the_notes_of_a_merged_municipality(editor, municipality):
    municipality.active = False
    municipality.save()
    assert can_see_notes(editor, municipality)
    assert not can_edit_municipality(editor, municipality)


@pytest.mark.parametrize("groups", [[], ["municipal_editor"]])
def test_users_without_a_reading_role_see_no_notes(db, municipality, groups):
    user = UserFactory(groups=groups)
    assert not can_see_notes(user, municipality)
    assert not can_see_notes(user)
    assert not can_see_notes(AnonymousUser(), municipality)


def test_an_inactive_vdp_member_sees_no_notes(vdp_user, municipality):
    vdp_user.is_active = False
    assert not can_see_notes(vdp_user, municipality)
