"""Hardening: security headers, cookies, production settings, errors with a request id."""

from __future__ import annotations

import logging

import pytest
from flask import session

from directory import create_app
from directory.config import DEV_SECRET_KEY
from directory.extensions import db
from tests.conftest import base_config

PAGES = ["/", "/search?near=80302", "/about/choosing-a-practitioner", "/no-such-page", "/api/v1/conditions"]


def _app_with(database_url, tmp_path, **overrides):
    """A fresh app on the test database with a few settings changed."""
    return create_app({**base_config(database_url, str(tmp_path)), **overrides})


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in development


def test_static_files_carry_the_security_headers_too(client):
    response = client.get("/static/js/app.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers


def test_pages_hold_no_inline_script_or_style(client):
    from tests.factories import PractitionerFactory

    p = PractitionerFactory(conditions=["tmj"])
    for path in ["/", "/search?near=80302&radius=25&unit=mi", f"/practitioners/{p.id}", "/nope"]:
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html and " onclick=" not in html, path


def _session_cookie_app(database_url, tmp_path, **overrides):
    app = _app_with(database_url, tmp_path, **overrides)

    @app.get("/_test/remember-me")
    def remember():
        session["seen"] = True
        return "ok"

    return app


def test_session_cookie_is_httponly_and_samesite_lax(database_url, tmp_path):
    app = _session_cookie_app(database_url, tmp_path)
    cookie = app.test_client().get("/_test/remember-me").headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_https_deployment_turns_on_hsts_and_secure_cookies(database_url, tmp_path):
    app = _session_cookie_app(database_url, tmp_path, PREFERRED_URL_SCHEME="https")
    response = app.test_client().get("/_test/remember-me", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_https_setting_from_the_environment_makes_cookies_secure(monkeypatch, tmp_path):
    monkeypatch.setenv("PREFERRED_URL_SCHEME", "https")
    from directory.config import apply_derived, from_environment

    config = from_environment(str(tmp_path))
    apply_derived(config)
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    """FLASK_ENV=production with a throwaway database; each test sets SECRET_KEY itself."""
    monkeypatch.setenv("FLASK_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "prod.sqlite"))
    monkeypatch.setenv("UPLOAD_FOLDER", str(tmp_path / "uploads"))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    return monkeypatch


@pytest.mark.parametrize("key", [None, "", DEV_SECRET_KEY, "short-key", "changeme"])
def test_production_refuses_to_start_without_a_real_secret_key(production_env, key):
    if key is not None:
        production_env.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()


def test_production_refuses_the_debugger(production_env):
    production_env.setenv("SECRET_KEY", "a" * 48)
    production_env.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="debugger"):
        create_app()


def test_production_starts_with_a_long_random_key_and_no_debugger(production_env):
    production_env.setenv("SECRET_KEY", "0f3c9b1e7d2a4c6b8e0f1a3c5e7b9d1f2a4c6e8b")
    app = create_app()
    assert app.debug is False
    assert app.config["PROPAGATE_EXCEPTIONS"] is False


@pytest.fixture
def failing_app(database_url, tmp_path):
    """The real app plus a route that raises, as a bug would."""
    app = _app_with(database_url, tmp_path)

    @app.get("/_test/boom")
    def boom():
        raise ZeroDivisionError("a bug")

    @app.get("/api/v1/_test/boom")
    def api_boom():
        raise ZeroDivisionError("a bug in the API")

    with app.app_context():
        yield app
        db.session.remove()


def test_an_unexpected_error_shows_a_page_with_the_request_id_that_is_in_the_log(failing_app, caplog):
    caplog.set_level(logging.ERROR, logger="directory.errors")
    response = failing_app.test_client().get("/_test/boom?secret=patient-name")
    html = response.get_data(as_text=True)
    request_id = response.headers["X-Request-ID"]
    assert response.status_code == 500
    assert "Something went wrong" in html
    assert request_id in html
    assert "Traceback" not in html and "ZeroDivisionError" not in html
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info[0] is ZeroDivisionError
    assert "patient-name" not in caplog.text  # the query string is never logged


def test_api_errors_answer_json_500_with_the_request_id(failing_app):
    response = failing_app.test_client().get("/api/v1/_test/boom")
    assert response.status_code == 500
    assert response.is_json
    assert response.headers["X-Request-ID"] in response.get_json()["error"]


def test_a_proxy_request_id_is_kept_only_when_it_is_plain(client):
    assert client.get("/", headers={"X-Request-ID": "abc-123.x_y"}).headers["X-Request-ID"] == "abc-123.x_y"
    forged = client.get("/", headers={"X-Request-ID": "x INFO fake log line <script>"})
    assert forged.headers["X-Request-ID"] != "x INFO fake log line <script>"
    assert forged.headers["X-Request-ID"].isalnum()


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("get", "/api/v1/no-such-thing", 404),
        ("get", "/api/v1/practitioners/999999", 404),
        ("delete", "/api/v1/practitioners", 405),
        ("post", "/api/v1/conditions", 405),
    ],
)
def test_api_errors_are_json(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.is_json
    assert isinstance(response.get_json()["error"], str)


def test_method_not_allowed_says_which_methods_are(client):
    response = client.delete("/api/v1/conditions")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_html_404_is_a_page_of_the_site(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/practitioners/99999999999999999999", "/api/v1/practitioners/2147483648"])
def test_ids_larger_than_the_database_holds_are_not_found(client, path):
    assert client.get(path).status_code == 404


def test_a_nul_character_anywhere_in_the_input_is_a_clear_400(client, provider_user):
    """Found by fuzzing on PostgreSQL, which cannot store or compare NUL: it was a 500 everywhere."""
    from tests.referral_helpers import token_for

    page = client.get("/search", query_string={"near": "80302\x00"})
    assert page.status_code == 400 and "NUL character" in page.get_data(as_text=True)
    api = client.get("/api/v1/practitioners", query_string={"near": "Boulder", "language": "a\x00"})
    assert api.status_code == 400 and "NUL" in api.get_json()["error"]
    form = client.post("/account/login", data={"email": "a\x00@example.org", "password": "x"})
    assert form.status_code == 400
    body = {
        "practitioner_id": 1,
        "patient": {"name": "Pat\u0000"},
        "reason": "r",
        "urgency": "routine",
        "consent": True,
    }
    api_post = client.post("/api/v1/referrals", json=body, headers=token_for(provider_user))
    assert api_post.status_code == 400 and api_post.is_json


def test_after_an_unexpected_database_error_the_next_request_works(failing_app):
    """The failed transaction is rolled back: the error page renders and the site goes on."""
    import sqlalchemy as sa

    from directory.extensions import db

    @failing_app.get("/_test/bad-sql")
    def bad_sql():
        db.session.execute(sa.text("SELECT no_such_column FROM practitioners"))

    client = failing_app.test_client()
    response = client.get("/_test/bad-sql")
    assert response.status_code == 500 and "Something went wrong" in response.get_data(as_text=True)
    assert client.get("/search?near=80302").status_code == 200


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("TRUSTED_PROXIES", "one", "TRUSTED_PROXIES must be a whole number"),
        ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES must not be negative"),
        ("SEARCH_COUNT_LIMIT", "lots", "SEARCH_COUNT_LIMIT must be a whole number"),
    ],
)
def test_a_bad_number_in_the_environment_stops_the_start_with_its_name(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv(name, value)
    from directory.config import from_environment

    with pytest.raises(RuntimeError, match=message):
        from_environment(str(tmp_path))


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [33, 500, 1000, 5000])
def test_a_deeply_nested_json_body_is_a_clear_400_on_the_api(client, provider_user, levels):
    """Found by an outside probe: `[` x 500 then `]` x 500 (1 KB) was a 500 with a traceback."""
    from tests.referral_helpers import token_for

    for headers in ({}, token_for(provider_user)):
        response = client.post(
            "/api/v1/referrals", data=_nested(levels), content_type="application/json", headers=headers
        )
        assert response.status_code == 400 and "nested too deeply" in response.get_json()["error"]


@pytest.mark.parametrize("levels", [500, 5000])
def test_a_deeply_nested_json_body_is_a_clear_400_on_a_page(client, levels):
    nested_object = '{"a":' * levels + "1" + "}" * levels
    for body in (_nested(levels), nested_object):
        response = client.get("/search?near=80302", data=body, content_type="application/json")
        assert response.status_code == 400 and "nested too deeply" in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)


def test_json_as_deep_as_allowed_still_reaches_the_route(client):
    # Brackets inside strings are text, not nesting.
    body = '{"note": "' + "[" * 100 + '"}'
    assert client.get("/search?near=80302", data=body, content_type="application/json").status_code == 200
    assert client.get("/search?near=80302", data=_nested(32), content_type="application/json").status_code == 200


@pytest.mark.parametrize(
    "body, deep",
    [
        (b"[" * 33 + b"]" * 33, True),
        (b"[" * 32 + b"]" * 32, False),
        (b'["' + b"[" * 40 + b'"]', False),
        (b'["\\"' + b"[" * 40 + b'"]', False),  # an escaped quote does not end the string
        (b'{"a": [{"b": [1, 2]}, {"c": {}}]}', False),
        ('{"é": "ü'.encode() + b"{" * 40 + b'"}', False),
    ],
)
def test_json_depth_is_measured_without_parsing(body, deep):
    from directory.security import json_depth_exceeds

    assert json_depth_exceeds(body) is deep
