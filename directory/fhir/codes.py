"""Code systems, identifier systems and extensions of the FHIR directory, in one place.

The site's own canonical URLs live under the FHIR base (`fhir_base()`, built from SITE_URL):
`<base>/CodeSystem/conditions` is served; the other `<base>/...` URLs name the site's own
systems and extensions (documented in the README's FHIR section).
"""

from __future__ import annotations

from directory.mail import site_url

SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
BCP47 = "urn:ietf:bcp:47"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
# The distance of a match in a `near` search (core FHIR extension, on Bundle.entry.search).
LOCATION_DISTANCE = "http://hl7.org/fhir/StructureDefinition/location-distance"
# Da Vinci PDex Plan-Net: whether a role accepts new patients.
NEW_PATIENTS = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/newpatients"
ACCEPTING_PATIENTS = "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/AcceptingPatientsCS"
# National Directory (NDH): whether an item was verified (complete) or not yet (incomplete).
NDH_VERIFICATION = "http://hl7.org/fhir/us/ndh/StructureDefinition/base-ext-verification-status"
NDH_VERIFICATION_CS = "http://hl7.org/fhir/us/ndh/CodeSystem/NdhVerificationStatusCS"

# The closest SNOMED CT concepts to each seeded condition of the taxonomy. A condition that
# joins two concepts ("Chronic neck and back pain") carries both; a condition the admin adds
# later carries only the site's code until it is mapped here.
SNOMED_CODINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "migraine-headache": (("37796009", "Migraine"), ("25064002", "Headache")),
    "neck-back-pain": (("81680005", "Neck pain"), ("161891005", "Backache")),
    "fibromyalgia": (("203082005", "Fibromyalgia"),),
    "tmj": (("41888000", "Temporomandibular joint disorder"),),
    # "Stress and tension-related disorders": SNOMED CT's Stress (finding) is the closest concept.
    "stress-tension": (("73595000", "Stress"),),
}


def fhir_base() -> str:
    """The absolute FHIR base URL, `<SITE_URL>/fhir/r4` (the one builder of absolute links)."""
    return site_url("fhir.metadata").rsplit("/", 1)[0]


def site_system(path: str) -> str:
    """A system or extension URL of this site: `<base>/<path>`."""
    return f"{fhir_base()}/{path}"


def conditions_system() -> str:
    """The canonical URL of the conditions CodeSystem, whose codes are the condition slugs."""
    return site_system("CodeSystem/conditions")


def condition_concept(slug: str, name: str) -> dict:
    """A condition as a CodeableConcept: the site's code, then its SNOMED CT codings, and its name."""
    codings = [{"system": conditions_system(), "code": slug, "display": name}]
    codings += [{"system": SNOMED, "code": code, "display": display} for code, display in SNOMED_CODINGS.get(slug, ())]
    return {"coding": codings, "text": name}


def slugs_for_snomed(code: str) -> list[str]:
    """The condition slugs a SNOMED CT code stands beside."""
    return [slug for slug, codings in SNOMED_CODINGS.items() if any(code == c for c, _ in codings)]
