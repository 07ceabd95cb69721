"""The referral API for clinic systems: send, list, read, move, FHIR, and concurrency."""

from __future__ import annotations

import json
import threading

import pytest
from fhir.resources.R4B.bundle import Bundle

from directory.extensions import db
from directory.models import Referral, ReferralEvent, Role
from directory.models.accounts import ProviderStatus
from directory.referrals import workflow
from tests.factories import PractitionerFactory, UserFactory
from tests.referral_helpers import (
    APPOINTMENT,
    PATIENT,
    assert_no_patient_details,
    make_referral,
    outbox,
    token_for,
)


def payload(practitioner_user, **overrides) -> dict:
    """A complete API request body."""
    body = {
        "practitioner_id": practitioner_user.practitioner.id,
        "patient": dict(PATIENT),
        "conditions": ["tmj"],
        "reason": "Persistent jaw pain despite splint therapy",
        "urgency": "urgent",
        "consent": True,
    }
    body.update(overrides)
    return body


def count_referrals() -> int:
    """How many referrals are stored."""
    db.session.expire_all()
    return db.session.execute(db.select(db.func.count(Referral.id))).scalar_one()


# --- Sending ---------------------------------------------------------------------------------


def test_clinic_system_sends_a_referral_and_gets_it_back(client, provider_user, practitioner_user):
    response = client.post("/api/v1/referrals", json=payload(practitioner_user), headers=token_for(provider_user))
    assert response.status_code == 201
    data = response.get_json()
    assert data["status"] == "requested"
    assert data["practitioner_id"] == practitioner_user.practitioner.id
    assert data["referrer"]["name"] == "Dr. Ana Rivera"
    assert data["patient"] == PATIENT
    assert data["conditions"] == ["tmj"]
    assert data["urgency"] == "urgent"
    assert data["reason"].startswith("Persistent jaw pain")
    assert data["created_at"].endswith("Z")
    assert [e["status"] for e in data["events"]] == ["requested"]
    assert data["events"][0]["actor"] == "Dr. Ana Rivera"
    assert response.headers["Location"].endswith(f"/api/v1/referrals/{data['id']}")
    assert count_referrals() == 1
    # The practitioner is told by email, without any patient detail.
    (mail,) = outbox()
    assert mail.recipient == practitioner_user.email
    assert f"#{data['id']}" in mail.subject
    assert f"/referrals/{data['id']}" in mail.text_body
    for text in (mail.subject, mail.text_body, mail.html_body):
        assert_no_patient_details(text)


def test_a_referral_with_only_a_name_and_a_phone_is_accepted_as_routine(client, provider_user, practitioner_user):
    """Urgency defaults to routine, as the document says; details not given come back as null."""
    body = payload(practitioner_user, patient={"name": "Jo Minimal", "phone": "+1 303 555 0101"}, conditions=[])
    del body["urgency"]
    response = client.post("/api/v1/referrals", json=body, headers=token_for(provider_user))
    assert response.status_code == 201
    assert response.get_json()["urgency"] == "routine"
    assert response.get_json()["preferred_contact"] == "phone"
    assert response.get_json()["patient"] == {
        "name": "Jo Minimal",
        "phone": "+1 303 555 0101",
        "email": None,
        "birth_date": None,
    }


def test_sending_without_a_token_answers_401(client, practitioner_user):
    response = client.post("/api/v1/referrals", json=payload(practitioner_user))
    assert response.status_code == 401
    assert "error" in response.get_json()
    response = client.post(
        "/api/v1/referrals", json=payload(practitioner_user), headers={"Authorization": "Bearer nonsense"}
    )
    assert response.status_code == 401
    assert count_referrals() == 0


@pytest.mark.parametrize("role_fixture", ["practitioner_user", "admin_user"])
def test_only_providers_send_referrals(client, request, role_fixture, practitioner_user):
    user = request.getfixturevalue(role_fixture)
    response = client.post("/api/v1/referrals", json=payload(practitioner_user), headers=token_for(user))
    assert response.status_code == 403
    assert "error" in response.get_json()
    assert count_referrals() == 0


def test_a_provider_not_yet_verified_cannot_send(client, practitioner_user):
    pending = UserFactory(role=Role.PROVIDER, provider_status=ProviderStatus.PENDING, profession="Dentist")
    response = client.post("/api/v1/referrals", json=payload(practitioner_user), headers=token_for(pending))
    assert response.status_code == 403
    assert "verified" in response.get_json()["error"]
    assert count_referrals() == 0


BAD_BODIES = {
    "missing consent": lambda b: b.pop("consent"),
    "consent false": lambda b: b.update(consent=False),
    "consent as a string": lambda b: b.update(consent="true"),
    "unknown condition": lambda b: b.update(conditions=["tmj", "not-a-condition"]),
    "conditions not a list": lambda b: b.update(conditions="tmj"),
    "unknown practitioner": lambda b: b.update(practitioner_id=999999),
    "practitioner id as text": lambda b: b.update(practitioner_id="1"),
    "missing practitioner": lambda b: b.pop("practitioner_id"),
    "missing patient": lambda b: b.pop("patient"),
    "patient not an object": lambda b: b.update(patient="Maria"),
    "missing patient name": lambda b: b["patient"].pop("name"),
    "blank patient name": lambda b: b["patient"].update(name="   "),
    "patient name a number": lambda b: b["patient"].update(name=42),
    "bad patient email": lambda b: b["patient"].update(email="not-an-email"),
    "bad birth date": lambda b: b["patient"].update(birth_date="21/07/1984"),
    "birth date in the future": lambda b: b["patient"].update(birth_date="2999-01-01"),
    "bad urgency": lambda b: b.update(urgency="whenever"),
    "missing reason": lambda b: b.pop("reason"),
    "reason a list": lambda b: b.update(reason=["pain"]),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=list(BAD_BODIES))
def test_bad_referral_bodies_answer_400_and_store_nothing(client, provider_user, practitioner_user, case):
    body = payload(practitioner_user)
    body["patient"] = dict(body["patient"])
    BAD_BODIES[case](body)
    response = client.post("/api/v1/referrals", json=body, headers=token_for(provider_user))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]
    assert count_referrals() == 0
    assert outbox() == []


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"a string"', ""])
def test_malformed_json_answers_400(client, provider_user, practitioner_user, raw):
    headers = {**token_for(provider_user), "Content-Type": "application/json"}
    response = client.post("/api/v1/referrals", data=raw, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_an_unlisted_practitioner_cannot_be_referred_to(client, provider_user):
    hidden = PractitionerFactory(published=False)
    body = {"practitioner_id": hidden.id, "patient": {"name": "A"}, "reason": "r", "consent": True}
    response = client.post("/api/v1/referrals", json=body, headers=token_for(provider_user))
    assert response.status_code == 400


# --- Listing ---------------------------------------------------------------------------------


def test_each_role_lists_its_own_referrals_newest_first(
    client, provider_user, other_provider_user, practitioner_user, other_practitioner_user, admin_user
):
    first = make_referral(provider_user, practitioner_user)
    second = make_referral(provider_user, other_practitioner_user)
    third = make_referral(other_provider_user, practitioner_user)
    make_referral(provider_user, practitioner_user, status=workflow.DRAFT)

    def listed(user):
        response = client.get("/api/v1/referrals", headers=token_for(user))
        assert response.status_code == 200
        data = response.get_json()
        assert set(data) == {"count", "page", "per_page", "results"}
        assert data["count"] == len(data["results"])
        return [r["id"] for r in data["results"]]

    provider_ids = listed(provider_user)
    assert provider_ids[1:] == [second.id, first.id] and len(provider_ids) == 3  # the draft is theirs too
    assert listed(practitioner_user) == [third.id, first.id]  # no drafts for the practitioner
    assert listed(other_practitioner_user) == [second.id]
    assert listed(other_provider_user) == [third.id]
    assert listed(admin_user)[1:] == [third.id, second.id, first.id]


def test_the_list_is_paginated_up_to_100_a_page(client, provider_user, practitioner_user):
    made = [make_referral(provider_user, practitioner_user).id for _ in range(5)]
    headers = token_for(provider_user)
    page = client.get("/api/v1/referrals?page=2&per_page=2", headers=headers).get_json()
    assert page["count"] == 5 and page["page"] == 2 and page["per_page"] == 2
    assert [r["id"] for r in page["results"]] == list(reversed(made))[2:4]
    assert client.get("/api/v1/referrals?per_page=100", headers=headers).status_code == 200
    assert client.get("/api/v1/referrals?status=requested", headers=headers).get_json()["count"] == 5
    assert client.get("/api/v1/referrals?status=completed", headers=headers).get_json()["count"] == 0


@pytest.mark.parametrize(
    "query", ["page=0", "page=-1", "page=abc", "per_page=0", "per_page=101", "per_page=x", "status=nope"]
)
def test_bad_list_parameters_answer_400(client, provider_user, query):
    response = client.get(f"/api/v1/referrals?{query}", headers=token_for(provider_user))
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_listing_needs_a_token(client):
    assert client.get("/api/v1/referrals").status_code == 401


# --- Reading and moving ----------------------------------------------------------------------


def test_first_read_by_the_practitioner_marks_the_referral_received(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user)
    # The referrer's reads change nothing.
    data = client.get(f"/api/v1/referrals/{referral.id}", headers=token_for(provider_user)).get_json()
    assert data["status"] == "requested"
    headers = token_for(practitioner_user)
    data = client.get(f"/api/v1/referrals/{referral.id}", headers=headers).get_json()
    assert set(data) >= {
        "id",
        "status",
        "practitioner_id",
        "referrer",
        "patient",
        "conditions",
        "reason",
        "urgency",
        "created_at",
        "events",
    }
    assert data["status"] == "received"
    assert [e["status"] for e in data["events"]] == ["requested", "received"]
    assert data["events"][1]["actor"] == "Pat Practitioner"
    assert set(data["events"][0]) == {"status", "kind", "at", "actor", "note", "appointment_at"}
    # A second read records nothing more.
    data = client.get(f"/api/v1/referrals/{referral.id}", headers=headers).get_json()
    assert len(data["events"]) == 2
    # The referrer was told by email.
    assert [m.recipient for m in outbox()] == [practitioner_user.email, provider_user.email]


def post_move(client, referral_id, headers, **body):
    """POST a transition."""
    return client.post(f"/api/v1/referrals/{referral_id}/transitions", json=body, headers=headers)


def test_the_whole_lifecycle_through_the_api(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user)
    rid = referral.id
    recipient = token_for(practitioner_user)
    referrer = token_for(provider_user)
    assert client.get(f"/api/v1/referrals/{rid}", headers=recipient).get_json()["status"] == "received"
    response = post_move(client, rid, recipient, status="accepted", note="Happy to see her")
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"
    response = post_move(client, rid, recipient, status="in-progress")
    assert response.status_code == 400 and "appointment" in response.get_json()["error"]
    response = post_move(client, rid, recipient, status="in-progress", appointment_at="2026-03-04T16:30:00Z")
    assert response.status_code == 200
    # Written in the location's own time (Boulder, Mountain Standard Time), the same moment.
    assert response.get_json()["appointment_at"] == "2026-03-04T09:30:00-07:00"
    response = post_move(client, rid, recipient, status="completed")
    assert response.status_code == 400 and response.get_json()["error"]
    response = post_move(
        client, rid, recipient, status="completed", note="Four sessions; jaw pain much eased.", outcome={"sessions": 4}
    )
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "completed" and data["outcome_note"] == "Four sessions; jaw pain much eased."
    assert data["outcome"]["note"] == "Four sessions; jaw pain much eased." and data["outcome"]["sessions"] == 4
    assert [e["status"] for e in data["events"]] == ["requested", "received", "accepted", "in-progress", "completed"]
    # Nothing moves a completed referral any more, not even the referrer's cancel.
    assert post_move(client, rid, referrer, status="cancelled").status_code == 409


def test_a_recipient_may_accept_without_reading_first(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user)
    response = post_move(client, referral.id, token_for(practitioner_user), status="accepted")
    assert response.status_code == 200
    assert [e["status"] for e in response.get_json()["events"]] == ["requested", "received", "accepted"]


def test_declining_needs_a_reason(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    headers = token_for(practitioner_user)
    assert post_move(client, referral.id, headers, status="rejected").status_code == 400
    response = post_move(client, referral.id, headers, status="rejected", note="Not taking new TMJ cases")
    assert response.status_code == 200
    assert response.get_json()["rejection_reason"] == "Not taking new TMJ cases"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "finished"},
        {"status": 3},
        {},
        {"status": "in-progress", "appointment_at": "next tuesday"},
        {"status": "accepted", "note": ["x"]},
        {"status": "accepted", "version": "1"},
    ],
)
def test_bad_transition_bodies_answer_400(client, provider_user, practitioner_user, body):
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    before = referral.version
    response = post_move(client, referral.id, token_for(practitioner_user), **body)
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).version == before


def test_wrong_party_403_illegal_move_409_stranger_404(
    client, provider_user, practitioner_user, other_practitioner_user, admin_user
):
    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    assert post_move(client, referral.id, token_for(provider_user), status="completed", note="x").status_code == 403
    assert post_move(client, referral.id, token_for(practitioner_user), status="cancelled").status_code == 403
    assert post_move(client, referral.id, token_for(admin_user), status="cancelled").status_code == 403
    assert post_move(client, referral.id, token_for(practitioner_user), status="accepted").status_code == 409
    assert post_move(client, referral.id, token_for(practitioner_user), status="rejected", note="x").status_code == 409
    assert post_move(client, referral.id, token_for(other_practitioner_user), status="in-progress").status_code == 404
    assert post_move(client, 999999, token_for(practitioner_user), status="accepted").status_code == 404


def test_a_move_based_on_an_old_version_is_told_to_reload(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    response = post_move(
        client, referral.id, token_for(practitioner_user), status="accepted", version=referral.version - 1
    )
    assert response.status_code == 409
    assert "reload" in response.get_json()["error"]


# --- FHIR ------------------------------------------------------------------------------------

FHIR_EXPECTED = {
    # our status: (Task.status, ServiceRequest.status)
    "requested": ("requested", "active"),
    "received": ("received", "active"),
    "accepted": ("accepted", "active"),
    "rejected": ("rejected", "revoked"),
    "in-progress": ("in-progress", "active"),
    "completed": ("completed", "completed"),
    "cancelled": ("cancelled", "revoked"),
}


@pytest.mark.parametrize("status", list(FHIR_EXPECTED))
def test_fhir_export_is_a_valid_r4_bundle(client, provider_user, practitioner_user, status):
    referral = make_referral(provider_user, practitioner_user, status=status)
    response = client.get(f"/api/v1/referrals/{referral.id}/fhir", headers=token_for(provider_user))
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    bundle = Bundle.model_validate(json.loads(response.get_data(as_text=True)))
    resources = {}
    for entry in bundle.entry:
        resources.setdefault(entry.resource.get_resource_type(), []).append(entry.resource)
    (service_request,) = resources["ServiceRequest"]
    (task,) = resources["Task"]
    task_status, sr_status = FHIR_EXPECTED[status]
    assert task.status == task_status
    assert service_request.status == sr_status
    assert service_request.priority == "urgent"
    assert service_request.subject.reference and service_request.requester.reference
    assert service_request.performer[0].display == "Pat Practitioner"
    assert service_request.reasonCode[0].coding[0].code == "tmj"
    assert task.businessStatus.text
    assert len(task.relevantHistory) == len(referral.events) == len(resources["Provenance"])
    full_urls = {entry.fullUrl for entry in bundle.entry}
    assert task.focus.reference in full_urls and service_request.subject.reference in full_urls
    (patient,) = resources["Patient"]
    assert patient.name[0].text == PATIENT["name"]
    assert str(patient.birthDate) == PATIENT["birth_date"]


# --- Concurrency -----------------------------------------------------------------------------


def test_forty_referrals_sent_at_once_are_all_stored(app, provider_user, practitioner_user):
    headers = token_for(provider_user)
    body = payload(practitioner_user)
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(40)

    def send():
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/referrals", json=body, headers=headers)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [201] * 40
    assert count_referrals() == 40
    assert db.session.execute(db.select(db.func.count(ReferralEvent.id))).scalar_one() == 40
    assert len(outbox()) == 40


def test_two_moves_at_the_same_moment_one_wins_the_other_is_told_to_reload(app, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    rid, provider_id, practitioner_id = referral.id, provider_user.id, practitioner_user.id
    from directory.models import User
    from directory.referrals import service

    results: dict[str, str] = {}
    both_loaded = threading.Barrier(2)

    def act(user_id, target):
        with app.app_context():
            user = db.session.get(User, user_id)
            loaded = db.session.get(Referral, rid)
            _ = user.practitioner, loaded.practitioner, loaded.events  # load before racing
            both_loaded.wait()
            try:
                service.transition(loaded, user, target)
                db.session.commit()  # each thread is a request: it commits at its end
                results[target] = "won"
            except service.ChangedMeanwhile:
                results[target] = "reload"
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=act, args=(practitioner_id, workflow.ACCEPTED)),
        threading.Thread(target=act, args=(provider_id, workflow.CANCELLED)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) == ["reload", "won"]
    winner = next(t for t, r in results.items() if r == "won")
    db.session.expire_all()
    stored = db.session.get(Referral, rid)
    assert stored.status == winner
    # The winner's event is there, the loser's move left no trace: no event lost, none invented.
    assert [e.status for e in stored.events] == ["requested", "received", winner]


def test_many_api_moves_at_once_leave_a_consistent_history(app, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.RECEIVED)
    rid = referral.id
    headers = token_for(practitioner_user)
    codes: list[int] = []
    start = threading.Barrier(8)

    def accept():
        client = app.test_client()
        start.wait()
        codes.append(
            client.post(
                f"/api/v1/referrals/{rid}/transitions", json={"status": "accepted"}, headers=headers
            ).status_code
        )

    threads = [threading.Thread(target=accept) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes.count(200) == 1 and codes.count(409) == 7
    db.session.expire_all()
    assert [e.status for e in db.session.get(Referral, rid).events] == ["requested", "received", "accepted"]


def test_the_appointment_is_written_in_the_locations_time(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    data = client.get(f"/api/v1/referrals/{referral.id}", headers=token_for(provider_user)).get_json()
    assert APPOINTMENT.isoformat() == "2026-03-04T16:30:00+00:00"
    assert data["appointment_at"] == "2026-03-04T09:30:00-07:00"
    assert data["appointment"] == {
        "at": "2026-03-04T09:30:00-07:00",
        "time_zone": "America/Denver",
        "location_id": practitioner_user.practitioner.locations[0].id,
        "place": "Boulder practice",
    }
