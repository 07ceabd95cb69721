"""Patients can see what Verified means: the public page, and badges that link there with their details."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from directory.models import VerificationStatus
from tests.factories import CertificationFactory, PractitionerFactory


def test_how_we_verify_page_explains_each_body_and_what_verified_means(client):
    response = client.get("/how-we-verify")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "How we verify practitioners" in html
    for text in (
        "Upledger Institute International",
        "CST-T",
        "CST-D",
        "Biodynamic Craniosacral Therapy Association of North America",
        "RCST",
        "700-hour foundation training",
    ):
        assert text in html
    assert "What “Verified” means" in html and "What “Verified” does not mean" in html
    assert "How often we check again" in html
    assert "public member register" in html and "certificate" in html and "contacting the certifying body" in html


def _verified_practitioner(name="Vera Verified"):
    practitioner = PractitionerFactory(display_name=name, latitude=40.02, longitude=-105.27)
    CertificationFactory(
        practitioner=practitioner,
        credential="CST-D",
        status=VerificationStatus.VERIFIED,
        verified_at=datetime(2031, 2, 3, 10, tzinfo=UTC),
        verification_source="register checked",
    )
    return practitioner


def _badges(html: str) -> list[str]:
    return re.findall(r'<a class="badge badge-verified verified-badge"[^>]*>.*?</a>', html, re.S)


def test_profile_badge_links_to_how_we_verify_and_tells_body_credential_and_date(client):
    practitioner = _verified_practitioner()
    html = client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)
    [badge] = _badges(html)
    assert 'href="/how-we-verify#verified"' in badge
    assert 'title="Upledger Institute International: CST-D, verified 3 Feb 2031"' in badge
    # The same details are inside the link, shown on hover and on keyboard focus (CSS, no script).
    assert '<span class="badge-tip">' in badge and "verified 3 Feb 2031" in badge


def test_search_result_badges_link_to_how_we_verify_too(client):
    _verified_practitioner("Sara Searchable")
    html = client.get("/search?near=80302&radius=25").get_data(as_text=True)
    [badge] = _badges(html)
    assert "/how-we-verify" in badge and "Upledger Institute International: CST-D" in badge


def test_unverified_credentials_get_no_verified_badge(client):
    practitioner = PractitionerFactory()
    CertificationFactory(practitioner=practitioner, credential="CST-T")
    html = client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)
    assert _badges(html) == []


def test_badge_tooltip_is_styled_without_inline_script_or_style(client):
    practitioner = _verified_practitioner()
    html = client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)
    assert "style=" not in html and "onmouseover" not in html
    css = client.get("/static/css/app.css").get_data(as_text=True)
    assert ".verified-badge:focus .badge-tip" in css and ".verified-badge:hover .badge-tip" in css


@pytest.mark.parametrize("method", ["register checked", "certificate inspected", "body contacted"])
def test_each_way_of_checking_earns_the_badge_only_once_it_names_its_check(app, client, admin_user, method):
    import os

    from directory.models.base import today
    from tests.conftest import login, submit_form

    with open(os.path.join(app.config["UPLOAD_FOLDER"], "badge-cert.pdf"), "wb") as out:
        out.write(b"%PDF-1.4\n%%EOF\n")
    practitioner = PractitionerFactory(display_name="Bo Badge")
    cert = CertificationFactory(
        practitioner=practitioner,
        evidence_path="badge-cert.pdf",
        evidence_name="certificate.pdf",
        evidence_mimetype="application/pdf",
    )
    admin = app.test_client()
    login(admin, admin_user)
    url = f"/admin/credentials/{cert.id}/verify"
    # The bare choice is not enough: no badge.
    assert submit_form(admin, "/admin/credentials", {"method": method}, post_url=url).status_code == 400
    assert _badges(client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)) == []
    needs = {
        "register checked": {"reference": "https://www.upledger.com/find/42"},
        "certificate inspected": {},
        "body contacted": {"contact": "Registrar", "contacted_on": today().isoformat()},
    }[method]
    if method == "certificate inspected":
        admin.get(f"/admin/credentials/{cert.id}/evidence")
    assert submit_form(admin, "/admin/credentials", {"method": method, **needs}, post_url=url).status_code == 303
    [badge] = _badges(client.get(f"/practitioners/{practitioner.id}").get_data(as_text=True))
    assert "Upledger Institute International: CST-T, verified" in badge
