"""Admins work through the credential and provider queues; each decision is audited and emailed."""

from __future__ import annotations

import os
from datetime import date, timedelta

from directory.extensions import db
from directory.models import Role, VerificationStatus
from directory.models.accounts import ProviderStatus
from directory.models.base import today, utcnow
from tests.admin_support import admin_client, audit_entries, fresh, outbox  # noqa: F401
from tests.conftest import login, submit_form
from tests.factories import CertificationFactory, PractitionerFactory, UserFactory, body


def _pending(practitioner=None, **kwargs):
    practitioner = practitioner or PractitionerFactory()
    return CertificationFactory(practitioner=practitioner, **kwargs)


def test_credential_queue_lists_pending_certifications_oldest_first_with_their_details(admin_client):  # noqa: F811
    newer = _pending(
        PractitionerFactory(display_name="Nora Newer"), credential="CST-D", created_at=utcnow() - timedelta(days=1)
    )
    older = _pending(
        PractitionerFactory(display_name="Olga Older"),
        credential_number="UI-4471",
        issued_on=date(2023, 5, 1),
        expires_on=date(2030, 5, 1),
        created_at=utcnow() - timedelta(days=3),
    )
    CertificationFactory(status=VerificationStatus.VERIFIED, practitioner=PractitionerFactory(display_name="Vera Done"))
    html = admin_client.get("/admin/credentials").get_data(as_text=True)
    assert html.index("Olga Older") < html.index("Nora Newer")
    assert "Vera Done" not in html
    assert "UI-4471" in html and "2023-05-01" in html and "2030-05-01" in html
    assert "Upledger Institute International" in html
    assert f"/admin/credentials/{older.id}/verify" in html and f"/admin/credentials/{newer.id}/reject" in html


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n%%EOF\n"


def _with_evidence(app, data: bytes, name: str, mimetype: str):
    stored = f"{name}-stored"
    with open(os.path.join(app.config["UPLOAD_FOLDER"], stored), "wb") as out:
        out.write(data)
    return _pending(evidence_path=stored, evidence_name=name, evidence_mimetype=mimetype)


def test_credential_queue_shows_image_and_pdf_evidence_inline(app, admin_client):  # noqa: F811
    image = _with_evidence(app, PNG, "certificate.png", "image/png")
    pdf = _with_evidence(app, PDF, "certificate.pdf", "application/pdf")
    html = admin_client.get("/admin/credentials").get_data(as_text=True)
    assert f'<img class="evidence img-fluid border mb-2" src="/admin/credentials/{image.id}/evidence"' in html
    assert f'<iframe class="evidence evidence-pdf border mb-2" src="/admin/credentials/{pdf.id}/evidence"' in html
    response = admin_client.get(f"/admin/credentials/{image.id}/evidence")
    assert response.status_code == 200 and response.data == PNG and response.mimetype == "image/png"
    response = admin_client.get(f"/admin/credentials/{pdf.id}/evidence")
    assert response.data == PDF and response.headers["Content-Disposition"] == "inline"
    # The queue page may frame it; nothing else may, and it runs nothing.
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_evidence_is_not_served_when_missing(admin_client):  # noqa: F811
    without = _pending()
    gone = _pending(evidence_path="no-such-file.png", evidence_name="x.png", evidence_mimetype="image/png")
    assert "No evidence file uploaded." in admin_client.get("/admin/credentials").get_data(as_text=True)
    assert admin_client.get(f"/admin/credentials/{without.id}/evidence").status_code == 404
    assert admin_client.get(f"/admin/credentials/{gone.id}/evidence").status_code == 404


def test_evidence_is_not_shown_to_other_practitioners(app, client, other_practitioner_user):
    cert = _with_evidence(app, PNG, "certificate.png", "image/png")
    login(client, other_practitioner_user)
    assert client.get(f"/admin/credentials/{cert.id}/evidence").status_code == 404


def test_admin_verifies_a_credential_saying_how_and_the_practitioner_is_emailed(admin_client, admin_user):  # noqa: F811
    practitioner = PractitionerFactory(email="vic@example.org", display_name="Vic Verify")
    cert = _pending(practitioner)
    response = submit_form(
        admin_client,
        "/admin/credentials",
        {"method": "register checked", "note": "Listed in the Upledger register, no. 123"},
        post_url=f"/admin/credentials/{cert.id}/verify",
    )
    assert response.status_code == 303
    cert = fresh(cert)
    assert cert.status == VerificationStatus.VERIFIED and cert.is_currently_verified
    assert cert.verified_by_id == admin_user.id and cert.verified_at is not None
    assert cert.verification_source == "register checked"
    assert cert.verification_note == "Listed in the Upledger register, no. 123"
    [mail] = outbox("vic@example.org")
    assert "verified" in mail.subject and "CST-T" in mail.text_body
    [entry] = audit_entries("certification.verified")
    assert entry.actor_id == admin_user.id and entry.actor_email == admin_user.email
    assert entry.object_type == "Certification" and entry.object_id == str(cert.id)
    assert entry.before["status"] == "pending" and entry.after["status"] == "verified"
    assert entry.after["verification_source"] == "register checked"
    assert entry.at is not None


def test_verification_needs_a_known_method(admin_client):  # noqa: F811
    cert = _pending()
    response = submit_form(
        admin_client, "/admin/credentials", {"method": "gut feeling"}, post_url=f"/admin/credentials/{cert.id}/verify"
    )
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert fresh(cert).status == VerificationStatus.PENDING
    assert audit_entries() == [] and outbox() == []


def test_admin_rejects_a_credential_with_a_reason_the_practitioner_reads(admin_client, admin_user):  # noqa: F811
    practitioner = PractitionerFactory(email="rita@example.org")
    cert = _pending(practitioner)
    response = submit_form(
        admin_client,
        "/admin/credentials",
        {"reason": "The certificate is for a different person."},
        post_url=f"/admin/credentials/{cert.id}/reject",
    )
    assert response.status_code == 303
    cert = fresh(cert)
    assert cert.status == VerificationStatus.REJECTED
    assert cert.rejection_reason == "The certificate is for a different person."
    [mail] = outbox("rita@example.org")
    assert "The certificate is for a different person." in mail.text_body
    [entry] = audit_entries("certification.rejected")
    assert entry.actor_id == admin_user.id and entry.after["rejection_reason"].startswith("The certificate")
    assert entry.before["status"] == "pending"


def test_rejection_without_a_reason_is_refused_with_a_field_error(admin_client):  # noqa: F811
    cert = _pending()
    response = submit_form(
        admin_client, "/admin/credentials", {"reason": "  "}, post_url=f"/admin/credentials/{cert.id}/reject"
    )
    assert response.status_code == 400
    assert "Please give a reason." in response.get_data(as_text=True)
    assert fresh(cert).status == VerificationStatus.PENDING


def test_a_credential_decided_already_is_not_decided_twice(admin_client):  # noqa: F811
    cert = _pending()
    submit_form(
        admin_client,
        "/admin/credentials",
        {"method": "certificate inspected"},
        post_url=f"/admin/credentials/{cert.id}/verify",
    )
    response = submit_form(
        admin_client, "/admin/credentials", {"reason": "Too late"}, post_url=f"/admin/credentials/{cert.id}/reject"
    )
    assert response.status_code == 409
    assert "no longer waiting" in response.get_data(as_text=True)
    assert fresh(cert).status == VerificationStatus.VERIFIED
    assert len(audit_entries()) == 1


def test_unknown_credential_is_not_found(admin_client):  # noqa: F811
    response = submit_form(
        admin_client, "/admin/credentials", {"method": "register checked"}, post_url="/admin/credentials/999/verify"
    )
    assert response.status_code == 404


def test_verified_badge_follows_the_decision_on_search_and_profile(client, admin_client):  # noqa: F811
    practitioner = PractitionerFactory(display_name="Bea Badge", latitude=40.02, longitude=-105.27)
    cert = _pending(practitioner)
    assert "badge-verified" not in client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)
    submit_form(
        admin_client,
        "/admin/credentials",
        {"method": "body contacted"},
        post_url=f"/admin/credentials/{cert.id}/verify",
    )
    assert "badge-verified" in client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)
    assert "badge-verified" in client.get("/search?near=80302&radius=25").get_data(as_text=True)


def _pending_provider(**kwargs):
    return UserFactory(
        role=Role.PROVIDER,
        provider_status=ProviderStatus.PENDING,
        profession="Dentist",
        organization="Smile Clinic",
        **kwargs,
    )


def test_provider_queue_lists_pending_providers_with_registration_numbers(admin_client, provider_user):  # noqa: F811
    _pending_provider(email="new.dentist@example.org", name="Dr. New", registration_number="DDS-778")
    html = admin_client.get("/admin/providers").get_data(as_text=True)
    assert "Dr. New" in html and "DDS-778" in html and "Smile Clinic" in html
    assert provider_user.name not in html  # already verified


def test_admin_verifies_a_provider_who_may_then_refer(admin_client, admin_user):  # noqa: F811
    provider = _pending_provider(email="p1@example.org", registration_number="MD-1")
    assert not provider.can_refer
    response = submit_form(admin_client, "/admin/providers", {}, post_url=f"/admin/providers/{provider.id}/verify")
    assert response.status_code == 303
    provider = fresh(provider)
    assert provider.provider_status == ProviderStatus.VERIFIED and provider.can_refer
    [mail] = outbox("p1@example.org")
    assert "verified" in mail.subject
    [entry] = audit_entries("provider.verified")
    assert entry.object_type == "User" and entry.object_id == str(provider.id)
    assert entry.before == {"provider_status": "pending", "provider_status_reason": ""}
    assert entry.after["provider_status"] == "verified" and entry.actor_id == admin_user.id


def test_admin_rejects_a_provider_with_a_reason(admin_client):  # noqa: F811
    provider = _pending_provider(email="p2@example.org", registration_number="??")
    response = submit_form(
        admin_client,
        "/admin/providers",
        {"reason": "No such registration number."},
        post_url=f"/admin/providers/{provider.id}/reject",
    )
    assert response.status_code == 303
    provider = fresh(provider)
    assert provider.provider_status == ProviderStatus.REJECTED and not provider.can_refer
    assert provider.provider_status_reason == "No such registration number."
    [mail] = outbox("p2@example.org")
    assert "No such registration number." in mail.text_body
    [entry] = audit_entries("provider.rejected")
    assert entry.after["provider_status_reason"] == "No such registration number."


def test_provider_rejection_needs_a_reason(admin_client):  # noqa: F811
    provider = _pending_provider()
    response = submit_form(
        admin_client, "/admin/providers", {"reason": ""}, post_url=f"/admin/providers/{provider.id}/reject"
    )
    assert response.status_code == 400
    assert fresh(provider).provider_status == ProviderStatus.PENDING


def test_provider_actions_do_not_apply_to_other_accounts(admin_client, practitioner_user, provider_user):  # noqa: F811
    assert (
        submit_form(
            admin_client, "/admin/providers", {}, post_url=f"/admin/providers/{practitioner_user.id}/verify"
        ).status_code
        == 404
    )
    response = submit_form(admin_client, "/admin/providers", {}, post_url=f"/admin/providers/{provider_user.id}/verify")
    assert response.status_code == 409


def test_expiring_credential_shows_as_expired_in_the_queue(admin_client):  # noqa: F811
    _pending(expires_on=today() - timedelta(days=1), body=body("bcta-na"), credential="RCST")
    assert "already expired" in admin_client.get("/admin/credentials").get_data(as_text=True)
    db.session.rollback()
