from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NupportalConfig(AppConfig):
    name = "nupportal"
    verbose_name = "NUP Portal"

    def ready(self) -> None:
        from nupportal import audit

        audit.connect()


class PortalAdminConfig(admin_apps.AdminConfig):
    """The admin with an audited site (nupportal.admin_site)."""

    default = False
    default_site = "nupportal.admin_site.PortalAdminSite"
