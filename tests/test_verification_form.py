"""Verified is never one careless click: the admin says how a credential was checked, with what the check needs."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest

from directory.extensions import db
from directory.models import Role, VerificationStatus
from directory.models.base import today
from tests.admin_support import admin_client, audit_entries, fresh, outbox  # noqa: F401
from tests.conftest import login, submit_form
from tests.factories import CertificationFactory, PractitionerFactory, UserFactory

PDF = b"%PDF-1.4\n%%EOF\n"


def _pending(**kwargs):
    return CertificationFactory(practitioner=PractitionerFactory(email="vera@example.org"), **kwargs)


def _with_evidence(app):
    with open(os.path.join(app.config["UPLOAD_FOLDER"], "cert-stored.pdf"), "wb") as out:
        out.write(PDF)
    return _pending(
        evidence_path="cert-stored.pdf", evidence_name="certificate.pdf", evidence_mimetype="application/pdf"
    )


def _verify(client, cert, data: dict):
    return submit_form(client, "/admin/credentials", data, post_url=f"/admin/credentials/{cert.id}/verify")


def _refused(response, cert, message: str) -> str:
    """Assert a refusal that changed nothing and said why; returns the page."""
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert "Not verified yet: say how you checked it" in html
    assert fresh(cert).status == VerificationStatus.PENDING
    assert audit_entries("certification.verified") == [] and outbox() == []
    return html


def _form_of(html: str, cert) -> str:
    return re.search(rf'<form[^>]*id="verify-{cert.id}".*?</form>', html, re.S).group(0)


def test_no_way_of_checking_is_chosen_in_advance(admin_client):  # noqa: F811
    cert = _pending()
    form = _form_of(admin_client.get("/admin/credentials").get_data(as_text=True), cert)
    radios = re.findall(r'<input[^>]*type="radio"[^>]*>', form)
    assert [re.search(r'value="([^"]+)"', r).group(1) for r in radios] == [
        "register checked",
        "certificate inspected",
        "body contacted",
    ]
    assert not any(re.search(r"\schecked[\s>]", re.sub(r'value="[^"]*"', "", r)) for r in radios)
    assert "<select" not in form


def test_a_verification_that_names_nothing_is_refused_with_a_clear_message(admin_client):  # noqa: F811
    cert = _pending()
    response = _verify(admin_client, cert, {})
    _refused(response, cert, "Say how you checked this credential:")


def test_an_unknown_way_of_checking_is_refused(admin_client):  # noqa: F811
    cert = _pending()
    _refused(_verify(admin_client, cert, {"method": "gut feeling"}), cert, "Choose one of the ways of checking we know")


def test_register_checked_needs_the_register_reference_and_keeps_what_was_typed(admin_client):  # noqa: F811
    cert = _pending()
    response = _verify(admin_client, cert, {"method": "register checked", "reference": "  ", "note": "Saw it listed"})
    html = _refused(response, cert, "Give the register&#39;s reference or the URL of the entry you checked.")
    form = _form_of(html, cert)
    [chosen] = [r for r in re.findall(r"<input[^>]*>", form) if 'value="register checked"' in r]
    assert re.search(r"\schecked[\s>]", chosen.replace('value="register checked"', ""))
    assert "Saw it listed" in form


def test_register_checked_with_a_reference_is_recorded(admin_client, admin_user):  # noqa: F811
    cert = _pending()
    response = _verify(admin_client, cert, {"method": "register checked", "reference": "https://example.org/reg/55"})
    assert response.status_code == 303
    cert = fresh(cert)
    assert cert.status == VerificationStatus.VERIFIED and cert.verified_by_id == admin_user.id
    assert cert.verification_source == "register checked"
    assert cert.verification_note == "Register reference: https://example.org/reg/55"
    [entry] = audit_entries("certification.verified")
    assert entry.after["verification_note"] == "Register reference: https://example.org/reg/55"
    [mail] = outbox("vera@example.org")
    assert "verified" in mail.subject


def test_certificate_inspected_needs_an_evidence_file(admin_client):  # noqa: F811
    cert = _pending()
    _refused(
        _verify(admin_client, cert, {"method": "certificate inspected"}),
        cert,
        "There is no certificate file to inspect; check the register or contact the body.",
    )


def test_certificate_inspected_is_refused_until_the_evidence_was_opened(app, admin_client):  # noqa: F811
    cert = _with_evidence(app)
    _refused(
        _verify(admin_client, cert, {"method": "certificate inspected"}),
        cert,
        "Open the evidence file before recording that you inspected the certificate.",
    )
    assert admin_client.get(f"/admin/credentials/{cert.id}/evidence").data == PDF
    response = _verify(admin_client, cert, {"method": "certificate inspected", "note": "Name and number match"})
    assert response.status_code == 303
    cert = fresh(cert)
    assert cert.status == VerificationStatus.VERIFIED and cert.verification_source == "certificate inspected"
    assert (
        cert.verification_note == "Certificate inspected: certificate.pdf (opened by the admin)\nName and number match"
    )


def test_opening_the_evidence_is_audited_once_per_admin(app, admin_client, admin_user):  # noqa: F811
    cert = _with_evidence(app)
    admin_client.get(f"/admin/credentials/{cert.id}/evidence")
    admin_client.get(f"/admin/credentials/{cert.id}/evidence")
    [entry] = audit_entries("certification.evidence_opened")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (admin_user.id, "Certification", str(cert.id))
    assert entry.after == {"file": "certificate.pdf", "stored": "cert-stored.pdf"}


def test_a_replaced_evidence_file_must_be_opened_again(app, admin_client):  # noqa: F811
    cert = _with_evidence(app)
    admin_client.get(f"/admin/credentials/{cert.id}/evidence")
    with open(os.path.join(app.config["UPLOAD_FOLDER"], "new-stored.pdf"), "wb") as out:
        out.write(PDF)
    cert.evidence_path = "new-stored.pdf"
    db.session.commit()
    _refused(
        _verify(admin_client, cert, {"method": "certificate inspected"}),
        cert,
        "Open the evidence file before recording that you inspected the certificate.",
    )
    admin_client.get(f"/admin/credentials/{cert.id}/evidence")
    assert len(audit_entries("certification.evidence_opened")) == 2
    assert _verify(admin_client, cert, {"method": "certificate inspected"}).status_code == 303


def test_evidence_another_admin_opened_does_not_count(app, client, admin_client):  # noqa: F811
    cert = _with_evidence(app)
    admin_client.get(f"/admin/credentials/{cert.id}/evidence")
    second = app.test_client()
    login(second, UserFactory(role=Role.ADMIN, email="second.admin@example.org"))
    _refused(
        _verify(second, cert, {"method": "certificate inspected"}),
        cert,
        "Open the evidence file before recording that you inspected the certificate.",
    )


def test_the_page_tells_the_script_whether_the_evidence_was_opened(app, admin_client):  # noqa: F811
    cert = _with_evidence(app)
    html = admin_client.get("/admin/credentials").get_data(as_text=True)
    assert 'src="/static/js/admin-verification.js"' in html
    form = _form_of(html, cert)
    assert 'data-evidence-opened="false"' in form and 'data-has-evidence="true"' in form
    assert f'class="evidence-opened d-none" id="opened-{cert.id}"' in html
    admin_client.get(f"/admin/credentials/{cert.id}/evidence")
    html = admin_client.get("/admin/credentials").get_data(as_text=True)
    assert 'data-evidence-opened="true"' in _form_of(html, cert)
    assert f'class="evidence-opened" id="opened-{cert.id}"' in html
    # Without the script the button works, and the server is the guard.
    assert "disabled" not in re.search(r"<button[^>]*verify-button[^>]*>", html).group(0)


def test_the_verify_script_enables_the_button_only_with_what_the_method_needs(client):
    script = client.get("/static/js/admin-verification.js").get_data(as_text=True)
    for needed in ('"register checked"', '"reference"', '"certificate inspected"', "evidenceOpened", '"contacted_on"'):
        assert needed in script
    assert ".disabled = problem !== " in script


@pytest.mark.parametrize(
    "data, field_message",
    [
        ({}, ["Say whom you contacted at the certifying body.", "Say when you contacted the certifying body."]),
        ({"contact": "Membership office"}, ["Say when you contacted the certifying body."]),
        ({"contacted_on": "2030-01-01"}, ["Say whom you contacted at the certifying body."]),
    ],
)
def test_body_contacted_needs_whom_and_when(admin_client, data, field_message):  # noqa: F811
    cert = _pending()
    html = _refused(_verify(admin_client, cert, {"method": "body contacted", **data}), cert, field_message[0])
    for message in field_message:
        assert message in html


def test_body_contacted_cannot_be_in_the_future_or_an_unreadable_date(admin_client):  # noqa: F811
    cert = _pending()
    tomorrow = (today() + timedelta(days=1)).isoformat()
    data = {"method": "body contacted", "contact": "Ann at the office"}
    _refused(
        _verify(admin_client, cert, {**data, "contacted_on": tomorrow}),
        cert,
        "The date you contacted the body cannot be in the future.",
    )
    _refused(_verify(admin_client, cert, {**data, "contacted_on": "last week"}), cert, "Not a valid date value.")


def test_body_contacted_with_whom_and_when_is_recorded(admin_client):  # noqa: F811
    cert = _pending()
    when = (today() - timedelta(days=2)).isoformat()
    response = _verify(
        admin_client, cert, {"method": "body contacted", "contact": "Ann Lee, registrar", "contacted_on": when}
    )
    assert response.status_code == 303
    cert = fresh(cert)
    assert cert.verification_source == "body contacted"
    assert cert.verification_note == f"Body contacted: Ann Lee, registrar on {when}"


def test_over_long_answers_are_refused_not_cut(admin_client):  # noqa: F811
    cert = _pending()
    _refused(
        _verify(admin_client, cert, {"method": "register checked", "reference": "x" * 301}),
        cert,
        "Field cannot be longer than 300 characters.",
    )


def test_the_rule_is_the_same_outside_the_form(app, admin_user):
    from directory.admin import verification

    cert = _pending()
    with pytest.raises(verification.VerificationRefused) as refused:
        verification.verify_certification(cert, admin_user, verification.Check(method="register checked"))
    assert set(refused.value.problems) == {"reference"}
    db.session.rollback()
