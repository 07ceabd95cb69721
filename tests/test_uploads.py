"""Uploads the other areas' tests leave out: oversized, mistyped and malformed files are refused
with a message, and nothing is written."""

from __future__ import annotations

import io
import os

import pytest

from directory.models import VerificationStatus
from tests.admin_support import admin_client, audit_entries, fresh  # noqa: F401
from tests.conftest import csrf_token_from, login
from tests.factories import CertificationFactory, PractitionerFactory, body

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%%EOF\n"


def _post_register(client, content: bytes, filename: str):
    page = client.get("/admin/credentials/bulk")
    return client.post(
        "/admin/credentials/bulk",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "body": str(body("upledger").id),
            "register": (io.BytesIO(content), filename),
        },
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (PNG, "register.csv", "UTF-8"),  # an image renamed .csv
        (PDF, "register.csv", "missing columns"),  # text, but not a register
        (b"", "register.csv", ""),  # empty
        (b"name,email\n\x00\x00\x00", "register.csv", ""),  # binary after a plausible header
    ],
)
def test_a_register_that_is_not_a_csv_is_refused_and_nothing_changes(admin_client, content, filename, message):  # noqa: F811
    pending = CertificationFactory(practitioner=PractitionerFactory(email="ann@example.org"))
    response = _post_register(admin_client, content, filename)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert 'role="alert"' in html  # the reason is announced next to the field
    assert fresh(pending).status == VerificationStatus.PENDING and audit_entries() == []


def test_a_register_larger_than_the_request_limit_is_a_clear_413(app, admin_client):  # noqa: F811
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = _post_register(admin_client, b"name,email\n" + b"x,y@example.org\n" * 10_000, "register.csv")
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_an_evidence_upload_larger_than_the_request_limit_says_so_and_stores_nothing(app, client, practitioner_user):
    login(client, practitioner_user)
    page = client.get("/dashboard/certifications/new").get_data(as_text=True)
    response = client.post(
        "/dashboard/certifications/new",
        data={
            "csrf_token": csrf_token_from(page),
            "body": str(body("upledger").id),
            "credential": "CST-T",
            "evidence": (io.BytesIO(PDF + b"0" * (7 * 1024 * 1024)), "big.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert practitioner_user.practitioner.certifications == []
    assert not os.listdir(app.config["UPLOAD_FOLDER"])


def test_api_bodies_too_large_or_not_json_answer_json_errors(client, provider_user):
    from tests.referral_helpers import token_for

    headers = token_for(provider_user)
    too_big = client.post(
        "/api/v1/referrals",
        data=b"{" + b" " * (7 * 1024 * 1024) + b"}",
        headers=headers,
        content_type="application/json",
    )
    assert too_big.status_code == 413 and too_big.is_json
    not_json = client.post("/api/v1/referrals", data=b"\x89PNG", headers=headers, content_type="application/json")
    assert not_json.status_code == 400 and not_json.is_json
