from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from nupportal import mfa_views, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
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
    path("accounts/tweede-stap/", mfa_views.verify, name="mfa-verify"),
    path("accounts/tweestapsverificatie/", mfa_views.setup, name="mfa-setup"),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)
