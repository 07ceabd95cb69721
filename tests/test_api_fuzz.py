"""The API holds to its OpenAPI document under schemathesis' generated requests, for every caller.

Every operation is fuzzed with every check schemathesis has (what `--checks all` runs), once per
kind of caller: nobody, a practitioner, a provider who has drafts as well as sent referrals, and
an admin. Every request (valid or not) gets an answer that is not a 5xx, with a documented
status, content type and body, and the document's "valid" and "invalid" agree with the server.
"""

from __future__ import annotations

import contextvars
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode

from directory.api.contract import API_PREFIX
from directory.extensions import db
from directory.models import VerificationStatus
from directory.referrals import workflow
from tests.factories import CertificationFactory, PractitionerFactory
from tests.referral_helpers import make_referral, token_for

# In CI the fuzzers replay the same examples every run (a failure there is reproducible);
# on a developer machine they draw new ones each time, to keep finding new inputs.
IN_CI = os.environ.get("CI") == "true"

load_all_checks()
ALL_CHECKS = list(CHECKS.get_all())  # what `schemathesis run --checks all` runs

OPERATIONS = [
    ("/practitioners", "get"),
    ("/practitioners/{practitioner_id}", "get"),
    ("/conditions", "get"),
    ("/me", "get"),
    ("/referrals", "post"),
    ("/referrals", "get"),
    ("/referrals/{referral_id}", "get"),
    ("/referrals/{referral_id}/transitions", "post"),
    ("/referrals/{referral_id}/fhir", "get"),
]
ROLES = ["anonymous", "practitioner", "provider", "admin"]

# positive_data_acceptance is narrowed per operation in the repository's schemathesis.toml (each
# entry says why): the same settings `schemathesis run` reads from the repository root.
CONFIG_FILE = Path(__file__).resolve().parent.parent / "schemathesis.toml"


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_path(str(CONFIG_FILE))


def _callers(provider_user, practitioner_user, admin_user) -> dict[str, dict]:
    """Authorization headers of each kind of caller, with referrals for them to see."""
    make_referral(provider_user, practitioner_user)
    make_referral(provider_user, practitioner_user, status=workflow.ACCEPTED)
    make_referral(provider_user, practitioner_user, status=workflow.DRAFT)  # listed with "draft"
    return {
        "anonymous": {},
        "practitioner": token_for(practitioner_user),
        "provider": token_for(provider_user),
        "admin": token_for(admin_user),
    }


@pytest.fixture
def fuzz_setup(app, provider_user, practitioner_user, admin_user):
    """The app's own document, practitioners to find, referrals to read and each caller's token."""
    boulder = PractitionerFactory(display_name="Bea Boulder", conditions=["tmj"], latitude=40.02, longitude=-105.27)
    CertificationFactory(practitioner=boulder, status=VerificationStatus.VERIFIED)
    PractitionerFactory(display_name="Dan Denver", conditions=["fibromyalgia"], latitude=39.74, longitude=-104.99)
    callers = _callers(provider_user, practitioner_user, admin_user)
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi(f"{API_PREFIX}/openapi.json", app, config=_config())
    return schema, callers


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path, method", OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=IN_CI)
@given(data=st.data())
def test_api_never_fails_and_keeps_its_documented_shape(fuzz_setup, path, method, role, data):
    schema, callers = fuzz_setup
    operation = schema.find_operation_by_path(method, path)
    assert operation is not None, f"{method.upper()} {path} is not in the document"
    case = data.draw(
        st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
    )
    headers = {} if _headers_made_invalid(case) else dict(callers[role])
    # Each request (and the checks' replays) in a context of its own, as a server thread runs
    # it: nothing of the test's app context (its `g`, its session) may carry a caller over.
    contextvars.Context().run(case.call_and_validate, headers=headers, checks=ALL_CHECKS)


def _headers_made_invalid(case) -> bool:
    """A negative case that breaks the headers (the token among them) must go without a token."""
    header = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    return header is not None and header.mode == GenerationMode.NEGATIVE


def test_a_whole_referral_over_the_api_matches_the_documented_schemas(app, client, provider_user, practitioner_user):
    """A valid referral (which random data rarely builds) through every documented operation."""
    schema = schemathesis.openapi.from_wsgi(f"{API_PREFIX}/openapi.json", app)
    provider = token_for(provider_user)
    practitioner = token_for(practitioner_user)

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
        # Booked in the past: a referral is completed only after its first appointment.
        {"status": "in-progress", "appointment_at": "2026-03-04T09:30:00Z"},
        {"status": "completed", "note": "Six sessions; much better.", "outcome": {"sessions": 6}},
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
