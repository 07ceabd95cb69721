"""Referrals in by FHIR: a ServiceRequest read into the referral service's input, and a stored
referral written back as a ServiceRequest (and its Task, see task.py).

An incoming ServiceRequest is first validated as FHIR R4B (fhir.resources; 400 with every
problem), then read into the JSON API's own body and loaded by its schema (NewReferralSchema),
so limits and messages are the API's; the referral is then created by the referral service
(sending_problems), exactly as the JSON API does. Refusals of meaning answer 422, each naming
the element (`expression`) at fault.
"""

from __future__ import annotations

import re

from marshmallow import ValidationError
from sqlalchemy import select

from directory.api.contract import first_message
from directory.extensions import db
from directory.fhir import codes
from directory.fhir.outcome import FhirError
from directory.fhir.store import database_id
from directory.models import Condition, Referral
from directory.referrals.fhir import referral_bundle
from directory.referrals.service import ReferralInput
from directory.referrals.workflow import URGENCIES

# At most this many validation problems are listed in one OperationOutcome.
MAX_ISSUES = 10
PRACTITIONER_REF = re.compile(r"(?:.*/)?Practitioner/([^/]+)")
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = {"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}
OPT_IN = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


class FhirProblems(FhirError):
    """A refusal with several issues, each with the FHIRPath of the element at fault."""

    def __init__(self, status: int, problems: list[tuple[str, str]], code: str = "invalid") -> None:
        super().__init__(status, problems[0][1], code)
        self.problems = problems


def problem(expression: str, message: str, status: int = 422, code: str = "business-rule") -> FhirProblems:
    """One refusal of meaning (422) naming its element."""
    return FhirProblems(status, [(expression, message)], code)


def validate_resource(data: object) -> dict:
    """The body if it is a valid R4B ServiceRequest; 400 with its problems otherwise."""
    from fhir.resources.R4B.servicerequest import ServiceRequest  # loaded on first use: it is large
    from pydantic import ValidationError as ResourceError

    if not isinstance(data, dict) or data.get("resourceType") != "ServiceRequest":
        raise problem("ServiceRequest", "The body must be a FHIR ServiceRequest resource in JSON.", 400, "structure")
    try:
        ServiceRequest.model_validate(data)
    except ResourceError as error:
        problems = [
            ("ServiceRequest" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]), e["msg"])
            for e in error.errors()[:MAX_ISSUES]
        ]
        raise FhirProblems(400, [(path, f"{path}: {message}") for path, message in problems], "structure") from None
    except (ValueError, TypeError) as error:
        raise problem("ServiceRequest", f"Not a valid ServiceRequest: {error}", 400, "structure") from None
    return data


def referral_input(data: dict) -> ReferralInput:
    """The referral service's input from a valid ServiceRequest, through the JSON API's schema."""
    from directory.api.referral_schemas import NewReferralSchema

    if data.get("status") != "active":
        raise problem("ServiceRequest.status", "status must be active: a referral sent now.")
    if data.get("intent") != "order":
        raise problem("ServiceRequest.intent", "intent must be order.")
    contained = {item.get("id"): item for item in data.get("contained") or [] if item.get("id")}
    patient = _contained(data.get("subject"), contained, "Patient")
    if patient is None:
        raise problem("ServiceRequest.subject", "subject must reference a contained Patient (#id).")
    if not _consented(data, contained):
        raise problem(
            "ServiceRequest.supportingInfo",
            "The patient's consent is missing: reference a contained Consent with status active in supportingInfo.",
        )
    body = {
        "practitioner_id": _performer(data),
        "patient": _patient(patient),
        "conditions": _condition_slugs(data),
        "reason": "; ".join(c["text"].strip() for c in data.get("reasonCode") or [] if (c.get("text") or "").strip()),
        "clinical_notes": "\n\n".join(n["text"].strip() for n in data.get("note") or [] if n.get("text")),
        "urgency": _urgency(data.get("priority") or "routine"),
        "preferred_contact": _preferred_contact(patient),
        "consent": True,
    }
    if not body["reason"]:
        raise problem("ServiceRequest.reasonCode", "Say why you refer this patient in reasonCode.text.")
    try:
        return NewReferralSchema().load(body)
    except ValidationError as error:
        raise problem(_expression(error.messages), first_message(error.messages)) from None


def _contained(reference: dict | None, contained: dict, kind: str) -> dict | None:
    """The contained resource of this kind a reference ("#id") points to, or None."""
    ref = (reference or {}).get("reference") or ""
    found = contained.get(ref[1:]) if ref.startswith("#") else None
    return found if found is not None and found.get("resourceType") == kind else None


def _consented(data: dict, contained: dict) -> bool:
    """True when supportingInfo references a contained, active Consent."""
    for reference in data.get("supportingInfo") or []:
        consent = _contained(reference, contained, "Consent")
        if consent is not None and consent.get("status") == "active":
            return True
    return False


def _performer(data: dict) -> int:
    """The database id of the one performer, a listed Practitioner of this directory; 422 otherwise."""
    from directory.fhir.store import listed_practitioner

    performers = data.get("performer") or []
    if len(performers) != 1:
        raise problem("ServiceRequest.performer", "performer must be exactly one Practitioner/<id> of this directory.")
    reference = (performers[0].get("reference") or "").strip()
    match = PRACTITIONER_REF.fullmatch(reference)
    if match is None or database_id(match.group(1)) is None:
        raise problem("ServiceRequest.performer", f"performer {reference[:80]!r} is not a Practitioner/<id>.")
    try:
        practitioner = listed_practitioner(match.group(1))
    except FhirError:
        raise problem(
            "ServiceRequest.performer", f"Unknown performer: Practitioner/{match.group(1)} is not in this directory."
        ) from None
    return practitioner.id


def _patient(patient: dict) -> dict:
    """The JSON API's patient object from a contained Patient."""
    names = patient.get("name") or []
    name = ""
    if names:
        first = names[0]
        name = first.get("text") or " ".join([*(first.get("given") or []), first.get("family") or ""]).strip()
    telecom = patient.get("telecom") or []
    return {
        "name": name,
        "phone": _telecom(telecom, "phone"),
        "email": _telecom(telecom, "email"),
        "birth_date": patient.get("birthDate"),
    }


def _telecom(telecom: list[dict], system: str) -> str:
    """The best-ranked contact point of a system ("" when none)."""
    points = sorted((p for p in telecom if p.get("system") == system and p.get("value")), key=_rank)
    return points[0]["value"] if points else ""


def _rank(point: dict) -> int:
    return point.get("rank") or 1_000_000


def _preferred_contact(patient: dict) -> str | None:
    """The system of the patient's rank-1 phone or email, if one is ranked first."""
    points = sorted((p for p in patient.get("telecom") or [] if p.get("system") in ("phone", "email")), key=_rank)
    return points[0]["system"] if points and points[0].get("rank") else None


def _condition_slugs(data: dict) -> list[str]:
    """The site's condition codes of reasonCode (SNOMED CT codes mapped to theirs); unknown codes refused."""
    slugs = []
    system = codes.conditions_system()
    for concept in data.get("reasonCode") or []:
        for coding in concept.get("coding") or []:
            if coding.get("system") == system:
                slugs.append(coding.get("code") or "")
            elif coding.get("system") == codes.SNOMED:
                slugs += codes.slugs_for_snomed(coding.get("code") or "")
    known = set(db.session.execute(select(Condition.slug).where(Condition.slug.in_(slugs))).scalars())
    unknown = [slug for slug in slugs if slug not in known]
    if unknown:
        raise problem(
            "ServiceRequest.reasonCode",
            f"Unknown condition code {unknown[0][:60]!r} of {system}: see CodeSystem/conditions.",
        )
    return list(dict.fromkeys(slugs))


def _urgency(priority: str) -> str:
    if priority not in URGENCIES:
        raise problem("ServiceRequest.priority", f"priority must be one of {', '.join(URGENCIES)}.")
    return priority


def _expression(messages) -> str:
    """The FHIRPath of the element a schema message is about."""
    key = next(iter(messages)) if isinstance(messages, dict) else ""
    return {
        "patient": "ServiceRequest.contained.where(resourceType='Patient')",
        "practitioner_id": "ServiceRequest.performer",
        "conditions": "ServiceRequest.reasonCode",
        "reason": "ServiceRequest.reasonCode",
        "clinical_notes": "ServiceRequest.note",
        "urgency": "ServiceRequest.priority",
    }.get(key, "ServiceRequest")


# --- A stored referral as standalone resources --------------------------------------------


def standalone(referral: Referral, kind: str) -> dict:
    """The referral's ServiceRequest or Task, with what it points to contained or referenced here.

    Built from the referral's Bundle (referrals/fhir.py): the ServiceRequest and the Task are
    `ServiceRequest/<id>` and `Task/<id>`, the performer is the directory's `Practitioner/<id>`
    when listed, and everything else they reference (the patient, the referrer, the history)
    is contained.
    """
    bundle = referral_bundle(referral)
    entries = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    rid = str(referral.id)
    local: dict[str, str] = {}
    for url, resource in entries.items():
        if resource["resourceType"] in ("ServiceRequest", "Task"):
            local[url] = f"{resource['resourceType']}/{rid}"
        elif resource["id"] == f"practitioner-{referral.practitioner_id}" and _listed(referral):
            local[url] = f"Practitioner/{referral.practitioner_id}"
    resource = next(r for r in entries.values() if r["resourceType"] == kind)
    contained: list[dict] = []
    result = _rewrite(dict(resource), entries, local, contained)
    result["id"] = rid
    if kind == "ServiceRequest":
        _service_request_extras(referral, result, contained)
    if contained:
        result = {**{k: result[k] for k in ("resourceType", "id")}, "contained": contained, **result}
    return result


def _listed(referral: Referral) -> bool:
    return referral.practitioner is not None and referral.practitioner.is_listed


def _rewrite(value, entries: dict, local: dict, contained: list[dict]):
    """Turn the Bundle's urn references into local ones, containing what they point to."""
    if isinstance(value, list):
        return [_rewrite(item, entries, local, contained) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "reference" and isinstance(item, str) and item in entries:
            if item not in local:
                target = entries[item]
                local[item] = f"#{target['id']}"
                contained.append(None)  # keep the order in which they are first met
                index = len(contained) - 1
                contained[index] = _rewrite(dict(target), entries, local, contained)
            out[key] = local[item]
        else:
            out[key] = _rewrite(item, entries, local, contained)
    return out


def _service_request_extras(referral: Referral, resource: dict, contained: list[dict]) -> None:
    """The site's condition codes (with SNOMED CT) in reasonCode, and the consent as a contained Consent."""
    reasons = [codes.condition_concept(c.slug, c.name) for c in referral.conditions]
    if referral.reason:
        reasons.append({"text": referral.reason})
    if reasons:
        resource["reasonCode"] = reasons
    if referral.consent:
        patient = resource.get("subject", {}).get("reference", "")
        contained.append(
            {
                "resourceType": "Consent",
                "id": "consent",
                "status": "active",
                "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy"}]},
                "category": [{"coding": [CONSENT_CATEGORY]}],
                **({"patient": {"reference": patient}} if patient.startswith("#") else {}),
                "policyRule": {"coding": [{"system": OPT_IN, "code": "OPTIN"}]},
            }
        )
        resource["supportingInfo"] = [{"reference": "#consent", "display": "The patient's consent to share"}]
