"""Error pages in the site's look, and JSON errors for the API."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}


def wants_json() -> bool:
    """API paths, and clients that prefer JSON, get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str):
    """Answer an error as JSON or as a page, as the client asks."""
    if wants_json():
        response = jsonify(error=message)
        response.status_code = status
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    try:
        return render_template("errors/error.html", status=status, message=message), status
    except Exception:  # the page itself failed (say, the database is down): plain text still answers
        log.exception("The error page could not be rendered, request id %s", g.get("request_id", "-"))
        return Response(message, status=status, mimetype="text/plain")


def _rollback() -> None:
    """End a failed database transaction, so the error page (and the next request) can use it."""
    from directory.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection itself is gone: nothing to roll back
        log.warning("Rollback after an error failed, request id %s", g.get("request_id", "-"))


def register(app: Flask) -> None:
    """Install the handlers."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(400, "The form expired or was sent from elsewhere. Please go back, reload and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        messages = {
            401: "Please sign in (or send an API token).",
            403: "You are not allowed to do that.",
            404: "We could not find that page.",
            405: "That method is not allowed here.",
            413: "That upload is too large.",
            429: "Too many attempts. Please wait a little and try again.",
        }
        message = error.description if isinstance(error.description, str) and error.code == 400 else None
        message = message or messages.get(error.code or 500, error.name)
        response = error_response(error.code or 500, message)
        # Keep what the client needs to act on: Allow on 405, Retry-After on 429, ...
        response = make_response(response)
        for name, value in error.get_headers():
            if name.lower() in KEPT_HEADERS:
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        # Only the method and the path: query strings and bodies may hold personal details.
        log.exception("Unhandled error, request id %s: %s %s", g.get("request_id", "-"), request.method, request.path)
        _rollback()
        return error_response(500, f"Something went wrong on our side. Reference: {g.get('request_id', '-')}")
