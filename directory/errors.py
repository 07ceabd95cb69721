"""Error pages in the site's look, and JSON errors for the API."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


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
    return render_template("errors/error.html", status=status, message=message), status


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
        return error_response(error.code or 500, message)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("Unhandled error, request id %s", g.get("request_id", "-"))
        return error_response(500, f"Something went wrong on our side. Reference: {g.get('request_id', '-')}")
