"""The structured outcome of a completed referral: in the API, on the pages and letter, and in FHIR."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from directory.extensions import db
from directory.models import Referral
from directory.referrals import workflow
from tests.conftest import login, submit_form
from tests.referral_helpers import assert_no_patient_details, make_referral, outbox, token_for

FULL = {
    "sessions": 5,
    "last_session_on": "2026-04-20",
    "pain_start": 7,
    "pain_end": 2,
    "pgic": 2,
    "return_to_referrer": True,
    "return_reason": "Review the night guard",
}


def complete(client, referral, user, **body):
    """The practitioner's move to completed through the API."""
    return client.post(
        f"/api/v1/referrals/{referral.id}/transitions",
        json={"status": "completed", "note": "Jaw pain much eased", **body},
        headers=token_for(user),
    )


def stored(referral) -> Referral:
    """The referral as the database has it now."""
    db.session.expire_all()
    return db.session.get(Referral, referral.id)


def test_completing_records_the_structured_outcome_and_the_api_answers_it(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    response = complete(client, referral, practitioner_user, outcome=FULL)
    assert response.status_code == 200
    data = response.get_json()
    assert data["outcome"] == {"note": "Jaw pain much eased", **FULL}
    assert data["outcome_note"] == "Jaw pain much eased"
    # The referrer reads the same.
    again = client.get(f"/api/v1/referrals/{referral.id}", headers=token_for(provider_user)).get_json()
    assert again["outcome"] == data["outcome"]
    # Before completion there is no outcome.
    other = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    assert client.get(f"/api/v1/referrals/{other.id}", headers=token_for(provider_user)).get_json()["outcome"] is None


def test_only_the_number_of_sessions_is_required(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    response = complete(client, referral, practitioner_user)
    assert response.status_code == 400 and "sessions attended is required" in response.get_json()["error"]
    response = complete(client, referral, practitioner_user, outcome={"sessions": 1})
    assert response.status_code == 200
    assert response.get_json()["outcome"] == {
        "note": "Jaw pain much eased",
        "sessions": 1,
        "last_session_on": None,
        "pain_start": None,
        "pain_end": None,
        "pgic": None,
        "return_to_referrer": None,
        "return_reason": None,
    }


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ({"sessions": 0}, "from 1 to 500"),
        ({"sessions": 501}, "from 1 to 500"),
        ({"sessions": 2.5}, "outcome.sessions must be an integer"),
        ({"sessions": "4"}, "outcome.sessions must be an integer"),
        ({"sessions": True}, "outcome.sessions must be an integer"),
        ({"sessions": 4, "pain_start": 11}, "from 0 to 10"),
        ({"sessions": 4, "pain_end": -1}, "from 0 to 10"),
        ({"sessions": 4, "pgic": 0}, "from 1 to 7"),
        ({"sessions": 4, "pgic": 8}, "from 1 to 7"),
        ({"sessions": 4, "last_session_on": "2026-02-30"}, "outcome.last_session_on"),
        ({"sessions": 4, "last_session_on": "2999-01-01"}, "cannot be in the future"),
        ({"sessions": 4, "return_to_referrer": "yes"}, "true or false"),
        ({"sessions": 4, "return_to_referrer": True}, "why the patient should return"),
        ("five sessions", "outcome must be an object"),
    ],
)
def test_out_of_range_outcomes_answer_400_and_change_nothing(
    client, provider_user, practitioner_user, outcome, message
):
    referral = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    version, mails = referral.version, len(outbox())
    response = complete(client, referral, practitioner_user, outcome=outcome)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    again = stored(referral)
    assert again.status == "in-progress" and again.version == version and again.outcome_sessions is None
    assert len(outbox()) == mails


def test_the_practitioner_records_the_outcome_on_the_page_and_the_referrer_reads_it(
    client, provider_user, practitioner_user
):
    referral = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    login(client, practitioner_user)
    form = {
        "status": "completed",
        "version": referral.version,
        "note": "Jaw pain much eased",
        "sessions": "5",
        "last_session_on": "2026-04-20",
        "pain_start": "7",
        "pain_end": "2",
        "pgic": "2",
        "return_to_referrer": "y",
        "return_reason": "Review the night guard",
    }
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert 'name="sessions"' in page and "Very much improved" in page
    bad = submit_form(
        client,
        f"/referrals/{referral.id}",
        {**form, "pain_end": "12"},
        post_url=f"/referrals/{referral.id}/transitions",
    )
    assert bad.status_code == 400 and "Pain at the last session must be a whole number from 0 to 10" in bad.get_data(
        as_text=True
    )
    assert stored(referral).status == "in-progress"
    response = submit_form(client, f"/referrals/{referral.id}", form, post_url=f"/referrals/{referral.id}/transitions")
    assert response.status_code == 302
    login(client, provider_user)
    for url in (f"/referrals/{referral.id}", f"/referrals/{referral.id}/letter"):
        html = client.get(url).get_data(as_text=True)
        for text in (
            "Jaw pain much eased",
            "Sessions attended",
            "20",
            "7 → 2",
            "2 – Much improved",
            "Suggested: Review the night guard",
        ):
            assert text in html, (url, text)
    # The completion email says only that it changed.
    mail = outbox()[-1]
    for text in (mail.subject, mail.text_body, mail.html_body):
        assert_no_patient_details(text)
        assert "night guard" not in text and "Jaw pain" not in text


def test_the_fhir_export_carries_the_outcome_as_task_output_and_observations(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.IN_PROGRESS)
    assert complete(client, referral, practitioner_user, outcome=FULL).status_code == 200
    response = client.get(f"/api/v1/referrals/{referral.id}/fhir", headers=token_for(provider_user))
    bundle = Bundle.model_validate(json.loads(response.get_data(as_text=True)))
    by_url = {e.fullUrl: e.resource for e in bundle.entry}
    task = next(r for r in by_url.values() if r.get_resource_type() == "Task")
    outputs = {o.type.text: o for o in task.output}
    assert outputs["Outcome"].valueString == "Jaw pain much eased"
    assert outputs["Sessions attended"].valueInteger == 5
    assert str(outputs["Date of the last session"].valueDate) == "2026-04-20"
    assert outputs["Return to the referrer suggested"].valueBoolean is True
    assert outputs["Why return to the referrer"].valueString == "Review the night guard"
    observations = [by_url[o.valueReference.reference] for o in task.output if o.valueReference]
    pain = [o for o in observations if o.code.coding and o.code.coding[0].code == "72514-3"]
    assert [o.valueInteger for o in pain] == [7, 2]
    assert all(o.code.coding[0].system == "http://loinc.org" and o.status == "final" for o in pain)
    (pgic,) = [o for o in observations if "PGIC" in o.code.text]
    assert pgic.valueInteger == 2 and pgic.note[0].text == "Much improved"
    patient_ref = next(url for url, r in by_url.items() if r.get_resource_type() == "Patient")
    assert all(o.subject.reference == patient_ref for o in observations)


def test_a_completion_without_scores_exports_no_observation(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, status=workflow.COMPLETED)
    response = client.get(f"/api/v1/referrals/{referral.id}/fhir", headers=token_for(provider_user))
    bundle = Bundle.model_validate(json.loads(response.get_data(as_text=True)))
    assert not [e for e in bundle.entry if e.resource.get_resource_type() == "Observation"]
    task = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Task")
    assert {o.type.text for o in task.output} == {"Outcome", "Sessions attended"}


def test_the_whole_loop_over_the_api_matches_the_documented_schemas(app, client, provider_user, practitioner_user):
    """Holds, no-shows, the appointment and the outcome answer as the OpenAPI document says."""
    import schemathesis

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    def conforms(method: str, path: str, response) -> dict:
        assert response.status_code in (200, 201), response.get_json()
        schema.find_operation_by_path(method, path).validate_response(response)
        return response.get_json()

    referral = make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    practitioner = token_for(practitioner_user)
    path = "/referrals/{referral_id}/transitions"
    for move in [
        {"status": "on-hold", "note": "Waiting for imaging"},
        {"status": "accepted"},
        {"status": "in-progress", "appointment_at": "2026-03-04T09:30"},
        {"status": "no-show"},
        {"status": "completed", "note": "Much better", "outcome": FULL},
    ]:
        response = client.post(f"/api/v1/referrals/{referral.id}/transitions", json=move, headers=practitioner)
        data = conforms("post", path, response)
    assert data["appointment"]["at"] == "2026-03-04T09:30:00-07:00" and data["no_shows"] == 1
    conforms("get", "/referrals", client.get("/api/v1/referrals?status=completed", headers=practitioner))
    failed = make_referral(provider_user, practitioner_user, status=workflow.FAILED)
    conforms("get", "/referrals/{referral_id}", client.get(f"/api/v1/referrals/{failed.id}", headers=practitioner))
