"""One builder per FHIR resource type, from the models: what the public profile shows.

Plain dicts, as `directory.referrals.fhir` writes them (the app needs no FHIR library at run
time; the tests validate every resource with `fhir.resources`, R4B). The model's fields are
the last approved texts (a text held for review lives elsewhere), so nothing here reads held
changes. Id schemes: Practitioner/<practitioner id>; PractitionerRole/<location id> and
Location/<location id> (one role per practice location); Organization/practice-<practitioner
id> for a practice and Organization/body-<slug> for a certifying body.
"""

from __future__ import annotations

from directory.fhir import codes
from directory.languages import language_code
from directory.models import CertifyingBody, PracticeLocation, Practitioner, VerificationStatus
from directory.practitioners.hours import DAYS, openings

ROLE_CODE = {"text": "Craniosacral therapy practitioner"}
FHIR_GENDER = {"female": "female", "male": "male", "nonbinary": "other"}
PRACTICE_PREFIX = "practice-"
BODY_PREFIX = "body-"


def practice_id(practitioner_id: int) -> str:
    """The Organization id of a practitioner's practice."""
    return f"{PRACTICE_PREFIX}{practitioner_id}"


def body_id(slug: str) -> str:
    """The Organization id of a certifying body."""
    return f"{BODY_PREFIX}{slug}"


def organization_types(kind: str) -> list[dict]:
    """The type codings of an Organization: HL7's organization type and the site's own kind."""
    hl7 = {"practice": ("prov", "Healthcare Provider"), "certifying-body": ("other", "Other")}[kind]
    return [
        {
            "coding": [
                {"system": codes.ORGANIZATION_TYPE, "code": hl7[0], "display": hl7[1]},
                {"system": codes.site_system("CodeSystem/organization-kind"), "code": kind},
            ]
        }
    ]


def _instant(moment) -> str | None:
    """A stored moment as a FHIR instant (SQLite gives it back naive, in UTC)."""
    if moment is None:
        return None
    return moment.isoformat(timespec="seconds") if moment.tzinfo else moment.isoformat(timespec="seconds") + "Z"


def _meta(practitioner: Practitioner) -> dict:
    """meta.lastUpdated: when the profile last changed."""
    updated = _instant(practitioner.updated_at)
    return {"meta": {"lastUpdated": updated}} if updated else {}


def _contact(practitioner: Practitioner, phone: str | None = None, *, web: bool = True) -> list[dict]:
    """What the profile publishes: the phone, the email only when shown, the website."""
    points = []
    if (phone or practitioner.phone or "").strip():
        points.append({"system": "phone", "value": (phone or practitioner.phone).strip(), "use": "work"})
    if practitioner.show_email and practitioner.email:
        points.append({"system": "email", "value": practitioner.email, "use": "work"})
    if web and practitioner.website:
        points.append({"system": "url", "value": practitioner.website, "use": "work"})
    return points


def _identifiers(practitioner: Practitioner) -> list[dict]:
    """The site's profile number, then each licence number."""
    found = [{"use": "official", "system": codes.site_system("sid/practitioner"), "value": str(practitioner.id)}]
    for licence in practitioner.licenses:
        if licence.number:
            found.append(
                {
                    "type": {"coding": [{"system": codes.IDENTIFIER_TYPE, "code": "LN", "display": "License number"}]},
                    "system": codes.site_system("sid/licence"),
                    "value": licence.number,
                    **({"assigner": {"display": licence.jurisdiction}} if licence.jurisdiction else {}),
                }
            )
    return found


def _verification(certification) -> list[dict]:
    """Whether the site verified a credential and when: the NDH extension and the site's own."""
    verified = certification.status == VerificationStatus.VERIFIED
    ndh = {
        "url": codes.NDH_VERIFICATION,
        "valueCodeableConcept": {
            "coding": [{"system": codes.NDH_VERIFICATION_CS, "code": "complete" if verified else "incomplete"}],
            "text": "Verified by the directory" if verified else "Not verified yet",
        },
    }
    parts = [
        {"url": "status", "valueCode": certification.status.value},
        {"url": "current", "valueBoolean": bool(certification.is_currently_verified)},
    ]
    if verified and certification.verified_at is not None:
        parts.append({"url": "verifiedAt", "valueDateTime": _instant(certification.verified_at)})
    return [ndh, {"url": codes.site_system("StructureDefinition/credential-verification"), "extension": parts}]


def _certification(certification) -> dict:
    """A credential as a qualification: code, issuer, period, and its verification."""
    body = certification.body
    names = {credential.code: credential.name for credential in body.credentials}
    name = names.get(certification.credential) or certification.credential
    qualification = {
        "extension": _verification(certification),
        "code": {
            "coding": [
                {
                    "system": codes.site_system(f"CodeSystem/credentials-{body.slug}"),
                    "code": certification.credential,
                    "display": name,
                }
            ],
            "text": f"{name} ({certification.credential})" if name != certification.credential else name,
        },
        "issuer": {"reference": f"Organization/{body_id(body.slug)}", "display": body.name},
    }
    period = {}
    if certification.issued_on:
        period["start"] = certification.issued_on.isoformat()
    if certification.expires_on:
        period["end"] = certification.expires_on.isoformat()
    if period:
        qualification["period"] = period
    return qualification


def _licence(licence) -> dict:
    """A professional licence as a qualification."""
    qualification = {"code": {"text": licence.profession}}
    if licence.number:
        qualification["identifier"] = [{"system": codes.site_system("sid/licence"), "value": licence.number}]
    if licence.expires_on:
        qualification["period"] = {"end": licence.expires_on.isoformat()}
    if licence.jurisdiction:
        qualification["issuer"] = {"display": licence.jurisdiction}
    return qualification


def practitioner_resource(practitioner: Practitioner) -> dict:
    """Practitioner/<id>: name, what the profile publishes to contact, credentials and licences."""
    resource = {
        "resourceType": "Practitioner",
        "id": str(practitioner.id),
        **_meta(practitioner),
        "identifier": _identifiers(practitioner),
        "active": True,
        "name": [{"use": "official", "text": practitioner.display_name}],
    }
    telecom = _contact(practitioner)
    if telecom:
        resource["telecom"] = telecom
    if practitioner.gender in FHIR_GENDER:
        resource["gender"] = FHIR_GENDER[practitioner.gender]
    # Rejected credentials are left out, as on the public profile and in the JSON API.
    qualifications = [_certification(c) for c in practitioner.certifications if c.status != VerificationStatus.REJECTED]
    qualifications += [_licence(licence) for licence in practitioner.licenses]
    if qualifications:
        resource["qualification"] = qualifications
    languages = []
    for name in practitioner.language_list:
        code = language_code(name)
        languages.append({"coding": [{"system": codes.BCP47, "code": code}], "text": name} if code else {"text": name})
    if languages:
        resource["communication"] = languages
    return resource


def _times(location: PracticeLocation) -> list[tuple[list[str], str, str]]:
    """Opening hours grouped by times: ([days], "09:00:00", "17:00:00"), in FHIR's day codes."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for day, start, end in openings(location.opening_hours):
        # FHIR times stop at 23:59:59; an opening until midnight ends there.
        closing = "23:59:59" if end == "24:00" else f"{end}:00"
        grouped.setdefault((f"{start}:00", closing), []).append(DAYS[day].lower())
    return [(days, start, end) for (start, end), days in grouped.items()]


def _place_name(location: PracticeLocation) -> str:
    """A location's name: its label, else the practice and the town."""
    practice = location.practitioner.practice_name or location.practitioner.display_name
    return location.label or ", ".join(part for part in (practice, location.city) if part)


def role_resource(location: PracticeLocation) -> dict:
    """PractitionerRole/<location id>: who works where, for which conditions, when, and whether new patients are taken."""
    practitioner = location.practitioner
    accepting = practitioner.accepting_new_patients
    resource = {
        "resourceType": "PractitionerRole",
        "id": str(location.id),
        **_meta(practitioner),
        "extension": [
            {
                "url": codes.NEW_PATIENTS,
                "extension": [
                    {
                        "url": "acceptingPatients",
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": codes.ACCEPTING_PATIENTS,
                                    "code": "newpt" if accepting else "nopt",
                                    "display": "Accepting" if accepting else "Not Accepting",
                                }
                            ]
                        },
                    }
                ],
            }
        ],
        "active": True,
        "practitioner": {"reference": f"Practitioner/{practitioner.id}", "display": practitioner.display_name},
        "organization": {
            "reference": f"Organization/{practice_id(practitioner.id)}",
            "display": practitioner.practice_name or practitioner.display_name,
        },
        "code": [ROLE_CODE],
        "location": [{"reference": f"Location/{location.id}", "display": _place_name(location)}],
    }
    specialties = [codes.condition_concept(c.slug, c.name) for c in practitioner.conditions]
    if specialties:
        resource["specialty"] = specialties
    telecom = _contact(practitioner, location.phone, web=False)
    if telecom:
        resource["telecom"] = telecom
    times = [
        {"daysOfWeek": days, "availableStartTime": start, "availableEndTime": end}
        for days, start, end in _times(location)
    ]
    if times:
        resource["availableTime"] = times
    if location.hours_note:
        resource["availabilityExceptions"] = location.hours_note
    return resource


def location_resource(location: PracticeLocation) -> dict:
    """Location/<id>: the practice location's address, position, phone and opening hours."""
    address = {"use": "work", "type": "physical"}
    if location.address:
        address["line"] = [location.address]
    for key, value in (
        ("city", location.city),
        ("state", location.region),
        ("postalCode", location.postal_code),
        ("country", location.country),
    ):
        if value:
            address[key] = value
    address["text"] = location.one_line or _place_name(location)
    resource = {
        "resourceType": "Location",
        "id": str(location.id),
        **_meta(location.practitioner),
        "status": "active",
        "name": _place_name(location),
        "mode": "instance",
        "address": address,
        "position": {"latitude": location.latitude, "longitude": location.longitude},
        "managingOrganization": {"reference": f"Organization/{practice_id(location.practitioner_id)}"},
    }
    phone = (location.phone or location.practitioner.phone or "").strip()
    if phone:
        resource["telecom"] = [{"system": "phone", "value": phone, "use": "work"}]
    hours = [{"daysOfWeek": days, "openingTime": start, "closingTime": end} for days, start, end in _times(location)]
    if hours:
        resource["hoursOfOperation"] = hours
    if location.hours_note:
        resource["availabilityExceptions"] = location.hours_note
    return resource


def practice_resource(practitioner: Practitioner) -> dict:
    """Organization/practice-<id>: the practitioner's practice."""
    resource = {
        "resourceType": "Organization",
        "id": practice_id(practitioner.id),
        **_meta(practitioner),
        "active": True,
        "type": organization_types("practice"),
        "name": practitioner.practice_name or practitioner.display_name,
    }
    telecom = _contact(practitioner)
    if telecom:
        resource["telecom"] = telecom
    return resource


def body_resource(body: CertifyingBody) -> dict:
    """Organization/body-<slug>: a certifying body."""
    resource = {
        "resourceType": "Organization",
        "id": body_id(body.slug),
        "identifier": [{"system": codes.site_system("sid/certifying-body"), "value": body.slug}],
        "active": True,
        "type": organization_types("certifying-body"),
        "name": body.name,
    }
    if body.website:
        resource["telecom"] = [{"system": "url", "value": body.website, "use": "work"}]
    return resource


def conditions_code_system(conditions) -> dict:
    """CodeSystem/conditions: the site's conditions of focus (codes = slugs), each with its SNOMED CT codings."""
    concepts = []
    for condition in conditions:
        concept = {"code": condition.slug, "display": condition.name}
        snomed = codes.SNOMED_CODINGS.get(condition.slug, ())
        if snomed:
            concept["property"] = [
                {"code": "snomed-ct", "valueCoding": {"system": codes.SNOMED, "code": code, "display": display}}
                for code, display in snomed
            ]
        concepts.append(concept)
    return {
        "resourceType": "CodeSystem",
        "id": "conditions",
        "url": codes.conditions_system(),
        "name": "Conditions",
        "title": "Conditions of focus of the directory's practitioners",
        "status": "active",
        "experimental": False,
        "description": "The conditions a practitioner may state as a focus; the codes are the site's condition slugs.",
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "property": [
            {
                "code": "snomed-ct",
                "uri": codes.SNOMED,
                "description": "The closest SNOMED CT concept(s), also given beside the code in PractitionerRole.specialty",
                "type": "Coding",
            }
        ],
        "concept": concepts,
    }
