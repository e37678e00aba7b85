"""Settings for the portal: one module, every value from the environment.

Safe defaults for a developer's machine; production values are documented in
.env.example and README.md. There is no "are we in tests" branch: tests run
with DEBUG=1 in the environment (for the development keys) like `make run`.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """A local `.env` (written by `make` for development) fills in what the
    environment leaves unset; the environment always wins, empty values are skipped."""
    if not path.is_file():
        return
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _sep, value = line.partition("=")
        value = value.strip().strip('"').strip("'")
        if key.strip() and value:
            os.environ.setdefault(key.strip(), value)


_load_dotenv(BASE_DIR / ".env")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)


def _required(name: str, dev_default: str) -> str:
    value = os.environ.get(name, "")
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (see .env.example).")


SECRET_KEY = _required("SECRET_KEY", "django-insecure-dev-only-0d7f3c9a1b2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c")

# ID numbers: Fernet keys, the first encrypts, all decrypt (rotation: put the new
# key first, run `manage.py rotate_id_keys`, then drop the old one). The lookup hash
# key is separate and must never change without re-hashing every account.
ID_ENCRYPTION_KEYS = env_list(
    "ID_ENCRYPTION_KEYS", "" if not DEBUG else "ZGV2LW9ubHktaWQtZW5jcnlwdGlvbi1rZXktMDAwMDA="
)
if not ID_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("ID_ENCRYPTION_KEYS must be set when DEBUG is off (see .env.example).")
ID_HASH_KEY = _required("ID_HASH_KEY", "dev-only-id-hash-key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Number of reverse proxies in front of the app whose X-Forwarded-For we trust.
# 0 (default): the client address is REMOTE_ADDR and forwarded headers are ignored.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

INSTALLED_APPS = [
    # The admin site requires password + TOTP (portal.admin_site.PortalAdminSite).
    "portal.admin_config.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "portal",
    "accounts",
    "collection",
    "changes",
    "education",
    "transfers",
]

MIDDLEWARE = [
    "portal.middleware.HealthCheckMiddleware",
    "portal.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.SessionRenewMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # AxesMiddleware last: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers queue for the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not the default in-memory database, for the test database too, so
    # threads (live server, concurrency tests) wait for the lock as in real use.
    # One file per process, so two test runs in one checkout do not share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache (optional) ----------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
            # A page must not hang on a Redis that stopped answering: the cache gives up quickly.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database, with or without Redis; with Redis, portal.sessions reads
# them through the cache (one Redis GET per page instead of a query) and falls back to the
# database on any cache error (with Redis as the only store every page answered 500 while
# Redis was down: tests/faults/test_redis_down.py). Renewed at most once a minute
# (SessionRenewMiddleware).
SESSION_ENGINE = "portal.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_CACHE_SECONDS = env_int("SESSION_CACHE_SECONDS", 300)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "portal")
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request must not hang when the broker is down: publishing gives up quickly,
# the outbox row stays pending and the periodic sweep re-queues it.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_BEAT_SCHEDULE = {
    "sms-outbox-sweep": {"task": "accounts.tasks.sms_outbox_sweep", "schedule": 60.0},
    "accounts-prune-sessions": {"task": "accounts.tasks.user_sessions_prune", "schedule": 3600.0},
    "collection-orphan-uploads": {"task": "collection.tasks.orphan_uploads_delete", "schedule": 3600.0},
    "education-credit-batch-sweep": {"task": "education.tasks.credit_batch_sweep", "schedule": 60.0},
}

# --- Authentication -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "accounts.hashers.PortalArgon2PasswordHasher",  # argon2id, OWASP's parameters (see accounts/hashers.py)
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "accounts.validators.CharacterClassesValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.validators.PersonalInfoValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "home"

# Login lockout (django-axes): keyed on the account, never on the IP alone, so
# one office address cannot lock everyone out.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# The lock lasts LOGIN_LOCKOUT_MINUTES from the 5th failure; tries while locked do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
AXES_SENSITIVE_PARAMETERS = ["username", "id_number", "password", "mobile", "sms_code"]
AXES_DISABLE_ACCESS_LOG = True
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_VERBOSE = False
# axes.W006 asks for the IP in the lockout key; we lock the account on purpose
# (rotating user agents does not help an attacker against an account lock).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Sessions: 30 minutes idle, renewed on every request.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
# Renewed (saved with a new expiry) at most once a minute by portal.middleware.SessionRenewMiddleware,
# rather than written on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_SECONDS = env_int("SESSION_RENEW_SECONDS", 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

# --- HTTPS and security headers -------------------------------------------------
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- SMS ----------------------------------------------------------------------
SMS_BACKEND = env_str("SMS_BACKEND", "outbox")  # outbox | http
SMS_HTTP_URL = env_str("SMS_HTTP_URL")
SMS_HTTP_KEY_ID = env_str("SMS_HTTP_KEY_ID")
SMS_HTTP_SECRET = env_str("SMS_HTTP_SECRET")
SMS_HTTP_TIMEOUT = float(env_str("SMS_HTTP_TIMEOUT", "5"))
SMS_SIGNATURE = env_str("SMS_SIGNATURE", "【贵州省财政会计网】")
SMS_CODE_TTL_SECONDS = env_int("SMS_CODE_TTL_SECONDS", 300)
SMS_CODE_MAX_FAILURES = env_int("SMS_CODE_MAX_FAILURES", 5)
SMS_RESEND_SECONDS = env_int("SMS_RESEND_SECONDS", 60)
SMS_DAILY_LIMIT_PER_PHONE = env_int("SMS_DAILY_LIMIT_PER_PHONE", 10)
SMS_HOURLY_LIMIT_PER_IP = env_int("SMS_HOURLY_LIMIT_PER_IP", 30)
SMS_SEND_MAX_RETRIES = env_int("SMS_SEND_MAX_RETRIES", 8)

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

PHONENUMBER_DEFAULT_REGION = "CN"
PHONENUMBER_DB_FORMAT = "E164"

# --- Static files and private uploads -------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads are private: no MEDIA_URL is routed; files are served by views that
# check ownership. The backend is swappable (S3-compatible) through STORAGES.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": "/private-media-not-served/"},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_PERMISSIONS = 0o640
# Whole request body cap (several 5 MB images plus the form); the proxy should match it.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Logging: console, with ID and mobile numbers masked in every record ----------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "portal.logging.RedactSensitiveFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Continuing education (继续教育) ---------------------------------------------------
# Yearly credit requirement (财会〔2018〕10号, 黔财会〔2020〕1号): 90 a year, of which
# 公需科目 at least 30 and 专业科目 at least 60.
CE_ANNUAL_MIN_CREDITS = env_int("CE_ANNUAL_MIN_CREDITS", 90)
CE_PUBLIC_MIN_CREDITS = env_int("CE_PUBLIC_MIN_CREDITS", 30)
CE_PROFESSIONAL_MIN_CREDITS = env_int("CE_PROFESSIONAL_MIN_CREDITS", 60)
# The oldest year offered in the 远程教育 年度 select (the current year is the newest).
CE_FIRST_YEAR = env_int("CE_FIRST_YEAR", 2018)
# 点击查看: lifetime of the one-time token handed to the institution's platform.
CE_LAUNCH_TOKEN_TTL_SECONDS = env_int("CE_LAUNCH_TOKEN_TTL_SECONDS", 300)
# Institution API: how far X-Timestamp may be from the server clock.
CE_API_CLOCK_SKEW_SECONDS = env_int("CE_API_CLOCK_SKEW_SECONDS", 300)
# Fernet keys (comma-separated, first encrypts) for the institutions' API secrets;
# by default the ID-encryption keys, so `rotate_id_keys`-style rotation applies.
CE_API_SECRET_KEYS = env_list("CE_API_SECRET_KEYS") or ID_ENCRYPTION_KEYS
# Institution API, POST /api/v1/credit-batches: most records and bytes in one batch.
CE_CREDIT_BATCH_MAX_RECORDS = env_int("CE_CREDIT_BATCH_MAX_RECORDS", 1000)
CE_CREDIT_BATCH_MAX_BYTES = env_int("CE_CREDIT_BATCH_MAX_BYTES", 2 * 1024 * 1024)
# Records of a batch decided and written per transaction (the default: a whole batch at once).
CE_CREDIT_CHUNK_RECORDS = max(1, env_int("CE_CREDIT_CHUNK_RECORDS", 1000))

# --- Cross-province transfer (跨省调转) through the national platform -----------------
# "local": the platform's side kept in this database (development, tests, demos; operators
# play the other provinces with `manage.py national_platform`). "http": the real platform.
NATIONAL_PLATFORM_BACKEND = env_str("NATIONAL_PLATFORM_BACKEND", "local")
NATIONAL_PLATFORM_URL = env_str("NATIONAL_PLATFORM_URL", "")
NATIONAL_PLATFORM_KEY_ID = env_str("NATIONAL_PLATFORM_KEY_ID", "")
NATIONAL_PLATFORM_SECRET = env_str("NATIONAL_PLATFORM_SECRET", "")
NATIONAL_PLATFORM_TIMEOUT_SECONDS = env_float("NATIONAL_PLATFORM_TIMEOUT_SECONDS", 5.0)
NATIONAL_PLATFORM_RETRIES = env_int("NATIONAL_PLATFORM_RETRIES", 2)
# This province's code on the platform (GB/T 2260: 贵州 = 52).
NATIONAL_PLATFORM_PROVINCE = env_str("NATIONAL_PLATFORM_PROVINCE", "52")
CELERY_BEAT_SCHEDULE["transfers-sync"] = {"task": "transfers.tasks.transfers_sync", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["transfers-submit-sweep"] = {"task": "transfers.tasks.transfer_submit_sweep", "schedule": 60.0}

# --- Staff back office ------------------------------------------------------------------
# TOTP devices: the issuer shown in the authenticator app; device keys never shown in admin.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "贵州省财政会计网")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Audit log retention (days): `manage.py cleanup` deletes older rows; never below 185.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 400)

# --- Content-Security-Policy (django-csp) and where the header middleware sits ------------
# Scripts and styles come from this site only (Bootstrap is vendored under static/): no
# inline <script>, no on* attributes, no inline styles. The one exception is the <style>
# block Django's admin change list renders for a model admin without actions (the audit
# log), allowed by its hash. Images: this site plus data: URIs (Bootstrap's CSS icons).
# No form-action: 点击查看 posts and is redirected to the institution's own platform.
SELF, NONE = "'self'", "'none'"
_ADMIN_CHANGELIST_STYLE = "'sha256-blvLUW3UscWqsXGByNOqdBboM+ShWAuugp2mC/wbafU='"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, _ADMIN_CHANGELIST_STYLE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        **({"report-uri": [env_str("CSP_REPORT_URI")]} if env_str("CSP_REPORT_URI") else {}),
    },
}
INSTALLED_APPS += ["csp"]
# The header middleware (HSTS, nosniff, Referrer-Policy, CSP, X-Frame-Options) wraps every
# response but the health check's, including the 413 that RequestSizeLimitMiddleware answers
# before the rest of the stack runs.
_HEADER_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
MIDDLEWARE = [m for m in MIDDLEWARE if m not in _HEADER_MIDDLEWARE]
MIDDLEWARE[1:1] = _HEADER_MIDDLEWARE
