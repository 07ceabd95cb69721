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
from directory.referrals import appointments, workflow
from directory.referrals.outcome import PGIC_LABELS

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
    workflow.ON_HOLD: "on-hold",
    workflow.FAILED: "revoked",
    workflow.ENTERED_IN_ERROR: "entered-in-error",
}
PRIORITY = {"routine": "routine", "urgent": "urgent", "asap": "asap"}
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
# LOINC 72514-3: Pain severity - 0-10 verbal numeric rating [Score] - Reported.
PAIN_SCORE = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}


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
        # In the location's own time, with its offset.
        service_request["occurrenceDateTime"] = appointments.iso_local(appointments.local_time(referral))

    provenances = []
    for event in referral.events:
        provenances.append(
            {
                "resourceType": "Provenance",
                "id": f"referral-{rid}-event-{event.id}",
                "target": [{"reference": refs["task"]}],
                "recorded": _instant(event.at),
                "activity": _activity(event),
                "agent": [{"who": {"display": event.actor_name or "Unknown"}}],
                **({"reason": [{"text": event.note}]} if event.note else {}),
            }
        )
    task = {
        "resourceType": "Task",
        "id": f"referral-task-{rid}",
        "status": TASK_STATUS[referral.status],
        "businessStatus": _business_status(referral),
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
    status_reason = _status_reason(referral)
    if status_reason:
        task["statusReason"] = status_reason
    observations = _observations(referral, rid, refs["patient"], refs["performer"])
    outputs = _outputs(referral, observations)
    if outputs:
        task["output"] = outputs
    if provenances:
        task["relevantHistory"] = [{"reference": _urn("Provenance", p["id"])} for p in provenances]

    entries = [
        (refs["sr"], service_request),
        (refs["task"], task),
        (refs["patient"], patient),
        (refs["requester"], requester),
        (refs["performer"], performer),
        *((_urn("Provenance", p["id"]), p) for p in provenances),
        *((_urn("Observation", o["id"]), o) for o in observations),
    ]
    return {
        "resourceType": "Bundle",
        "id": f"referral-bundle-{rid}",
        "type": "collection",
        "timestamp": _instant(utcnow()),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }


def _site_coding(kind: str, code: str, display: str) -> dict:
    return {"system": f"{_site()}/{kind}", "code": code, "display": display}


def _activity(event) -> dict:
    """What a timeline event did: a Task status, or our own action (a no-show)."""
    if event.kind:
        return {"coding": [_site_coding("referral-action", event.kind, "No-show")], "text": "No-show"}
    return {"coding": [{"system": "http://hl7.org/fhir/task-status", "code": event.status}]}


def _business_status(referral: Referral) -> dict:
    """The status as the site names it, with the no-shows counted."""
    label = workflow.STATUS_LABELS[referral.status]
    text = f"{label}, {referral.no_shows} no-show(s)" if referral.no_shows else label
    return {"coding": [_site_coding("referral-status", referral.status, label)], "text": text}


def _status_reason(referral: Referral) -> dict | None:
    """Why the referral is in its status: declined, on hold, failed, sent in error or cancelled."""
    if referral.status == workflow.REJECTED and referral.rejection_reason:
        return {"text": referral.rejection_reason}
    if referral.status == workflow.FAILED and referral.status_reason:
        label = workflow.FAILURE_REASONS.get(referral.status_reason, referral.status_reason)
        return {
            "coding": [_site_coding("referral-failure-reason", referral.status_reason, label)],
            "text": f"{label}: {referral.status_note}" if referral.status_note else label,
        }
    if referral.status_note:
        return {"text": referral.status_note}
    return None


def _observation(rid: str, name: str, code: dict, value: int, patient: str, performer: str, when) -> dict:
    resource = {
        "resourceType": "Observation",
        "id": f"referral-{rid}-{name}",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}
        ],
        "code": code,
        "subject": {"reference": patient},
        "performer": [{"reference": performer}],
        "valueInteger": value,
    }
    if when:
        resource["effectiveDateTime"] = when
    return resource


def _observations(referral: Referral, rid: str, patient: str, performer: str) -> list[dict]:
    """The patient's reported scores of a completed referral: pain (0-10) first and last, and PGIC."""
    if referral.status != workflow.COMPLETED:
        return []
    first = appointments.iso_local(appointments.local_time(referral))
    last = referral.outcome_last_session_on.isoformat() if referral.outcome_last_session_on else None
    pain = {"coding": [PAIN_SCORE], "text": "Pain (0-10 numeric rating scale)"}
    found = []
    if referral.outcome_pain_start is not None:
        found.append(_observation(rid, "pain-start", pain, referral.outcome_pain_start, patient, performer, first))
    if referral.outcome_pain_end is not None:
        found.append(_observation(rid, "pain-end", pain, referral.outcome_pain_end, patient, performer, last))
    if referral.outcome_pgic is not None:
        pgic = {"text": "Patient Global Impression of Change (PGIC, 1 very much improved - 7 very much worse)"}
        observation = _observation(rid, "pgic", pgic, referral.outcome_pgic, patient, performer, last)
        observation["note"] = [{"text": PGIC_LABELS[referral.outcome_pgic]}]
        found.append(observation)
    return found


def _outputs(referral: Referral, observations: list[dict]) -> list[dict]:
    """The Task's outputs: the outcome note, the structured outcome, and its Observations."""
    outputs = []
    if referral.outcome:
        outputs.append({"type": {"text": "Outcome"}, "valueString": referral.outcome})
    if referral.status == workflow.COMPLETED:
        if referral.outcome_sessions is not None:
            outputs.append({"type": {"text": "Sessions attended"}, "valueInteger": referral.outcome_sessions})
        if referral.outcome_last_session_on is not None:
            outputs.append(
                {
                    "type": {"text": "Date of the last session"},
                    "valueDate": referral.outcome_last_session_on.isoformat(),
                }
            )
        if referral.outcome_return_to_referrer is not None:
            outputs.append(
                {
                    "type": {"text": "Return to the referrer suggested"},
                    "valueBoolean": referral.outcome_return_to_referrer,
                }
            )
        if referral.outcome_return_reason:
            outputs.append(
                {"type": {"text": "Why return to the referrer"}, "valueString": referral.outcome_return_reason}
            )
    for observation in observations:
        outputs.append(
            {
                "type": {"text": observation["code"].get("text", "Observation")},
                "valueReference": {"reference": _urn("Observation", observation["id"])},
            }
        )
    return outputs
