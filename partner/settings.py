"""Settings, read from the environment (see README.md, "Configuration")."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from partner.lib.env import ConfigurationError, envbool, envint, envlist, secret_from_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PARTNER_VAR_DIR", BASE_DIR / "var"))

try:
    DEBUG = envbool("DEBUG", "False")
    _secret_key = secret_from_file("SECRET_KEY_FILE")
    _pseudonym_key = secret_from_file("PARTNER_PSEUDONYM_KEY_FILE")
    _linkage_key = secret_from_file("PARTNER_LINKAGE_KEY_FILE")
except ConfigurationError as exc:
    raise ImproperlyConfigured(str(exc)) from None


def _development_secret(name: str) -> str:
    """In debug mode only: a key kept under var/ so pseudonyms stay stable between restarts."""
    path = VAR_DIR / "dev-secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


if _secret_key is None or _pseudonym_key is None or _linkage_key is None:
    missing = [
        name
        for name, value in (
            ("SECRET_KEY_FILE", _secret_key),
            ("PARTNER_PSEUDONYM_KEY_FILE", _pseudonym_key),
            ("PARTNER_LINKAGE_KEY_FILE", _linkage_key),
        )
        if value is None
    ]
    if not DEBUG:
        # Development keys are never a fallback here: a production process that lost its
        # configuration must stop, not pseudonymise under a key nobody else holds.
        raise ImproperlyConfigured(
            f"{' and '.join(missing)} not set: outside debug mode each must name a file holding a "
            "secret of at least 32 characters (see README.md, Configuration); for the demo registry "
            "of `make run`, type `export DEBUG=true` first"
        )
    logging.getLogger("partner").warning(
        "DEBUG: development keys under %s stand in for %s", VAR_DIR / "dev-secrets", ", ".join(missing)
    )

SECRET_KEY = _secret_key or _development_secret("secret_key")
PSEUDONYM_KEY = _pseudonym_key or _development_secret("pseudonym_key")
#: The key of the Bloom-filter linkage encodings (partner.linkage.encoding), as bytes.
LINKAGE_KEY = (_linkage_key or _development_secret("linkage_key")).encode()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "csp",
    "ninja",  # its own copy of the API documentation's scripts, served from here
    "django_htmx",
    "django_filters",  # lists: filters in the query string; django_tables2: sortable, paginated tables
    "django_tables2",
    "django_countries",  # its catalogues: country names in each language (CLDR)
    "axes",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "partner.accounts",
    "partner.dictionary",
    "partner.cases",
    "partner.website",
    "partner.linkage",
    "partner.quality",
    "partner.interop",
    "partner.reports",
    "partner.datarequests",
    "partner.consult",
    "partner.work",
    "partner.ops",
    "partner.jobs",
]

MIDDLEWARE = [
    "partner.accounts.middleware.RequestIdMiddleware",  # first: every record of the request carries its id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "partner.accounts.middleware.NoStoreMiddleware",  # below WhiteNoise, which answers static files itself
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "partner.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as its documentation asks: it turns a locked-out log-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "partner.urls"
WSGI_APPLICATION = "partner.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "partner" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

#: SQLite as the registry uses it: writers queue instead of failing with "database is locked", the
#: write-ahead log lets readers go on during a write, and connections are kept, so that a request
#: does not reopen the file (and checkpoint the log) each time.
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "partner.sqlite3")),
            "CONN_MAX_AGE": 60,
            "OPTIONS": SQLITE_OPTIONS,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a user name while it waits at this address
    "django.contrib.auth.backends.ModelBackend",
]
#: API requests with an unknown token that one address may send in a minute before it is refused (429).
PARTNER_TOKEN_FAILURES_PER_MINUTE = envint("PARTNER_TOKEN_FAILURES_PER_MINUTE", "20")
#: Proxies in front of the registry that add the address they were reached from to X-Forwarded-For
#: (nginx: 1). Only then is that header, and the proxy's X-Request-ID, believed (partner.accounts.client).
PARTNER_TRUSTED_PROXIES = envint("PARTNER_TRUSTED_PROXIES", "0")

# Log-in throttling (partner.accounts.throttle): per user name and address together, so that a guesser
# elsewhere never holds the user back, nor one forgotten password a whole hospital behind one address.
# After the limit, a wait before each further try that doubles with each failure.
AXES_HANDLER = "partner.accounts.throttle.ThrottlingHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "partner.accounts.client.client_address"
AXES_FAILURE_LIMIT = envint("PARTNER_LOGIN_FAILURE_LIMIT", "5")
PARTNER_LOGIN_FIRST_WAIT_MINUTES = envint("PARTNER_LOGIN_FIRST_WAIT_MINUTES", "1")
PARTNER_LOGIN_LONGEST_WAIT_MINUTES = envint("PARTNER_LOGIN_LONGEST_WAIT_MINUTES", "60")
#: How long failures are remembered after the last one; the wait itself is partner.accounts.throttle's.
AXES_COOLOFF_TIME = dt.timedelta(days=1)
#: A try refused during the wait is not a failure: it neither lengthens the wait nor reaches the password.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
#: Kept so that the user can be told of failed log-ins at their next log-in.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "partner.accounts.throttle.throttled"
OTP_TOTP_ISSUER = "PARTNER registry"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/work/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("it", "Italiano"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("pl", "Polski"),
]
LOCALE_PATHS = [BASE_DIR / "partner" / "locale"]
#: English is read in Europe: day-month-year and a 24-hour clock (partner/formats/en).
FORMAT_MODULE_PATH = ["partner.formats"]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "partner" / "static"]
# Uploaded files (consultation attachments, letters): never served as static files, only through
# views that check who asks and send the type read from the content.
MEDIA_ROOT = Path(os.environ.get("PARTNER_MEDIA_DIR", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", "25")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "False")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "registry@localhost")

# --- security: `partner check --deploy` is clean with DEBUG off (docs/deploy.md) ------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = envint("PARTNER_SESSION_HOURS", "12") * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
#: TLS ends at the proxy in front (docs/deploy.md), which says so in this header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("PARTNER_BEHIND_TLS_PROXY", "False") else None
SECURE_SSL_REDIRECT = envbool("PARTNER_SSL_REDIRECT", "False")  # the proxy redirects; docs/deploy.md turns this on too
SECURE_HSTS_SECONDS = envint("PARTNER_HSTS_SECONDS", "0" if DEBUG else "31536000")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("PARTNER_HSTS_SUBDOMAINS", "True")
SECURE_HSTS_PRELOAD = envbool("PARTNER_HSTS_PRELOAD", "False" if DEBUG else "True")
#: The /health probe is answered over plain HTTP inside the host (the proxy's and the monitor's).
SECURE_REDIRECT_EXEMPT = [r"^health$"]

# Content Security Policy (django-csp): scripts only from the registry itself (an inline script needs
# the response's nonce), no plugins, no framing. Styles allow inline attributes: the charts' SVG and
# the bars of the start page are styled inline, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Logging: to standard error (the journal, under systemd), one line per record with its request's id;
# errors with their tracebacks. Records name the path, never a query string, a body or form data.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "partner.accounts.logs.RequestIdFilter"}},
    "formatters": {
        "registry": {
            "()": "partner.accounts.logs.EscapingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "registry"},
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        # Replaces Django's default handlers: the console only in debug mode, and mail to ADMINS,
        # whose report would carry the request's data.
        "django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "partner": {"level": "INFO"},
    },
}

#: The largest request body read into memory: a hub push of a few thousand cases, or a 20 MB
#: attachment sent to the API as base64. Keep nginx's client_max_body_size (deploy/nginx.conf) at least
#: as large.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("PARTNER_MAX_REQUEST_MB", "30") * 1024 * 1024

#: Long work (imports, PDFs, registry-wide checks, linkage runs, extracts) runs as a task, off the web
#: request (partner.jobs). The default queue is a table of the registry's own database, served by
#: `partner db_worker` (started by `make run` and deploy/partner-worker.service): no other server. A
#: larger deployment names another backend of Django's tasks framework here (README, "Long work").
TASKS = {
    "default": {
        "BACKEND": os.environ.get("PARTNER_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
#: A running job whose worker has not been heard of for this long is taken as stopped: it may be run again.
PARTNER_JOB_STALLED_SECONDS = envint("PARTNER_JOB_STALLED_SECONDS", "60")

#: Ages at diagnosis (in whole years, inclusive) that the registry takes as paediatric.
PARTNER_MAX_AGE_YEARS = envint("PARTNER_MAX_AGE_YEARS", "17")
#: Counts below this are hidden in every aggregate that leaves the registry (partner.analysis.suppression).
PARTNER_MIN_CELL_COUNT = envint("PARTNER_MIN_CELL_COUNT", "5")
#: The dictionary version new records are entered under; None means the newest loaded.
PARTNER_DICTIONARY_VERSION = os.environ.get("PARTNER_DICTIONARY_VERSION") or None
