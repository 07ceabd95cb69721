"""What an outside security probe found in the accounts area, each replayed as a user story:
an open redirect after sign-in, sessions that outlived signing out, an email rule with two
versions, settings that crashed instead of naming themselves, and helpers that committed
their caller's transaction."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from directory import create_app
from directory.extensions import db
from directory.models import ApiToken, Practitioner, User
from tests.conftest import submit_form
from tests.test_accounts import PASSWORD, link_from_mail, make_user, page, sign_in, user_by_email

# --- Open redirect after sign-in ------------------------------------------------------------

# Query strings as a prober sends them (already encoded), and values that arrive as they are.
HOSTILE_QUERIES = [
    "next=%2F%09%2Fevil.example",  # the probe's: a tab that browsers and Werkzeug drop
    "next=%2F%0A%2Fevil.example",  # a newline: was a 500
    "next=%2F%0D%0A%2Fevil.example",
    "next=%2F%2Fevil.example",
    "next=%2F%5Cevil.example",
    "next=%5C%2Fevil.example",
    "next=%2F%E3%80%80%2Fevil.example",  # an ideographic space
]
HOSTILE_VALUES = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "/ /evil.example",
    "/\u3000/evil.example",
    "/\x7f/evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "%2F%2Fevil.example",
    "@evil.example",
    "/" + "a" * 3000,
    "",
]


def _sign_in_with_query(client, query: str):
    """Sign in through the real form, posted to /account/login?QUERY."""
    make_user("next@example.org")
    return submit_form(
        client,
        "/account/login",
        {"email": "next@example.org", "password": PASSWORD},
        post_url="/account/login?" + query,
    )


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_a_hostile_next_link_in_the_query_sends_the_user_to_their_dashboard(client, query):
    response = _sign_in_with_query(client, query)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


def test_a_nul_in_the_next_link_is_refused_without_leaving_the_site(client):
    response = _sign_in_with_query(client, "next=%2F%00%2Fevil.example")
    assert response.status_code in (302, 400)  # the request-wide NUL guard may refuse it first
    assert response.headers.get("Location") in (None, "/dashboard/")


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_a_next_link_that_could_leave_the_site_is_never_followed(client, value):
    response = _sign_in_with_query(client, "next=" + quote(value, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    "value", ["/account/data.json", "/search?near=80302&radius=10", "/referrals/new?practitioner=3", "/"]
)
def test_a_next_link_to_a_page_of_this_site_is_followed(client, value):
    response = _sign_in_with_query(client, "next=" + quote(value, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] == value


# --- Signing out ends the session on the server ---------------------------------------------


def _replay(app, **cookies):
    """A fresh browser holding only copies of the given cookies."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser


def test_copied_session_and_remember_cookies_stop_working_after_sign_out(app, client):
    make_user("leaky@example.org")
    assert sign_in(client, "leaky@example.org", remember="y").status_code == 302
    session_cookie = client.get_cookie("session").value
    remember_cookie = client.get_cookie("remember_token").value
    # Before signing out, either copy opens the account: the replay below is meaningful.
    assert _replay(app, session=session_cookie).get("/dashboard/").status_code == 200
    assert _replay(app, remember_token=remember_cookie).get("/account/data.json").status_code == 200

    response = submit_form(client, "/account/", {}, post_url="/account/logout")
    assert response.status_code == 302

    for cookies in ({"session": session_cookie}, {"remember_token": remember_cookie}):
        browser = _replay(app, **cookies)
        for url in ("/dashboard/", "/account/data.json"):
            response = browser.get(url)
            assert response.status_code == 302, (cookies, url)
            assert response.headers["Location"].startswith("/account/login")


def test_signing_out_leaves_a_pending_email_change_link_working(client):
    make_user("before@example.org")
    sign_in(client, "before@example.org")
    submit_form(client, "/account/email", {"email": "after@example.org", "password": PASSWORD})
    submit_form(client, "/account/", {}, post_url="/account/logout")

    response = client.get(link_from_mail("after@example.org", "/account/email/confirm/"))
    assert response.status_code == 302
    assert user_by_email("after@example.org") is not None
    assert sign_in(client, "after@example.org").status_code == 302


def test_signing_out_leaves_a_requested_reset_link_working(client):
    make_user("reset.later@example.org")
    submit_form(client, "/account/forgot-password", {"email": "reset.later@example.org"})
    sign_in(client, "reset.later@example.org")
    submit_form(client, "/account/", {}, post_url="/account/logout")
    response = client.get(link_from_mail("reset.later@example.org", "/account/reset/"))
    assert response.status_code == 200


# --- One email rule for the forms and create-user -----------------------------------------

UNDELIVERABLE = ["user@example.invalid", "admin@localhost", "someone@clinic.test", "ops@printer.local", "x@[127.0.0.1]"]


@pytest.mark.parametrize("address", UNDELIVERABLE)
def test_create_user_refuses_the_addresses_the_sign_up_form_refuses(runner, client, address):
    result = runner.invoke(args=["create-user", address, "--role", "admin", "--password", PASSWORD])
    assert result.exit_code != 0
    assert "is not an email address" in result.output

    response = submit_form(client, "/account/signup", {"email": address, "password": PASSWORD, "role": "practitioner"})
    assert response.status_code == 400 and "Invalid email address." in page(response)
    response = sign_in(client, address)
    assert response.status_code == 400 and "Invalid email address." in page(response)
    assert db.session.execute(select(User)).first() is None


def test_create_user_and_the_sign_up_form_accept_the_same_ordinary_address(runner, client):
    result = runner.invoke(args=["create-user", "Ops@Clinic.example.org", "--role", "admin", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert sign_in(client, "ops@clinic.example.org").headers["Location"] == "/admin/"


# --- Emails are stored lower-case and compared as they are ----------------------------------


def test_every_writer_stores_the_email_lower_cased(client):
    user = make_user(" Mixed.Case@Example.ORG ")
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "mixed.case@example.org"

    user.email = "Changed@Example.ORG"
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "changed@example.org"


def test_signing_in_compares_the_stored_email_without_lower(app, client):
    make_user("indexed@example.org")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lower())

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = sign_in(client, "  Indexed@Example.ORG")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 302
    user_lookups = [s for s in statements if "from users" in s and "users.email" in s]
    assert user_lookups, "the sign-in looked the account up"
    assert not [s for s in user_lookups if "lower(users.email)" in s]


# --- Settings stop the start with their name ------------------------------------------------


def _start(tmp_path):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "UPLOAD_FOLDER": str(tmp_path)})


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("MAIL_PORT", "twenty-five", "MAIL_PORT must be a whole number"),
        ("MAIL_PORT", "587.5", "MAIL_PORT must be a whole number"),
        ("MAIL_PORT", "70000", "MAIL_PORT must be at most 65535"),
        ("MAIL_PORT", "0", "MAIL_PORT must be at least 1"),
        ("MAIL_TIMEOUT", "ten", "MAIL_TIMEOUT must be a number"),
        ("MAIL_TIMEOUT", "0", "MAIL_TIMEOUT must be more than 0"),
        ("MAX_CONTENT_LENGTH", "6MB", "MAX_CONTENT_LENGTH must be a whole number"),
        ("GEOCODER_MIN_DELAY_SECONDS", "soon", "GEOCODER_MIN_DELAY_SECONDS must be a number"),
        ("GEOCODER_MIN_DELAY_SECONDS", "nan", "GEOCODER_MIN_DELAY_SECONDS must be a number that is not negative"),
        ("ENQUIRY_MIN_SECONDS", "-1", "ENQUIRY_MIN_SECONDS must be a number that is not negative"),
        ("MAIL_USE_TLS", "ture", "MAIL_USE_TLS must be one of"),
        ("RATELIMIT_ENABLED", "disabled", "RATELIMIT_ENABLED must be one of"),
        ("SITE_URL", "cst.example.org", "SITE_URL must look like"),
    ],
)
def test_a_bad_setting_stops_the_start_with_its_name(monkeypatch, tmp_path, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        _start(tmp_path)


def test_good_settings_are_read_as_numbers_and_words(monkeypatch, tmp_path):
    for name, value in {
        "MAIL_PORT": " 587 ",
        "MAIL_TIMEOUT": "2.5",
        "MAX_CONTENT_LENGTH": "1048576",
        "GEOCODER_MIN_DELAY_SECONDS": "0",
        "ENQUIRY_MIN_SECONDS": "1.5",
        "MAIL_USE_TLS": "Yes",
        "MAIL_USE_SSL": "off",
        "SITE_URL": "https://cst.example.org/directory/",
    }.items():
        monkeypatch.setenv(name, value)
    config = _start(tmp_path).config
    assert (config["MAIL_PORT"], config["MAIL_TIMEOUT"], config["MAX_CONTENT_LENGTH"]) == (587, 2.5, 1048576)
    assert (config["GEOCODER_MIN_DELAY_SECONDS"], config["ENQUIRY_MIN_SECONDS"]) == (0.0, 1.5)
    assert config["MAIL_USE_TLS"] is True and config["MAIL_USE_SSL"] is False
    assert config["SERVER_NAME_FOR_EMAIL"] == "https://cst.example.org/directory"


def test_production_refuses_any_flask_debug_value_that_flask_reads_as_on(monkeypatch, tmp_path):
    monkeypatch.setenv("FLASK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-0123456789")
    monkeypatch.setenv("FLASK_DEBUG", "y")  # Flask turns the debugger on for this
    with pytest.raises(RuntimeError, match="debugger must be off"):
        _start(tmp_path)


# --- Who commits --------------------------------------------------------------------------


def _committed_name(user_id: int) -> str:
    """The name as the database holds it, read on a connection of its own."""
    with db.engine.connect() as connection:
        return connection.execute(sa.text("SELECT name FROM users WHERE id = :id"), {"id": user_id}).scalar_one()


def test_api_token_sign_in_never_commits_the_callers_unfinished_changes(app, provider_user):
    from directory.auth import bearer_user

    token, plain = ApiToken.issue(provider_user, "EHR")
    db.session.commit()
    token_id, user_id = token.id, provider_user.id
    with app.test_request_context("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}):
        user = db.session.get(User, user_id)
        user.name = "Half-made change"
        assert bearer_user().id == user_id
        db.session.rollback()
        assert _committed_name(user_id) == "Dr. Ana Rivera"
    db.session.expire_all()
    assert db.session.get(ApiToken, token_id).last_used_at is not None  # recorded on its own


def test_deleting_an_account_waits_for_the_caller_to_commit(app, practitioner_user):
    from directory.accounts import privacy
    from directory.accounts.passwords import hash_password

    practitioner_user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    user_id = practitioner_user.id
    privacy.delete_account(practitioner_user, PASSWORD)
    db.session.rollback()
    assert db.session.get(User, user_id) is not None
    assert db.session.execute(select(Practitioner).where(Practitioner.user_id == user_id)).scalar_one_or_none()


def test_account_service_functions_never_commit(client):
    from directory.accounts import service
    from directory.models import Role

    service.register("Fresh@Example.org", PASSWORD, Role.PRACTITIONER)
    service.create_user("made@example.org", Role.ADMIN, PASSWORD)
    db.session.rollback()
    assert user_by_email("fresh@example.org") is None and user_by_email("made@example.org") is None
