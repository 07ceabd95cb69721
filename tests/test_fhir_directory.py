"""The FHIR R4 directory (/fhir/r4): every resource and search result validated with fhir.resources (R4B)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from directory.extensions import db
from directory.models import ProfessionalLicense, VerificationStatus
from directory.models.base import utcnow
from tests.factories import CertificationFactory, PractitionerFactory, body

BOULDER = (40.0150, -105.2705)
SNOMED = "http://snomed.info/sct"
FHIR = "/fhir/r4"


def fhir_get(client, path: str, status: int = 200, **kwargs) -> dict:
    """GET a FHIR path; check the status and the media type, and validate the answer as R4B."""
    response = client.get(path if path.startswith("/") else f"{FHIR}/{path}", **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    resource = json.loads(response.get_data(as_text=True))
    valid(resource)
    return resource


def valid(resource: dict):
    """The resource parsed by fhir.resources' R4B model of its type (a bundle's entries too)."""
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return model


def local(url: str) -> str:
    """The path and query of an absolute link the server wrote."""
    parts = urlsplit(url)
    assert parts.netloc == "localhost"
    return f"{parts.path}?{parts.query}"


def matches(bundle: dict) -> list[dict]:
    return [e for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def link(bundle: dict, relation: str) -> str | None:
    return next((item["url"] for item in bundle["link"] if item["relation"] == relation), None)


def east_of_boulder(km: float) -> tuple[float, float]:
    """A point about `km` east of Boulder (a degree of longitude there is about 85.2 km)."""
    return BOULDER[0], BOULDER[1] + km / 85.2


@pytest.fixture
def credentialed(app):
    """A practitioner with a verified, a pending and a rejected credential and a licence."""
    practitioner = PractitionerFactory(
        display_name="Ada Quinn",
        practice_name="Quinn Craniosacral",
        phone="+1 303 555 0100",
        website="https://quinn.example.org",
        conditions=["tmj", "neck-back-pain"],
        gender="nonbinary",
    )
    verified = CertificationFactory(
        practitioner=practitioner,
        credential="CST-D",
        issued_on=date(2024, 3, 1),
        expires_on=date.today() + timedelta(days=400),
    )
    verified.mark_verified("register checked")
    CertificationFactory(practitioner=practitioner, body=body("bcta-na"), credential="RCST")
    rejected = CertificationFactory(practitioner=practitioner, credential="CST-T")
    rejected.mark_rejected("Not on the register")
    practitioner.licenses.append(
        ProfessionalLicense(profession="LMT", jurisdiction="Colorado", number="LMT-0042", expires_on=date(2027, 6, 30))
    )
    location = practitioner.locations[0]
    location.phone = "+1 303 555 0199"
    location.opening_hours = "Mon 09:00-17:00\nTue 09:00-17:00\nSat 10:00-24:00"
    location.hours_note = "Evenings by appointment"
    location.address = "1 Pearl St"
    location.region = "CO"
    location.postal_code = "80302"
    db.session.commit()
    return practitioner


def test_metadata_lists_exactly_the_types_searches_and_includes_served(client):
    statement = fhir_get(client, "metadata")
    assert statement["format"] == ["json"] and statement["fhirVersion"] == "4.0.1"
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(served) == {
        "Practitioner",
        "PractitionerRole",
        "Location",
        "Organization",
        "CodeSystem",
        "ServiceRequest",
        "Task",
    }
    params = {t: {p["name"] for p in r.get("searchParam", [])} for t, r in served.items()}
    assert params["Location"] == {"near"}
    assert params["PractitionerRole"] == {"location.near", "specialty", "practitioner"}
    assert params["Practitioner"] == {"name", "identifier"}
    assert params["Organization"] == {"type"}
    assert "PractitionerRole:practitioner" in served["PractitionerRole"]["searchInclude"]
    assert "PractitionerRole:location" in served["PractitionerRole"]["searchInclude"]
    assert [i["code"] for i in served["CodeSystem"]["interaction"]] == ["read"]


def test_practitioner_shows_published_contact_credentials_with_verification_and_licences(client, credentialed):
    resource = fhir_get(client, f"Practitioner/{credentialed.id}")
    assert resource["name"][0]["text"] == "Ada Quinn"
    assert resource["gender"] == "other"
    assert {(t["system"], t["value"]) for t in resource["telecom"]} == {
        ("phone", "+1 303 555 0100"),
        ("url", "https://quinn.example.org"),
    }
    credentials, licence = resource["qualification"][:-1], resource["qualification"][-1]
    # The rejected credential is left out, as on the public profile.
    assert [q["code"]["coding"][0]["code"] for q in credentials] == ["CST-D", "RCST"]
    verified, pending = credentials
    assert verified["code"]["text"] == "CranioSacral Therapy, Diplomate certification (CST-D)"
    assert verified["issuer"]["reference"] == "Organization/body-upledger"
    assert verified["period"] == {"start": "2024-03-01", "end": (date.today() + timedelta(days=400)).isoformat()}
    ndh = {e["url"]: e for e in verified["extension"]}
    status = ndh["http://hl7.org/fhir/us/ndh/StructureDefinition/base-ext-verification-status"]
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "complete"
    site = {
        p["url"]: p for p in ndh["http://localhost/fhir/r4/StructureDefinition/credential-verification"]["extension"]
    }
    assert site["status"]["valueCode"] == "verified" and site["current"]["valueBoolean"] is True
    assert site["verifiedAt"]["valueDateTime"].startswith(utcnow().date().isoformat())
    assert pending["issuer"]["reference"] == "Organization/body-bcta-na"
    pending_ext = {e["url"]: e for e in pending["extension"]}
    assert pending_ext[status["url"]]["valueCodeableConcept"]["coding"][0]["code"] == "incomplete"
    assert licence["code"]["text"] == "LMT" and licence["period"]["end"] == "2027-06-30"
    assert licence["identifier"][0]["value"] == "LMT-0042"
    # Every issuer resolves.
    for qualification in credentials:
        assert fhir_get(client, qualification["issuer"]["reference"])["name"] == qualification["issuer"]["display"]


def test_email_is_published_only_when_the_profile_shows_it(client, credentialed):
    assert "email" not in {t["system"] for t in fhir_get(client, f"Practitioner/{credentialed.id}")["telecom"]}
    credentialed.show_email = True
    db.session.commit()
    telecom = fhir_get(client, f"Practitioner/{credentialed.id}")["telecom"]
    assert ("email", credentialed.email) in {(t["system"], t["value"]) for t in telecom}


def test_role_location_and_practice_read_with_hours_specialties_and_new_patients(client, credentialed):
    location = credentialed.locations[0]
    role = fhir_get(client, f"PractitionerRole/{location.id}")
    assert role["practitioner"]["reference"] == f"Practitioner/{credentialed.id}"
    assert role["location"][0]["reference"] == f"Location/{location.id}"
    assert role["organization"]["reference"] == f"Organization/practice-{credentialed.id}"
    specialties = {s["coding"][0]["code"]: s for s in role["specialty"]}
    assert set(specialties) == {"tmj", "neck-back-pain"}
    assert specialties["tmj"]["coding"][0]["system"] == "http://localhost/fhir/r4/CodeSystem/conditions"
    assert {c["code"] for c in specialties["tmj"]["coding"] if c["system"] == SNOMED} == {"41888000"}
    assert {c["code"] for c in specialties["neck-back-pain"]["coding"] if c["system"] == SNOMED} == {
        "81680005",
        "161891005",
    }
    assert role["availableTime"] == [
        {"daysOfWeek": ["mon", "tue"], "availableStartTime": "09:00:00", "availableEndTime": "17:00:00"},
        {"daysOfWeek": ["sat"], "availableStartTime": "10:00:00", "availableEndTime": "23:59:59"},
    ]
    assert role["availabilityExceptions"] == "Evenings by appointment"
    assert role["telecom"] == [{"system": "phone", "value": "+1 303 555 0199", "use": "work"}]
    (new_patients,) = role["extension"]
    assert new_patients["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "newpt"

    place = fhir_get(client, role["location"][0]["reference"])
    assert place["position"] == {"latitude": BOULDER[0], "longitude": BOULDER[1]}
    assert place["address"]["line"] == ["1 Pearl St"] and place["address"]["postalCode"] == "80302"
    practice = fhir_get(client, role["organization"]["reference"])
    assert practice["name"] == "Quinn Craniosacral"
    assert practice["type"][0]["coding"][0]["code"] == "prov"

    credentialed.accepting_new_patients = False
    credentialed.locations[0].opening_hours = ""
    db.session.commit()
    role = fhir_get(client, f"PractitionerRole/{location.id}")
    assert role["extension"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "nopt"
    assert "availableTime" not in role


def test_the_conditions_code_system_uses_the_slugs_with_snomed_beside_them(client):
    system = fhir_get(client, "CodeSystem/conditions")
    assert system["url"] == "http://localhost/fhir/r4/CodeSystem/conditions"
    concepts = {c["code"]: c for c in system["concept"]}
    assert {"tmj", "fibromyalgia", "migraine-headache", "neck-back-pain", "stress-tension"} <= set(concepts)
    assert concepts["fibromyalgia"]["property"][0]["valueCoding"]["code"] == "203082005"


@pytest.mark.parametrize("change", [{"published": False}, {"suspended": True}])
def test_an_unlisted_profile_is_not_found_anywhere(client, credentialed, change):
    location = credentialed.locations[0]
    for name, value in change.items():
        setattr(credentialed, name, value)
    db.session.commit()
    for path in (
        f"Practitioner/{credentialed.id}",
        f"PractitionerRole/{location.id}",
        f"Location/{location.id}",
        f"Organization/practice-{credentialed.id}",
    ):
        outcome = fhir_get(client, path, 404)
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "not-found"
    near = "|".join(map(str, BOULDER)) + "|50|km"
    assert fhir_get(client, f"Location?near={near}")["total"] == 0
    assert fhir_get(client, f"PractitionerRole?practitioner={credentialed.id}")["total"] == 0
    assert fhir_get(client, "Practitioner?name=ada")["total"] == 0
    assert fhir_get(client, "Organization?type=prov")["total"] == 0


@pytest.mark.parametrize(
    "path", ["Practitioner/abc", "Practitioner/99999999999999", "Organization/body-nobody", "Location/0"]
)
def test_unknown_ids_answer_404_with_an_operation_outcome(client, path):
    assert fhir_get(client, path, 404)["issue"][0]["severity"] == "error"


def test_only_json_is_served(client, credentialed):
    path = f"Practitioner/{credentialed.id}"
    assert fhir_get(client, f"{path}?_format=json")["id"] == str(credentialed.id)
    assert fhir_get(client, f"{path}?_format=application/fhir%2Bjson")["id"] == str(credentialed.id)
    assert fhir_get(client, path, headers={"Accept": "application/fhir+json"})["id"] == str(credentialed.id)
    for outcome in (
        fhir_get(client, f"{path}?_format=xml", 406),
        fhir_get(client, "metadata?_format=application/fhir%2Bxml", 406),
        fhir_get(client, path, 406, headers={"Accept": "application/fhir+xml"}),
    ):
        assert outcome["issue"][0]["code"] == "not-supported"


def test_locations_near_a_point_come_nearest_first_with_distances_and_paging_links(client):
    for km in (30, 5, 20, 10, 40):
        PractitionerFactory(display_name=f"At {km} km", locations=[east_of_boulder(km)])
    PractitionerFactory(display_name="Too far", locations=[east_of_boulder(200)])
    near = f"{BOULDER[0]}|{BOULDER[1]}|100|km"
    first = fhir_get(client, f"Location?near={near}&_count=2")
    assert first["total"] == 5 and first["type"] == "searchset"
    assert link(first, "previous") is None
    seen = []
    page = first
    while True:
        for entry in matches(page):
            (distance,) = entry["search"]["extension"]
            assert distance["url"] == "http://hl7.org/fhir/StructureDefinition/location-distance"
            seen.append(distance["valueDistance"]["value"])
        if not link(page, "next"):
            break
        previous_self = link(page, "self")
        page = fhir_get(client, local(link(page, "next")))
        assert link(page, "previous") == previous_self
    assert [round(d) for d in seen] == [5, 10, 20, 30, 40]
    assert seen == sorted(seen)
    in_miles = fhir_get(client, f"Location?near={BOULDER[0]}|{BOULDER[1]}|20|mi")  # 32 km
    assert in_miles["total"] == 4
    value = matches(in_miles)[0]["search"]["extension"][0]["valueDistance"]
    assert value["code"] == "[mi_i]" and value["value"] == pytest.approx(5 / 1.609344, abs=0.05)


def test_roles_near_a_point_are_the_site_search_with_the_same_order(client):
    for km, conditions in ((12, ["tmj"]), (3, ["tmj", "fibromyalgia"]), (8, ["fibromyalgia"]), (25, ["tmj"])):
        PractitionerFactory(locations=[east_of_boulder(km)], conditions=conditions)
    site = client.get(f"/api/v1/practitioners?lat={BOULDER[0]}&lon={BOULDER[1]}&radius_km=50&condition=tmj").get_json()
    expected = [str(r["id"]) for r in site["results"]]
    assert len(expected) == 3
    for specialty in ("tmj", "http://localhost/fhir/r4/CodeSystem/conditions|tmj", f"{SNOMED}|41888000"):
        bundle = fhir_get(
            client, f"PractitionerRole?location.near={BOULDER[0]}|{BOULDER[1]}|50|km&specialty={specialty}"
        )
        assert bundle["total"] == site["count"]
        found = [e["resource"]["practitioner"]["reference"].split("/")[1] for e in matches(bundle)]
        assert found == expected
    both = fhir_get(
        client, f"PractitionerRole?location.near={BOULDER[0]}|{BOULDER[1]}|50|km&specialty=tmj&specialty=fibromyalgia"
    )
    assert both["total"] == 1


def test_role_search_includes_practitioners_and_locations_once_each(client, credentialed):
    second = PractitionerFactory(locations=[east_of_boulder(2), east_of_boulder(300)])
    bundle = fhir_get(
        client,
        f"PractitionerRole?location.near={BOULDER[0]}|{BOULDER[1]}|50|km"
        "&_include=PractitionerRole:practitioner&_include=PractitionerRole:location",
    )
    roles = matches(bundle)
    included = [e for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert len(roles) == 2
    wanted = {r["resource"]["practitioner"]["reference"] for r in roles}
    wanted |= {r["resource"]["location"][0]["reference"] for r in roles}
    assert {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in included} == wanted
    assert len(included) == 4
    assert all(e["fullUrl"].startswith("http://localhost/fhir/r4/") for e in bundle["entry"])
    # practitioner= lists that practitioner's roles: every location, or the ones in the circle.
    assert fhir_get(client, f"PractitionerRole?practitioner=Practitioner/{second.id}")["total"] == 2
    one = fhir_get(client, f"PractitionerRole?practitioner={second.id}&location.near={BOULDER[0]}|{BOULDER[1]}|50|km")
    assert one["total"] == 1 and matches(one)[0]["search"]["extension"][0]["valueDistance"]["value"] < 3


def test_practitioners_are_found_by_name_and_by_identifier(client, credentialed):
    PractitionerFactory(display_name="Steve Adams")
    assert [e["resource"]["id"] for e in matches(fhir_get(client, "Practitioner?name=QUI"))] == [str(credentialed.id)]
    assert fhir_get(client, "Practitioner?name=ada")["total"] == 2  # Ada Quinn, Steve Adams
    assert fhir_get(client, "Practitioner?name=eve")["total"] == 0  # a word's start, not its middle
    assert fhir_get(client, "Practitioner?name=100%25")["total"] == 0
    by_licence = fhir_get(client, "Practitioner?identifier=http://localhost/fhir/r4/sid/licence|LMT-0042")
    assert [e["resource"]["id"] for e in matches(by_licence)] == [str(credentialed.id)]
    assert fhir_get(client, f"Practitioner?identifier={credentialed.id}")["total"] == 1
    assert fhir_get(client, "Practitioner?identifier=http://other.example/sid|LMT-0042")["total"] == 0


def test_organizations_are_found_by_type(client, credentialed):
    bodies = fhir_get(client, "Organization?type=certifying-body")
    assert {e["resource"]["id"] for e in matches(bodies)} == {"body-upledger", "body-bcta-na", "body-csta-uk"}
    practices = fhir_get(client, "Organization?type=http://terminology.hl7.org/CodeSystem/organization-type|prov")
    assert [e["resource"]["id"] for e in matches(practices)] == [f"practice-{credentialed.id}"]
    everything = fhir_get(client, "Organization?_count=2")
    assert everything["total"] == 4
    last = fhir_get(client, local(link(everything, "next")))
    assert [e["resource"]["id"] for e in matches(last)] == ["body-upledger", f"practice-{credentialed.id}"]
    assert link(last, "next") is None


def test_an_unknown_parameter_is_ignored_and_reported(client, credentialed):
    bundle = fhir_get(client, "Practitioner?name=ada&colour=blue&_include=Practitioner:nothing")
    assert bundle["total"] == 1
    (outcome,) = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    messages = [i["diagnostics"] for i in outcome["resource"]["issue"]]
    assert any("colour" in m for m in messages) and any("Practitioner:nothing" in m for m in messages)
    assert {i["severity"] for i in outcome["resource"]["issue"]} == {"warning"}
    assert "colour" not in link(bundle, "self")


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("Location?near=40|-105|501|km", "at most 500 km"),
        ("Location?near=40|-105|320|mi", "at most 500 km"),
        ("Location?near=95|-105|10|km", "lat must be between -90 and 90"),
        ("Location?near=40|-105|10|parsecs", "km or mi"),
        ("Location?near=40", "LAT|LON|DIST|UNIT"),
        ("Location?near=forty|-105|10|km", "must be a number"),
        ("Location?near=40|-105&near=41|-105", "only once"),
        ("Location?_count=101", "_count must be a whole number from 0 to 100"),
        ("Location?_page=0", "_page"),
        ("PractitionerRole?location.near=40|-105|10|km&specialty=gout", "unknown condition"),
        ("PractitionerRole?location.near=40|-105|10|km&specialty=tmj,fibromyalgia", "one code per parameter"),
        ("PractitionerRole?practitioner=Patient/1", "practitioner must be"),
        ("Practitioner?name=", "name must not be empty"),
        ("Organization?type=", "type must be a code"),
    ],
)
def test_a_malformed_parameter_answers_400_with_an_operation_outcome(client, query, says):
    outcome = fhir_get(client, query, 400)
    assert outcome["resourceType"] == "OperationOutcome"
    assert says in outcome["issue"][0]["diagnostics"]


def test_count_zero_gives_the_total_only(client):
    PractitionerFactory()
    bundle = fhir_get(client, f"Location?near={BOULDER[0]}|{BOULDER[1]}|10|km&_count=0")
    assert bundle["total"] == 1 and "entry" not in bundle and link(bundle, "next") is None


def test_a_search_bundle_validates_as_a_whole_with_its_links(client, credentialed):
    PractitionerFactory(locations=[east_of_boulder(1)])
    raw = fhir_get(
        client,
        f"PractitionerRole?location.near={BOULDER[0]}|{BOULDER[1]}|10|km&_count=1&_page=2"
        "&_include=PractitionerRole:organization&unknown=1",
    )
    bundle = Bundle.model_validate(raw)
    assert {link.relation for link in bundle.link} == {"self", "previous"}
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds == ["PractitionerRole", "Organization", "OperationOutcome"]
    assert bundle.entry[0].search.extension[0].valueDistance.unit == "km"


def test_a_certification_verified_then_expired_says_so(client, credentialed):
    cert = next(c for c in credentialed.certifications if c.status == VerificationStatus.VERIFIED)
    cert.expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    qualification = fhir_get(client, f"Practitioner/{credentialed.id}")["qualification"][0]
    site = next(e for e in qualification["extension"] if e["url"].endswith("credential-verification"))
    assert {p["url"]: p.get("valueBoolean") for p in site["extension"]}["current"] is False


def test_a_profile_held_for_review_shows_its_last_approved_text(client, credentialed):
    from directory.claims import service

    location = credentialed.locations[0]
    location.label = "Pearl Street room"
    db.session.commit()
    flags = service.submit_texts(
        credentialed,
        {"practice_name": "Miracle Cures Clinic", f"location:{location.id}:label": "Guaranteed cure room"},
        None,
    )
    db.session.commit()
    assert flags and service.pending_change(credentialed) is not None
    assert fhir_get(client, f"Organization/practice-{credentialed.id}")["name"] == "Quinn Craniosacral"
    assert fhir_get(client, f"Location/{location.id}")["name"] == "Pearl Street room"
    role = fhir_get(client, f"PractitionerRole/{location.id}")
    assert role["organization"]["display"] == "Quinn Craniosacral"
    assert role["location"][0]["display"] == "Pearl Street room"


def test_past_the_site_count_limit_the_total_is_left_out_and_full_pages_link_on(app, client):
    app.config["SEARCH_COUNT_LIMIT"] = 2
    for km in (1, 2, 3, 4, 5):
        PractitionerFactory(locations=[east_of_boulder(km)])
    near = f"{BOULDER[0]}|{BOULDER[1]}|50|km"
    first = fhir_get(client, f"Location?near={near}&_count=2")
    assert "total" not in first and len(matches(first)) == 2
    second = fhir_get(client, local(link(first, "next")))
    assert len(matches(second)) == 2
