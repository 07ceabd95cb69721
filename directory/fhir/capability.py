"""The CapabilityStatement: exactly what this server reads and searches, from the search table."""

from __future__ import annotations

from directory.fhir import codes
from directory.fhir.params import INCLUDES, PARAMETERS

READ_ONLY = ("Organization", "Location", "CodeSystem")
PAGING = [
    {
        "name": "_count",
        "type": "number",
        "documentation": "Results a page, 0 to 100 (0: the total only); 20 by default",
    },
    {
        "name": "_page",
        "type": "number",
        "documentation": "The page, from 1; the Bundle's next and previous links carry it",
    },
]


def capability_statement(software_date: str) -> dict:
    """This server's CapabilityStatement (JSON only, read and search-type of the listed types)."""
    base = codes.fhir_base()
    types = []
    for resource_type in ("Practitioner", "PractitionerRole", "Location", "Organization"):
        entry = {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {"name": name, "type": kind, "documentation": text}
                for name, (kind, text) in PARAMETERS[resource_type].items()
            ],
        }
        if resource_type in INCLUDES:
            entry["searchInclude"] = list(INCLUDES[resource_type])
        types.append(entry)
    types.append(
        {
            "type": "CodeSystem",
            "interaction": [{"code": "read"}],
            "documentation": "Only CodeSystem/conditions: the site's conditions of focus",
        }
    )
    types += [
        {
            "type": "ServiceRequest",
            "interaction": [{"code": "create"}, {"code": "read"}],
            "documentation": "A referral. create: a verified provider's bearer token; intent order, a contained "
            "Patient as subject, supportingInfo referencing a contained active Consent, performer Practitioner/<id>, "
            "reasonCode (codes of CodeSystem/conditions, text: the reason), priority, note. "
            "read: the referral's parties and admins only (404 otherwise)",
        },
        {
            "type": "Task",
            "interaction": [{"code": "read"}],
            "documentation": "The referral's Task (same id as its ServiceRequest): status, history; "
            "the referral's parties and admins only (404 otherwise)",
        },
    ]
    return {
        "resourceType": "CapabilityStatement",
        "id": "directory",
        "url": f"{base}/metadata",
        "name": "CSTDirectory",
        "title": "CST practitioner directory",
        "status": "active",
        "experimental": False,
        "date": software_date,
        "kind": "instance",
        "implementation": {"description": "The CST practitioner directory, read and search; referrals in", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "The directory: read and search, no authentication; only published, "
                "unsuspended profiles appear. Referrals (ServiceRequest, Task): a bearer token. "
                "Unknown search parameters are ignored and reported in an OperationOutcome entry "
                "(search.mode outcome); malformed ones answer 400 with an OperationOutcome; XML answers 406.",
                "resource": types,
                "searchParam": PAGING,
            }
        ],
    }
