"""Each request stands alone, as on a real server: its own `g`, its own caller, its own transaction.

The test client runs every request in an app context of its own (tests/conftest.py), so the
app needs no hooks that wipe one request's leftovers before the next.
"""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import ApiToken, GeocodeCache
from tests.conftest import login, submit_form


def cached_answers() -> int:
    """Rows in a table no test fills by itself (the geocoder cache)."""
    return db.session.execute(select(func.count()).select_from(GeocodeCache)).scalar_one()


@pytest.fixture
def probe_app(app):
    """The app with a few routes that show what a request inherits from the one before."""

    @app.get("/_test/remember-in-g")
    def remember_in_g():
        seen = g.get("left_by_earlier_request", "nothing")
        g.left_by_earlier_request = "something"
        return seen

    @app.get("/_test/write-without-commit")
    def write_without_commit():
        db.session.add(GeocodeCache(provider="probe", query="forgotten", found=False))
        db.session.flush()
        return "written but not committed"

    @app.get("/_test/write-then-fail")
    def write_then_fail():
        db.session.add(GeocodeCache(provider="probe", query="half-done", found=False))
        db.session.flush()
        raise RuntimeError("something broke half-way")

    return app


def test_a_request_never_sees_what_the_previous_request_left_in_g(probe_app):
    client = probe_app.test_client()
    assert client.get("/_test/remember-in-g").get_data(as_text=True) == "nothing"
    assert client.get("/_test/remember-in-g").get_data(as_text=True) == "nothing"


def test_a_request_that_does_not_commit_writes_nothing(probe_app):
    client = probe_app.test_client()
    assert client.get("/_test/write-without-commit").status_code == 200
    # Its transaction ended with the request: neither the test nor the next request sees the row.
    assert cached_answers() == 0
    client.get("/_test/write-without-commit")
    assert cached_answers() == 0


def test_an_error_half_way_through_a_request_leaves_nothing_written(probe_app):
    response = probe_app.test_client().get("/_test/write-then-fail")
    assert response.status_code == 500
    assert cached_answers() == 0


def test_a_token_caller_is_not_remembered_by_the_next_anonymous_request(client, provider_user):
    _, token = ApiToken.issue(provider_user, "shape")
    db.session.commit()
    signed = client.get("/api/v1/referrals", headers={"Authorization": f"Bearer {token}"})
    assert signed.status_code == 200
    assert client.get("/api/v1/referrals").status_code == 401


def test_a_signed_in_browser_does_not_sign_in_the_next_visitor(app, practitioner_user):
    pat = app.test_client()
    login(pat, practitioner_user)
    assert pat.get("/dashboard/").status_code == 200
    stranger = app.test_client()
    response = stranger.get("/dashboard/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_a_form_works_in_a_browser_opened_after_another_one(app, practitioner_user):
    # The first visitor's page makes a CSRF token; the second browser's form needs its own.
    assert app.test_client().get("/account/login").status_code == 200
    pat = app.test_client()
    login(pat, practitioner_user)
    response = submit_form(pat, "/dashboard/", {}, post_url="/dashboard/accepting")
    assert response.status_code == 302
    assert practitioner_user.practitioner.accepting_new_patients is False
