"""Journey 4: an admin verifies a practitioner's credential, and the badge appears on the search result."""

from __future__ import annotations

import os
import uuid

import pytest

from directory.extensions import db
from directory.models import Practitioner, VerificationStatus
from tests.e2e.people import make_admin, make_practitioner, sign_in
from tests.factories import CertificationFactory

# Browser tests share one server: keep them on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

EVIDENCE = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def with_pending_credential(live_site, profile_id: int, number: str) -> None:
    """The practitioner stated an RCST credential and uploaded the certificate."""
    stored = f"{uuid.uuid4().hex}.pdf"
    folder = live_site.app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, stored), "wb") as out:
        out.write(EVIDENCE)
    with live_site.db():
        from tests.factories import body

        CertificationFactory(
            practitioner=db.session.get(Practitioner, profile_id),
            body=body("bcta-na"),
            credential="RCST",
            credential_number=number,
            status=VerificationStatus.PENDING,
            evidence_path=stored,
            evidence_name="rcst-certificate.pdf",
            evidence_mimetype="application/pdf",
        )


def result_card(journey, name: str):
    """The search result of one practitioner."""
    return journey.page.locator("li.result", has_text=name)


def test_admin_verifies_a_credential_and_the_badge_appears_in_search(journey, new_journey, live_site):
    name = f"Vera Verify {uuid.uuid4().hex[:6]}"
    number = f"BCTA-{uuid.uuid4().hex[:5]}"
    _, profile_id = make_practitioner(live_site, name, latitude=40.01, longitude=-105.28)
    with_pending_credential(live_site, profile_id, number)
    admin_email = make_admin(live_site)

    # A patient sees the credential, but not as verified.
    patient = journey
    patient.goto("/search?near=Boulder%2C+CO&radius=10&unit=mi", "search before")
    card = result_card(patient, name)
    assert "RCST (not yet verified)" in card.inner_text()
    assert card.locator(".badge-verified, .verified-badge").count() == 0

    # The admin checks the evidence and verifies the credential.
    admin = new_journey("admin")
    sign_in(admin, admin_email)
    admin.goto("/admin/credentials", "credential queue")
    item = admin.page.locator(".queue-item", has_text=number)
    assert name in item.inner_text()
    # No method is chosen for the admin: they say how they checked, with what the check needs.
    item.get_by_label("Register checked").check()
    item.get_by_label("Register reference or URL of the entry").fill("https://bcta.example.org/register/RCST-1")
    item.get_by_label("Note", exact=False).fill("Checked the BCTA/NA public register.")
    # By keyboard: the framed PDF viewer above the form may swallow a synthetic mouse click.
    item.get_by_role("button", name="Verify RCST").focus()
    with admin.page.expect_navigation():
        admin.page.keyboard.press("Enter")
    admin.check("credential verified")
    assert admin.page.locator(".queue-item", has_text=number).count() == 0

    # The patient's next search shows the Verified badge at once.
    patient.goto("/search?near=Boulder%2C+CO&radius=10&unit=mi", "search after")
    card = result_card(patient, name)
    assert "Verified RCST" in card.inner_text()
    patient.goto("/search?near=Boulder%2C+CO&radius=10&unit=mi&verified=1", "verified only")
    assert result_card(patient, name).count() == 1
