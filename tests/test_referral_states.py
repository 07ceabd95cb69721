"""Every state a referral really reaches: holds, no-shows, failures, referrals sent in error, overdue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle

from directory.extensions import db
from directory.models import Referral
from directory.referrals import service, workflow
from tests.conftest import login, submit_form
from tests.referral_helpers import assert_no_patient_details, make_referral, outbox, token_for


def post_move(client, referral, user, **body):
    """A move through the API."""
    return client.post(f"/api/v1/referrals/{referral.id}/transitions", json=body, headers=token_for(user))


def stored(referral) -> Referral:
    """The referral as the database has it now."""
    db.session.expire_all()
    return db.session.get(Referral, referral.id)


# --- On hold -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["referrer", "recipient"])
@pytest.mark.parametrize("status", [workflow.RECEIVED, workflow.ACCEPTED, workflow.IN_PROGRESS])
def test_either_party_puts_a_referral_on_hold_and_takes_it_up_where_it_was(
    client, provider_user, practitioner_user, who, status
):
    referral = make_referral(provider_user, practitioner_user, status=status)
    user = provider_user if who == "referrer" else practitioner_user
    response = post_move(client, referral, user, status="on-hold")
    assert response.status_code == 400 and "Reason for the hold is required" in response.get_json()["error"]
    response = post_move(client, referral, user, status="on-hold", note="Patient travelling until March")
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "on-hold" and data["held_from"] == status
    assert data["status_note"] == "Patient travelling until March"
    # Back only to the status it left; the other party may take it up too.
    other = practitioner_user if who == "referrer" else provider_user
    elsewhere = workflow.ACCEPTED if status != workflow.ACCEPTED else workflow.IN_PROGRESS
    response = post_move(client, referral, other, status=elsewhere)
    assert response.status_code == 409 and status in response.get_json()["error"]
    response = post_move(client, referral, other, status=status)
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == status and data["held_from"] is None and data["status_note"] is None
    assert [e["status"] for e in data["events"]][-2:] == ["on-hold", status]


def test_a_hold_shows_its_reason_and_offers_only_the_way_back(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ON_HOLD)
    login(client, practitioner_user)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "On hold" in page and workflow.STATUS_EXPLANATIONS["on-hold"] in page
    assert "Reason for the hold" in page and "A note" in page
    assert page.count('name="status" value="accepted"') == 1
    assert 'name="status" value="in-progress"' not in page
    response = submit_form(
        client,
        f"/referrals/{referral.id}",
        {"status": "accepted", "version": stored(referral).version},
        post_url=f"/referrals/{referral.id}/transitions",
    )
    assert response.status_code == 302
    assert stored(referral).status == "accepted"


# --- No-shows and failure ---------------------------------------------------------------------


def test_no_shows_are_counted_on_both_timelines_and_the_second_lets_the_referral_fail(
    client, provider_user, practitioner_user
):
    referral = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    before = len(outbox())
    # The referrer cannot record one.
    assert post_move(client, referral, provider_user, status="no-show").status_code == 403
    # A no-show for an appointment still to come is refused.
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    response = post_move(client, referral, practitioner_user, status="no-show", appointment_at=future)
    assert response.status_code == 400 and "passed" in response.get_json()["error"]
    # Without a time it concerns the first appointment.
    response = post_move(client, referral, practitioner_user, status="no-show")
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "in-progress" and data["no_shows"] == 1
    assert data["events"][-1]["kind"] == "no-show"
    assert data["events"][-1]["appointment_at"] == "2026-03-04T16:30:00Z"
    # Failing for no-shows needs two.
    response = post_move(client, referral, practitioner_user, status="failed", reason="no-show")
    assert response.status_code == 409 and "2 recorded no-shows" in response.get_json()["error"]
    response = post_move(
        client, referral, practitioner_user, status="no-show", appointment_at="2026-03-11T09:30", note="No call"
    )
    assert response.status_code == 200 and response.get_json()["no_shows"] == 2
    assert response.get_json()["events"][-1]["appointment_at"] == "2026-03-11T15:30:00Z"  # 09:30 MDT
    # Both parties see them on the timeline.
    for who in (provider_user, practitioner_user):
        login(client, who)
        page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
        assert page.count("No-show (") == 2 and "Wed 11 Mar 2026, 09:30 MDT" in page
        assert "Missed appointments" in page
    response = post_move(client, referral, practitioner_user, status="failed", reason="no-show")
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "failed" and data["status_reason"] == "no-show"
    # Each no-show told the referrer, without any patient detail or time.
    mails = outbox()[before:]
    assert [m.recipient for m in mails] == [provider_user.email] * 3
    assert "missed appointment" in mails[0].subject
    for mail in mails:
        for text in (mail.subject, mail.text_body, mail.html_body):
            assert_no_patient_details(text)
            assert "No call" not in text and "09:30" not in text


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({}, 400, "reason must be one of"),
        ({"reason": "bored"}, 400, "reason must be one of"),
        ({"reason": "other"}, 400, "note"),
        ({"reason": "other", "note": "Moved abroad"}, 200, None),
        ({"reason": "unreachable"}, 200, None),
        ({"reason": "declined"}, 200, None),
        ({"reason": "not-suitable", "note": "Acute fracture"}, 200, None),
    ],
)
def test_failing_needs_a_reason_of_the_list_and_other_needs_a_note(
    client, provider_user, practitioner_user, body, code, message
):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    response = post_move(client, referral, practitioner_user, status="failed", **body)
    assert response.status_code == code
    if message:
        assert message in response.get_json()["error"]
        assert stored(referral).status == "accepted"
    else:
        assert stored(referral).status == "failed" and stored(referral).status_reason == body["reason"]


def test_the_practitioner_ends_a_referral_from_its_page(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    login(client, practitioner_user)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "End without treatment" in page and "Record a no-show" in page
    assert '<option value="no-show">' not in page  # no failing for no-shows before two are recorded
    response = submit_form(
        client,
        f"/referrals/{referral.id}",
        {"status": "failed", "version": referral.version, "reason": "unreachable"},
        post_url=f"/referrals/{referral.id}/transitions",
    )
    assert response.status_code == 302
    login(client, provider_user)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Ended without treatment" in page and "Patient unreachable after several attempts" in page


# --- Sent in error ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [workflow.REQUESTED, workflow.RECEIVED])
def test_a_referral_sent_in_error_is_withdrawn_from_the_practitioner_but_kept(
    client, provider_user, practitioner_user, admin_user, status
):
    referral = make_referral(provider_user, practitioner_user, status=status)
    assert post_move(client, referral, provider_user, status="entered-in-error").status_code == 400
    response = post_move(client, referral, provider_user, status="entered-in-error", note="Wrong patient")
    assert response.status_code == 200 and response.get_json()["status"] == "entered-in-error"
    # Gone for the practitioner: lists, page, API, FHIR.
    login(client, practitioner_user)
    assert f"/referrals/{referral.id}" not in client.get("/referrals/").get_data(as_text=True)
    assert client.get(f"/referrals/{referral.id}").status_code == 404
    headers = token_for(practitioner_user)
    assert client.get(f"/api/v1/referrals/{referral.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/referrals/{referral.id}/fhir", headers=headers).status_code == 404
    assert referral.id not in [r["id"] for r in client.get("/api/v1/referrals", headers=headers).get_json()["results"]]
    # Kept for the referrer and admins, with its whole history.
    listing = client.get("/api/v1/referrals", headers=token_for(provider_user)).get_json()["results"]
    assert [r["status"] for r in listing if r["id"] == referral.id] == ["entered-in-error"]
    login(client, admin_user)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Sent in error" in page and "Wrong patient" in page


def test_once_accepted_a_referral_cannot_be_marked_sent_in_error(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    response = post_move(client, referral, provider_user, status="entered-in-error", note="Wrong patient")
    assert response.status_code == 409
    assert stored(referral).status == "accepted"


# --- Overdue: accepted without an appointment after 10 working days ----------------------------


def test_an_accepted_referral_without_appointment_is_overdue_after_ten_working_days(provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    accepted = next(e for e in referral.events if e.status == "accepted")
    accepted.at = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
    db.session.commit()
    assert not service.is_overdue(referral, datetime(2026, 3, 16, 10, 0, tzinfo=UTC))  # 10 working days later
    assert service.is_overdue(referral, datetime(2026, 3, 16, 10, 1, tzinfo=UTC))
    assert "no appointment" in service.overdue_label(referral)
    # Booking the appointment ends it.
    booked = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    assert not service.is_overdue(booked, datetime(2030, 1, 1, tzinfo=UTC))


def test_both_sides_see_why_an_accepted_referral_is_overdue(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    next(e for e in referral.events if e.status == "accepted").at = datetime.now(UTC) - timedelta(days=20)
    db.session.commit()
    for who in (provider_user, practitioner_user):
        login(client, who)
        assert "no appointment 10 working days after accepting" in client.get("/referrals/").get_data(as_text=True)
        assert "no appointment 10 working days" in client.get(f"/referrals/{referral.id}").get_data(as_text=True)
        data = client.get(f"/api/v1/referrals/{referral.id}", headers=token_for(who)).get_json()
        assert data["overdue"] is True


# --- Pages and FHIR for each state -------------------------------------------------------------

FHIR_EXPECTED = {
    # our status: (Task.status, ServiceRequest.status, Task.statusReason text or None)
    "on-hold": ("on-hold", "on-hold", "A note"),
    "failed": ("failed", "revoked", "Patient unreachable after several attempts: A note"),
    "entered-in-error": ("entered-in-error", "entered-in-error", "A note"),
    "rejected": ("rejected", "revoked", "A note"),
    "cancelled": ("cancelled", "revoked", "A note"),
    "accepted": ("accepted", "active", None),
}


@pytest.mark.parametrize("status", list(FHIR_EXPECTED))
def test_each_state_has_its_fhir_task_status_business_status_and_reason(
    client, provider_user, practitioner_user, status
):
    referral = make_referral(provider_user, practitioner_user, status=status)
    response = client.get(f"/api/v1/referrals/{referral.id}/fhir", headers=token_for(provider_user))
    bundle = Bundle.model_validate(json.loads(response.get_data(as_text=True)))
    resources = {e.resource.get_resource_type(): e.resource for e in bundle.entry}
    task, service_request = resources["Task"], resources["ServiceRequest"]
    task_status, sr_status, reason = FHIR_EXPECTED[status]
    assert (task.status, service_request.status) == (task_status, sr_status)
    assert task.businessStatus.coding[0].code == status
    assert task.businessStatus.text == workflow.STATUS_LABELS[status]
    if reason is None:
        assert task.statusReason is None
    else:
        assert task.statusReason.text == reason
    if status == "failed":
        assert task.statusReason.coding[0].code == "unreachable"


def test_a_no_show_appears_in_the_fhir_history(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    assert post_move(client, referral, practitioner_user, status="no-show").status_code == 200
    response = client.get(f"/api/v1/referrals/{referral.id}/fhir", headers=token_for(provider_user))
    bundle = Bundle.model_validate(json.loads(response.get_data(as_text=True)))
    provenances = [e.resource for e in bundle.entry if e.resource.get_resource_type() == "Provenance"]
    assert provenances[-1].activity.coding[0].code == "no-show"
    task = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Task")
    assert task.status == "in-progress" and "1 no-show" in task.businessStatus.text


@pytest.mark.parametrize("status", workflow.STATUSES)
def test_each_state_has_its_label_colour_and_explanation_on_the_page(client, provider_user, practitioner_user, status):
    referral = make_referral(provider_user, practitioner_user, status=status)
    login(client, provider_user)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert workflow.STATUS_LABELS[status] in page
    assert workflow.STATUS_COLOURS[status] in page
    assert workflow.STATUS_EXPLANATIONS[status] in page


def test_a_no_show_and_a_hold_at_the_same_moment_one_wins_the_other_is_told_to_reload(
    app, provider_user, practitioner_user
):
    """The new moves are guarded as the others: both loaded the same version; one wins, one reloads."""
    import threading

    from directory.models import User

    referral = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    rid, provider_id, practitioner_id = referral.id, provider_user.id, practitioner_user.id
    results: dict[str, str] = {}
    both_loaded = threading.Barrier(2)

    def act(user_id, target, note):
        with app.app_context():
            user = db.session.get(User, user_id)
            loaded = db.session.get(Referral, rid)
            _ = user.practitioner, loaded.practitioner, loaded.practitioner.locations, loaded.events, loaded.referrer
            both_loaded.wait()
            try:
                service.transition(loaded, user, target, note=note)
                db.session.commit()
                results[target] = "won"
            except service.ChangedMeanwhile:
                results[target] = "reload"
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=act, args=(practitioner_id, workflow.NO_SHOW, "")),
        threading.Thread(target=act, args=(provider_id, workflow.ON_HOLD, "Away")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) == ["reload", "won"]
    again = stored(referral)
    assert len(again.events) == 5  # requested, received, accepted, in-progress, and the winner's
    if results[workflow.NO_SHOW] == "won":
        assert (again.status, again.no_shows, again.events[-1].kind) == ("in-progress", 1, "no-show")
    else:
        assert (again.status, again.no_shows, again.events[-1].status) == ("on-hold", 0, "on-hold")
