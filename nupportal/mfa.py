"""Two-step verification (TOTP with recovery codes) with django-otp (issue 19, BIO/NCSC).

KING staff and superusers must use it when `NUP_MFA_REQUIRED` is on (the default in
production, where DJANGO_DEBUG is false): at their first login they set up an
authenticator app, and afterwards every login asks for a code before any page. Other
users may switch it on; once on, their logins ask for a code too.

Whether a session still owes its second step is decided once, at login, and kept
in the session, so ordinary pages pay no query for it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _

from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from municipalities.roles import is_king_staff

# The session owes this step: "verify" (enter a code) or "setup" (set up an app first).
PENDING_SESSION_KEY = "nup_mfa_pending"
VERIFY, SETUP = "verify", "setup"
RECOVERY_CODE_COUNT = 10
# Reachable while the second step is owed; the setup page only while setting up.
ALWAYS_REACHABLE = frozenset({"mfa-verify", "logout", "healthz"})


def mfa_required(user) -> bool:
    """Whether this account must use two-step verification."""
    return settings.NUP_MFA_REQUIRED and is_king_staff(user)


def pending_step(user) -> str | None:
    """The step a fresh login of `user` still owes, if any."""
    if user_has_device(user):
        return VERIFY
    if mfa_required(user):
        return SETUP
    return None


def _mark_pending(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    step = pending_step(user)
    if step is None:
        request.session.pop(PENDING_SESSION_KEY, None)
    else:
        request.session[PENDING_SESSION_KEY] = step


user_logged_in.connect(_mark_pending, dispatch_uid="mfa-pending")


class SecondFactorMiddleware:
    """Sends a session that owes its second step to it, from every page but a few.

    Must follow django_otp.middleware.OTPMiddleware (user.is_verified).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        step = request.session.get(PENDING_SESSION_KEY)
        if step is None or not request.user.is_authenticated:
            return None
        if request.user.is_verified():
            del request.session[PENDING_SESSION_KEY]
            return None
        name = request.resolver_match.url_name if request.resolver_match else None
        if name in ALWAYS_REACHABLE or (step == SETUP and name == "mfa-setup"):
            return None
        target = reverse("mfa-verify" if step == VERIFY else "mfa-setup")
        return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")


def safe_next(request: HttpRequest) -> str:
    """Where to go after the second step: `next` if it stays on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_(
            "The 6-digit code from your authenticator app, or one of your recovery "
            "codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}
        ),
    )

    def clean_token(self) -> str:
        return "".join(self.cleaned_data["token"].split())


def pending_totp_device(user) -> TOTPDevice:
    """The unconfirmed authenticator of a user setting one up, made on first call."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=str(_("Authenticator app")), confirmed=False
        )
    return device


def secret_for_display(device: TOTPDevice) -> str:
    """The key in base32, grouped by four, for typing into an authenticator app."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes by fresh ones; each works once."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": str(_("Recovery codes"))}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=code) for code in codes
    )
    return codes


def remove_devices(user) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
