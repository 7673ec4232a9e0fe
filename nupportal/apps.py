from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NupportalConfig(AppConfig):
    name = "nupportal"
    verbose_name = "NUP Portal"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from nupportal import audit, middleware

        audit.connect()
        user_logged_in.connect(
            middleware.start_session_clock, dispatch_uid="session-clock"
        )


class PortalAdminConfig(admin_apps.AdminConfig):
    """The admin with an audited site (nupportal.admin_site)."""

    default = False
    default_site = "nupportal.admin_site.PortalAdminSite"
