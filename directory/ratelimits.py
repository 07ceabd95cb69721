"""Rate limits for everyone: search and the JSON API per address, API tokens per token.

Applied to whole blueprints (Flask-Limiter's blueprint limits), so no view carries them:

- SEARCH_RATE_LIMIT (default "120 per minute"): the search page and GET /api/v1/practitioners
  together, per address (one count for both: they run the same search).
- API_RATE_LIMIT (default "300 per minute"): every /api/v1 route together, per address.
- API_TOKEN_RATE_LIMIT (default "1200 per minute"): every /api/v1 route together, per API token,
  for requests with a valid `Authorization: Bearer` token, which are then exempt from the two
  per-address limits (many clients of one clinic may share an address; a token is one client).
  An unknown or revoked token counts as no token: rotating made-up tokens gains nothing.

The limits of the forms (sign-in, enquiries, feedback, account changes) stay beside their views.
Health checks, /metrics (the ops blueprint, exempted in directory/ops) and static files are exempt.
A 429 carries Retry-After: the seconds until the window that refused it ends.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, current_app, request
from flask_limiter.util import get_remote_address

from directory.extensions import limiter

DEFAULT_LIMITS = {
    "SEARCH_RATE_LIMIT": "120 per minute",
    "API_RATE_LIMIT": "300 per minute",
    "API_TOKEN_RATE_LIMIT": "1200 per minute",
}
# The routes that run a search for anyone (endpoint names).
SEARCH_ENDPOINTS = frozenset({"public.search", "api.list_practitioners"})
API_BLUEPRINT = "api"
# When a 429 comes without a known window (it should not): one minute.
FALLBACK_RETRY_SECONDS = 60


def configured(name: str):
    """A limit read from the config at request time (tests and operators change it there)."""
    return lambda: current_app.config.get(name) or DEFAULT_LIMITS[name]


def bearer_token_key() -> str | None:
    """The limit key of the request's API token when it is a valid one ("token:<digest>"), else None.

    Looked up through `bearer_user` (cached for the request, so the view does not look again).
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None  # no database query for the usual anonymous request
    from directory.auth import bearer_user
    from directory.models.accounts import hash_token

    if bearer_user() is None:
        return None
    return "token:" + hash_token(token.strip())


def _has_token() -> bool:
    return bearer_token_key() is not None


def _not_a_search_or_has_token() -> bool:
    return request.endpoint not in SEARCH_ENDPOINTS or _has_token()


def _token_key() -> str:
    return bearer_token_key() or "no-token"  # never used: exempt without a token


_applied = False


def apply_limits() -> None:
    """Put the limits on the blueprints (once per process: Flask-Limiter keeps them by blueprint name)."""
    global _applied
    if _applied:
        return
    from directory.api.views import bp as api_bp
    from directory.public.views import bp as public_bp

    search = limiter.shared_limit(
        configured("SEARCH_RATE_LIMIT"),
        scope="search",
        key_func=get_remote_address,
        exempt_when=_not_a_search_or_has_token,
        override_defaults=False,
    )
    search(public_bp)
    search(api_bp)
    limiter.shared_limit(
        configured("API_RATE_LIMIT"),
        scope="api",
        key_func=get_remote_address,
        exempt_when=_has_token,
        override_defaults=False,
    )(api_bp)
    limiter.shared_limit(
        configured("API_TOKEN_RATE_LIMIT"),
        scope="api-token",
        key_func=_token_key,
        exempt_when=lambda: not _has_token(),
        override_defaults=False,
    )(api_bp)
    _applied = True


def add_retry_after(response: Response) -> Response:
    """A 429 without Retry-After gets one: the seconds until the refusing limit's window ends."""
    if response.status_code != 429 or "Retry-After" in response.headers:
        return response
    current = limiter.current_limit if limiter.enabled and limiter.initialized else None
    wait = FALLBACK_RETRY_SECONDS
    if current is not None:
        wait = max(1, math.ceil(current.reset_at - time.time()))
    response.headers["Retry-After"] = str(wait)
    return response


def init_app(app: Flask) -> None:
    """Check the configured limits now (a typo stops the start), put them on, add Retry-After to 429s."""
    from limits import parse_many

    for name, default in DEFAULT_LIMITS.items():
        value = app.config[name] = str(app.config.get(name) or "").strip() or default
        try:
            parse_many(value)
        except ValueError:
            raise RuntimeError(
                f'{name} must be a rate limit such as "{default}" or "10 per second; 500 per hour", not {value!r}'
            ) from None
    apply_limits()
    app.after_request(add_retry_after)
