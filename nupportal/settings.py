"""Settings for NUP Portal. Every deployment-specific value comes from the environment.

The embedded default (no variables set) is a development setup: SQLite file,
local-memory cache, Celery tasks run in-process. Production differs only by its
environment (see README.md, "Configuration").
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

import environ
from celery.schedules import crontab

from nupportal.env import broker_transport_options, cache_config, database_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
_DEVELOPMENT_SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105
# Keys published in this repository or in Django's templates: anyone could sign
# sessions and reset links with them, so production refuses them.
PLACEHOLDER_SECRET_KEYS = frozenset(
    {
        _DEVELOPMENT_SECRET_KEY,
        "change-me-to-a-long-random-string",  # .env.example
        "change-me",
        "changeme",
        "secret",
        "secret-key",
        "your-secret-key",
    }
)
_NEW_KEY_HINT = (
    "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
)
if not DEBUG:
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false {_NEW_KEY_HINT}"
        )
    if SECRET_KEY.lower() in PLACEHOLDER_SECRET_KEYS or SECRET_KEY.startswith(
        "django-insecure-"
    ):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is a published placeholder (from .env.example or a "
            f"template) and must be replaced when DJANGO_DEBUG is false {_NEW_KEY_HINT}"
        )
elif not SECRET_KEY:
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "nupportal.apps.PortalAdminConfig",  # django.contrib.admin, audited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "django_tables2",
    "template_partials",
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "nupportal",
    "municipalities",
    "buildingblocks",
    "agreements",
    "scoring",
    "reports",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files get Permissions-Policy too.
    "nupportal.middleware.SecurityHeadersMiddleware",
    # /api/ only: API-Version header, problem+json errors, CORS for reads (issue 17).
    "api.middleware.ApiResponseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cached anonymous overview hits skip the rest of the stack (issue 9).
    "nupportal.pagecache.OverviewPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # ?peildatum=: validated once, kept in the links of dated pages (issue 16).
    "nupportal.middleware.ReferenceDateMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # A login that owes its second step reaches no page before it (nupportal.mfa).
    "nupportal.mfa.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "nupportal.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "nupportal.middleware.RequireLoginMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "nupportal.urls"
WSGI_APPLICATION = "nupportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "nupportal.context_processors.portal",
            ],
        },
    }
]

DATABASES = {
    "default": database_config(
        env.str("DATABASE_URL", default=""), default_sqlite=BASE_DIR / "db.sqlite3"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# NUP_CACHE_DIR: a file cache shared by the demo's processes (see nupportal/demo.py).
NUP_CACHE_DIR = env.str("NUP_CACHE_DIR", default="")
CACHES = {
    "default": cache_config(
        REDIS_URL, file_dir=Path(NUP_CACHE_DIR) if NUP_CACHE_DIR else None
    )
}

AUTHENTICATION_BACKENDS = [
    "nupportal.throttling.SprayingGuardBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal-after-login"
LOGOUT_REDIRECT_URL = "scoring:overview"
# Two-step verification (nupportal/mfa.py): KING staff and superusers must use it.
# On by default in production (DJANGO_DEBUG false); the demo and the tests run
# without it unless this is set (README.md, "Demo logins").
NUP_MFA_REQUIRED = env.bool("NUP_MFA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = "NUP Portal"

# Login throttling (django-axes): lock a user name + address after 5 failures.
AXES_FAILURE_LIMIT = env.int("NUP_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "nupportal.throttling.attempted_username"
AXES_CLIENT_IP_CALLABLE = "nupportal.throttling.client_ip"
# Password spraying: one address failing this often across user names within the
# cool-off time is locked out whatever user name it tries next (issue 22).
NUP_LOGIN_IP_FAILURE_LIMIT = env.int("NUP_LOGIN_IP_FAILURE_LIMIT", default=20)
# Behind a TLS-terminating proxy the client address comes from the header the proxy
# sets, counted from the right; without DJANGO_BEHIND_PROXY the header is ignored.
NUP_BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
NUP_PROXY_CLIENT_IP_HEADER = "HTTP_" + env.str(
    "NUP_PROXY_CLIENT_IP_HEADER", default="X-Forwarded-For"
).upper().replace("-", "_")
NUP_PROXY_COUNT = env.int("NUP_PROXY_COUNT", default=1)

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
# Dates and numbers per language (nupportal/formats/nl, en). Not
# USE_THOUSAND_SEPARATOR: it would also group years and ids in templates
# ("2.015"); figures are grouped where they are shown, by the `number` filter.
FORMAT_MODULE_PATH = ["nupportal.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("NUP_MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="NUP Portal <noreply@nupportal.example>"
)

# Anyone may read the dashboards unless this is set (DESIGN §2).
NUP_REQUIRE_LOGIN = env.bool("NUP_REQUIRE_LOGIN", default=False)
# Pages say they show synthetic data while this is on; seed_demo switches nothing else.
NUP_DEMO_NOTICE = env.bool("NUP_DEMO_NOTICE", default=True)
NUP_UPLOAD_MAX_BYTES = env.int("NUP_UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
NUP_IMPORT_MAX_ROWS = env.int("NUP_IMPORT_MAX_ROWS", default=20_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = NUP_UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = NUP_UPLOAD_MAX_BYTES
# Absolute links in e-mails (weekly reminders) start with this address.
NUP_BASE_URL = env.str("NUP_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Celery: eager (in-process) unless a broker is configured.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL) or "memory://"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_TIMEZONE = TIME_ZONE
# The longest hard time limit of any task (reports.tasks.generate_report, 960 s);
# tests/nupportal/test_redelivery.py keeps every task within it.
CELERY_LONGEST_TASK_TIME_LIMIT = 960
# A task whose worker died (SIGKILL, OOM, lost host) is redelivered once it has been
# unacknowledged this long (acks_late). It must outlast the longest task, or a task
# still running would be handed to a second worker; hence the hard limit + 60 s.
# Kombu looks for such tasks every `unacked_restore_interval` seconds, so a killed
# worker's task runs again within visibility_timeout + 10 s (docs/security.md).
NUP_VISIBILITY_TIMEOUT = env.int(
    "NUP_VISIBILITY_TIMEOUT", default=CELERY_LONGEST_TASK_TIME_LIMIT + 60
)
NUP_UNACKED_RESTORE_INTERVAL = 10
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(
    CELERY_BROKER_URL,
    folder=Path(env.str("NUP_BROKER_DIR", default=str(BASE_DIR / "var" / "broker"))),
    visibility_timeout=NUP_VISIBILITY_TIMEOUT,
    restore_interval=NUP_UNACKED_RESTORE_INTERVAL,
)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A save must not hang when Redis is down: give up publishing quickly, log, and
# let the nightly full recompute catch up.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULE = {
    # Saves made while the broker was down reach the scores when it is back.
    "catch-up-stale-scores": {
        "task": "scoring.tasks.catch_up_stale_scores",
        "schedule": 60.0,
    },
    "nightly-full-recompute": {
        "task": "scoring.tasks.recompute_all",
        "schedule": crontab(hour=2, minute=30),
    },
    "monthly-snapshot": {
        "task": "scoring.tasks.snapshot_month",
        "schedule": crontab(day_of_month=1, hour=3, minute=0),
    },
    "weekly-deadline-reminders": {
        "task": "agreements.tasks.send_deadline_reminders",
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
    },
}

DJANGO_TABLES2_TEMPLATE = "includes/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table"}

# Security headers; HTTPS settings come from the environment so a TLS-terminating
# proxy can switch them on.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# Health checks ask over plain HTTP inside the host or container; a redirect
# would answer them "success" whatever the portal's state.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
# A session ends after this long without a request (shorter for KING staff, who
# can change everything), and at the latest this long after the login
# (nupportal.middleware.SessionTimeoutMiddleware).
NUP_SESSION_IDLE_SECONDS = 60 * env.int("NUP_SESSION_IDLE_MINUTES", default=60)
NUP_STAFF_SESSION_IDLE_SECONDS = 60 * env.int(
    "NUP_STAFF_SESSION_IDLE_MINUTES", default=30
)
NUP_SESSION_MAX_SECONDS = 3600 * env.int("NUP_SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = NUP_SESSION_MAX_SECONDS
# A link to choose a new password works once and this long (Django's default: 3 days).
PASSWORD_RESET_TIMEOUT = 60 * env.int("NUP_PASSWORD_RESET_MINUTES", default=120)
X_FRAME_OPTIONS = "DENY"
if NUP_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Content-Security-Policy (django-csp): no inline scripts or styles anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# The open data API (api/, issue 17): read-only, session or token authentication.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a bad token is then answered 401 with WWW-Authenticate.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("NUP_API_RATE_ANONYMOUS", default="120/minute"),
        "user": env.str("NUP_API_RATE_USER", default="600/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "URL_FORMAT_OVERRIDE": "format",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NUP Portal open data API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SCHEMA_PATH_PREFIX_TRIM": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["api.schema.nl_api_design_rules"],
}
# The address the API's OpenAPI document names as its server (HTTPS in production).
NUP_API_BASE_URL = env.str("NUP_API_BASE_URL", default=f"{NUP_BASE_URL}/api/v1")
# CORS (django-cors-headers): anyone may read the API from a browser; nothing else.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_EXPOSE_HEADERS = ["API-Version", "ETag", "Link", "Retry-After", "Synthetic-Data"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env.str("NUP_LOG_LEVEL", default="INFO"),
    },
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "nupportal.audit": {"level": "INFO"},
    },
}
