"""The API holds to its OpenAPI description under schemathesis' generated requests.

Every /api/v1 route is described; every generated request (valid or not) gets an answer
that is not a 5xx, with a documented status and a body matching the documented schema.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from directory.api.openapi import API_PREFIX, OPERATIONS, described_rules
from tests.factories import CertificationFactory, PractitionerFactory

# In CI the fuzzers replay the same examples every run (a failure there is reproducible);
# on a developer machine they draw new ones each time, to keep finding new inputs.
IN_CI = os.environ.get("CI") == "true"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _api_token_for(user) -> str | None:
    """A real bearer token for the user, once the accounts area can issue one."""
    from directory.models import ApiToken

    issue = getattr(ApiToken, "issue", None)
    if issue is None:
        return None
    try:
        _, token = issue(user, "fuzz")
    except NotImplementedError:
        return None
    from directory.extensions import db

    db.session.commit()
    return token


@pytest.fixture
def api_schema(app, provider_user):
    """The app's own OpenAPI document, with a few practitioners to find."""
    from directory.models import VerificationStatus

    boulder = PractitionerFactory(display_name="Bea Boulder", conditions=["tmj"], latitude=40.02, longitude=-105.27)
    CertificationFactory(practitioner=boulder, status=VerificationStatus.VERIFIED)
    PractitionerFactory(display_name="Dan Denver", conditions=["fibromyalgia"], latitude=39.74, longitude=-104.99)
    app.config["FUZZ_TOKEN"] = _api_token_for(provider_user)
    return schemathesis.openapi.from_wsgi(f"{API_PREFIX}/openapi.json", app)


# schemathesis' own @schema.parametrize() cannot rename pytest 9 test nodes, so each described
# operation is one test here that draws its cases from schemathesis' strategies.
OPERATION_IDS = [(path, method) for path, _, method, _ in OPERATIONS]


@pytest.mark.parametrize("path, method", OPERATION_IDS, ids=[f"{m.upper()} {p}" for p, m in OPERATION_IDS])
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=IN_CI)
@given(data=st.data())
def test_api_never_fails_and_keeps_its_documented_shape(api_schema, app, path, method, data):
    operation = api_schema.find_operation_by_path(method, path)
    if operation is None:
        pytest.skip(f"{method.upper()} {path} is not served (yet)")
    case = data.draw(
        st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
    )
    headers = {}
    token = app.config.get("FUZZ_TOKEN")
    if token and operation.definition.raw.get("security") and not _headers_made_invalid(case):
        headers["Authorization"] = f"Bearer {token}"
    case.call_and_validate(headers=headers, checks=CHECKS)


def _headers_made_invalid(case) -> bool:
    """A negative case that breaks the headers (the token among them) must go without a token."""
    header = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    return header is not None and header.mode == GenerationMode.NEGATIVE


def test_every_api_route_is_described(app):
    document = app.test_client().get(f"{API_PREFIX}/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = {(f"{API_PREFIX}{path}", method) for path, item in document["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX) or rule.rule == f"{API_PREFIX}/openapi.json":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (rule.rule, method.lower()) in described_rules(), f"{method} {rule.rule} is not in openapi.py"
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            assert (path, method.lower()) in described, f"{method} {rule.rule} is missing from openapi.json"


def test_list_schemas_describe_what_each_list_answers(client):
    """Only the search counts to a limit: count_exact is in its schema and nowhere else."""
    schemas = client.get(f"{API_PREFIX}/openapi.json").get_json()["components"]["schemas"]
    search = client.get(f"{API_PREFIX}/practitioners", query_string={"lat": 40, "lon": -105}).get_json()
    assert set(search) == set(schemas["SearchResults"]["properties"])
    assert "count_exact" not in schemas["ReferralList"]["properties"]
    assert set(schemas["ReferralList"]["properties"]) == {"count", "page", "per_page", "results"}


def test_referral_operations_need_a_bearer_token(app):
    document = app.test_client().get(f"{API_PREFIX}/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    for path, item in document["paths"].items():
        for operation in item.values():
            if path.startswith("/referrals") or path == "/me":
                assert operation["security"] == [{"bearerAuth": []}], path
            else:
                assert operation["security"] == [], path


def test_referral_api_answers_400_for_ids_and_pages_out_of_range(client, provider_user, practitioner_user):
    """Found by the fuzzer: an id beyond INTEGER and a Unicode digit in `page` were 500s."""
    headers = {"Authorization": f"Bearer {_api_token_for(provider_user)}"}
    body = {
        "practitioner_id": 2**70,
        "patient": {"name": "Pat"},
        "reason": "jaw pain",
        "urgency": "routine",
        "consent": True,
    }
    response = client.post(f"{API_PREFIX}/referrals", json=body, headers=headers)
    assert response.status_code == 400 and "Unknown practitioner" in response.get_json()["error"]
    for page in ["²", "١", "-1", "0", "1e3"]:
        response = client.get(f"{API_PREFIX}/referrals", query_string={"page": page}, headers=headers)
        assert response.status_code == 400, page
        assert response.is_json


def test_a_whole_referral_over_the_api_matches_the_documented_schemas(app, client, provider_user, practitioner_user):
    """A valid referral (which random data rarely builds) through every documented operation."""
    schema = schemathesis.openapi.from_wsgi(f"{API_PREFIX}/openapi.json", app)
    provider = {"Authorization": f"Bearer {_api_token_for(provider_user)}"}
    practitioner = {"Authorization": f"Bearer {_api_token_for(practitioner_user)}"}

    def conforms(method: str, path: str, response) -> dict:
        schema.find_operation_by_path(method, path).validate_response(response)
        return response.get_json()

    body = {
        "practitioner_id": practitioner_user.practitioner.id,
        "patient": {"name": "Pat Patient", "phone": "+1 303 555 0100", "birth_date": "1980-02-03"},
        "conditions": ["tmj"],
        "reason": "Jaw pain",
        "urgency": "routine",
        "consent": True,
    }
    created = conforms("post", "/referrals", client.post(f"{API_PREFIX}/referrals", json=body, headers=provider))
    rid = created["id"]
    conforms("get", "/referrals", client.get(f"{API_PREFIX}/referrals", headers=provider))
    conforms("get", "/referrals/{referral_id}", client.get(f"{API_PREFIX}/referrals/{rid}", headers=practitioner))
    for move in [
        {"status": "accepted"},
        {"status": "in-progress", "appointment_at": "2031-03-04T09:30:00Z"},
        {"status": "completed", "note": "Six sessions; much better."},
    ]:
        response = client.post(f"{API_PREFIX}/referrals/{rid}/transitions", json=move, headers=practitioner)
        assert response.status_code == 200, response.get_json()
        conforms("post", "/referrals/{referral_id}/transitions", response)
    illegal = client.post(
        f"{API_PREFIX}/referrals/{rid}/transitions", json={"status": "accepted"}, headers=practitioner
    )
    assert illegal.status_code == 409
    conforms("post", "/referrals/{referral_id}/transitions", illegal)
    fhir = client.get(f"{API_PREFIX}/referrals/{rid}/fhir", headers=provider)
    assert conforms("get", "/referrals/{referral_id}/fhir", fhir)["resourceType"] == "Bundle"
    conforms("get", "/me", client.get(f"{API_PREFIX}/me", headers=provider))
