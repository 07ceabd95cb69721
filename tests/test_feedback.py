"""The public corrects a listing or reports a concern; practitioners confirm their details yearly."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from directory import create_app
from directory.admin.commands import notify_expiring_command
from directory.extensions import db
from directory.feedback import service
from directory.models import Concern, ConcernKind, Correction, CorrectionStatus, HeldChange
from directory.models.base import today, utcnow
from tests.admin_support import admin_client, audit_entries, fresh, outbox  # noqa: F401
from tests.conftest import base_config, csrf_token_from, login, reset_database
from tests.factories import PractitionerFactory

VISITOR = {"field": "phone", "suggestion": "303 555 0199", "email": "visitor@example.org"}
CONCERN = {"kind": "misleading-claim", "details": "The bio promises results nobody can promise.", "email": ""}


def _post(client, url: str, data: dict):
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data})


def _count(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


# --- Suggest a correction ------------------------------------------------------------------


def test_a_visitor_suggests_a_correction_and_the_practitioner_is_told_without_their_address(client):
    practitioner = PractitionerFactory(phone="303 555 0100")
    response = _post(client, f"/practitioners/{practitioner.id}/correction", VISITOR)
    assert response.status_code == 303
    [correction] = db.session.execute(sa.select(Correction)).scalars().all()
    assert (correction.field, correction.suggestion, correction.share_email) == ("phone", "303 555 0199", False)
    [mail] = outbox(practitioner.email)
    assert "303 555 0199" in mail.text_body and "visitor@example.org" not in mail.text_body + mail.html_body
    # Shared on purpose: then the practitioner may write back.
    _post(client, f"/practitioners/{practitioner.id}/correction", {**VISITOR, "share_email": "y"})
    assert "visitor@example.org" in outbox(practitioner.email)[-1].text_body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**VISITOR, "suggestion": ""}, "This field is required"),
        ({**VISITOR, "field": "password"}, "Not a valid choice"),
        ({**VISITOR, "email": "not-an-email"}, "valid email"),
        ({**VISITOR, "website": "http://spam.example"}, "looks automated"),
    ],
)
def test_a_refused_correction_stores_nothing_and_keeps_the_text(client, data, message):
    practitioner = PractitionerFactory()
    response = _post(client, f"/practitioners/{practitioner.id}/correction", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page
    if data["suggestion"]:
        assert data["suggestion"] in page
    assert _count(Correction) == 0 and outbox() == []


def test_unlisted_profiles_take_no_correction_or_concern(client):
    practitioner = PractitionerFactory(published=False)
    for kind in ("correction", "concern"):
        assert client.get(f"/practitioners/{practitioner.id}/{kind}").status_code == 404
        assert client.get(f"/practitioners/999999/{kind}").status_code == 404


def test_the_practitioner_accepts_a_correction_through_the_editor_s_rules(client, practitioner_user):
    practitioner = practitioner_user.practitioner
    _post(client, f"/practitioners/{practitioner.id}/correction", VISITOR)
    _post(client, f"/practitioners/{practitioner.id}/correction", {**VISITOR, "suggestion": "call me maybe"})
    _post(
        client,
        f"/practitioners/{practitioner.id}/correction",
        {**VISITOR, "field": "address", "suggestion": "12 Pearl St"},
    )
    login(client, practitioner_user)
    page = client.get("/dashboard/corrections")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    good, bad, manual = db.session.execute(sa.select(Correction).order_by(Correction.id)).scalars().all()
    assert client.post(f"/dashboard/corrections/{good.id}/accept", data={"csrf_token": token}).status_code == 303
    assert fresh(practitioner).phone == "303 555 0199"
    # A value the rule refuses changes nothing and says why.
    response = client.post(f"/dashboard/corrections/{bad.id}/accept", data={"csrf_token": token}, follow_redirects=True)
    assert "cannot be applied" in response.get_data(as_text=True)
    assert fresh(bad).status == CorrectionStatus.OPEN and fresh(practitioner).phone == "303 555 0199"
    assert client.post(f"/dashboard/corrections/{bad.id}/dismiss", data={"csrf_token": token}).status_code == 303
    assert fresh(bad).status == CorrectionStatus.DISMISSED
    assert client.post(f"/dashboard/corrections/{manual.id}/accept", data={"csrf_token": token}).status_code == 303
    assert fresh(manual).status == CorrectionStatus.ACCEPTED
    assert [e.action for e in audit_entries() if e.action.startswith("correction.")] == [
        "correction.accepted",
        "correction.dismissed",
        "correction.accepted",
    ]


def test_an_accepted_name_goes_through_the_claims_screening(client, practitioner_user):
    practitioner = practitioner_user.practitioner
    _post(
        client,
        f"/practitioners/{practitioner.id}/correction",
        {**VISITOR, "field": "practice_name", "suggestion": "Miracle Cures Clinic"},
    )
    login(client, practitioner_user)
    token = csrf_token_from(client.get("/dashboard/corrections").get_data(as_text=True))
    correction = db.session.execute(sa.select(Correction)).scalar_one()
    client.post(f"/dashboard/corrections/{correction.id}/accept", data={"csrf_token": token})
    assert fresh(practitioner).practice_name != "Miracle Cures Clinic"
    held = db.session.execute(sa.select(HeldChange)).scalar_one()
    assert held.values == {"practice_name": "Miracle Cures Clinic"}


def test_only_the_owner_answers_a_correction(client, practitioner_user, provider_user):
    other = PractitionerFactory()
    _post(client, f"/practitioners/{other.id}/correction", VISITOR)
    correction = db.session.execute(sa.select(Correction)).scalar_one()
    login(client, practitioner_user)
    token = csrf_token_from(client.get("/dashboard/corrections").get_data(as_text=True))
    assert client.post(f"/dashboard/corrections/{correction.id}/accept", data={"csrf_token": token}).status_code == 404
    assert "303 555 0199" not in client.get("/dashboard/corrections").get_data(as_text=True)
    login(client, provider_user)
    assert client.get("/dashboard/corrections").status_code == 404
    assert fresh(correction).status == CorrectionStatus.OPEN


def test_unanswered_corrections_reach_the_admins_once_after_14_days(app, admin_user):
    practitioner = PractitionerFactory()
    fresh_one = service.record_correction(practitioner, "phone", "303 555 0111", "", False)
    old = service.record_correction(practitioner, "website", "https://new.example.org", "", False)
    old.created_at = utcnow() - timedelta(days=15)
    db.session.commit()
    assert service.escalate_unanswered(today()) == 1
    assert service.escalate_unanswered(today()) == 0
    db.session.commit()
    assert fresh(old).escalated_at is not None and fresh(fresh_one).escalated_at is None
    [mail] = outbox(admin_user.email)
    assert "14 days" in mail.subject


# --- Report a concern ----------------------------------------------------------------------


def test_a_concern_reaches_only_the_admins(client, admin_user):
    practitioner = PractitionerFactory()
    response = _post(client, f"/practitioners/{practitioner.id}/concern", CONCERN)
    assert response.status_code == 303
    concern = db.session.execute(sa.select(Concern)).scalar_one()
    assert concern.kind == ConcernKind.MISLEADING_CLAIM
    assert outbox(practitioner.email) == []
    [mail] = outbox(admin_user.email)
    assert CONCERN["details"] not in mail.text_body  # what it says stays on the site


def test_a_refused_concern_stores_nothing(client):
    practitioner = PractitionerFactory()
    response = _post(client, f"/practitioners/{practitioner.id}/concern", {**CONCERN, "details": "short"})
    assert response.status_code == 400 and "Between 10 and 5000" in response.get_data(as_text=True)
    assert _count(Concern) == 0


def test_admins_read_and_close_concerns(admin_client, client):  # noqa: F811
    practitioner = PractitionerFactory()
    service.record_concern(practitioner, ConcernKind.CONDUCT, "Rude and dismissive on the phone.", "")
    db.session.commit()
    page = admin_client.get("/admin/concerns")
    assert page.status_code == 200 and "Rude and dismissive" in page.get_data(as_text=True)
    concern = db.session.execute(sa.select(Concern)).scalar_one()
    token = csrf_token_from(page.get_data(as_text=True))
    admin_client.post(f"/admin/concerns/{concern.id}/close", data={"csrf_token": token, "note": ""})
    assert fresh(concern).closed_at is None
    admin_client.post(
        f"/admin/concerns/{concern.id}/close", data={"csrf_token": token, "note": "Called the practitioner."}
    )
    assert fresh(concern).admin_note == "Called the practitioner."
    assert [e.action for e in audit_entries("concern.closed")] == ["concern.closed"]


def test_feedback_admin_pages_are_hidden_from_others(client, practitioner_user, provider_user):
    for user in (None, practitioner_user, provider_user):
        if user is not None:
            login(client, user)
        for url in ("/admin/concerns", "/admin/corrections"):
            assert client.get(url).status_code == 404


@pytest.fixture
def limited_app(database_url, tmp_path):
    """The app with rate limits on: two corrections or concerns a minute per address."""
    app = create_app(
        {**base_config(database_url, str(tmp_path)), "RATELIMIT_ENABLED": True, "FEEDBACK_RATE_LIMIT": "2 per minute"}
    )
    with app.app_context():
        reset_database()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_corrections_are_rate_limited_per_address_and_refusals_do_not_count(limited_app):
    practitioner_id = PractitionerFactory().id
    visitor = limited_app.test_client()
    url = f"/practitioners/{practitioner_id}/correction"
    assert _post(visitor, url, {**VISITOR, "suggestion": ""}).status_code == 400
    assert _post(visitor, url, VISITOR).status_code == 303
    assert _post(visitor, url, VISITOR).status_code == 303
    assert _post(visitor, url, VISITOR).status_code == 429
    assert _count(Correction) == 2


# --- Confirming details --------------------------------------------------------------------


def test_the_practitioner_confirms_their_details_in_one_click(client, practitioner_user):
    login(client, practitioner_user)
    token = csrf_token_from(client.get("/dashboard/").get_data(as_text=True))
    assert client.post("/dashboard/confirm-details", data={"csrf_token": token}).status_code in (302, 303)
    assert fresh(practitioner_user.practitioner).details_confirmed_at is not None
    assert client.post("/dashboard/confirm-details", data={}).status_code == 400


def test_reminders_go_once_after_12_months_and_the_daily_command_sends_them(app):
    old = PractitionerFactory()
    old.created_at = utcnow() - timedelta(days=400)
    recent = PractitionerFactory()
    recent.details_confirmed_at = utcnow() - timedelta(days=30)
    recent.created_at = utcnow() - timedelta(days=800)
    db.session.commit()
    runner = CliRunner()
    result = runner.invoke(notify_expiring_command, [], obj=None, standalone_mode=False)
    assert result.exception is None, result.output
    assert "1 confirmation reminders" in result.output
    assert len(outbox(old.email)) == 1 and outbox(recent.email) == []
    result = runner.invoke(notify_expiring_command, [], standalone_mode=False)
    assert "0 confirmation reminders" in result.output
    assert not service.details_may_be_stale(fresh(old), today())
    assert service.details_may_be_stale(fresh(old), today() + timedelta(days=80))
    # Confirmed again: a new period starts, and a year later a new reminder goes.
    service.confirm_details(fresh(old), None)
    db.session.commit()
    assert service.remind_unconfirmed(today() + timedelta(days=300)) == 0
    db.session.commit()
    assert service.remind_unconfirmed(today() + timedelta(days=366)) == 2  # `recent` is due by then too
    db.session.commit()
    assert len(outbox(old.email)) == 2


def test_the_profile_says_when_details_were_confirmed_and_warns_when_stale(client):
    confirmed = PractitionerFactory()
    confirmed.details_confirmed_at = utcnow() - timedelta(days=10)
    stale = PractitionerFactory()
    stale.created_at = utcnow() - timedelta(days=500)
    db.session.commit()
    page = client.get(f"/practitioners/{confirmed.id}").get_data(as_text=True)
    assert "Details confirmed by the practitioner on" in page and "may be out of date" not in page
    assert f"/practitioners/{confirmed.id}/correction" in page and f"/practitioners/{confirmed.id}/concern" in page
    assert "may be out of date" in client.get(f"/practitioners/{stale.id}").get_data(as_text=True)
