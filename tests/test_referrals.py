"""Referrals: the transition table, overdue flags, emails, and both parties' stories in the real forms."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template

from directory.extensions import db
from directory.models import Referral, Role
from directory.models.accounts import ProviderStatus
from directory.referrals import workflow
from directory.referrals.workflow import add_working_days, is_overdue
from tests.conftest import login, submit_form
from tests.factories import UserFactory
from tests.referral_helpers import (
    CLINICAL_NOTE,
    PATIENT,
    assert_no_patient_details,
    make_referral,
    outbox,
    submit_move,
    token_for,
)

# --- The transition table, written out by hand ------------------------------------------------

# (from, to, who): every legal move. If the table in workflow.py changes, this test says so.
HOLDABLE = ("requested", "received", "accepted", "in-progress")
BOTH = ("referrer", "recipient")
EXPECTED_LEGAL = {
    ("draft", "requested", "referrer"),
    ("requested", "received", "recipient"),
    ("received", "accepted", "recipient"),
    ("received", "rejected", "recipient"),
    ("accepted", "in-progress", "recipient"),
    ("in-progress", "completed", "recipient"),
    ("accepted", "no-show", "recipient"),
    ("in-progress", "no-show", "recipient"),
    ("accepted", "failed", "recipient"),
    ("in-progress", "failed", "recipient"),
    *((source, "on-hold", party) for source in HOLDABLE for party in BOTH),
    # Back from a hold: legal only towards the status the hold interrupted (see expected_answer).
    *(("on-hold", target, party) for target in HOLDABLE for party in BOTH),
    ("on-hold", "cancelled", "referrer"),
    ("requested", "entered-in-error", "referrer"),
    ("received", "entered-in-error", "referrer"),
    ("requested", "cancelled", "referrer"),
    ("received", "cancelled", "referrer"),
    ("accepted", "cancelled", "referrer"),
    ("in-progress", "cancelled", "referrer"),
}
# Who may ever move a referral to each status (or make each action).
EXPECTED_MOVERS = {
    "draft": set(),
    "requested": {"referrer", "recipient"},  # the recipient only back from a hold
    "received": {"referrer", "recipient"},
    "accepted": {"referrer", "recipient"},
    "rejected": {"recipient"},
    "in-progress": {"referrer", "recipient"},
    "on-hold": {"referrer", "recipient"},
    "failed": {"recipient"},
    "completed": {"recipient"},
    "cancelled": {"referrer"},
    "entered-in-error": {"referrer"},
    "no-show": {"recipient"},
}
# make_referral() puts a referral on hold from `accepted`.
HELD_FROM = "accepted"


def test_the_transition_table_is_exactly_the_lifecycle_of_the_issue():
    assert {(m.source, m.target, m.party) for m in workflow.TRANSITIONS} == EXPECTED_LEGAL
    for status, movers in EXPECTED_MOVERS.items():
        assert workflow.parties_moving_to(status) == movers, status
    # Nothing leaves a final status.
    final = {"completed", "rejected", "cancelled", "failed", "entered-in-error"}
    assert not [m for m in workflow.TRANSITIONS if m.source in final]
    assert workflow.find_move("received", "rejected", "recipient").needs == ("note",)
    assert workflow.find_move("in-progress", "completed", "recipient").needs == ("note", "outcome")
    assert workflow.find_move("accepted", "in-progress", "recipient").needs == ("appointment_at",)
    assert workflow.find_move("accepted", "failed", "recipient").needs == ("reason",)
    assert workflow.find_move("received", "entered-in-error", "referrer").needs == ("note",)
    for party in BOTH:
        assert workflow.find_move("in-progress", "on-hold", party).needs == ("note",)
        assert all(m.resumes for m in workflow.TRANSITIONS if m.source == "on-hold" and m.target in HOLDABLE)
    # Every status has its label, colour and explanation.
    for status in workflow.STATUSES:
        assert workflow.STATUS_LABELS[status] and workflow.STATUS_EXPLANATIONS[status]
        assert workflow.STATUS_COLOURS[status].startswith("text-bg-")


def expected_answer(source: str, target: str, actor: str) -> int:
    """What the API must answer, from the hand-written expectations above."""
    if source in ("draft", "entered-in-error") and actor == "recipient":
        return 404  # the practitioner never sees drafts, nor referrals withdrawn as sent in error
    if actor == "admin" or actor not in EXPECTED_MOVERS[target]:
        return 403
    if actor == "recipient" and source == "requested":
        # The recipient's request opens the referral first (requested -> received).
        if target == "received":
            return 200
        source = "received"
    if source == "on-hold" and target in HOLDABLE and target != HELD_FROM:
        return 409
    return 200 if (source, target, actor) in EXPECTED_LEGAL else 409


MOVES = [
    (source, target, actor)
    for source in workflow.STATUSES
    for target in workflow.STATUSES + workflow.ACTIONS
    for actor in ("referrer", "recipient", "admin")
]
# Everything any move may need: a note, a past appointment, a failure reason, an outcome.
EVERYTHING = {
    "note": "A note",
    "appointment_at": "2026-03-04T09:30:00Z",
    "reason": "unreachable",
    "outcome": {"sessions": 3},
}


@pytest.mark.parametrize(("source", "target", "actor"), MOVES, ids=[f"{s}->{t}-by-{a}" for s, t, a in MOVES])
def test_every_move_by_every_party_answers_as_the_table_says(
    client, provider_user, practitioner_user, admin_user, source, target, actor
):
    referral = make_referral(provider_user, practitioner_user, status=source)
    user = {"referrer": provider_user, "recipient": practitioner_user, "admin": admin_user}[actor]
    events_before = len(referral.events)
    response = client.post(
        f"/api/v1/referrals/{referral.id}/transitions",
        json={"status": target, **EVERYTHING},
        headers=token_for(user),
    )
    expected = expected_answer(source, target, actor)
    assert response.status_code == expected, response.get_data(as_text=True)
    if expected != 200:
        assert response.get_json()["error"]
    db.session.expire_all()
    stored = db.session.get(Referral, referral.id)
    if expected == 200 and target == "no-show":
        assert stored.status == source and stored.no_shows == 1
        assert (stored.events[-1].kind, stored.events[-1].actor_id) == ("no-show", user.id)
    elif expected == 200:
        assert stored.status == target
        assert stored.events[-1].status == target
        assert stored.events[-1].actor_id == user.id
    elif actor == "recipient" and source == "requested":
        assert stored.status == "received"  # opened, then refused
    else:
        assert stored.status == source
        assert len(stored.events) == events_before


# --- Overdue after 3 working days ------------------------------------------------------------


def utc(*args) -> datetime:
    """A UTC datetime."""
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent", "deadline"),
    [
        (utc(2026, 3, 2, 10, 0), utc(2026, 3, 5, 10, 0)),  # Monday -> Thursday
        (utc(2026, 3, 4, 10, 0), utc(2026, 3, 9, 10, 0)),  # Wednesday -> Monday, over the weekend
        (utc(2026, 3, 6, 10, 0), utc(2026, 3, 11, 10, 0)),  # Friday -> Wednesday
        (utc(2026, 3, 7, 10, 0), utc(2026, 3, 11, 10, 0)),  # Saturday -> Wednesday
        (utc(2026, 3, 8, 23, 0), utc(2026, 3, 11, 23, 0)),  # Sunday night -> Wednesday night
    ],
)
def test_a_referral_is_overdue_after_three_working_days(sent, deadline):
    assert add_working_days(sent, 3) == deadline
    assert not is_overdue("requested", sent, deadline)
    assert is_overdue("requested", sent, deadline + timedelta(minutes=1))
    assert not is_overdue("requested", sent, deadline - timedelta(minutes=1))


def test_a_friday_referral_is_not_overdue_on_monday_although_three_days_passed():
    friday = utc(2026, 3, 6, 9, 0)
    assert not is_overdue("requested", friday, utc(2026, 3, 9, 17, 0))
    assert not is_overdue("requested", friday, utc(2026, 3, 10, 17, 0))
    assert is_overdue("requested", friday, utc(2026, 3, 11, 9, 1))


def test_only_unopened_referrals_are_overdue_and_naive_times_count_as_utc():
    sent = datetime(2026, 3, 2, 10, 0)  # naive, as SQLite gives it back
    late = utc(2026, 3, 20)
    assert is_overdue("requested", sent, late)
    for status in workflow.STATUSES:
        if status not in ("requested", "accepted"):
            assert not is_overdue(status, sent, late)
    assert not is_overdue("requested", None, late)


def test_both_sides_see_the_overdue_flag(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user)
    referral.created_at = datetime.now(UTC) - timedelta(days=10)
    fresh = make_referral(provider_user, practitioner_user)
    db.session.commit()
    login(client, provider_user)
    html = client.get("/referrals/").get_data(as_text=True)
    assert html.count("Overdue") == 1
    assert "Overdue" in client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Overdue" not in client.get(f"/referrals/{fresh.id}").get_data(as_text=True)
    login(client, practitioner_user)
    html = client.get("/referrals/").get_data(as_text=True)
    assert html.count("Overdue") == 1  # the list does not open anything
    with client.application.test_request_context():
        login_ctx = render_template("referrals/_practitioner_inbox.html", current_user=practitioner_user)
    assert "1 waiting more than 3 working days" in login_ctx and "Overdue" in login_ctx


# --- Emails ----------------------------------------------------------------------------------


def test_every_move_tells_the_other_party_by_email_without_patient_details(provider_user, practitioner_user):
    make_referral(provider_user, practitioner_user, status=workflow.COMPLETED)
    cancelled = make_referral(provider_user, practitioner_user, status=workflow.CANCELLED)
    mails = outbox()
    recipients = [m.recipient for m in mails]
    p, r = practitioner_user.email, provider_user.email
    # sent, received, accepted, in-progress, completed; then sent, cancelled.
    assert recipients == [p, r, r, r, r, p, p]
    assert "is now completed" in mails[4].subject
    assert f"/referrals/{cancelled.id}" in mails[-1].text_body
    for mail in mails:
        for text in (mail.subject, mail.text_body, mail.html_body):
            assert_no_patient_details(text)
            assert "A note" not in text  # no outcome or reason text either


def test_a_message_is_announced_without_its_content(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    login(client, practitioner_user)
    submit_form(
        client,
        f"/referrals/{referral.id}",
        {"body": "Maria prefers mornings"},
        post_url=f"/referrals/{referral.id}/messages",
    )
    mail = outbox()[-1]
    assert mail.recipient == provider_user.email
    assert "message" in mail.subject
    assert "Maria" not in mail.text_body + mail.html_body + mail.subject


def test_a_practitioner_without_an_account_is_emailed_at_the_profile_address(provider_user):
    from tests.factories import PractitionerFactory

    lone = PractitionerFactory(email="no.account@example.org")
    holder = type("Holder", (), {"practitioner": lone})()
    make_referral(provider_user, holder)
    assert outbox()[0].recipient == "no.account@example.org"


# --- The provider's story --------------------------------------------------------------------

FORM = {
    "patient_name": PATIENT["name"],
    "patient_phone": PATIENT["phone"],
    "patient_email": PATIENT["email"],
    "patient_birth_date": PATIENT["birth_date"],
    "conditions": ["tmj", "migraine-headache"],
    "reason": "Persistent jaw pain despite splint therapy",
    "clinical_notes": CLINICAL_NOTE,
    "urgency": "asap",
    "preferred_contact": "email",
    "consent": "y",
    "send": "Send referral",
}


def test_provider_refers_a_patient_from_the_profile(client, provider_user, practitioner_user, caplog):
    caplog.set_level(logging.DEBUG)
    pid = practitioner_user.practitioner.id
    login(client, provider_user)
    profile = client.get(f"/practitioners/{pid}").get_data(as_text=True)
    assert f'href="/referrals/new?practitioner={pid}"' in profile and "Refer a patient" in profile
    page = client.get(f"/referrals/new?practitioner={pid}").get_data(as_text=True)
    assert "Refer a patient to Pat Practitioner" in page
    assert "patient consented" in page
    response = submit_form(client, f"/referrals/new?practitioner={pid}", FORM)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert re.fullmatch(r"/referrals/\d+", location)  # ids only in URLs
    referral = db.session.execute(db.select(Referral)).scalar_one()
    assert referral.status == "requested"
    assert referral.patient_name == PATIENT["name"] and referral.urgency == "asap"
    assert sorted(c.slug for c in referral.conditions) == ["migraine-headache", "tmj"]
    assert referral.preferred_contact == "email" and referral.consent
    html = client.get(location).get_data(as_text=True)
    assert PATIENT["name"] in html and "Sent" in html and "Timeline" in html
    assert "Cancel referral" in html
    # Nothing about the patient went to the logs.
    assert_no_patient_details(caplog.text)


def test_search_results_offer_providers_a_refer_link(client, provider_user, practitioner_user):
    url = "/search?lat=40.0150&lon=-105.2705&radius=10"
    assert "Refer a patient" not in client.get(url).get_data(as_text=True)
    login(client, provider_user)
    html = client.get(url).get_data(as_text=True)
    assert f"/referrals/new?practitioner={practitioner_user.practitioner.id}" in html


def test_only_signed_in_providers_see_the_refer_link_on_a_profile(client, practitioner_user, other_practitioner_user):
    pid = practitioner_user.practitioner.id
    assert "Refer a patient" not in client.get(f"/practitioners/{pid}").get_data(as_text=True)
    login(client, other_practitioner_user)
    assert "Refer a patient" not in client.get(f"/practitioners/{pid}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "field_error"),
    [
        ({"consent": ""}, "consent before sending"),
        ({"patient_phone": "", "patient_email": ""}, "phone or email"),
        ({"patient_name": ""}, "This field is required"),
        ({"reason": ""}, "why you refer"),
        ({"patient_email": "not-an-email"}, "Invalid email"),
        ({"patient_birth_date": "2999-01-01"}, "cannot be in the future"),
        ({"urgency": "whenever"}, "Not a valid choice"),
    ],
)
def test_the_referral_form_explains_what_is_missing(client, provider_user, practitioner_user, change, field_error):
    pid = practitioner_user.practitioner.id
    login(client, provider_user)
    data = {k: v for k, v in {**FORM, **change}.items() if v != ""}
    response = submit_form(client, f"/referrals/new?practitioner={pid}", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error in html
    assert 'aria-invalid="true"' in html
    assert db.session.execute(db.select(db.func.count(Referral.id))).scalar_one() == 0


SENDING_RULES = [
    ({"patient_phone": "", "patient_email": ""}, "phone or email"),
    ({"reason": ""}, "why you refer"),
    ({"consent": ""}, "consent before sending"),
]


@pytest.mark.parametrize(("change", "message"), SENDING_RULES, ids=["no-contact", "no-reason", "no-consent"])
def test_an_incomplete_draft_is_refused_from_its_page_as_the_form_refuses_it(
    client, provider_user, practitioner_user, change, message
):
    pid = practitioner_user.practitioner.id
    login(client, provider_user)
    draft = {k: v for k, v in {**FORM, **change}.items() if v != "" and k != "send"}
    response = submit_form(client, f"/referrals/new?practitioner={pid}", {**draft, "save_draft": "Save as draft"})
    assert response.status_code == 302
    referral = db.session.execute(db.select(Referral)).scalar_one()
    assert referral.status == "draft"
    # The form refuses to send it ...
    response = submit_form(client, f"/referrals/{referral.id}/edit", {**draft, "send": "Send referral"})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    # ... and so does the "Send" button on the draft's page, with the same words.
    response = submit_move(client, referral, "requested")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "draft"
    assert outbox() == []


def test_a_referral_without_any_contact_cannot_be_sent_by_the_service_either(provider_user, practitioner_user):
    from directory.referrals import service
    from tests.referral_helpers import referral_input

    with pytest.raises(service.InvalidReferral, match="phone or email"):
        service.create_referral(provider_user, referral_input(practitioner_user, patient_phone="", patient_email=""))
    db.session.rollback()
    assert db.session.execute(db.select(db.func.count(Referral.id))).scalar_one() == 0


def test_referring_to_an_unknown_practitioner_is_not_found(client, provider_user):
    login(client, provider_user)
    assert client.get("/referrals/new?practitioner=999999").status_code == 404
    assert client.get("/referrals/new?practitioner=abc").status_code == 404
    assert client.get("/referrals/new").status_code == 302


@pytest.mark.parametrize("role_fixture", ["practitioner_user", "admin_user"])
def test_only_providers_open_the_referral_form(client, request, role_fixture, practitioner_user):
    login(client, request.getfixturevalue(role_fixture))
    assert client.get(f"/referrals/new?practitioner={practitioner_user.practitioner.id}").status_code == 403


def test_an_unverified_provider_keeps_drafts_until_verified(client, practitioner_user):
    pending = UserFactory(role=Role.PROVIDER, provider_status=ProviderStatus.PENDING, name="Dr. New")
    pid = practitioner_user.practitioner.id
    login(client, pending)
    page = client.get(f"/referrals/new?practitioner={pid}").get_data(as_text=True)
    assert "not been verified" in page
    assert "Send referral" not in page and "Save as draft" in page
    # Even a forged "send" only saves a draft.
    response = submit_form(client, f"/referrals/new?practitioner={pid}", FORM)
    assert response.status_code == 302
    referral = db.session.execute(db.select(Referral)).scalar_one()
    assert referral.status == "draft" and referral.events == []
    assert outbox() == []
    # The practitioner sees nothing of it.
    login(client, practitioner_user)
    assert client.get(f"/referrals/{referral.id}").status_code == 404
    assert "Maria" not in client.get("/referrals/").get_data(as_text=True)
    # Once verified, the provider sends the draft.
    pending.provider_status = ProviderStatus.VERIFIED
    db.session.commit()
    login(client, pending)
    edit = client.get(f"/referrals/{referral.id}/edit").get_data(as_text=True)
    assert PATIENT["name"] in edit and "Send referral" in edit
    response = submit_form(client, f"/referrals/{referral.id}/edit", {**FORM, "reason": "Updated reason"})
    assert response.status_code == 302
    db.session.expire_all()
    assert referral.status == "requested" and referral.reason == "Updated reason"
    assert [e.status for e in referral.events] == ["requested"]
    assert outbox()[0].recipient == practitioner_user.email


def test_a_draft_may_be_saved_incomplete_and_deleted(client, provider_user, practitioner_user):
    pid = practitioner_user.practitioner.id
    login(client, provider_user)
    response = submit_form(
        client, f"/referrals/new?practitioner={pid}", {"patient_name": "Jo Draft", "save_draft": "Save as draft"}
    )
    assert response.status_code == 302
    referral = db.session.execute(db.select(Referral)).scalar_one()
    assert referral.status == "draft"
    response = submit_form(client, f"/referrals/{referral.id}", {}, post_url=f"/referrals/{referral.id}/delete")
    assert response.status_code == 302
    assert db.session.execute(db.select(db.func.count(Referral.id))).scalar_one() == 0


def test_a_sent_referral_cannot_be_edited_or_deleted(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user)
    login(client, provider_user)
    assert client.get(f"/referrals/{referral.id}/edit").status_code == 302
    response = submit_form(client, f"/referrals/{referral.id}", {}, post_url=f"/referrals/{referral.id}/delete")
    assert response.status_code == 409


def test_provider_cancels_a_referral_with_a_reason(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    login(client, provider_user)
    response = submit_move(client, referral, "cancelled", note="Patient moved away")
    assert response.status_code == 302
    html = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Cancelled" in html and "Patient moved away" in html
    assert "Cancel referral" not in html
    assert outbox()[-1].recipient == practitioner_user.email


def test_provider_edits_professional_details(client, provider_user):
    login(client, provider_user)
    page = client.get("/referrals/profile").get_data(as_text=True)
    assert "MD-12345" in page and "verified" in page
    response = submit_form(
        client,
        "/referrals/profile",
        {
            "name": "Dr. Ana Rivera",
            "profession": "Dentist",
            "organization": "Smile Clinic",
            "phone": "303 555 0100",
            "registration_number": "DDS-9",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (provider_user.profession, provider_user.organization, provider_user.registration_number) == (
        "Dentist",
        "Smile Clinic",
        "DDS-9",
    )
    response = submit_form(client, "/referrals/profile", {"name": "Dr. Ana Rivera", "profession": ""})
    assert response.status_code == 400 and "This field is required" in response.get_data(as_text=True)


@pytest.mark.parametrize("role_fixture", ["practitioner_user", "admin_user"])
def test_only_providers_have_provider_details(client, request, role_fixture):
    login(client, request.getfixturevalue(role_fixture))
    assert client.get("/referrals/profile").status_code == 403


def test_the_referral_letter_is_printable_without_scripts(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user)
    login(client, provider_user)
    html = client.get(f"/referrals/{referral.id}/letter").get_data(as_text=True)
    assert "Referral for craniosacral therapy" in html
    assert PATIENT["name"] in html and "21 July 1984" in html and "MD-12345" in html
    assert "letter.css" in html and "<script" not in html
    css = client.get("/static/css/letter.css").get_data(as_text=True)
    assert "@media print" in css


# --- The practitioner's story ----------------------------------------------------------------


def test_practitioner_receives_accepts_books_completes_and_talks(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user)
    rid = referral.id
    login(client, practitioner_user)
    listing = client.get("/referrals/").get_data(as_text=True)
    assert "Referrals to you" in listing and f"/referrals/{rid}" in listing and "Dr. Ana Rivera" in listing

    # Opening it marks it received and tells the referrer.
    page = client.get(f"/referrals/{rid}").get_data(as_text=True)
    assert "Received" in page and PATIENT["phone"] in page and CLINICAL_NOTE in page
    assert "Accept" in page and "Decline" in page and "Reason for declining" in page
    db.session.expire_all()
    assert referral.status == "received"

    def move(data):
        db.session.expire_all()
        return submit_form(
            client, f"/referrals/{rid}", {"version": referral.version, **data}, post_url=f"/referrals/{rid}/transitions"
        )

    assert move({"status": "accepted"}).status_code == 302
    # Booking needs the date of the first appointment.
    response = move({"status": "in-progress"})
    assert response.status_code == 400 and "first appointment" in response.get_data(as_text=True)
    # Typed in the practice's own time (Boulder: Mountain Standard Time in March before the change).
    assert move({"status": "in-progress", "appointment_at": "2026-03-04T09:30"}).status_code == 302
    response = move({"status": "completed"})
    assert response.status_code == 400 and "Outcome for the referrer is required" in response.get_data(as_text=True)
    response = move({"status": "completed", "note": "Jaw pain much eased after four sessions"})
    assert response.status_code == 400 and "sessions attended is required" in response.get_data(as_text=True)
    response = move(
        {"status": "completed", "note": "Jaw pain much eased after four sessions", "sessions": "4", "pain_start": "7"}
    )
    assert response.status_code == 302

    response = submit_form(
        client, f"/referrals/{rid}", {"body": "Thank you for the referral"}, post_url=f"/referrals/{rid}/messages"
    )
    assert response.status_code == 302

    # The referrer sees the whole timeline, the outcome and the message.
    login(client, provider_user)
    html = client.get(f"/referrals/{rid}").get_data(as_text=True)
    for text in (
        "Sent",
        "Received",
        "Accepted",
        "In progress",
        "Completed",
        "Wed 4 Mar 2026, 09:30 MST, Boulder practice",
        "Sessions attended",
        "Jaw pain much eased after four sessions",
        "Thank you for the referral",
        "Pat Practitioner",
    ):
        assert text in html, text
    response = submit_form(
        client, f"/referrals/{rid}", {"body": "Glad to hear it"}, post_url=f"/referrals/{rid}/messages"
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [m.body for m in referral.messages] == ["Thank you for the referral", "Glad to hear it"]
    assert [e.status for e in referral.events] == ["requested", "received", "accepted", "in-progress", "completed"]


def test_practitioner_declines_with_a_reason(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    login(client, practitioner_user)
    response = submit_move(client, referral, "rejected")
    assert response.status_code == 400 and "Reason for declining is required" in response.get_data(as_text=True)
    response = submit_move(client, referral, "rejected", note="No TMJ capacity this month")
    assert response.status_code == 302
    db.session.expire_all()
    assert referral.status == "rejected" and referral.rejection_reason == "No TMJ capacity this month"


def test_a_page_move_on_a_stale_page_is_told_to_reload(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    login(client, practitioner_user)
    stale_version = referral.version
    page_csrf = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    # Meanwhile the referrer cancels.
    from directory.referrals import service

    service.transition(referral, provider_user, workflow.CANCELLED)
    db.session.commit()
    from tests.conftest import csrf_token_from

    response = client.post(
        f"/referrals/{referral.id}/transitions",
        data={"csrf_token": csrf_token_from(page_csrf), "status": "accepted", "version": stale_version},
    )
    assert response.status_code == 409
    assert "reload" in response.get_data(as_text=True)


def test_page_moves_answer_403_for_the_wrong_party_and_409_when_illegal(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    login(client, provider_user)
    response = submit_move(client, referral, "completed", note="x")
    assert response.status_code == 403
    login(client, practitioner_user)
    response = submit_move(client, referral, "rejected", note="x")
    assert response.status_code == 409
    response = submit_move(client, referral, "bogus")
    assert response.status_code == 400


def test_lists_filter_by_status(client, provider_user, practitioner_user):
    make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    make_referral(provider_user, practitioner_user, status=workflow.COMPLETED)
    login(client, provider_user)
    html = client.get("/referrals/").get_data(as_text=True)
    assert "Accepted (1)" in html and "Completed (1)" in html and "All (2)" in html
    html = client.get("/referrals/?status=completed").get_data(as_text=True)
    assert (
        html.count('href="/referrals/') - html.count('href="/referrals/?') - html.count('href="/referrals/profile') >= 1
    )
    assert client.get("/referrals/?status=nonsense").status_code == 400


def test_the_practitioner_inbox_lists_new_referrals(app, provider_user, practitioner_user):
    first = make_referral(provider_user, practitioner_user)
    make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    with app.test_request_context():
        html = render_template("referrals/_practitioner_inbox.html", current_user=practitioner_user)
    assert f"Referral #{first.id}" in html
    assert ">1</span>" in html
    assert PATIENT["name"] not in html


def test_a_provider_must_confirm_the_email_address_before_referring(client, practitioner_user):
    unconfirmed = UserFactory(role=Role.PROVIDER, provider_status=ProviderStatus.VERIFIED, confirmed_at=None)
    login(client, unconfirmed)
    response = client.get(f"/referrals/new?practitioner={practitioner_user.practitioner.id}")
    assert response.status_code == 403
    assert "confirm your email" in response.get_data(as_text=True)


# --- Services flush; their caller commits -----------------------------------------------------


def test_referral_services_leave_the_commit_to_their_caller(provider_user, practitioner_user):
    from directory.referrals import service
    from tests.referral_helpers import referral_input

    sent = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    draft = make_referral(provider_user, practitioner_user, status=workflow.DRAFT)
    service.create_referral(provider_user, referral_input(practitioner_user))
    service.transition(sent, practitioner_user, workflow.ACCEPTED)
    service.add_message(sent, provider_user, "Thank you")
    service.update_draft(draft, provider_user, referral_input(practitioner_user, reason="Changed"))
    service.delete_draft(draft, provider_user)
    db.session.rollback()  # the request failed at its end
    assert db.session.execute(db.select(db.func.count(Referral.id))).scalar_one() == 2
    assert db.session.get(Referral, sent.id).status == "received" and sent.messages == []
    assert db.session.get(Referral, draft.id).reason != "Changed"
    assert len(outbox()) == 2  # the two emails of make_referral's moves, none of the rolled-back ones


# --- The lists: 25 a page, filters, overdue first ------------------------------------------


def listed_ids(html: str) -> list[int]:
    """The referral ids of a list page, in order."""
    return [int(i) for i in re.findall(r'href="/referrals/(\d+)"', html)]


def test_the_list_shows_25_a_page_with_the_overdue_ones_first(client, provider_user, practitioner_user):
    late = make_referral(provider_user, practitioner_user)
    late.created_at = datetime.now(UTC) - timedelta(days=30)
    others = [make_referral(provider_user, practitioner_user) for _ in range(27)]
    db.session.commit()
    login(client, provider_user)
    first = listed_ids(client.get("/referrals/").get_data(as_text=True))
    assert len(first) == 25
    assert first[0] == late.id  # the oldest, but overdue: first
    assert first[1:] == [r.id for r in reversed(others)][:24]
    second = listed_ids(client.get("/referrals/?page=2").get_data(as_text=True))
    assert second == [r.id for r in reversed(others)][24:]
    oldest = listed_ids(client.get("/referrals/?sort=oldest").get_data(as_text=True))
    assert oldest[:3] == [late.id, others[0].id, others[1].id]
    assert client.get("/referrals/?page=zero").status_code == 400


def test_the_list_filters_by_status_practitioner_urgency_and_day_sent(
    client, provider_user, practitioner_user, other_practitioner_user
):
    urgent = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    routine = make_referral(provider_user, practitioner_user, urgency="routine")
    elsewhere = make_referral(provider_user, other_practitioner_user, urgency="routine")
    routine.created_at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    elsewhere.created_at = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    db.session.commit()
    login(client, provider_user)
    page = client.get("/referrals/").get_data(as_text=True)
    assert 'name="practitioner"' in page and "Olive Other" in page

    def ids(query):
        return set(listed_ids(client.get(f"/referrals/?{query}").get_data(as_text=True)))

    assert ids("status=accepted") == {urgent.id}
    assert ids(f"practitioner={other_practitioner_user.practitioner.id}") == {elsewhere.id}
    assert ids("urgency=routine") == {routine.id, elsewhere.id}
    assert ids("from=2026-03-02&to=2026-03-02") == {routine.id}
    assert ids("from=2026-03-03&to=2026-03-31") == {elsewhere.id}
    assert ids("urgency=routine&practitioner=" + str(practitioner_user.practitioner.id)) == {routine.id}
    for bad in ("urgency=soon", "practitioner=abc", "from=2026-02-30", "from=2026-03-05&to=2026-03-01", "status=x"):
        assert client.get(f"/referrals/?{bad}").status_code == 400, bad
    # The practitioner's list never shows another practitioner's referrals, whatever is asked.
    login(client, practitioner_user)
    assert elsewhere.id not in ids(f"practitioner={other_practitioner_user.practitioner.id}")


def test_the_api_list_filters_by_status_practitioner_and_dates(
    client, provider_user, practitioner_user, other_practitioner_user
):
    accepted = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    early = make_referral(provider_user, practitioner_user)
    elsewhere = make_referral(provider_user, other_practitioner_user)
    early.created_at = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    elsewhere.created_at = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    db.session.commit()
    headers = token_for(provider_user)

    def ids(query):
        response = client.get(f"/api/v1/referrals?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return {r["id"] for r in response.get_json()["results"]}

    assert ids("status=accepted") == {accepted.id}
    assert ids(f"practitioner_id={other_practitioner_user.practitioner.id}") == {elsewhere.id}
    assert ids("since=2026-03-02&until=2026-03-02") == {early.id}
    assert ids("since=2026-03-02T13:00:00Z&until=2026-03-31") == {elsewhere.id}
    assert ids("until=2026-03-04") == {early.id}
    assert ids("since=2026-11-01") == {accepted.id}
    # since after until is an empty range: nothing, not an error.
    assert ids("since=2026-03-05&until=2026-03-01") == set()
    for bad in ("since=yesterday", "until=2026-13-01", "practitioner_id=-1", "since=", "until="):
        response = client.get(f"/api/v1/referrals?{bad}", headers=headers)
        assert response.status_code == 400 and response.get_json()["error"], bad
