"""Admins work through the credential and provider queues; each decision is audited and emailed."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta

import pytest

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


def test_credential_queue_links_each_evidence_file_without_loading_it(app, admin_client):  # noqa: F811
    image = _with_evidence(app, PNG, "certificate.png", "image/png")
    pdf = _with_evidence(app, PDF, "certificate.pdf", "application/pdf")
    html = admin_client.get("/admin/credentials").get_data(as_text=True)
    # A link per file, opened on purpose: nothing on the page fetches evidence by itself.
    assert f'href="/admin/credentials/{image.id}/evidence" target="_blank"' in html
    assert f'href="/admin/credentials/{pdf.id}/evidence" target="_blank"' in html
    assert "<img" not in html and "<iframe" not in html
    response = admin_client.get(f"/admin/credentials/{image.id}/evidence")
    assert response.status_code == 200 and response.data == PNG and response.mimetype == "image/png"
    response = admin_client.get(f"/admin/credentials/{pdf.id}/evidence")
    assert response.data == PDF and response.headers["Content-Disposition"] == "inline"
    # Only our own pages may frame it, and it runs nothing.
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_evidence_of_another_type_is_offered_as_a_download(app, admin_client):  # noqa: F811
    other = _with_evidence(app, b"GIF89a", "scan.gif", "image/gif")
    response = admin_client.get(f"/admin/credentials/{other.id}/evidence")
    assert response.status_code == 200 and response.data == b"GIF89a"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.mimetype == "application/octet-stream"


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
        {
            "method": "register checked",
            "reference": "https://www.upledger.com/therapists/123",
            "note": "Listed with the same number",
        },
        post_url=f"/admin/credentials/{cert.id}/verify",
    )
    assert response.status_code == 303
    cert = fresh(cert)
    assert cert.status == VerificationStatus.VERIFIED and cert.is_currently_verified
    assert cert.verified_by_id == admin_user.id and cert.verified_at is not None
    assert cert.verification_source == "register checked"
    assert cert.verification_note == (
        "Register reference: https://www.upledger.com/therapists/123\nListed with the same number"
    )
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
    assert "Choose one of the ways of checking we know" in response.get_data(as_text=True)
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
        {"method": "register checked", "reference": "UI register no. 55"},
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
        {"method": "body contacted", "contact": "Membership office", "contacted_on": today().isoformat()},
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


# --- The queue page: 50 a page, filters, search, and the next item after a decision ------------

QUEUE_ITEM = re.compile(r'<li class="card mb-4 queue-item" id="cert-(\d+)">')


def _queue_ids(client, query: str = "") -> list[int]:
    """The credential ids the queue page shows, in order."""
    response = client.get("/admin/credentials" + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [int(i) for i in QUEUE_ITEM.findall(response.get_data(as_text=True))]


def _waiting(days: float, practitioner=None, **kwargs):
    """A pending credential submitted `days` ago."""
    return _pending(practitioner, created_at=utcnow() - timedelta(days=days), **kwargs)


def test_the_queue_shows_50_a_page_oldest_first_with_paging_links(admin_client):  # noqa: F811
    practitioner = PractitionerFactory()
    certs = [_waiting(100 - i / 10, practitioner) for i in range(51)]
    html = admin_client.get("/admin/credentials").get_data(as_text=True)
    assert "51 credentials waiting" in html and "Page 1 of 2" in html
    assert 'href="/admin/credentials?page=2"' in html
    assert _queue_ids(admin_client) == [c.id for c in certs[:50]]
    assert _queue_ids(admin_client, "?page=2") == [certs[50].id]
    # A page past the end shows the last one.
    assert _queue_ids(admin_client, "?page=9") == [certs[50].id]


def test_a_page_that_is_not_a_number_is_refused_clearly(admin_client):  # noqa: F811
    _pending()
    response = admin_client.get("/admin/credentials?page=two")
    assert response.status_code == 400
    assert "Not a valid integer value." in response.get_data(as_text=True)


def test_the_queue_filters_by_certifying_body_and_credential(admin_client):  # noqa: F811
    upledger_t = _waiting(3)
    upledger_d = _waiting(2, credential="CST-D")
    bcta = _waiting(1, body=body("bcta-na"), credential="RCST")
    upledger_id = body("upledger").id
    assert _queue_ids(admin_client, f"?body={upledger_id}") == [upledger_t.id, upledger_d.id]
    assert _queue_ids(admin_client, f"?body={body('bcta-na').id}") == [bcta.id]
    assert _queue_ids(admin_client, "?credential=CST-D") == [upledger_d.id]
    assert _queue_ids(admin_client, f"?body={upledger_id}&credential=RCST") == []


def test_the_queue_filters_by_how_long_a_credential_has_waited(admin_client):  # noqa: F811
    week, month, quarter, new = _waiting(8), _waiting(31), _waiting(91), _waiting(1)
    assert _queue_ids(admin_client, "?age=7") == [quarter.id, month.id, week.id]
    assert _queue_ids(admin_client, "?age=30") == [quarter.id, month.id]
    assert _queue_ids(admin_client, "?age=90") == [quarter.id]
    assert new.id in _queue_ids(admin_client)


def test_the_queue_filters_by_whether_there_is_evidence(admin_client):  # noqa: F811
    without = _waiting(2)
    with_file = _waiting(1, evidence_path="stored.pdf", evidence_name="c.pdf", evidence_mimetype="application/pdf")
    assert _queue_ids(admin_client, "?evidence=yes") == [with_file.id]
    assert _queue_ids(admin_client, "?evidence=no") == [without.id]


def test_the_queue_searches_by_name_or_email(admin_client):  # noqa: F811
    jane = _waiting(2, PractitionerFactory(display_name="Jane Doe", email="jd@clinic.example"))
    john = _waiting(1, PractitionerFactory(display_name="John Roe", email="john@roe.example"))
    assert _queue_ids(admin_client, "?q=jane") == [jane.id]
    assert _queue_ids(admin_client, "?q=ROE.EXAMPLE") == [john.id]
    assert _queue_ids(admin_client, "?q=%25") == []  # taken literally
    html = admin_client.get("/admin/credentials?q=nobody").get_data(as_text=True)
    assert "Nothing is waiting in this view." in html


def test_an_unknown_filter_value_is_refused_clearly(admin_client):  # noqa: F811
    response = admin_client.get("/admin/credentials?body=99999&age=5")
    assert response.status_code == 400
    assert response.get_data(as_text=True).count("Not a valid choice.") == 2


def test_paging_links_keep_the_filters(admin_client):  # noqa: F811
    practitioner = PractitionerFactory(display_name="Paula Pages")
    for i in range(52):
        _waiting(60 - i / 10, practitioner)
    html = admin_client.get("/admin/credentials?q=paula&age=30").get_data(as_text=True)
    assert "52 credentials waiting in this view" in html
    assert 'href="/admin/credentials?page=2&amp;q=paula&amp;age=30"' in html


def _decide(client, cert, query: str, decision: str = "verify"):
    data = (
        {"method": "register checked", "reference": "Register no. 1"}
        if decision == "verify"
        else {"reason": "No such number in the register."}
    )
    return submit_form(
        client, "/admin/credentials" + query, data, post_url=f"/admin/credentials/{cert.id}/{decision}{query}"
    )


def test_after_a_decision_the_next_item_of_the_same_filtered_queue_follows(admin_client):  # noqa: F811
    bcta = body("bcta-na")
    first, other, second, third = (
        _waiting(19, body=bcta, credential="RCST"),
        _waiting(18),
        _waiting(17, body=bcta, credential="RCST"),
        _waiting(16, body=bcta, credential="RCST"),
    )
    _waiting(1, body=bcta, credential="RCST")  # too new for this view
    query = f"?body={bcta.id}&age=7"
    response = _decide(admin_client, first, query)
    assert response.status_code == 303
    assert response.location == f"/admin/credentials?body={bcta.id}&age=7#cert-{second.id}"
    response = _decide(admin_client, second, query, "reject")
    assert response.status_code == 303
    assert response.location == f"/admin/credentials?body={bcta.id}&age=7#cert-{third.id}"
    # The last one of the view: back to the (now empty) view, with a word about it.
    response = _decide(admin_client, third, query)
    assert response.location == f"/admin/credentials?body={bcta.id}&age=7"
    html = admin_client.get(response.location).get_data(as_text=True)
    assert "That was the last credential waiting in this view of the queue." in html
    assert fresh(other).status == VerificationStatus.PENDING


def test_the_next_item_is_found_on_its_page(admin_client):  # noqa: F811
    practitioner = PractitionerFactory()
    certs = [_waiting(100 - i / 10, practitioner) for i in range(53)]
    response = _decide(admin_client, certs[50], "?page=2")
    assert response.location == f"/admin/credentials?page=2#cert-{certs[51].id}"
    assert certs[51].id in _queue_ids(admin_client, "?page=2")
    # Deciding on page 1 keeps page 1 (the rest move up by one).
    response = _decide(admin_client, certs[3], "")
    assert response.location == f"/admin/credentials#cert-{certs[4].id}"


def test_a_refused_verification_stays_in_the_same_view(admin_client):  # noqa: F811
    cert = _waiting(10)
    _waiting(5)
    response = submit_form(
        admin_client,
        "/admin/credentials?age=7",
        {"method": "register checked", "note": "Looked it up"},
        post_url=f"/admin/credentials/{cert.id}/verify?age=7",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _queue_ids_in(html) == [cert.id]
    assert f'action="/admin/credentials/{cert.id}/verify?age=7"' in html


def _queue_ids_in(html: str) -> list[int]:
    return [int(i) for i in QUEUE_ITEM.findall(html)]


@pytest.mark.parametrize("who", ["anonymous", "practitioner", "provider"])
def test_the_queue_its_filters_and_evidence_are_not_found_for_non_admins(
    app, client, who, practitioner_user, provider_user
):
    cert = _with_evidence(app, PDF, "certificate.pdf", "application/pdf")
    if who != "anonymous":
        login(client, practitioner_user if who == "practitioner" else provider_user)
    for url in ("/admin/credentials?q=a&age=7&evidence=yes&page=2", f"/admin/credentials/{cert.id}/evidence"):
        assert client.get(url).status_code == 404
    for decision in ("verify", "reject"):
        response = client.post(
            f"/admin/credentials/{cert.id}/{decision}?age=7",
            data={"method": "register checked", "reference": "x", "reason": "x"},
        )
        assert response.status_code == 404
    assert fresh(cert).status == VerificationStatus.PENDING
    assert audit_entries() == []


def test_a_very_long_queue_is_counted_only_up_to_a_limit(admin_client, monkeypatch):  # noqa: F811
    from directory.admin import credential_queue

    monkeypatch.setattr(credential_queue, "COUNT_LIMIT", 3)
    monkeypatch.setattr(credential_queue, "PER_PAGE", 2)
    practitioner = PractitionerFactory()
    certs = [_waiting(10 - i, practitioner) for i in range(5)]
    html = admin_client.get("/admin/credentials").get_data(as_text=True)
    assert "More than 3 credentials waiting · page 1." in html
    assert "Page 1</span>" in html and 'href="/admin/credentials?page=2"' in html and ">Last<" not in html
    assert _queue_ids(admin_client, "?page=2") == [certs[2].id, certs[3].id]
    assert _queue_ids(admin_client, "?page=3") == [certs[4].id]
    html = admin_client.get("/admin/credentials?page=3").get_data(as_text=True)
    assert 'rel="next"' not in html
    html = admin_client.get("/admin/credentials?page=7").get_data(as_text=True)
    assert "No credentials on this page." in html
