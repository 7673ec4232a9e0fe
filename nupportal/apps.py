from django.apps import AppConfig


class NupportalConfig(AppConfig):
    name = "nupportal"
    verbose_name = "NUP Portal"

    def ready(self) -> None:
        from nupportal import audit

        audit.connect()
