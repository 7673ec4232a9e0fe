"""The pages of two-step verification: the login's second step and the setup page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

import django_otp
import segno
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice

from nupportal.audit import audit
from nupportal.mfa import (
    TokenForm,
    mfa_required,
    new_recovery_codes,
    pending_totp_device,
    remove_devices,
    safe_next,
    secret_for_display,
)

# The page title (registration/account_page.html) of the login step and the setup.
TWO_STEP_TITLE = gettext_lazy("Two-step verification")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of a login: a code from the app or a recovery code."""
    if request.user.is_verified() or not user_has_device(request.user):
        return redirect(safe_next(request))
    form = TokenForm(request.POST or None)
    if form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            django_otp.login(request, device)
            audit("mfa_verified", request=request, device=type(device).__name__)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    _(
                        "You used a recovery code; %(count)d are left. Make new "
                        "ones on the two-step verification page."
                    )
                    % {"count": left},
                )
            return redirect(safe_next(request))
        audit("mfa_failed", request=request)
        form.add_error(
            "token", _("This code is not valid or has expired. Please try again.")
        )
    return render(
        request,
        "registration/otp_verify.html",
        {"page_title": TWO_STEP_TITLE, "form": form, "next": safe_next(request)},
    )


def _show_recovery_codes(request: HttpRequest, codes: list[str]) -> HttpResponse:
    # Shown once, in this answer only: they are never shown again.
    return render(
        request,
        "registration/otp_recovery_codes.html",
        {
            "page_title": _("Your recovery codes"),
            "codes": codes,
            "next": safe_next(request),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app, make new recovery codes, or switch it off."""
    user = request.user
    required = mfa_required(user)
    active = user_has_device(user)
    if active and not user.is_verified():
        return redirect("mfa-verify")
    action = request.POST.get("action")
    if active:
        if action == "recovery_codes":
            audit("mfa_recovery_codes_renewed", request=request)
            return _show_recovery_codes(request, new_recovery_codes(user))
        if action == "disable" and not required:
            remove_devices(user)
            audit("mfa_disabled", request=request)
            messages.success(request, _("Two-step verification is off."))
            return redirect("mfa-setup")
        return render(
            request,
            "registration/otp_setup.html",
            {"page_title": TWO_STEP_TITLE, "active": True, "required": required},
        )

    device = pending_totp_device(user)
    form = TokenForm(request.POST if action == "confirm" else None)
    if form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            audit("mfa_enabled", request=request)
            return _show_recovery_codes(request, new_recovery_codes(user))
        form.add_error(
            "token", _("This code is not valid or has expired. Please try again.")
        )
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "registration/otp_setup.html",
        {
            "page_title": TWO_STEP_TITLE,
            "active": False,
            "required": required,
            "form": form,
            "qr_svg": qr.svg_inline(
                scale=4,
                light="#fff",
                title=_("QR code for your authenticator app"),
            ),
            "secret": secret_for_display(device),
            "next": safe_next(request),
        },
    )
