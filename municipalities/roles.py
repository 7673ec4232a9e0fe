"""The portal's roles (DESIGN §2) as Django groups, and plain predicates over a user."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Group

VDP = "vdp"
MUNICIPAL_EDITOR = "municipal_editor"
KING_STAFF = "king_staff"
ROLES = (VDP, MUNICIPAL_EDITOR, KING_STAFF)

User = AbstractBaseUser | AnonymousUser


def ensure_groups() -> None:
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def _group_names(user: User) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    # Cached on the user object: templates ask several times per page.
    cached = getattr(user, "_nup_group_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._nup_group_names = cached
    return cached


def is_king_staff(user: User) -> bool:
    return user.is_authenticated and (
        user.is_superuser or KING_STAFF in _group_names(user)
    )


def is_vdp(user: User) -> bool:
    return VDP in _group_names(user) or is_king_staff(user)


def is_editor(user: User) -> bool:
    return MUNICIPAL_EDITOR in _group_names(user)
