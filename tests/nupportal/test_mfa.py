"""Two-step verification: enforced for KING staff and superusers, optional for others."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from django.urls import reverse

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from buildingblocks.management.commands.seed_demo import grant_king_staff_permissions
from municipalities.roles import KING_STAFF, VDP, ensure_groups
from nupportal.mfa import new_recovery_codes
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _setup(settings, db):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.NUP_MFA_REQUIRED = True
    ensure_groups()


def _user(username, group, **fields):
    from django.contrib.auth.models import Group

    user = UserFactory(username=username, **fields)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def king():
    from django.contrib.auth.models import Group

    grant_king_staff_permissions(Group.objects.get(name=KING_STAFF))
    return _user("king", KING_STAFF, is_staff=True)


def _code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def _login(client, username):
    response = client.post(
        reverse("login"),
        {"username": username, "password": "demo"},
        REMOTE_ADDR="192.0.2.1",
    )
    assert response.status_code == 302
    return response


def _device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


STAFF_PAGES = (
    "reports:list",
    "buildingblocks:import",
    "admin:index",
    "admin:auth_user_changelist",
)


def test_staff_without_a_device_must_set_one_up_before_any_page(client, king):
    _login(client, "king")
    for name in (*STAFF_PAGES, "scoring:overview"):
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("mfa-setup")), name

    page = client.get(reverse("mfa-setup"))
    assert page.status_code == 200
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=king, confirmed=False)
    shown = re.search(r'id="otp-secret">([A-Z2-7 ]+)<', page.content.decode()).group(1)
    assert shown.replace(" ", "") in device.config_url

    done = client.post(
        reverse("mfa-setup"), {"action": "confirm", "token": _code(device)}
    )

    assert done.status_code == 200
    assert len(done.context["codes"]) == 10
    assert StaticToken.objects.filter(device__user=king).count() == 10
    for name in STAFF_PAGES:
        assert client.get(reverse(name)).status_code == 200, name


def test_a_wrong_code_does_not_switch_it_on(client, king):
    _login(client, "king")
    client.get(reverse("mfa-setup"))
    device = TOTPDevice.objects.get(user=king)
    wrong = client.post(
        reverse("mfa-setup"), {"action": "confirm", "token": _code(device, offset=5)}
    )
    assert wrong.status_code == 200
    assert wrong.context["form"].errors
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get(reverse("reports:list")).status_code == 302


@pytest.mark.parametrize("login_url", ["login", "admin:login"])
def test_staff_with_a_device_reach_no_staff_page_or_admin_without_a_code(
    client, king, login_url, settings
):
    # django-otp makes each failure wait longer; this test needs no wait.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device = _device(king)
    client.post(
        reverse(login_url),
        {"username": "king", "password": "demo"},
        REMOTE_ADDR="192.0.2.1",
    )
    for name in STAFF_PAGES:
        response = client.get(reverse(name))
        assert response["Location"].startswith(reverse("mfa-verify")), name
    # Setting up another app is no way around the code.
    assert client.get(reverse("mfa-setup"))["Location"].startswith(
        reverse("mfa-verify")
    )
    wrong = client.post(
        reverse("mfa-verify"),
        {"token": "000000" if _code(device) != "000000" else "111111"},
    )
    assert wrong.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302

    verified = client.post(
        reverse("mfa-verify"), {"token": _code(device), "next": reverse("admin:index")}
    )

    assert verified["Location"] == reverse("admin:index")
    for name in STAFF_PAGES:
        assert client.get(reverse(name)).status_code == 200, name


def test_a_recovery_code_works_once(client, king):
    _device(king)
    [code, *_rest] = new_recovery_codes(king)
    _login(client, "king")
    assert client.post(reverse("mfa-verify"), {"token": code}).status_code == 302
    assert client.get(reverse("reports:list")).status_code == 200
    client.post(reverse("logout"))
    _login(client, "king")
    reused = client.post(reverse("mfa-verify"), {"token": code})
    assert reused.status_code == 200
    assert client.get(reverse("reports:list")).status_code == 302


def test_the_next_address_must_stay_on_the_site(client, king):
    device = _device(king)
    _login(client, "king")
    response = client.post(
        reverse("mfa-verify"), {"token": _code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("portal-after-login")


def test_without_enforcement_staff_log_in_with_a_password(client, king, settings):
    settings.NUP_MFA_REQUIRED = False
    _login(client, "king")
    assert client.get(reverse("reports:list")).status_code == 200


def test_other_users_may_switch_it_on_and_then_need_a_code(client):
    vdp = _user("vdp", VDP)
    _login(client, "vdp")
    assert client.get(reverse("scoring:overview")).status_code == 200  # not forced
    client.get(reverse("mfa-setup"))
    device = TOTPDevice.objects.get(user=vdp)
    client.post(reverse("mfa-setup"), {"action": "confirm", "token": _code(device)})
    client.post(reverse("logout"))

    _login(client, "vdp")
    assert client.get(reverse("scoring:overview"))["Location"].startswith(
        reverse("mfa-verify")
    )
    client.post(reverse("mfa-verify"), {"token": _code(device, offset=1)})
    assert client.get(reverse("scoring:overview")).status_code == 200

    client.post(reverse("mfa-setup"), {"action": "disable"})
    assert not TOTPDevice.objects.filter(user=vdp).exists()


def test_staff_cannot_switch_it_off(client, king):
    device = _device(king)
    _login(client, "king")
    client.post(reverse("mfa-verify"), {"token": _code(device)})
    page = client.post(reverse("mfa-setup"), {"action": "disable"})
    assert page.status_code == 200
    assert TOTPDevice.objects.filter(user=king).exists()


def test_new_recovery_codes_replace_the_old_ones(client, king):
    device = _device(king)
    [old, *_rest] = new_recovery_codes(king)
    _login(client, "king")
    client.post(reverse("mfa-verify"), {"token": _code(device)})
    page = client.post(reverse("mfa-setup"), {"action": "recovery_codes"})
    assert len(page.context["codes"]) == 10
    assert not StaticToken.objects.filter(token=old).exists()


def test_the_pages_are_dutch_and_english(client, king):
    _login(client, "king")
    assert "Tweestapsverificatie" in client.get(reverse("mfa-setup")).content.decode()
    with_en = client.get("/en" + reverse("mfa-setup"))
    assert "Two-step verification" in with_en.content.decode()


def test_production_settings_enforce_it():
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "a-long-random-production-key-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "nupportal.settings",
    }
    env.pop("NUP_MFA_REQUIRED", None)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from nupportal import settings; print(settings.NUP_MFA_REQUIRED)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "True"


def test_repeated_wrong_codes_are_throttled(client, king):
    device = _device(king)
    _login(client, "king")
    wrong = "000000" if _code(device) != "000000" else "111111"
    client.post(reverse("mfa-verify"), {"token": wrong})
    # Right after a failure even the right code is refused (django-otp throttling).
    assert (
        client.post(reverse("mfa-verify"), {"token": _code(device)}).status_code == 200
    )
    assert client.get(reverse("reports:list")).status_code == 302
