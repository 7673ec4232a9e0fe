from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from nupportal import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico where a page names no icon (PDFs, JSON).
    path(
        "favicon.ico",
        RedirectView.as_view(
            # Lazy: the hashed static name is known only once the app is ready.
            url=lazy(static, str)("img/favicon.svg"),
            permanent=True,
        ),
    ),
]

urlpatterns += i18n_patterns(
    path("", include("scoring.urls")),
    path("", include("municipalities.urls")),
    path("", include("buildingblocks.urls")),
    path("", include("agreements.urls")),
    path("", include("reports.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/na-inloggen/", views.after_login, name="portal-after-login"),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)
