"""A referral as a FHIR R4 Bundle: the ServiceRequest, its Task, and who is involved.

Plain dicts (the app needs no FHIR library at run time); the tests validate them with
`fhir.resources`. Each ReferralEvent becomes a Provenance that the Task lists as its
`relevantHistory`, so a health record system sees the whole history.
"""

from __future__ import annotations

import uuid

from flask import current_app

from directory.models import Referral
from directory.models.base import utcnow
from directory.referrals import workflow

# Our statuses are FHIR Task statuses already (by design); ServiceRequest has fewer.
TASK_STATUS = {status: status for status in workflow.STATUSES}
SERVICE_REQUEST_STATUS = {
    workflow.DRAFT: "draft",
    workflow.REQUESTED: "active",
    workflow.RECEIVED: "active",
    workflow.ACCEPTED: "active",
    workflow.IN_PROGRESS: "active",
    workflow.COMPLETED: "completed",
    workflow.REJECTED: "revoked",
    workflow.CANCELLED: "revoked",
}
PRIORITY = {"routine": "routine", "urgent": "urgent", "asap": "asap"}
SNOMED = "http://snomed.info/sct"


def _site() -> str:
    return current_app.config.get("SERVER_NAME_FOR_EMAIL", "http://localhost").rstrip("/")


def _urn(kind: str, key: str) -> str:
    """A stable urn:uuid for a resource of this site (the same referral gives the same ids)."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{_site()}/fhir/{kind}/{key}"))


def _instant(moment) -> str:
    return workflow.as_utc(moment).isoformat(timespec="seconds")


def referral_bundle(referral: Referral) -> dict:
    """The Bundle (type collection) of one referral."""
    rid = str(referral.id)
    refs = {
        "sr": _urn("ServiceRequest", rid),
        "task": _urn("Task", rid),
        "patient": _urn("Patient", rid),
        "requester": _urn("Practitioner", f"referrer-{referral.referrer_id or 'unknown'}"),
        "performer": _urn("Practitioner", f"practitioner-{referral.practitioner_id or 'unknown'}"),
    }
    patient = {"resourceType": "Patient", "id": f"patient-{rid}", "name": [{"text": referral.patient_name}]}
    telecom = []
    if referral.patient_phone:
        telecom.append({"system": "phone", "value": referral.patient_phone})
    if referral.patient_email:
        telecom.append({"system": "email", "value": referral.patient_email})
    if telecom:
        # The preferred contact method is ranked first.
        for point in telecom:
            point["rank"] = 1 if point["system"] == referral.preferred_contact else 2
        patient["telecom"] = telecom
    if referral.patient_birth_date:
        patient["birthDate"] = referral.patient_birth_date.isoformat()

    referrer = referral.referrer
    requester = {
        "resourceType": "Practitioner",
        "id": f"referrer-{referral.referrer_id or 'unknown'}",
        "name": [{"text": referral.referrer_name or "Unknown"}],
    }
    if referrer is not None:
        if referrer.registration_number:
            requester["identifier"] = [
                {"system": f"{_site()}/provider-registration", "value": referrer.registration_number}
            ]
        if referrer.profession:
            requester["qualification"] = [{"code": {"text": referrer.profession}}]
        if referrer.phone:
            requester["telecom"] = [{"system": "phone", "value": referrer.phone}]
    performer = {
        "resourceType": "Practitioner",
        "id": f"practitioner-{referral.practitioner_id or 'unknown'}",
        "name": [{"text": referral.practitioner_name or "Unknown"}],
        "qualification": [{"code": {"text": "Craniosacral therapy practitioner"}}],
    }

    reason_codes = [
        {"coding": [{"system": f"{_site()}/conditions", "code": c.slug, "display": c.name}], "text": c.name}
        for c in referral.conditions
    ]
    if referral.reason:
        reason_codes.append({"text": referral.reason})
    service_request = {
        "resourceType": "ServiceRequest",
        "id": f"referral-{rid}",
        "identifier": [{"system": f"{_site()}/referrals", "value": rid}],
        "status": SERVICE_REQUEST_STATUS[referral.status],
        "intent": "order",
        "category": [{"coding": [{"system": SNOMED, "code": "3457005", "display": "Patient referral"}]}],
        "priority": PRIORITY.get(referral.urgency, "routine"),
        "code": {"text": "Craniosacral therapy"},
        "subject": {"reference": refs["patient"], "display": referral.patient_name},
        "authoredOn": _instant(referral.created_at),
        "requester": {"reference": refs["requester"], "display": referral.referrer_name},
        "performer": [{"reference": refs["performer"], "display": referral.practitioner_name}],
    }
    if reason_codes:
        service_request["reasonCode"] = reason_codes
    if referral.clinical_notes:
        service_request["note"] = [{"text": referral.clinical_notes}]
    if referral.appointment_at:
        service_request["occurrenceDateTime"] = _instant(referral.appointment_at)

    provenances = []
    for event in referral.events:
        provenances.append(
            {
                "resourceType": "Provenance",
                "id": f"referral-{rid}-event-{event.id}",
                "target": [{"reference": refs["task"]}],
                "recorded": _instant(event.at),
                "activity": {"coding": [{"system": "http://hl7.org/fhir/task-status", "code": event.status}]},
                "agent": [{"who": {"display": event.actor_name or "Unknown"}}],
                **({"reason": [{"text": event.note}]} if event.note else {}),
            }
        )
    task = {
        "resourceType": "Task",
        "id": f"referral-task-{rid}",
        "status": TASK_STATUS[referral.status],
        "businessStatus": {"text": workflow.STATUS_LABELS[referral.status]},
        "intent": "order",
        "priority": PRIORITY.get(referral.urgency, "routine"),
        "code": {
            "coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}],
            "text": "Fulfil the referral",
        },
        "focus": {"reference": refs["sr"]},
        "basedOn": [{"reference": refs["sr"]}],
        "for": {"reference": refs["patient"]},
        "authoredOn": _instant(referral.created_at),
        "lastModified": _instant(referral.updated_at or referral.created_at),
        "requester": {"reference": refs["requester"]},
        "owner": {"reference": refs["performer"]},
    }
    if referral.rejection_reason:
        task["statusReason"] = {"text": referral.rejection_reason}
    if referral.outcome:
        task["output"] = [{"type": {"text": "Outcome"}, "valueString": referral.outcome}]
    if provenances:
        task["relevantHistory"] = [{"reference": _urn("Provenance", p["id"])} for p in provenances]

    entries = [
        (refs["sr"], service_request),
        (refs["task"], task),
        (refs["patient"], patient),
        (refs["requester"], requester),
        (refs["performer"], performer),
        *((_urn("Provenance", p["id"]), p) for p in provenances),
    ]
    return {
        "resourceType": "Bundle",
        "id": f"referral-bundle-{rid}",
        "type": "collection",
        "timestamp": _instant(utcnow()),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }
