"""Who may change a municipality's statuses, and who may read its notes.

Writes: `can_edit_municipality`. Reads of notes, evidence links and the history
(which names who changed what): `can_see_notes`. Views, tables and exports ask
these functions; templates only show what the view decided.

DESIGN §2: KING staff may edit any municipality; a municipal editor (CIO) only the
municipalities they are assigned to through an EditorMembership; nobody else may
write. Both the views (via `MunicipalityEditMixin`) and the service that saves statuses (`buildingblocks.services.save_statuses`) call
`can_edit_municipality`, so a forgotten check in a view cannot open a write path.

Anonymous users: a GET (or HEAD) of a write view redirects to the login page, so a
CIO following a link lands on the login form and comes back; any other method
(POST) gets 403, because redirecting a POST would drop the posted data and invite
a confusing replay after login.
"""

from __future__ import annotations

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from municipalities.models import Municipality
from municipalities.roles import User, is_editor, is_king_staff, is_vdp


def _assigned_ids(user: User) -> frozenset[int]:
    """Primary keys of the municipalities `user` is an editor of (cached per user)."""
    cached = getattr(user, "_nup_assigned_municipality_ids", None)
    if cached is None:
        cached = frozenset(
            user.editor_memberships.values_list("municipality_id", flat=True)
        )
        user._nup_assigned_municipality_ids = cached
    return cached


def can_edit_municipality(user: User, municipality: Municipality) -> bool:
    """True when `user` may change the adoption statuses of `municipality`.

    An editor needs both the `municipal_editor` role and a membership for this
    municipality: taking the role away revokes every membership at once. Merged
    (inactive) municipalities are closed to editors; KING staff may still correct them.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if is_king_staff(user):
        return True
    if not municipality.active or not is_editor(user):
        return False
    return municipality.pk in _assigned_ids(user)


def can_see_notes(user: User, municipality: Municipality | None = None) -> bool:
    """True when `user` may read notes, evidence and history (DESIGN §2).

    The VDP board and KING staff read them for every municipality; an editor
    (CIO) for the municipalities they are assigned to, also after a merger closed
    one; anyone else, logged in or not, sees the public levels only. Without a
    `municipality` the question is "of every municipality at once" (exports):
    VDP and KING staff only.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if is_vdp(user):
        return True
    if municipality is None or not is_editor(user):
        return False
    return municipality.pk in _assigned_ids(user)


def check_notes_access(request: HttpRequest, municipality: Municipality | None) -> None:
    """Raise PermissionDenied (403) unless the request's user may read these notes."""
    if not can_see_notes(request.user, municipality):
        raise PermissionDenied


def assigned_municipalities(user: User) -> QuerySet[Municipality]:
    """The municipalities `user` is assigned to as an editor (their "own" ones).

    This does not expand to every municipality for KING staff (who may edit all):
    it is what "my municipality" shows.
    """
    if not user.is_authenticated or not user.is_active:
        return Municipality.objects.none()
    return Municipality.objects.filter(editor_memberships__user=user, active=True)


def check_municipality_edit(request: HttpRequest, municipality: Municipality) -> None:
    """Raise PermissionDenied (403) unless the request's user may edit `municipality`."""
    if not can_edit_municipality(request.user, municipality):
        raise PermissionDenied


class MunicipalityEditMixin:
    """For class-based views of one municipality (`slug` in the URL) that write.

    Sets `self.municipality` before the handler runs. Anonymous GET/HEAD → login
    redirect; anonymous other methods and users without the right → 403.
    """

    municipality: Municipality

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated and request.method in ("GET", "HEAD"):
            return redirect_to_login(request.get_full_path())
        self.municipality = get_object_or_404(
            Municipality.objects.select_related("province"), slug=kwargs["slug"]
        )
        check_municipality_edit(request, self.municipality)
        return super().dispatch(request, *args, **kwargs)


class KingStaffRequiredMixin(AccessMixin):
    """For KING staff's pages (reports, the import): anonymous users go to the login
    page; logged-in users without the role get 403."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_king_staff(request.user):
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)
