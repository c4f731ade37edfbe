"""Settings for CloudSignal Dashboard, read from the environment.

Every variable, its default and its meaning is listed in README.md ("Configuration").
``CLOUDSIGNAL_ENV`` picks the profile:

- ``development`` (default): SQLite under ``var/``, secrets generated into ``var/`` on
  first run, an embedded Celery transport that needs no server.
- ``production``: every secret must be given; cookies are secure and HTTPS is enforced.

Values are parsed strictly by django-environ: a malformed boolean or URL stops start-up
with a message instead of silently becoming a default.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A boolean variable, strictly: a typo such as DEBUG=ture is an error, not False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), not {raw!r}.")


CLOUDSIGNAL_ENV = env.str("CLOUDSIGNAL_ENV", default="development")
if CLOUDSIGNAL_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"CLOUDSIGNAL_ENV must be 'development' or 'production', not {CLOUDSIGNAL_ENV!r}."
    )
PRODUCTION = CLOUDSIGNAL_ENV == "production"

# Runtime state of a development install (SQLite files, generated secrets, certificates).
VAR_DIR = Path(env.str("CLOUDSIGNAL_VAR_DIR", default=str(BASE_DIR / "var")))


# A guessable key would let anyone forge what it protects: sessions (SECRET_KEY), digests of
# every MQTT secret and token (SECRETS_PEPPER), the broker's access to the hook API.
MIN_SECRET_LENGTH = {"SECRET_KEY": 50, "SECRETS_PEPPER": 32, "BROKER_HOOK_SECRET": 32}


def _secret_from_env_or_var(name: str) -> str:
    """Return the secret ``name``: from the environment, or in development a file in var/.

    Production refuses to start without it: a secret generated on one web process would
    differ from the next one's and silently break sessions and credential checks.
    """
    value = env.str(name, default="")
    if value:
        if PRODUCTION and (len(value) < MIN_SECRET_LENGTH[name] or len(set(value)) < 10):
            raise ImproperlyConfigured(
                f"{name} is too short or too repetitive for production: use at least "
                f"{MIN_SECRET_LENGTH[name]} random characters, e.g. "
                f"python -c 'import secrets; print(secrets.token_urlsafe(50))'"
            )
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(
            f"{name} must be set in production (CLOUDSIGNAL_ENV=production). "
            f"Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    path = VAR_DIR / name.lower()
    if not path.exists():
        VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_from_env_or_var("SECRET_KEY")
# What the broker presents on the hook API (Authorization: Bearer ...), DESIGN §6.
BROKER_HOOK_SECRET = _secret_from_env_or_var("BROKER_HOOK_SECRET")
# Key of the HMAC-SHA256 digests of MQTT secrets, tokens and API keys (DESIGN §5).
SECRETS_PEPPER = _secret_from_env_or_var("SECRETS_PEPPER")

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production, e.g. dashboard.example.com")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "core.pages.csrf_failure"


def _bound_port(variable: str, default: int) -> int:
    """The port of a broker listener variable (MQTTS_BIND=0.0.0.0:8883), as runbroker reads it."""
    bind = env.str(variable, default="")
    port = bind.rpartition(":")[2]
    return int(port) if port.isdigit() else default


# Public MQTT endpoints shown to admins in the Overview and in connection snippets; by
# default the ports the broker of this configuration listens on (MQTTS_BIND, WSS_BIND).
MQTT_PUBLIC_TLS_URL = env.str(
    "MQTT_PUBLIC_TLS_URL", default=f"mqtts://localhost:{_bound_port('MQTTS_BIND', 8883)}"
)
MQTT_PUBLIC_WSS_URL = env.str(
    "MQTT_PUBLIC_WSS_URL", default=f"wss://localhost:{_bound_port('WSS_BIND', 18885)}/"
)

# The CA certificate clients need to trust the broker's TLS listeners (a public file, offered
# for download on the Overview); empty when the broker's certificate is from a public CA.
# By default outside production: the development broker's own CA (make run creates it).
MQTT_CA_FILE = env.str("MQTT_CA_FILE", default="" if PRODUCTION else str(VAR_DIR / "tls" / "ca.pem"))

# Shortest lifetime a temporary token may be minted with, in seconds.
TOKEN_MIN_TTL = env.int("TOKEN_MIN_TTL", default=60)
# Temporary tokens minted per API key (a `limits` rate string, e.g. "600/minute").
TOKEN_MINT_RATE_LIMIT = env.str("TOKEN_MINT_RATE_LIMIT", default="600/minute")
# Largest request body accepted (bytes); larger ones get 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# Whether anyone may create an account (and its first org) at /accounts/signup/.
SIGNUP_ENABLED = env_bool("SIGNUP_ENABLED", True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # the account sessions page (allauth.usersessions)
    "django_htmx",
    "template_partials",
    "ninja",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",  # single sign-on per org (orgs.sso, accounts.sso_adapter)
    "allauth.socialaccount.providers.openid_connect",
    "core",  # no models: its template tags (durations)
    "accounts",
    "orgs",
    "users",
    "acls",
    "audit",
    "sessions",
    "detection",
    "broker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.RejectControlCharactersMiddleware",
    # The broker's hook API answers here, before the dashboard's cookie-based layers.
    "broker.views.BrokerHookMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A Content-Security-Policy on every response (below): scripts from this origin only.
    "csp.middleware.CSPMiddleware",
    # Tenancy: resolves /o/<org_id>/ to the org and the caller's role, before any view.
    "orgs.tenancy.TenancyMiddleware",
    # Axes last, as its documentation asks: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

# No inline script, no eval, no inline style, nothing from another origin: data that reached
# a page (a client id, a key name, an email) can never run as script. The pages hang their
# behaviour off data attributes in static/js/app.js; htmx runs with allowEval off.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Where the dashboard may send what an org configures (the alert webhook): https only in
# production; never to loopback, private, link-local (cloud metadata), multicast or reserved
# addresses, except the networks listed here (a receiver on the operator's own network).
EGRESS_HTTPS_ONLY = env_bool("EGRESS_HTTPS_ONLY", PRODUCTION)
EGRESS_ALLOWED_NETWORKS = env.list("EGRESS_ALLOWED_NETWORKS", default=[])

# The REST API's list endpoints: at most this many items a page (a larger limit is a 422).
NINJA_PAGINATION_MAX_LIMIT = 1000

ROOT_URLCONF = "cloudsignal_dashboard.urls"

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
                "orgs.context_processors.tenancy",
                "accounts.context_processors.accounts",
            ],
        },
    },
]

WSGI_APPLICATION = "cloudsignal_dashboard.wsgi.application"
ASGI_APPLICATION = "cloudsignal_dashboard.asgi.application"

# --- Database -------------------------------------------------------------------------
# PostgreSQL (psycopg 3) in tests and production: postgres://user:pass@host:5432/name.
# The default SQLite file is for the zero-set-up `make run` only.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cloudsignal.sqlite3'}"),
}

# PostgreSQL: the role the dashboard's processes should connect as (DATABASE_URL), which the
# migrations grant everything the code needs except changing the audit log (audit 0009);
# migrations themselves run as the tables' owner. Granted only if the role exists.
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="cloudsignal_app")

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not PRODUCTION:
    # make run's database, secrets and task queue live under var/: readable by this account
    # only (the database holds every digest and the audit log).
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    VAR_DIR.chmod(0o700)
    for _file in VAR_DIR.glob("*.sqlite3"):
        _file.chmod(0o600)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks instead of failing, and take the
    # write lock at BEGIN so two writers never deadlock on an upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    # Off by default (Django's default): the check is a round trip before every request, a
    # quarter of a broker authn under load; a connection that failed is closed at the end
    # of its request anyway, so a database restart costs one failed request per thread.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", False)
    # The hot paths' plain queries (``rawsql.fetchone``) are prepared once per connection;
    # the ORM's queries stay unprepared (client-side binding). Turn off behind a pooler in
    # transaction mode, where a prepared statement does not follow the session.
    if env_bool("DB_PREPARED_STATEMENTS", True):
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker -----------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cloudsignal",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# With Redis, the broker's authentication events are queued there and written in batches
# by the Celery worker every second (audit.writer). True adds a draining thread to each web
# process, for a deployment without a worker (and the end-to-end tests).
AUDIT_DRAIN_THREAD = env_bool("AUDIT_DRAIN_THREAD", False)

# --- Celery ---------------------------------------------------------------------------
# Without Redis, kombu's SQLAlchemy transport on a SQLite file under var/ carries tasks
# between processes: a real queue with countdowns, needing no server.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL",
    default=REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}",
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Token expiry jobs wait up to 24 h for their ETA. On Redis a task unacknowledged for
# longer than the visibility timeout is redelivered; the jobs are idempotent, and the
# per-minute sweep catches any that are lost, so the default is kept.
# Only unit tests may run tasks eagerly; see tests' settings overrides.
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Every periodic job, in one place.
CELERY_BEAT_SCHEDULE = {
    "sweep-expired-tokens": {"task": "users.tasks.sweep_expired_tokens", "schedule": 60.0},
    "scan-anomalies": {"task": "detection.tasks.scan_anomalies", "schedule": 60.0},
    "purge-expired-audit-events": {"task": "audit.tasks.purge_expired_audit_events", "schedule": 3600.0},
    # Keeps each intact head in AuditVerifiedHead: a later rollback below it is found.
    "verify-audit-chains": {"task": "audit.tasks.verify_all_chains", "schedule": 86400.0},
    "clear-expired-dashboard-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": 3600.0,
    },
}
if REDIS_URL:  # without Redis the broker's auth events are written at once: nothing queues
    # Every second, by the worker (audit.writer): a drain that missed its second is dropped,
    # the next one takes what it would have (no pile of them behind a stopped worker).
    CELERY_BEAT_SCHEDULE["drain-audit-queue"] = {
        "task": "audit.tasks.drain_audit_queue",
        "schedule": 1.0,
        "options": {"expires": 5},
    }

# --- Authentication -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out caller before a password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # django-allauth's: sign-in by email (verified before it can be used, below).
    "allauth.account.auth_backends.AuthenticationBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# Accounts (django-allauth): an email is the login, verified before the account can sign in;
# no page or message says whether an email has an account (a mail goes to it instead).
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.signup.SignupOrgForm"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # a mail scanner opening the link confirms nothing
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 1
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False  # this device stays; the others are signed out
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[CloudSignal] "
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("ACCOUNT_REAUTHENTICATION_TIMEOUT", default=300)
# allauth's own limits beside the sign-in throttles below (sign-ups per address, mails sent).
ACCOUNT_RATE_LIMITS = {
    "signup": env.str("SIGNUP_RATE", default="5/h/ip"),
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "login_failed": False,  # counted by django-axes and accounts.throttle instead
    "reauthenticate": "10/m/user",
}
ACCOUNT_FORMS = {  # allauth's forms in the dashboard's style
    "login": "accounts.forms.LoginForm",
    "signup": "accounts.forms.SignupForm",
    "reset_password": "accounts.forms.ResetPasswordForm",
    "reset_password_from_key": "accounts.forms.ResetPasswordKeyForm",
    "change_password": "accounts.forms.ChangePasswordForm",
    "set_password": "accounts.forms.SetPasswordForm",
    "reauthenticate": "accounts.forms.ReauthenticateForm",
    "add_email": "accounts.forms.AddEmailForm",
}
# Second factors (django-allauth MFA): an authenticator app (TOTP, RFC 6238) with recovery
# codes, and security keys or passkeys (WebAuthn). Sensitive actions ask for the password
# or a factor again after ACCOUNT_REAUTHENTICATION_TIMEOUT (core.sudo).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "CloudSignal"
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", DEBUG)
MFA_FORMS = {
    "authenticate": "accounts.forms.AuthenticateForm",
    "reauthenticate": "accounts.forms.ReauthenticateMFAForm",
    "activate_totp": "accounts.forms.ActivateTOTPForm",
    "deactivate_totp": "accounts.forms.DeactivateTOTPForm",
}
# An EMQX cluster instead of the embedded broker: the relay (manage.py emqx_relay) applies the
# revocation feed through EMQX's REST API; /readyz reports how far behind it is.
EMQX_API_URL = env.str("EMQX_API_URL", default="")
EMQX_API_KEY = env.str("EMQX_API_KEY", default="")
EMQX_API_SECRET = env.str("EMQX_API_SECRET", default="")
EMQX_RELAY_POLL_SECONDS = env.float("EMQX_RELAY_POLL_SECONDS", default=0.1)
EMQX_RELAY_MAX_LAG_SECONDS = env.float("EMQX_RELAY_MAX_LAG_SECONDS", default=30.0)
# Single sign-on per org through OpenID Connect (orgs.sso): the providers are built from
# each org's configuration (accounts.sso_adapter), never listed, never linked by email alone.
SOCIALACCOUNT_ADAPTER = "accounts.sso_adapter.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"  # the IdP's email_verified claim is required instead
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"OAUTH_PKCE_ENABLED": True}}
# A person's sessions (devices, last seen), each of which they can end.
USERSESSIONS_TRACK_ACTIVITY = True
# How long an invitation's link works.
INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)
# Mail: SMTP when EMAIL_HOST is set; otherwise each mail is a file in var/mail/ (make run).
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = BASE_DIR / "var" / "mail"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CloudSignal <no-reply@cloudsignal.invalid>")

# Login throttling (django-axes): lock an email+address pair after this many failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"  # allauth's sign-in field
# "viCtim@x" is the same account as "victim@x" for every throttle.
AXES_USERNAME_CALLABLE = "accounts.throttle.normal_username"
# The client's address (core.client_ip) for the throttle and the audit log:
# behind TRUSTED_PROXY_COUNT reverse proxies, each appending to X-Forwarded-For, the entry
# that many places from the right; 0 (no proxy): the socket's address, the header ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.client_ip.client_ip"
# Beside the (account, address) lock: failures one address may make across all accounts,
# and one account may take from all addresses (`limits` rate strings).
LOGIN_FAILURES_PER_ADDRESS = env.str("LOGIN_FAILURES_PER_ADDRESS", default="30/15minutes")
LOGIN_FAILURES_PER_ACCOUNT = env.str("LOGIN_FAILURES_PER_ACCOUNT", default="100/hour")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"  # says how long, in the person's words
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# --- Internationalization -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
# Development serves static files straight from the finders (no collectstatic step);
# production serves the hashed, compressed copies that collectstatic wrote to STATIC_ROOT.
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load-balancer probes speak plain HTTP; a broker on a private network may too (add
    # r"^broker/v1/" here only if that network is trusted: the hook secret travels with it).
    SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[r"^healthz$", r"^readyz$"])
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (the usual deployment).
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging: to stderr; secrets never reach it (they are not passed to loggers). -----
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
