"""Journey 2: a practitioner signs up, confirms the email, claims the imported profile, adds a location
and a certification with evidence, publishes, and appears in search."""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

import pytest

from directory.csv_io import COLUMNS, import_practitioners
from directory.extensions import db
from directory.models import Practitioner

# Browser tests share one server: keep them on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PASSWORD = "gentle-cranial-rhythm-42"
# A tiny but real PDF: what a scanned certificate would be.
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def import_profile(live_site, name: str, email: str) -> None:
    """An operator imported this practitioner from a register (CSV), as a draft to be claimed."""
    row = {column: "" for column in COLUMNS}
    row.update(
        name=name,
        email=email,
        practice_name="Stillpoint Craniosacral",
        city="Fort Collins",
        region="CO",
        country="US",
        latitude="40.5853",
        longitude="-105.0844",
        conditions="tmj",
    )
    text = ",".join(COLUMNS) + "\n" + ",".join(row[c] for c in COLUMNS) + "\n"
    with live_site.db():
        import_practitioners(text)
        profile = db.session.execute(db.select(Practitioner).filter_by(email=email)).scalar_one()
        profile.published = False


def sign_in(journey, email: str, password: str = PASSWORD) -> None:
    """Use the sign-in form."""
    page = journey.page
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    journey.submit("Sign in", "signed in")


def test_practitioner_signs_up_claims_the_imported_profile_and_appears_in_search(journey, live_site):
    tag = uuid.uuid4().hex[:6]
    name, email = f"Iris Imported {tag}", f"iris-{tag}@example.org"
    import_profile(live_site, name, email)
    page = journey.page

    # Sign up.
    journey.goto("/account/signup", "sign up")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("a craniosacral therapy practitioner").check()
    journey.submit("Create account", "account created")

    # Confirm the address from the caught email, then sign in.
    link = live_site.link_in_last_mail(email, "/account/confirm/")
    journey.goto(urlparse(link).path, "email confirmed")
    assert "confirmed" in page.locator("main").inner_text()
    if "/account/login" in page.url:
        sign_in(journey, email)
    assert "/dashboard" in page.url
    assert name in page.locator("main").inner_text(), "the imported profile was not claimed"

    # Add a location in Boulder, found by its address.
    journey.click_link("Add a location", "new location")
    page.get_by_label("Street address").fill("1440 Pine Street")
    page.get_by_label("Town or city").fill("Boulder")
    page.get_by_label("State, county or region").fill("CO")
    page.get_by_label("ZIP or postal code").fill("80302")
    page.get_by_label("Country code").fill("US")
    journey.submit("Save location", "location saved")
    if "/dashboard/" != urlparse(page.url).path:
        journey.goto("/dashboard/", "dashboard")
    assert "Boulder" in page.locator("#locations").inner_text()

    # Add a certification with a PDF certificate as evidence.
    journey.click_link("Add a certification", "new certification")
    page.get_by_label("Certifying body").select_option(label="Upledger Institute International")
    page.get_by_label("Credential", exact=True).select_option("CST-T")
    page.get_by_label("Certificate number").fill(f"UI-{tag}")
    page.get_by_label("Evidence", exact=False).set_input_files(
        files=[{"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": EVIDENCE_PDF}]
    )
    journey.submit("Save certification", "certification saved")
    if "/dashboard/" != urlparse(page.url).path:
        journey.goto("/dashboard/", "dashboard")
    certifications = page.locator("#certifications").inner_text()
    assert "CST-T" in certifications and "pending" in certifications
    assert page.locator("#certifications").get_by_role("link", name="Evidence").count() == 1

    # Publish, and be found by patients near Boulder.
    journey.submit("Publish my profile", "published")
    assert "Published" in page.locator("main").inner_text()
    journey.goto("/search?near=80302&radius=10&unit=mi", "search near Boulder")
    assert name in page.locator("ol.results").inner_text()
