"""An admin uploads a certifying body's member register, previews the changes, then applies them."""

from __future__ import annotations

import io
import os
import re
from datetime import date

from directory.extensions import db
from directory.models import Practitioner, VerificationStatus
from tests.admin_support import admin_client, audit_entries, fresh, outbox  # noqa: F401
from tests.conftest import csrf_token_from
from tests.factories import CertificationFactory, PractitionerFactory, body

HEADER = (
    "name,email,practice_name,address,city,region,postal_code,country,latitude,longitude,conditions,credentials,"
    "accepting_new_patients,session_minutes,languages,phone,website\n"
)


def _line(name: str, email: str, credentials: str) -> str:
    return f"{name},{email},,,Boulder,CO,80302,US,40.015,-105.27,,{credentials},yes,60,English,,\n"


def _upload(client, text: str, body_slug: str = "upledger", filename: str = "register.csv"):
    page = client.get("/admin/credentials/bulk")
    data = {
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "body": str(body(body_slug).id),
        "register": (io.BytesIO(text.encode()), filename),
    }
    return client.post("/admin/credentials/bulk", data=data, content_type="multipart/form-data")


def _apply(client, preview_html: str):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview_html).group(1)
    return client.post(
        "/admin/credentials/bulk/apply", data={"csrf_token": csrf_token_from(preview_html), "token": token}
    )


def _setup():
    ann = PractitionerFactory(email="ann@example.org", display_name="Ann Member")
    pending = CertificationFactory(practitioner=ann, credential="CST-T")
    bob = PractitionerFactory(email="bob@example.org", display_name="Bob Rejected")
    rejected = CertificationFactory(
        practitioner=bob, credential="CST-D", status=VerificationStatus.REJECTED, rejection_reason="unclear"
    )
    cat = PractitionerFactory(email="cat@example.org", display_name="Cat Current")
    current = CertificationFactory(
        practitioner=cat, credential="CST-T", status=VerificationStatus.VERIFIED, verification_source="register checked"
    )
    dan = PractitionerFactory(email="dan@example.org", display_name="Dan Other")
    other_body = CertificationFactory(practitioner=dan, body=body("bcta-na"), credential="RCST")
    text = (
        HEADER
        + _line("Ann Member", "ANN@example.org", "upledger:CST-T@2032-01-31")
        + _line("Bob Rejected", "bob@example.org", "upledger:CST-D")
        + _line("Cat Current", "cat@example.org", "upledger:CST-T")
        + _line("Dan Other", "dan@example.org", "bcta-na:RCST")
        + _line("Eve Elsewhere", "eve@example.org", "upledger:CST-T")
    )
    return text, pending, rejected, current, other_body


def test_preview_lists_what_the_register_would_change_and_changes_nothing(admin_client):  # noqa: F811
    text, pending, rejected, current, other_body = _setup()
    response = _upload(admin_client, text)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Will be marked verified (2)" in html
    assert "Ann Member &lt;ann@example.org&gt;: CST-T: pending → verified, expiry none → 2032-01-31" in html
    assert "Bob Rejected &lt;bob@example.org&gt;: CST-D: rejected → verified" in html
    assert "Already verified, unchanged (1)" in html and "Cat Current" in html
    assert "eve@example.org: CST-T is not on file" in html
    assert "1 credential(s) of other bodies" in html
    assert fresh(pending).status == VerificationStatus.PENDING
    assert fresh(rejected).status == VerificationStatus.REJECTED
    assert audit_entries() == [] and outbox() == []
    # Nobody is created from a register.
    assert db.session.execute(db.select(Practitioner).filter_by(email="eve@example.org")).first() is None


def test_applying_the_preview_verifies_the_matching_credentials_with_the_register_as_source(
    app,
    admin_client,  # noqa: F811
    admin_user,
):
    text, pending, rejected, current, other_body = _setup()
    preview = _upload(admin_client, text, filename="upledger-2031.csv").get_data(as_text=True)
    response = _apply(admin_client, preview)
    assert response.status_code == 303
    pending, rejected = fresh(pending), fresh(rejected)
    for cert in (pending, rejected):
        assert cert.status == VerificationStatus.VERIFIED and cert.is_currently_verified
        assert cert.verification_source == "register:upledger"
        assert "upledger-2031.csv" in cert.verification_note
        assert cert.verified_by_id == admin_user.id
    assert pending.expires_on == date(2032, 1, 31)
    assert fresh(current).verification_source == "register checked"
    assert fresh(other_body).status == VerificationStatus.PENDING
    entries = audit_entries("certification.bulk_verified")
    assert sorted(e.object_id for e in entries) == sorted([str(pending.id), str(rejected.id)])
    assert {e.before["status"] for e in entries} == {"pending", "rejected"}
    assert all(e.after["verification_source"] == "register:upledger" for e in entries)
    [summary] = audit_entries("register.applied")
    assert summary.after["verified"] == 2 and summary.after["file"] == "upledger-2031.csv"
    assert {m.recipient for m in outbox()} == {"ann@example.org", "bob@example.org"}
    # The stored upload is gone: the same preview cannot be applied twice.
    assert os.listdir(os.path.join(app.config["UPLOAD_FOLDER"], "registers")) == []
    again = _apply(admin_client, preview)
    assert again.status_code == 409 and "applied already" in again.get_data(as_text=True)
    assert len(audit_entries("certification.bulk_verified")) == 2


def test_a_bad_register_is_refused_with_the_line_and_nothing_is_written(admin_client):  # noqa: F811
    text, pending, *_ = _setup()
    bad = text + _line("Zed Broken", "not-an-email", "upledger:CST-T")
    response = _upload(admin_client, bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Line 7:" in html and "not valid" in html and "Nothing was changed." in html
    assert fresh(pending).status == VerificationStatus.PENDING and audit_entries() == []


def test_register_must_be_a_utf8_csv_file(admin_client):  # noqa: F811
    page = admin_client.get("/admin/credentials/bulk")
    response = admin_client.post(
        "/admin/credentials/bulk",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "body": str(body("upledger").id),
            "register": (io.BytesIO(b"\xff\xfe\x00garbage"), "register.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)
    response = _upload(admin_client, "just,some,words\n")
    assert response.status_code == 400 and "missing columns" in response.get_data(as_text=True)


def test_upload_without_a_file_gets_a_field_error(admin_client):  # noqa: F811
    page = admin_client.get("/admin/credentials/bulk")
    response = admin_client.post(
        "/admin/credentials/bulk",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "body": str(body("upledger").id)},
    )
    assert response.status_code == 400 and "Please choose a CSV file." in response.get_data(as_text=True)


def test_a_forged_or_unknown_preview_id_changes_nothing(admin_client):  # noqa: F811
    page = admin_client.get("/admin/credentials/bulk").get_data(as_text=True)
    for token in ("../../etc/passwd", "a" * 20):
        response = admin_client.post(
            "/admin/credentials/bulk/apply", data={"csrf_token": csrf_token_from(page), "token": token}
        )
        assert response.status_code in (400, 409)
    assert audit_entries() == []
