from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView

from api import pages as api_views
from nupportal import mfa_views, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/", include("api.urls")),
    # Browsers ask for /favicon.ico where a page names no icon (PDFs, JSON).
    path(
        "favicon.ico",
        require_safe(
            RedirectView.as_view(
                # Lazy: the hashed static name is known only once the app is ready.
                url=lazy(static, str)("img/favicon.svg"),
                permanent=True,
            )
        ),
    ),
]


def _account_view(view, template: str, title, **kwargs):
    """One of Django's login and password views with the portal's template and title.

    Own template names (not Django's registration/password_*): the admin keeps
    its own password pages.
    """
    return view.as_view(
        template_name=f"registration/{template}.html",
        extra_context={"page_title": title},
        **kwargs,
    )


urlpatterns += i18n_patterns(
    path("", include("scoring.urls")),
    path("", include("municipalities.urls")),
    path("", include("buildingblocks.urls")),
    path("", include("agreements.urls")),
    path("", include("reports.urls")),
    path("open-data/", api_views.OpenDataView.as_view(), name="open-data"),
    path(
        "accounts/login/",
        _account_view(
            auth_views.LoginView, "login", _("Log in"), redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/wachtwoord-wijzigen/",
        _account_view(
            auth_views.PasswordChangeView, "change_password", _("Change password")
        ),
        name="password_change",
    ),
    path(
        "accounts/wachtwoord-wijzigen/klaar/",
        _account_view(
            auth_views.PasswordChangeDoneView,
            "change_password_done",
            _("Password changed"),
        ),
        name="password_change_done",
    ),
    path(
        "accounts/wachtwoord-vergeten/",
        _account_view(
            auth_views.PasswordResetView,
            "reset_password",
            _("Forgot your password?"),
            email_template_name="registration/reset_password_email.txt",
            subject_template_name="registration/reset_password_subject.txt",
            # The link starts with the configured address, never the Host header.
            extra_email_context={"base_url": settings.NUP_BASE_URL},
        ),
        name="password_reset",
    ),
    path(
        "accounts/wachtwoord-vergeten/verstuurd/",
        _account_view(
            auth_views.PasswordResetDoneView,
            "reset_password_sent",
            _("Check your e-mail"),
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/wachtwoord-vergeten/<uidb64>/<token>/",
        _account_view(
            auth_views.PasswordResetConfirmView,
            "reset_password_confirm",
            _("Choose a new password"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/wachtwoord-vergeten/klaar/",
        _account_view(
            auth_views.PasswordResetCompleteView,
            "reset_password_complete",
            _("Password saved"),
        ),
        name="password_reset_complete",
    ),
    path("accounts/na-inloggen/", views.after_login, name="portal-after-login"),
    path("accounts/tweede-stap/", mfa_views.verify, name="mfa-verify"),
    path("accounts/tweestapsverificatie/", mfa_views.setup, name="mfa-setup"),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)
