"""Journey 1: a patient finds a TMJ practitioner near them, checks the credentials, writes to them."""

from __future__ import annotations

import uuid

import pytest

from directory.models import VerificationStatus
from directory.models.base import utcnow
from tests.factories import CertificationFactory, PractitionerFactory

# Browser tests share one server: keep them on one xdist worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

TMJ = "Temporomandibular joint (TMJ) disorders"


@pytest.fixture
def boulder(live_site):
    """Three practitioners around Boulder, CO, with names unique to this run."""
    tag = uuid.uuid4().hex[:6]
    with live_site.db():
        tess = PractitionerFactory(
            display_name=f"Tess Temporo {tag}",
            email=f"tess-{tag}@example.org",
            conditions=["tmj"],
            latitude=40.03,
            longitude=-105.25,
        )
        CertificationFactory(
            practitioner=tess, credential="CST-T", status=VerificationStatus.VERIFIED, verified_at=utcnow()
        )
        neck = PractitionerFactory(
            display_name=f"Nick Neck {tag}", conditions=["neck-back-pain"], latitude=40.02, longitude=-105.26
        )
        # Denver: TMJ too, but about 25 miles away.
        far = PractitionerFactory(
            display_name=f"Fran Faraway {tag}", conditions=["tmj"], latitude=39.74, longitude=-105.0
        )
        return {"tess": tess.display_name, "tess_email": tess.email, "neck": neck.display_name, "far": far.display_name}


def search_for(journey, place: str, radius: str | None = None, conditions: tuple[str, ...] = ()) -> None:
    """Fill in the search form as a person would, and send it."""
    page = journey.page
    page.get_by_label("ZIP code, postcode or town", exact=True).fill(place)
    if radius:
        page.get_by_label("Within", exact=True).select_option(radius)
        page.get_by_label("Unit", exact=True).select_option("mi")
    if conditions and not page.get_by_label(conditions[0]).is_visible():
        page.get_by_text("Filters", exact=True).click()  # on a phone the filters fold into one control
    for name in conditions:
        page.get_by_label(name).check()
    journey.submit("Search", f"results for {place}")


def results(journey) -> str:
    """The text of the result list."""
    return journey.page.locator("ol.results").inner_text()


def test_patient_finds_a_tmj_practitioner_within_10_miles_and_sends_an_enquiry(journey, boulder, live_site):
    page = journey.page
    journey.goto("/", "home")

    # By US ZIP code: everyone near Boulder within the default radius.
    search_for(journey, "80302")
    assert boulder["tess"] in results(journey)
    assert boulder["neck"] in results(journey)

    # By town name, narrowed to TMJ disorders within 10 miles.
    search_for(journey, "Boulder, CO", radius="10", conditions=(TMJ,))
    heading = page.locator("#results-heading").inner_text()
    assert "within 10 miles of Boulder" in heading
    listed = results(journey)
    assert boulder["tess"] in listed
    assert boulder["neck"] not in listed and boulder["far"] not in listed
    assert " mi away" in listed

    # The profile shows the verified credential.
    journey.click_link(boulder["tess"], "profile")
    assert page.get_by_role("heading", level=1).inner_text() == boulder["tess"]
    verified = page.locator(".credentials-verified")
    assert "CST-T" in verified.inner_text()
    assert "Verified" in verified.inner_text()

    # The enquiry reaches the practitioner by email, without the patient's message in it.
    page.get_by_label("Your name").fill("Paula Patient")
    page.get_by_label("Your email").fill("paula.patient@example.net")
    page.get_by_label("Your message").fill("I have jaw pain when I wake up. Do you have time next week?")
    page.get_by_label("I agree", exact=False).check()
    page.wait_for_timeout(1100)  # the form refuses what is sent faster than a person types
    journey.submit("Send enquiry", "enquiry sent")
    assert "sent" in page.locator("main").inner_text().lower()
    mail = live_site.mail_to(boulder["tess_email"])
    assert mail, "the practitioner was not told about the enquiry"
    assert "jaw pain" not in mail[-1].get_body(preferencelist=("plain",)).get_content()
