"""A real FHIR client (fhirpy's sync client) against the running app: search, next links, _include.

The app is served on a loopback port by a background thread (werkzeug's make_server, as the
browser journeys do) on a database of its own, migrated with `flask db upgrade`.
"""

from __future__ import annotations

import tempfile
import threading

import pytest
import requests
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound
from flask_migrate import upgrade
from werkzeug.serving import make_server

from directory import create_app
from directory.extensions import db
from tests.conftest import base_config, drop_database, new_database
from tests.factories import CertificationFactory, PractitionerFactory

BOULDER = (40.0150, -105.2705)
NEAR = f"{BOULDER[0]}|{BOULDER[1]}|100|km"


class Site:
    """The running app: its base URL and the ids of what the module set up."""

    def __init__(self, url: str, ids: dict) -> None:
        self.url = url
        self.fhir = f"{url}/fhir/r4"
        self.ids = ids


def _set_up_practitioners() -> dict:
    """Nine practitioners east of Boulder: six for TMJ, three not (one of them unpublished); one credential verified."""
    ids = {"tmj": [], "other": [], "unpublished": []}
    for n in range(9):
        conditions = ["tmj"] if n % 4 else ["fibromyalgia"]
        practitioner = PractitionerFactory(
            display_name=f"Client Test {n}",
            # Two locations each: the search lists each practitioner once, at the nearer one.
            locations=[(BOULDER[0], BOULDER[1] + (3 + 7 * n) / 85.2), (BOULDER[0] + 0.5, BOULDER[1])],
            conditions=conditions,
            published=n != 8,
        )
        ids["tmj" if "tmj" in conditions else "other"].append(practitioner.id)
        if not practitioner.published:
            ids["unpublished"].append(practitioner.id)
    certification = CertificationFactory(practitioner=db.session.get(type(practitioner), ids["tmj"][0]))
    certification.mark_verified("register checked")
    db.session.commit()
    return ids


@pytest.fixture(scope="module")
def site(worker_id):
    """The real app on a free loopback port, with the module's practitioners."""
    url = new_database(f"fhir_{worker_id}")
    app = create_app(base_config(url, tempfile.mkdtemp(prefix="cst-fhir-")))
    with app.app_context():
        upgrade()
        ids = _set_up_practitioners()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    address = f"http://127.0.0.1:{server.server_port}"
    app.config["SERVER_NAME_FOR_EMAIL"] = address
    thread = threading.Thread(target=server.serve_forever, name="fhir-server", daemon=True)
    thread.start()
    try:
        yield Site(address, ids)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(url)


@pytest.fixture
def fhir(site) -> SyncFHIRClient:
    """fhirpy's synchronous client on the directory's FHIR base."""
    return SyncFHIRClient(site.fhir)


def valid(resource) -> None:
    """What the client got validates as R4B."""
    data = resource.serialize() if hasattr(resource, "serialize") else resource
    get_fhir_model_class(data["resourceType"]).model_validate(data)


def test_the_client_pages_through_roles_near_boulder_in_the_site_search_order(site, fhir):
    site_search = requests.get(
        f"{site.url}/api/v1/practitioners",
        params={"lat": BOULDER[0], "lon": BOULDER[1], "radius_km": 100, "condition": "tmj", "per_page": 100},
        timeout=10,
    ).json()
    expected = [f"Practitioner/{r['id']}" for r in site_search["results"]]
    assert len(expected) == 6

    search = fhir.resources("PractitionerRole").search(**{"location.near": NEAR, "specialty": "tmj"}).limit(2)
    first_page = search.fetch_raw()
    assert first_page.total == 6
    assert any(link.relation == "next" for link in first_page.link)
    roles = search.fetch_all()  # follows every next link
    for role in roles:
        valid(role)
    assert [role["practitioner"]["reference"] for role in roles] == expected
    # Each practitioner appears once, at their nearer location.
    assert len({role["location"][0]["reference"] for role in roles}) == 6


def test_the_client_finds_locations_nearest_first_as_the_site_search_does(site, fhir):
    site_search = requests.get(
        f"{site.url}/api/v1/practitioners",
        params={"lat": BOULDER[0], "lon": BOULDER[1], "radius_km": 100, "per_page": 100},
        timeout=10,
    ).json()
    locations = fhir.resources("Location").search(near=NEAR).limit(3).fetch_all()
    owners = [location["managingOrganization"]["reference"] for location in locations]
    assert owners == [f"Organization/practice-{r['id']}" for r in site_search["results"]]
    assert len(owners) == 8


def test_the_client_reads_the_included_practitioners_and_locations(site, fhir):
    search = (
        fhir.resources("PractitionerRole")
        .search(**{"location.near": NEAR})
        .include("PractitionerRole", "practitioner")
        .include("PractitionerRole", "location")
        .limit(3)
    )
    bundle = search.fetch_raw()
    matched = [e.resource for e in bundle.entry if e.search.mode == "match"]
    included = {
        f"{e.resource.resourceType}/{e.resource.id}": e.resource for e in bundle.entry if e.search.mode == "include"
    }
    assert len(matched) == 3
    for role in matched:
        practitioner = included[role["practitioner"]["reference"]]
        location = included[role["location"][0]["reference"]]
        valid(practitioner)
        valid(location)
        # What was included is what a read gives.
        read = fhir.reference(reference=role["practitioner"]["reference"]).to_resource()
        assert read.serialize() == practitioner.serialize()
        assert location["position"]["latitude"] == pytest.approx(BOULDER[0])


def test_the_client_finds_locations_practitioners_and_organizations(site, fhir):
    locations = fhir.resources("Location").search(near=f"{BOULDER[0]}|{BOULDER[1]}|30|mi").limit(3).fetch_all()
    assert len(locations) == 7  # published practitioners within 30 mi (48 km), one location each
    for location in locations:
        valid(location)
    named = fhir.resources("Practitioner").search(name="client").limit(5).fetch_all()
    assert len(named) == 8
    practitioner_id = site.ids["tmj"][0]
    (found,) = fhir.resources("Practitioner").search(identifier=str(practitioner_id)).fetch_all()
    issuer = found["qualification"][0]["issuer"]["reference"]
    body = fhir.reference(reference=issuer).to_resource()
    valid(body)
    assert body["id"] == "body-upledger"
    bodies = fhir.resources("Organization").search(type="certifying-body").fetch_all()
    assert issuer.split("/")[1] in {b["id"] for b in bodies}


def test_the_client_sees_refusals_as_operation_outcomes(site, fhir):
    with pytest.raises(OperationOutcome) as refused:
        fhir.resources("Location").search(near=f"{BOULDER[0]}|{BOULDER[1]}|600|km").fetch()
    assert "at most 500 km" in str(refused.value)
    (unpublished,) = site.ids["unpublished"]
    with pytest.raises(ResourceNotFound):
        fhir.reference("Practitioner", str(unpublished)).to_resource()
    assert fhir.resources("Practitioner").search(identifier=str(unpublished)).fetch_all() == []
