"""Log lines: one JSON object per line in production, plain text in development, and one line per request.

The request line names the query parameters but never their values: a search for a
condition near a postal code is health information about the person searching.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime

from flask import Flask, Response, g, request

# Load balancers ask these every few seconds; a line each would drown the log.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# What a log record carries anyway; anything else passed in `extra` becomes a JSON field.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
request_log = logging.getLogger("directory.requests")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, process id, message, the record's extra fields, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON."""
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class _OpsHandler(logging.StreamHandler):
    """The root handler this module installs (so that installing it twice replaces it)."""


def configure_logging(log_format: str, stream=None) -> logging.Handler:
    """Send every logger's records to stderr (or `stream`) in `log_format` ("json" or "text")."""
    root = logging.getLogger()
    handler = _OpsHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(PLAIN_FORMAT))
    # Replace the handlers a plain logging.basicConfig (or an earlier app) installed.
    for old in list(root.handlers):
        if isinstance(old, _OpsHandler) or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler


def loggable_path(path: str, query_names: list[str]) -> str:
    """The path with the names of its query parameters only: "/search?condition&near"."""
    names = list(dict.fromkeys(query_names))  # each name once, in order
    return path + ("?" + "&".join(names) if names else "")


def _start_clock() -> None:
    """Note when the request started (for its duration in the log line)."""
    g.request_started = time.perf_counter()


def _caller_id() -> int | None:
    """The signed-in user's or API token owner's id, when the request identified them (never loads a user)."""
    user = g.get("_login_user") or g.get("api_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return getattr(user, "id", None)
    return None


def _log_request(response: Response) -> Response:
    """Write the request's line: id, method, path without query values, status, duration, user."""
    if request.path in QUIET_PATHS:
        return response
    started = g.get("request_started")
    fields = {
        "request_id": g.get("request_id"),
        "method": request.method,
        "path": loggable_path(request.path, list(request.args.keys())),
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
        "user_id": _caller_id(),
    }
    message = "{method} {path} {status} {duration_ms}ms id={request_id} user={user_id}".format(**fields)
    request_log.info(message, extra=fields)
    return response


def init_app(app: Flask) -> None:
    """Log every request in one line; outside tests and the debugger, also set the log format."""
    # First of the before_request hooks, so that a request refused by one of them is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_clock)
    app.after_request(_log_request)
    if not app.testing and not app.debug:
        configure_logging(app.config.get("LOG_FORMAT", "text"))
