from django.apps import AppConfig


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
