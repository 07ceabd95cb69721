"""Security headers on every response, and the request id used in logs and error pages."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https://*.tile.openstreetmap.org; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# A request id from a proxy is kept only when it is short and plain, so it can never
# forge a log line or carry markup into the error page.
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# The largest id an INTEGER column holds (PostgreSQL's int4): ids beyond it are "not found".
MAX_DB_ID = 2**31 - 1
# Pages and API answers for a signed-in caller may hold private details: never cache them.
PRIVATE_MIMETYPES = {"text/html", "application/json", "application/fhir+json"}


def assign_request_id() -> None:
    """Give the request an id (the proxy's X-Request-ID when it is safe)."""
    offered = request.headers.get("X-Request-ID", "")
    g.request_id = offered if REQUEST_ID_RE.match(offered) else uuid.uuid4().hex[:16]


NUL_MESSAGE = "The input contains a NUL character (\\0), which is not allowed."
# JSON the site accepts is a few levels deep; a deeper body is refused before anything parses
# it (Python's json module recurses, and fails at about 1,000 levels).
MAX_JSON_DEPTH = 32
DEEP_JSON_MESSAGE = f"The JSON body is nested too deeply (more than {MAX_JSON_DEPTH} levels)."
# A JSON string (skipped whole, brackets inside it do not count) or one bracket.
JSON_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays and objects in a JSON text nest deeper than `limit`, found without parsing."""
    depth = 0
    for match in JSON_STRING_OR_BRACKET.finditer(body):
        char = match.group()
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth -= 1
    return False


def _sends_json() -> bool:
    """True when the body is JSON by its type (application/json or any +json type)."""
    return request.is_json or "json" in (request.mimetype or "")


def refuse_deep_json() -> None:
    """400 for a JSON body nested deeper than MAX_JSON_DEPTH, before any code parses it."""
    from flask import abort

    if _sends_json() and json_depth_exceeds(request.get_data(cache=True)):
        abort(400, DEEP_JSON_MESSAGE)


def _holds_nul(value) -> bool:
    """True when a string anywhere in a (JSON-like) value holds a NUL character."""
    pending = [value]
    while pending:  # a loop, not recursion: nesting depth costs no stack
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def refuse_nul_characters() -> None:
    """400 for any query string, form or JSON value with a NUL character.

    No text a person sends contains one, and PostgreSQL refuses to store or compare it (a 500
    deep inside whatever view got it): one check here covers every route.
    """
    from flask import abort

    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        abort(400, NUL_MESSAGE)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if any("\x00" in key or "\x00" in value for key, value in request.form.items(multi=True)):
            abort(400, NUL_MESSAGE)
    elif request.is_json and _holds_nul(request.get_json(silent=True)):
        abort(400, NUL_MESSAGE)


def _caller_is_known() -> bool:
    """True when the response may hold something only this caller should see."""
    if g.get("api_user") is not None:
        return True
    return bool(getattr(current_user, "is_authenticated", False))


OSM_TILES = "https://*.tile.openstreetmap.org"
TILE_HOST_RE = re.compile(r"^[A-Za-z0-9*.-]+(:[0-9]+)?$")


def content_security_policy() -> str:
    """The policy; map tiles may come from MAP_TILE_URL's host ({s} becomes *) instead of OpenStreetMap's."""
    tiles = urlsplit(current_app.config.get("MAP_TILE_URL") or "")
    host = tiles.netloc.replace("{s}", "*")
    if tiles.scheme in {"http", "https"} and TILE_HOST_RE.match(host):
        return CSP.replace(OSM_TILES, f"{tiles.scheme}://{host}")
    return CSP


def set_security_headers(response):
    """Content-Security-Policy without inline scripts, nosniff, referrer policy, no framing."""
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
    if "request_id" in g:
        response.headers.setdefault("X-Request-ID", g.request_id)
    if current_app.config.get("PREFERRED_URL_SCHEME") == "https":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if response.mimetype in PRIVATE_MIMETYPES and "Cache-Control" not in response.headers and _caller_is_known():
        response.headers["Cache-Control"] = "no-store, private"
    return response


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in a URL, bounded to what an INTEGER column holds.

    A larger number would overflow the database driver (a 500); now it simply matches
    no route (a 404), on every route at once.
    """

    def __init__(self, map, *args, **kwargs):  # noqa: A002  (werkzeug's signature)
        kwargs.setdefault("max", MAX_DB_ID)
        super().__init__(map, *args, **kwargs)


def register_converters(app: Flask) -> None:
    """Install the bounded integer converter; call before any blueprint is registered."""
    app.url_map.converters["int"] = DatabaseIdConverter
