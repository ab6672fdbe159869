"""Settings for the Area Clienti portal.

One module for every environment. Every deployment value comes from the environment; the defaults are
the *embedded* ones that let `make run` work on a bare machine (SQLite, a filesystem Celery transport,
e-mails written to files). `DJANGO_ENV=production` removes the insecure defaults: the process refuses
to start without SECRET_KEY and ALLOWED_HOSTS.
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

# Where the embedded defaults keep their state (database, broker queue, e-mails, uploaded/generated files).
DATA_DIR = Path(env.str("PORTAL_DATA_DIR", default=str(BASE_DIR / ".run")))

if PRODUCTION:
    # env.str/env.list without a default raise ImproperlyConfigured: production never guesses these.
    SECRET_KEY = env.str("SECRET_KEY")
    # Whoever knows the key forges sessions and password-reset links: refuse the well-known ones.
    if SECRET_KEY == "change-me-to-50-random-characters":  # .env.example's (a test keeps them equal)
        _unsafe = "is the placeholder from .env.example"
    elif SECRET_KEY.startswith("django-insecure"):
        _unsafe = "is a development key (it starts with 'django-insecure')"
    elif len(SECRET_KEY) < 50:
        _unsafe = "is shorter than 50 characters"
    else:
        _unsafe = None
    if _unsafe:
        raise ImproperlyConfigured(
            f"SECRET_KEY {_unsafe}: set a random key of 50 characters or more, e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set the ALLOWED_HOSTS environment variable")
    DEBUG = False
else:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-never-use-in-production-0123456789")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
    DEBUG = env.bool("DEBUG", default=True)

INSTALLED_APPS = [
    "accounts",
    "portal",
    "portal.notifications",
    "contracts",
    "billing",
    "complaints",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
]

MIDDLEWARE = [
    # First, so that every later layer sees the client's address, not the proxy's.
    "portal.middleware.ProxyClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.PortalLanguageMiddleware",
    # After session, user and language (its 413 page is a portal page), before anything reads the body.
    "portal.middleware.RequestSizeLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.supplier",
                "portal.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database is shared by the web server, the worker and beat: wait for locks instead of
    # failing at once. IMMEDIATE: a transaction takes the write lock when it begins; a deferred one that reads
    # first and then writes fails at once ("database is locked") while another process writes. WAL: readers
    # neither wait for the writer nor block it (in the default rollback journal a page view reading while a
    # sweep commits made one of them fail); NORMAL sync is safe in WAL and keeps each commit's lock short.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,  # seconds: SQLite's busy timeout
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["portal.auth.EmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "it"
LANGUAGES = [("it", _("Italiano")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Legal deadlines are reasoned about in Rome's calendar; timestamps are stored in UTC (see portal.apps).
TIME_ZONE = "Europe/Rome"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
# Media (invoices, letters, attachments) is private: it is served only by authorising views, never by URL.
STORAGES = {
    # The file system, deleting again what rolled-back sweep work saved (portal/lib/files.py).
    "default": {"BACKEND": "portal.lib.files.PrivateFileStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Request size (see "Behind the proxy" in README.md) ---
# The largest legitimate request: a complaint with 5 attachments of 10 MB each (complaints.services) and its
# form fields. A larger declared body is refused with 413 before it is read (portal.middleware); nginx's
# client_max_body_size in deploy/nginx/portal.conf is the same figure and refuses it first.
MAX_REQUEST_BYTES = 51 * 1024 * 1024
# Form fields other than files: the longest is a 10,000-character complaint description.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# A larger upload is written to a temporary file, not kept in the worker's memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# --- end of request size ---

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"


def email_settings(url):
    """The EMAIL_* settings for EMAIL_URL: django-environ's, but a filemail:// path read as a file URL's.

    django-environ keeps only what follows the host, without its leading slash, so `filemail:///abs/dir` and
    `filemail://.run/mail` wrote to `abs/dir` and `mail` under whatever the working directory was. Here the
    first is /abs/dir and a relative path is under the project folder (BASE_DIR)."""
    config = environ.Env.email_url_config(url)
    parts = urlsplit(url)
    if parts.scheme == "filemail":
        config["EMAIL_FILE_PATH"] = str(BASE_DIR / unquote(parts.netloc + parts.path))
    return config


# E-mail: files under .run/mail by default so that a developer can read password-reset links.
_email = email_settings(env.str("EMAIL_URL", default="filemail://" + str(DATA_DIR / "mail")))
# Every message leaves through portal.lib.emails.EmailBackend, which adds the headers of an automatic
# message (Auto-Submitted, our Message-ID) and hands it to the backend EMAIL_URL names.
EMAIL_DELIVERY_BACKEND = _email.pop("EMAIL_BACKEND")
vars().update(_email)
EMAIL_BACKEND = "portal.lib.emails.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Optima Area Clienti <noreply@optimaitalia.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery. The embedded default transport is a folder on disk: no broker to install for `make run`.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "control_folder": str(_queue_dir / "control"),
    }
    # The transport does not create its folders; without them the first task sent fails.
    for _folder in ("queue", "control"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Tasks are acknowledged late: a message a killed worker held comes back after the visibility timeout.
    # It must outlive the longest task run (CELERY_TASK_TIME_LIMIT, below), or a task still running would
    # be handed to a second worker; kept just above it so a kill -9 delays the work by minutes, not an hour.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 60),
        # Look for such messages every 10 s; kombu's default (10 s × a throttle of 10) adds 100 s more.
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Every task is short (one sweep batch commits at a time, one PDF, one e-mail) and idempotent: a run cut
# by the limit is finished by the next tick. Below the visibility timeout, see above.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=5 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=4 * 60 + 30)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# The periodic jobs that are not deadline sweeps are declared here. The deadline sweeps are declared in each
# app's tasks.py (portal.deadlines) and added to this schedule by the scheduler itself (portal/beat.py).
# Legal timers are rows swept by these tasks, never countdown/ETA messages (DESIGN.md §2).
CELERY_BEAT_SCHEDULER = "portal.beat:DeadlineScheduler"
# Tests of the real stack shorten every sweep's interval to this many seconds (unset: each sweep's own).
DEADLINE_SWEEP_INTERVAL = env.float("DEADLINE_SWEEP_INTERVAL", default=None)
# PDF rendering has a queue of its own, so that more workers (`-Q pdf`) scale it out without delaying sweeps;
# so do the invoice runs started from admin (`billing`, hours long), which must not hold up either.
CELERY_TASK_ROUTES = {
    "billing.tasks.render_invoice_pdf": {"queue": "pdf"},
    "billing.tasks.run_billing_job": {"queue": "billing"},
}
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.tasks.record_worker_heartbeat", "schedule": 60.0},
    # Last month's bills, issued on the 2nd (the run is idempotent: a rerun bills nothing twice).
    "generate-invoices": {
        "task": "billing.tasks.generate_invoices_task",
        "schedule": crontab(day_of_month="2", hour=5, minute=30),
        "options": {"expires": 6 * 3600},
    },
    # The SdI's receipts of the electronic invoices, from the channel's inbox (billing/einvoice/).
    "import-sdi-receipts": {
        "task": "billing.tasks.import_sdi_receipts",
        "schedule": env.float(
            "SDI_INBOX_INTERVAL", default=300.0
        ),  # seconds; the real-stack tests shorten it
        "options": {"expires": 290},
    },
    "deliver-pending-emails": {
        "task": "portal.notifications.tasks.deliver_pending_emails",
        "schedule": 60.0,
        # The sweep is idempotent: while workers are down, one run catches up, so stale ticks expire.
        "options": {"expires": 55},
    },
}

# The portal's public address, for links in e-mails sent by workers (no request to take it from). The
# default is `make run`'s address, on the port it exports; production must say it (links to 127.0.0.1 in a
# customer's e-mail lead nowhere).
if PRODUCTION:
    PORTAL_BASE_URL = env.str("PORTAL_BASE_URL").rstrip("/")
else:
    PORTAL_BASE_URL = env.str(
        "PORTAL_BASE_URL", default=f"http://127.0.0.1:{env.str('PORT', default='8000')}"
    ).rstrip("/")
# The right-hand side of our Message-IDs: the portal's host unless set.
EMAIL_MESSAGE_ID_DOMAIN = env.str(
    "EMAIL_MESSAGE_ID_DOMAIN", default=urlsplit(PORTAL_BASE_URL).hostname or "localhost"
)

# Card payments in the Area Clienti (billing/online/, django-payments). PAYMENT_VARIANTS is the library's
# {name: [provider class, options]} as JSON, e.g. a Stripe provider with its keys in production; the embedded
# default is the portal's test gateway, so that `make run` and the tests pay with no account anywhere.
# Production has no default: with no PAYMENT_VARIANTS the pay buttons are not shown (billing.selectors), and the
# test gateway, which confirms whatever the visitor clicks, is refused there.
PAYMENT_MODEL = "billing.OnlinePayment"
_TEST_GATEWAY = "billing.online.providers.SignedDummyProvider"
PAYMENT_VARIANTS = env.json("PAYMENT_VARIANTS", default={} if PRODUCTION else {"card": [_TEST_GATEWAY, {}]})
if PRODUCTION and any(provider == _TEST_GATEWAY for provider, _options in PAYMENT_VARIANTS.values()):
    raise ImproperlyConfigured("PAYMENT_VARIANTS: the test gateway confirms any payment; never in production")
# The variant new payments use: the first one configured unless named ("": card payments are off).
PAYMENT_VARIANT = env.str("PAYMENT_VARIANT", default=next(iter(PAYMENT_VARIANTS), ""))
PAYMENT_HOST = urlsplit(PORTAL_BASE_URL).netloc
PAYMENT_USES_SSL = urlsplit(PORTAL_BASE_URL).scheme == "https"
# The provider signs every notification with this secret (HMAC-SHA256, header `t=…,v1=…`): only a signed
# webhook ever marks a payment as paid, never the customer's browser coming back.
if PRODUCTION and PAYMENT_VARIANTS:
    PAYMENTS_WEBHOOK_SECRET = env.str("PAYMENTS_WEBHOOK_SECRET")
elif PRODUCTION:
    PAYMENTS_WEBHOOK_SECRET = ""
else:
    PAYMENTS_WEBHOOK_SECRET = env.str("PAYMENTS_WEBHOOK_SECRET", default="whsec_dev_only_portal_test_gateway")
# A notification signed longer ago than this (seconds) is refused: a captured one cannot be replayed later.
PAYMENTS_WEBHOOK_TOLERANCE = env.int("PAYMENTS_WEBHOOK_TOLERANCE", default=300)

# Time travel in a demo (portal.demo_clock): after `run_deadlines --now X` the pages, admin screens and the
# sweeps beat runs read the clock from X on, as the letters the sweeps sent do. On by default with `make run`'s
# embedded defaults (no DATABASE_URL; `make run` sets it with one too); refused in production, whose clock is
# the real one.
DEMO_CLOCK = env.bool("DEMO_CLOCK", default=not PRODUCTION and not env.str("DATABASE_URL", default=""))
if PRODUCTION and DEMO_CLOCK:
    raise ImproperlyConfigured("DEMO_CLOCK moves the portal's clock for demos: never with DJANGO_ENV=production")

# Days between sending the renewal notice and the 3-months-before-expiry limit: the presumed delivery
# time of a notice (CG 9.3) by default; raise it to send earlier.
CONTRACT_RENEWAL_NOTICE_LEAD_DAYS = env.int("CONTRACT_RENEWAL_NOTICE_LEAD_DAYS", default=10)

# Days past the due date after which an unpaid bill goes into a default notice (costituzione in mora).
DEFAULT_NOTICE_AFTER_DAYS_OVERDUE = env.int("DEFAULT_NOTICE_AFTER_DAYS_OVERDUE", default=10)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every layout step at INFO.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "weasyprint.progress": {"level": "WARNING"}},
}

# The supplier's identity, printed on every page, letter and invoice. Defaults: the supplier's own
# "Assistenza e Reclami" page (shared/seeds/assistenza-e-reclami.txt).
SUPPLIER = {
    "name": env.str("SUPPLIER_NAME", default="Optima Italia S.p.A."),
    "brand": env.str("SUPPLIER_BRAND", default="Optima"),
    "address": env.str("SUPPLIER_ADDRESS", default="Corso Umberto I, 174, 80138 Napoli"),
    "vat_number": env.str("SUPPLIER_VAT_NUMBER", default="IT07469040633"),
    "email": env.str("SUPPLIER_EMAIL", default="servizioclienti@optimaitalia.com"),
    "pec": env.str("SUPPLIER_PEC", default="Optimaitalia@legalmail.it"),
    "phone_private": env.str("SUPPLIER_PHONE_PRIVATE", default="800.913838"),
    "phone_business": env.str("SUPPLIER_PHONE_BUSINESS", default="800.913831"),
    "phone_mobile": env.str("SUPPLIER_PHONE_MOBILE", default="401640"),
    # For bank transfers. Development shows the standard Italian example IBAN; production must set its own.
    "iban": env.str("SUPPLIER_IBAN", default="" if PRODUCTION else "IT60X0542811101000000123456"),
}

# Electronic invoicing (billing/einvoice/, README "Fatturazione elettronica"). The supplier as the FatturaPA's
# CedentePrestatore: its address in parts, its tax regime (RF01 ordinario) and, when configured, its entry in
# the Registro delle Imprese (REA: office province and number). The documents are sent through a channel:
# `folder` (the embedded default) writes them to SDI_OUTBOX, for an intermediary's agent or for inspection;
# `https` uploads each file to SDI_HTTPS_URL (PUT <url>/<file name>, basic auth), the accredited intermediary's
# endpoint. Either way the SdI's receipts are read from SDI_INBOX (the intermediary drops them there).
EINVOICE = {
    "supplier_street": env.str("SUPPLIER_STREET", default="Corso Umberto I"),
    "supplier_street_number": env.str("SUPPLIER_STREET_NUMBER", default="174"),
    "supplier_postcode": env.str("SUPPLIER_POSTCODE", default="80138"),
    "supplier_city": env.str("SUPPLIER_CITY", default="Napoli"),
    "supplier_province": env.str("SUPPLIER_PROVINCE", default="NA"),
    "tax_regime": env.str("SUPPLIER_TAX_REGIME", default="RF01"),
    "rea_office": env.str("SUPPLIER_REA_OFFICE", default=""),
    "rea_number": env.str("SUPPLIER_REA_NUMBER", default=""),
    # Who transmits (IdTrasmittente): the intermediary's tax code when it sends on the supplier's behalf.
    "transmitter_country": env.str("SDI_TRANSMITTER_COUNTRY", default="IT"),
    "transmitter_code": env.str("SDI_TRANSMITTER_CODE", default=""),  # empty: the supplier's own P.IVA
    "channel": env.str("SDI_CHANNEL", default="folder"),
    "outbox": env.str("SDI_OUTBOX", default=str(DATA_DIR / "sdi" / "outbox")),
    "inbox": env.str("SDI_INBOX", default=str(DATA_DIR / "sdi" / "inbox")),
    "https_url": env.str("SDI_HTTPS_URL", default=""),
    "https_user": env.str("SDI_HTTPS_USER", default=""),
    "https_password": env.str("SDI_HTTPS_PASSWORD", default=""),
    "https_timeout": env.float("SDI_HTTPS_TIMEOUT", default=30.0),
    # The PDF courtesy copy inside the XML (Allegati): off by default, it makes every file ~20× larger.
    "attach_pdf": env.bool("SDI_ATTACH_PDF", default=False),
}
