"""
Settings for the vision training platform: one module, driven by environment
variables (every one is listed in README.md and .env.example).

The embedded default is a local SQLite file with DEBUG off; `make run` turns
DEBUG on. Production differs only by environment variables.
"""

import os
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set SECRET_KEY "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or DEBUG=1 for local development."
        )
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
# Railway sets RAILWAY_PUBLIC_DOMAIN to the service's own domain.
if env_str("RAILWAY_PUBLIC_DOMAIN"):
    ALLOWED_HOSTS.append(env_str("RAILWAY_PUBLIC_DOMAIN"))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
if env_str("RAILWAY_PUBLIC_DOMAIN"):
    CSRF_TRUSTED_ORIGINS.append(f"https://{env_str('RAILWAY_PUBLIC_DOMAIN')}")

INSTALLED_APPS = [
    "platform_site.apps.PlatformAdminConfig",  # django.contrib.admin, its sign-in rate limited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "live",
    "projects",
    "datasets",
    "experiments",
    "serving",
]

MIDDLEWARE = [
    # Answers /healthz before host validation: platform probes use their own Host header.
    "platform_site.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything that reads the body (CSRF reads form posts), after the language is known.
    "platform_site.middleware.RequestBodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "platform_site.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "platform_site.urls"
WSGI_APPLICATION = "platform_site.wsgi.application"
ASGI_APPLICATION = "platform_site.asgi.application"

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
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL (or anything dj-database-url
# parses) from DATABASE_URL.
#
# The prototype's SQLAlchemy pool kept 5 connections, allowed 10 overflow and
# pinged before use. On PostgreSQL, Django's own pool (psycopg 3) does the same
# per web process: DB_POOL_MIN_SIZE kept, up to DB_POOL_MAX_SIZE, each checked
# before use. A pool, not persistent connections (CONN_MAX_AGE): the ASGI
# handler runs every request in a thread of its own, so a persistent
# connection would be opened anew for each request and then left open.
# SQLite opens a file, which costs little, at every request.
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR}/vision_platform.db")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # with a pool: each connection is checked when taken
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Fail fast (and answer 503) when the server cannot be reached, instead of hanging.
            "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5),
            "pool": {
                "min_size": env_int("DB_POOL_MIN_SIZE", 5),
                "max_size": env_int("DB_POOL_MAX_SIZE", 15),
                # How long a request waits for a connection before answering 503. While the database is
                # down no connection comes, so this is also how long each 503 takes.
                "timeout": env_float("DB_POOL_TIMEOUT", 1),
                # The pool retries a failed connection with a backoff (1, 2, 4 s...) and starts no other
                # meanwhile. Giving up after 0.2 s lets the next request try again at once, so the first
                # request after the database is back gets a connection instead of waiting out a backoff.
                "reconnect_timeout": 0.2,
            },
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside a writer; IMMEDIATE transactions and a
        # busy timeout make writers queue instead of failing with
        # "database is locked".
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            f"PRAGMA busy_timeout={env_int('SQLITE_BUSY_TIMEOUT_MS', 20000)};"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT_MS", 20000) / 1000,
    }
    # Tests use a file, not memory, so that the worker and server processes
    # they start can open the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test_vision_platform.db")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Korean first, as our users wrote the product; English ships as well.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "ko")
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True

# Stored in UTC; shown in TIME_ZONE unless the browser tells us the user's own.
TIME_ZONE = env_str("TIME_ZONE", "Asia/Seoul")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known time zone") from None
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes (the build step) and WhiteNoise serves from.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files the web service and the workers share (dataset archives): the local disk under MEDIA_ROOT,
# or an S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set (web and workers on separate machines).
# Never served as URLs: the app reads them for their owners.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media"))).resolve()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if env_str("AWS_STORAGE_BUCKET_NAME"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "location": env_str("AWS_LOCATION"),
            "file_overwrite": False,
            # A file read from the bucket (a download) spools to disk past this size, not into memory.
            "max_memory_size": 8 * 1024 * 1024,
        },
    }

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # JWT first: its "Bearer" challenge becomes the 401's WWW-Authenticate.
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "platform_site.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "platform_site.pagination.HeaderPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "platform_site.api_errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": env_str("AUTH_RATE_LIMIT", "10/minute")},
    # Proxies in front of the server whose X-Forwarded-For is trusted (Railway: 1).
    # 0 counts requests by the connecting address, so clients cannot forge their own.
    "NUM_PROXIES": env_int("NUM_PROXIES", 1 if env_str("RAILWAY_PUBLIC_DOMAIN") else 0),
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Vision training platform API",
    "DESCRIPTION": "Projects, datasets and training experiments. Authenticate with a Bearer JWT.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Experiments and dataset versions both have a "status": one enum each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ExperimentStatusEnum": "experiments.models.TrainingJob.Status",
        "DatasetVersionStatusEnum": "datasets.models.DatasetVersion.Status",
    },
    "PREPROCESSING_HOOKS": ["platform_site.api_docs.document_paths_without_trailing_slash"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",  # the default, kept
        "platform_site.api_docs.empty_filters_mean_not_given",
        "platform_site.api_docs.text_filters_have_no_nul",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Front ends on other origins (for example a Next.js app) read the JSON API.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", ["http://localhost:3000"] if DEBUG else [])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["X-Total-Count", "Link"]

# HTTPS behind a proxy (Railway terminates TLS and sets X-Forwarded-Proto).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)

# Only our own origin may provide scripts, styles, images, fonts and connections
# (WebSockets included); no inline scripts, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Request bodies larger than this are refused with 413 before anything reads them.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024)
# An image sent to "try it" may be this large (its pixels are limited by MAX_IMAGE_PIXELS).
MAX_PREDICTION_IMAGE_BYTES = env_int("MAX_PREDICTION_IMAGE_BYTES", 10 * 1024 * 1024)

# Training: the database is the queue (django-tasks with django-tasks-db).
# Queues by where a job may run: "default" (anywhere), "gpu", "cpu"; see run_worker.
# "inference" is for "try it" predictions alone, so they never wait behind a training (run_worker --inference).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "gpu", "cpu", "inference"]}}
DATASETS_ROOT = Path(env_str("DATASETS_ROOT", str(BASE_DIR / "dataset_folders"))).resolve()
RUNS_DIR = Path(env_str("RUNS_DIR", str(BASE_DIR / "runs"))).resolve()

# Uploaded datasets. The web process keeps archives in the default storage; each worker
# unpacks the versions it needs into DATASET_CACHE_DIR, one folder per content SHA-256.
DATASET_CACHE_DIR = Path(env_str("DATASET_CACHE_DIR", str(BASE_DIR / "dataset_cache"))).resolve()
MAX_DATASET_UPLOAD_BYTES = env_int("MAX_DATASET_UPLOAD_BYTES", 4 * 1024**3)
MAX_DATASET_EXTRACTED_BYTES = env_int("MAX_DATASET_EXTRACTED_BYTES", 20 * 1024**3)
MAX_DATASET_COMPRESSION_RATIO = env_int("MAX_DATASET_COMPRESSION_RATIO", 100)
MAX_DATASET_FILES = env_int("MAX_DATASET_FILES", 500_000)
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 50_000_000)
# A running job whose worker has not been heard from for this long is failed as "Worker lost".
WORKER_TIMEOUT_SECONDS = env_int("WORKER_TIMEOUT_SECONDS", 60)
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 5)
# What a worker trains on unless `run_worker --device` says: "cuda", "cuda:1", "cpu"; empty: the GPU when
# there is one, else the CPU.
TRAINING_DEVICE = env_str("TRAINING_DEVICE")
# Data-loading processes per training; empty: none below 4 cores, else all cores but two, at most 8.
TRAINING_DATALOADER_WORKERS = env_int("TRAINING_DATALOADER_WORKERS", None)
if TRAINING_DATALOADER_WORKERS is not None and TRAINING_DATALOADER_WORKERS < 0:
    raise ImproperlyConfigured("TRAINING_DATALOADER_WORKERS must be 0 or more")
# A dataset whose images, decoded at the training size, fit in this many MB is decoded once and kept in
# memory (on the GPU when training there); larger ones stream from disk each epoch.
TRAINING_CACHE_MB = env_int("TRAINING_CACHE_MB", 4096)

# A run's last checkpoint (model, optimizer, epoch) is written and stored at most this often, and when it
# ends: what "resume" continues from after a worker is lost.
TRAINING_CHECKPOINT_SECONDS = env_int("TRAINING_CHECKPOINT_SECONDS", 60)
# Pretrained weights, filled once by an operator on a machine with internet; nothing is ever downloaded.
# timm: <model>.safetensors (or .pth) here, or Hugging Face's cache under huggingface/hub/;
# Ultralytics: <model>.pt here.
WEIGHTS_DIR = Path(env_str("WEIGHTS_DIR", str(BASE_DIR / "weights"))).resolve()

# Live updates. With REDIS_URL, every process publishes through Redis at once.
# Without it, each web process relays the events that workers committed to the
# database (live_events), polling every LIVE_RELAY_POLL_MS.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # channels_redis waits for messages with a 5 s blocking read; redis-py 8 gives up on any read
    # after 5 s by default, which closed every idle WebSocket (channels_redis issue 422).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
LIVE_RELAY_POLL_MS = env_int("LIVE_RELAY_POLL_MS", 250)

# The cache holds the login and token rate-limit counters, so it must be shared
# by every web process: Redis when there is one, else a database table
# (created by `migrate`, see projects/apps.py).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_entries"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
