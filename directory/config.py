"""Settings read from the environment, with safe development defaults.

Each kind of value has one parser (`_bool`, `_int`, `_float`, `_site_url`): a value it cannot
read stops the start with the setting's name, instead of a traceback or a silent default.
"""

import hashlib
import ipaddress
import math
import os
from urllib.parse import urlsplit

from flask.helpers import get_debug_flag

DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105  (refused in production)
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}
OSM_TILE_URL = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


def _bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable ("1/true/yes/on" or "0/false/no/off"); unset or empty is the default."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise RuntimeError(f"{name} must be one of 1, true, yes, on, 0, false, no, off, not {value!r}")


def _int(name: str, default: int, maximum: int | None = None, minimum: int = 0) -> int:
    """Read a whole-number environment variable, refusing anything else at start-up."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}") from None
    if number < 0:
        raise RuntimeError(f"{name} must not be negative")
    if number < minimum:
        raise RuntimeError(f"{name} must be at least {minimum}, not {number}")
    if maximum is not None and number > maximum:
        raise RuntimeError(f"{name} must be at most {maximum}, not {number}")
    return number


def _float(name: str, default: float, positive: bool = False) -> float:
    """Read a number of seconds (decimals allowed), refusing anything else at start-up."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise RuntimeError(f"{name} must be a number that is not negative, not {value!r}")
    if positive and number == 0:
        raise RuntimeError(f"{name} must be more than 0")
    return number


def _choice(name: str, choices: set[str], default: str) -> str:
    """Read one word out of a fixed set (case-insensitive); unset or empty is the default."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in choices:
        raise RuntimeError(f"{name} must be one of {', '.join(sorted(choices))}, not {value!r}")
    return value


def log_format(env: str) -> str:
    """LOG_FORMAT: "json" (one object per line, the default in production) or "text" (the default otherwise)."""
    return _choice("LOG_FORMAT", {"json", "text"}, "json" if env == "production" else "text")


def parse_networks(name: str, value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Read a comma-separated list of addresses or networks ("127.0.0.1, ::1, 10.0.0.0/8")."""
    networks = []
    for item in value.split(","):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise RuntimeError(
                f"{name} must list IP addresses or networks separated by commas, not {item.strip()!r}"
            ) from None
    return tuple(networks)


def _site_url(name: str, default: str) -> str:
    """Read the site's public address (http or https, a host, an optional path prefix)."""
    value = os.environ.get(name, "").strip() or default
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise RuntimeError(f"{name} must look like https://cst.example.org (or with a path prefix), not {value!r}")
    return value.rstrip("/")


def from_environment(instance_path: str) -> dict:
    """Return the configuration mapping built from environment variables."""
    env = os.environ.get("FLASK_ENV", os.environ.get("APP_ENV", "development"))
    database_url = os.environ.get("DATABASE_URL") or "sqlite:///" + os.path.join(instance_path, "directory.sqlite")
    # Heroku-style URLs name the old driver; SQLAlchemy 2 wants an explicit one.
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    scheme = os.environ.get("PREFERRED_URL_SCHEME", "http")
    return {
        "ENV_NAME": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PREFERRED_URL_SCHEME": scheme,
        "SESSION_COOKIE_SECURE": scheme == "https",
        "REMEMBER_COOKIE_SECURE": scheme == "https",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "BOOTSTRAP_SERVE_LOCAL": True,
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 6 * 1024 * 1024, minimum=1),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", os.path.join(instance_path, "uploads")),
        # Geocoding: "offline" (bundled gazetteer, the default) or "nominatim".
        "GEOCODER": os.environ.get("GEOCODER", "offline"),
        "GEOCODER_USER_AGENT": os.environ.get("GEOCODER_USER_AGENT", ""),
        "GEOCODER_MIN_DELAY_SECONDS": _float("GEOCODER_MIN_DELAY_SECONDS", 1.0),
        # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host (0: none,
        # and those headers are ignored).
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # Search: counting stops past this many practitioners ("more than 1,000").
        "SEARCH_COUNT_LIMIT": _int("SEARCH_COUNT_LIMIT", 1000),
        # The search results map: tile URL template ({s}, {z}, {x}, {y}) and its attribution (HTML).
        # OpenStreetMap's tiles are for light use only: heavy use needs a tile server of your own.
        "MAP_TILE_URL": os.environ.get("MAP_TILE_URL", "").strip() or OSM_TILE_URL,
        "MAP_ATTRIBUTION": os.environ.get("MAP_ATTRIBUTION", "").strip() or OSM_ATTRIBUTION,
        # Mail: no MAIL_SERVER means messages are written to the log.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 25, minimum=1, maximum=65535),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "CST Directory <no-reply@localhost>"),
        "MAIL_TIMEOUT": _float("MAIL_TIMEOUT", 10.0, positive=True),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        # The site's public address: the base of every absolute link (mail.site_url).
        "SERVER_NAME_FOR_EMAIL": _site_url("SITE_URL", "http://127.0.0.1:5000"),
        # Patient enquiry spam protection: minimum seconds between showing and sending the
        # form, and the rate limit per address (Flask-Limiter syntax).
        "ENQUIRY_MIN_SECONDS": _float("ENQUIRY_MIN_SECONDS", 3.0),
        "ENQUIRY_RATE_LIMIT": os.environ.get("ENQUIRY_RATE_LIMIT", "5 per hour"),
        "FEEDBACK_RATE_LIMIT": os.environ.get("FEEDBACK_RATE_LIMIT", "5 per hour"),
        # Search and API limits (directory/ratelimits.py, where the defaults are): empty means the default.
        "SEARCH_RATE_LIMIT": os.environ.get("SEARCH_RATE_LIMIT", "").strip(),
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "").strip(),
        "API_TOKEN_RATE_LIMIT": os.environ.get("API_TOKEN_RATE_LIMIT", "").strip(),
        "LANGUAGE_LIST_SECONDS": _int("LANGUAGE_LIST_SECONDS", 300),
        # The search page is kept rendered this many seconds (public/page_cache.py; 0: off), in
        # Redis when CACHE_REDIS_URL is set (every process and machine shares it), else in files
        # under CACHE_DIR (the processes of one machine share them).
        "SEARCH_PAGE_CACHE_SECONDS": _int("SEARCH_PAGE_CACHE_SECONDS", 60),
        "CACHE_REDIS_URL": os.environ.get("CACHE_REDIS_URL", "").strip(),
        "CACHE_DIR": os.environ.get("CACHE_DIR", "").strip() or os.path.join(instance_path, "cache"),
        # Webhooks (directory/webhooks): http and private/loopback endpoint addresses only outside
        # production (or when asked), the per-delivery timeout, and attempts before giving up.
        "WEBHOOK_ALLOW_PRIVATE": _bool("WEBHOOK_ALLOW_PRIVATE", env != "production"),
        "WEBHOOK_TIMEOUT": _float("WEBHOOK_TIMEOUT", 10.0, positive=True),
        "WEBHOOK_MAX_ATTEMPTS": _int("WEBHOOK_MAX_ATTEMPTS", 60, minimum=1),
        # Operations (directory/ops): log lines as JSON objects or plain text, and who may read /metrics.
        "LOG_FORMAT": log_format(env),
        "METRICS_ALLOW": os.environ.get("METRICS_ALLOW", "").strip() or "127.0.0.1,::1",
    }


MIN_SECRET_KEY_LENGTH = 16
# Keys people copy from examples: never accepted in production.
KNOWN_WEAK_KEYS = {DEV_SECRET_KEY, "dev", "secret", "changeme", "change-me", "please-change-me"}


def apply_derived(config: dict) -> None:
    """Settings that follow from others, after instance and test overrides were merged."""
    if config.get("PREFERRED_URL_SCHEME") == "https":
        # Behind HTTPS every cookie is Secure; over plain HTTP they could not be sent back.
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    for name in ("SESSION_COOKIE_SAMESITE", "REMEMBER_COOKIE_SAMESITE"):
        if config.get(name) not in {"Lax", "Strict"}:
            config[name] = "Lax"
    if not config.get("CACHE_TYPE"):
        # Flask-Caching's store: Redis when named; in memory for tests (each app its own); else files.
        if config.get("CACHE_REDIS_URL"):
            config["CACHE_TYPE"] = "RedisCache"
        elif config.get("TESTING"):
            config["CACHE_TYPE"] = "SimpleCache"
        else:
            config["CACHE_TYPE"] = "FileSystemCache"
    config.setdefault("CACHE_THRESHOLD", 2000)  # at most this many kept pages in files or memory
    # Sites on different databases never share kept pages, even in one Redis or one folder:
    # a key prefix per database, and (the file store ignores prefixes) a folder per database.
    database = hashlib.sha256(str(config.get("SQLALCHEMY_DATABASE_URI", "")).encode()).hexdigest()[:12]
    config.setdefault("CACHE_KEY_PREFIX", f"cst-{database}:")
    if config["CACHE_TYPE"] == "FileSystemCache" and config.get("CACHE_DIR"):
        config["CACHE_DIR"] = os.path.join(config["CACHE_DIR"], database)


def check_production(config: dict) -> None:
    """Refuse to run in production with a missing, default or short secret key, or with the debugger."""
    if config.get("ENV_NAME") != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if not isinstance(key, str) or key.strip().lower() in KNOWN_WEAK_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            "SECRET_KEY must be set to a long random value when FLASK_ENV=production "
            '(for example: python -c "import secrets; print(secrets.token_hex(32))")'
        )
    # `flask run --debug` turns the interactive debugger on after the factory ran: refuse early.
    # FLASK_DEBUG is read as Flask reads it (anything but empty, 0, false, no turns it on).
    if config.get("DEBUG") or get_debug_flag():
        raise RuntimeError("The debugger must be off when FLASK_ENV=production (unset FLASK_DEBUG and DEBUG)")
    config["DEBUG"] = False
    config["PROPAGATE_EXCEPTIONS"] = False
