"""Referrals in by FHIR: POST /fhir/r4/ServiceRequest, and reading the ServiceRequest and Task back.

Every answer (resources and OperationOutcomes) is validated with fhir.resources (R4B).
"""

from __future__ import annotations

import copy

import pytest
from fhir.resources.R4B import get_fhir_model_class

from directory.extensions import db
from directory.models import Referral
from directory.referrals import workflow
from tests.conftest import login
from tests.referral_helpers import make_referral, token_for

FHIR = "application/fhir+json"
BASE = "http://localhost/fhir/r4"


def valid(resource: dict) -> dict:
    """The resource, after fhir.resources accepted it as R4B."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def service_request(practitioner_id: int, **changes) -> dict:
    """A complete referral as a clinic system would send it."""
    resource = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "priority": "urgent",
        "contained": [
            {
                "resourceType": "Patient",
                "id": "pat",
                "name": [{"given": ["Maria"], "family": "Zapatero-Quill"}],
                "telecom": [
                    {"system": "phone", "value": "+1 303 555 0199", "rank": 2},
                    {"system": "email", "value": "maria.quill@patients.example", "rank": 1},
                ],
                "birthDate": "1984-07-21",
            },
            {
                "resourceType": "Consent",
                "id": "consent",
                "status": "active",
                "scope": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
                    ]
                },
                "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
                "patient": {"reference": "#pat"},
                "policyRule": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]
                },
            },
        ],
        "subject": {"reference": "#pat"},
        "supportingInfo": [{"reference": "#consent"}],
        "performer": [{"reference": f"Practitioner/{practitioner_id}"}],
        "reasonCode": [
            {
                "coding": [{"system": f"{BASE}/CodeSystem/conditions", "code": "tmj"}],
                "text": "Persistent jaw pain despite splint therapy",
            }
        ],
        "note": [{"text": "History of bruxism"}],
    }
    resource.update(changes)
    return resource


def post(client, resource, headers, content_type=FHIR):
    return client.post("/fhir/r4/ServiceRequest", data=_json(resource), headers=headers, content_type=content_type)


def _json(resource) -> str:
    import json

    return resource if isinstance(resource, str) else json.dumps(resource)


def outcome(response, status: int) -> str:
    """The OperationOutcome of a refusal (validated), as one text of its issues."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR
    body = valid(response.get_json())
    assert body["resourceType"] == "OperationOutcome"
    return " | ".join(f"{i.get('expression', [''])[0]} {i['diagnostics']}" for i in body["issue"])


def test_a_verified_provider_sends_a_referral_as_a_service_request(client, provider_user, practitioner_user):
    profile = practitioner_user.practitioner
    response = post(client, service_request(profile.id), token_for(provider_user))
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = valid(response.get_json())
    referral = db.session.execute(db.select(Referral)).scalar_one()
    assert response.headers["Location"] == f"{BASE}/ServiceRequest/{referral.id}"
    # The same referral as the JSON API makes, through the same service.
    assert referral.status == workflow.REQUESTED and referral.referrer_id == provider_user.id
    assert referral.practitioner_id == profile.id
    assert referral.patient_name == "Maria Zapatero-Quill"
    assert referral.patient_email == "maria.quill@patients.example"
    assert referral.preferred_contact == "email"
    assert referral.patient_birth_date.isoformat() == "1984-07-21"
    assert [c.slug for c in referral.conditions] == ["tmj"]
    assert referral.reason == "Persistent jaw pain despite splint therapy"
    assert referral.clinical_notes == "History of bruxism"
    assert referral.urgency == "urgent" and referral.consent is True
    assert [e.status for e in referral.events] == [workflow.REQUESTED]
    # The stored ServiceRequest: its id, the performer of this directory, the consent, the codes.
    assert stored["id"] == str(referral.id) and stored["status"] == "active" and stored["priority"] == "urgent"
    assert stored["performer"][0]["reference"] == f"Practitioner/{profile.id}"
    contained = {r["id"]: r for r in stored["contained"]}
    assert contained[stored["subject"]["reference"][1:]]["resourceType"] == "Patient"
    assert contained[stored["supportingInfo"][0]["reference"][1:]]["status"] == "active"
    codes = [c["code"] for r in stored["reasonCode"] for c in r.get("coding", [])]
    assert "tmj" in codes and "41888000" in codes  # the site's code and SNOMED CT beside it
    # The recipient is told, as with any new referral.
    from tests.referral_helpers import outbox

    assert any(m.recipient == practitioner_user.email for m in outbox())


def test_the_service_request_and_task_read_back_with_the_json_apis_privacy(
    app, client, provider_user, practitioner_user, other_provider_user, other_practitioner_user, admin_user
):
    referral = make_referral(provider_user, practitioner_user)
    for kind in ("ServiceRequest", "Task"):
        for user in (other_provider_user, other_practitioner_user):
            outcome(client.get(f"/fhir/r4/{kind}/{referral.id}", headers=token_for(user)), 404)
        outcome(client.get(f"/fhir/r4/{kind}/{referral.id}"), 404)
        outcome(client.get(f"/fhir/r4/{kind}/999999", headers=token_for(provider_user)), 404)
        outcome(client.get(f"/fhir/r4/{kind}/not-an-id", headers=token_for(provider_user)), 404)
        outcome(client.get(f"/fhir/r4/{kind}/{referral.id}", headers={"Authorization": "Bearer wrong"}), 401)
        for user in (provider_user, admin_user):
            response = client.get(f"/fhir/r4/{kind}/{referral.id}", headers=token_for(user))
            assert response.status_code == 200 and response.mimetype == FHIR
            resource = valid(response.get_json())
            assert resource["resourceType"] == kind and resource["id"] == str(referral.id)
    db.session.refresh(referral)
    assert referral.status == workflow.REQUESTED  # the referrer's and an admin's reads change nothing
    # The recipient's first read marks it received, as in the JSON API; the Task says so.
    task = client.get(f"/fhir/r4/Task/{referral.id}", headers=token_for(practitioner_user)).get_json()
    assert valid(task)["status"] == workflow.RECEIVED
    assert task["focus"]["reference"] == f"ServiceRequest/{referral.id}"
    assert task["owner"]["reference"] == f"Practitioner/{practitioner_user.practitioner.id}"
    history = {r["id"] for r in task["contained"] if r["resourceType"] == "Provenance"}
    assert {h["reference"][1:] for h in task["relevantHistory"]} == history and len(history) == 2
    # A session works for reading too (the site's own pages), like the JSON API.
    browser = app.test_client()
    login(browser, provider_user)
    assert browser.get(f"/fhir/r4/ServiceRequest/{referral.id}").status_code == 200


def test_a_completed_referrals_task_carries_its_outcome(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user, workflow.COMPLETED)
    task = valid(client.get(f"/fhir/r4/Task/{referral.id}", headers=token_for(provider_user)).get_json())
    assert task["status"] == "completed" and task["output"]


def test_missing_consent_is_refused_and_named(client, provider_user, practitioner_user):
    resource = service_request(practitioner_user.practitioner.id)
    del resource["supportingInfo"]
    assert "supportingInfo" in outcome(post(client, resource, token_for(provider_user)), 422)
    inactive = service_request(practitioner_user.practitioner.id)
    inactive["contained"][1]["status"] = "inactive"
    assert "consent" in outcome(post(client, inactive, token_for(provider_user)), 422)
    assert db.session.execute(db.select(Referral)).first() is None


@pytest.mark.parametrize(
    ("reference", "said"),
    [("Practitioner/999999", "Unknown performer"), ("Organization/1", "not a Practitioner"), ("Practitioner/x", "not")],
)
def test_an_unknown_performer_is_refused(client, provider_user, practitioner_user, reference, said):
    resource = service_request(practitioner_user.practitioner.id, performer=[{"reference": reference}])
    text = outcome(post(client, resource, token_for(provider_user)), 422)
    assert "ServiceRequest.performer" in text and said in text


def test_an_unlisted_practitioner_is_an_unknown_performer(client, provider_user, practitioner_user):
    practitioner_user.practitioner.published = False
    db.session.commit()
    resource = service_request(practitioner_user.practitioner.id)
    assert "Unknown performer" in outcome(post(client, resource, token_for(provider_user)), 422)


def test_an_invalid_resource_answers_400_naming_each_problem(client, provider_user, practitioner_user):
    headers = token_for(provider_user)
    broken = service_request(practitioner_user.practitioner.id, intent=42, colour="blue")
    text = outcome(post(client, broken, headers), 400)
    assert "ServiceRequest.colour" in text and "ServiceRequest.intent" in text
    bad_consent = service_request(practitioner_user.practitioner.id)
    del bad_consent["contained"][1]["scope"]
    assert "contained[1].scope" in outcome(post(client, bad_consent, headers), 400)
    assert "ServiceRequest" in outcome(post(client, {"resourceType": "Patient"}, headers), 400)
    outcome(post(client, "{not json", headers), 400)
    outcome(post(client, "[]", headers), 400)
    outcome(post(client, service_request(1), headers, content_type="text/plain"), 415)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"intent": "plan"}, "intent"),
        ({"status": "draft"}, "status"),
        ({"priority": "stat"}, "priority"),
        ({"subject": {"reference": "Patient/1"}}, "subject"),
        ({"reasonCode": [{"coding": [{"system": f"{BASE}/CodeSystem/conditions", "code": "nope"}]}]}, "reasonCode"),
        ({"reasonCode": [{"coding": [{"system": f"{BASE}/CodeSystem/conditions", "code": "tmj"}]}]}, "reasonCode"),
    ],
)
def test_business_rules_answer_422_naming_the_element(client, provider_user, practitioner_user, change, where):
    resource = service_request(practitioner_user.practitioner.id, **change)
    assert f"ServiceRequest.{where}" in outcome(post(client, resource, token_for(provider_user)), 422)


def test_the_json_apis_limits_apply(client, provider_user, practitioner_user):
    resource = service_request(practitioner_user.practitioner.id)
    resource["contained"][0]["name"] = [{"text": "x" * 500}]
    assert "patient.name" in outcome(post(client, resource, token_for(provider_user)), 422)
    no_contact = copy.deepcopy(service_request(practitioner_user.practitioner.id))
    del no_contact["contained"][0]["telecom"]
    assert "phone or email" in outcome(post(client, no_contact, token_for(provider_user)), 422)


def test_only_verified_providers_with_a_token_send(
    app, client, provider_user, practitioner_user, admin_user, other_practitioner_user
):
    from directory.models.accounts import ProviderStatus

    resource = service_request(practitioner_user.practitioner.id)
    outcome(post(client, resource, {}), 401)
    outcome(post(client, resource, {"Authorization": "Bearer nonsense"}), 401)
    outcome(post(client, resource, token_for(admin_user)), 403)
    outcome(post(client, resource, token_for(other_practitioner_user)), 403)
    provider_user.provider_status = ProviderStatus.PENDING
    db.session.commit()
    outcome(post(client, resource, token_for(provider_user)), 403)
    # A signed-in browser session is not enough: a cookie could be sent by another site.
    browser = app.test_client()
    login(browser, provider_user)
    outcome(post(browser, resource, {}), 401)
    assert db.session.execute(db.select(Referral)).first() is None


def test_xml_is_refused_and_the_capability_statement_lists_referrals(client):
    response = client.get("/fhir/r4/Task/1", headers={"Accept": "application/fhir+xml"})
    outcome(response, 406)
    statement = valid(client.get("/fhir/r4/metadata").get_json())
    types = {r["type"]: [i["code"] for i in r["interaction"]] for r in statement["rest"][0]["resource"]}
    assert types["ServiceRequest"] == ["create", "read"] and types["Task"] == ["read"]


def test_a_referral_to_a_practitioner_no_longer_listed_still_reads_back(client, provider_user, practitioner_user):
    referral = make_referral(provider_user, practitioner_user)
    practitioner_user.practitioner.published = False
    db.session.commit()
    resource = valid(client.get(f"/fhir/r4/ServiceRequest/{referral.id}", headers=token_for(provider_user)).get_json())
    performer = resource["performer"][0]["reference"]
    assert performer.startswith("#")  # no longer a Practitioner/<id> of the directory: contained instead
    assert any(r["id"] == performer[1:] and r["resourceType"] == "Practitioner" for r in resource["contained"])
