"""The search page on a phone and on a desktop: results first, filters in one control or a sidebar."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import PractitionerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PHONE_SCREEN_HEIGHT = 740


@pytest.fixture
def nearby(live_site):
    """A few practitioners around Boulder, CO, with names unique to this run."""
    tag = uuid.uuid4().hex[:6]
    with live_site.db():
        names = [
            PractitionerFactory(
                display_name=f"Pat Nearby {tag} {n}", latitude=40.02 + n / 100, longitude=-105.27
            ).display_name
            for n in range(3)
        ]
    return names


@pytest.fixture
def unverified_in_bozeman(live_site):
    """Practitioners around Bozeman, MT (ZIP 59715), where no other journey puts anyone: none verified."""
    tag = uuid.uuid4().hex[:6]
    with live_site.db():
        return [
            PractitionerFactory(
                display_name=f"Una Unverified {tag} {n}", latitude=45.68 + n / 100, longitude=-111.04
            ).display_name
            for n in range(2)
        ]


def first_result_top(page) -> float:
    """Where the first result card starts, in CSS pixels from the top of the page."""
    return page.locator("ol.results > li").first.bounding_box()["y"] + page.evaluate("window.scrollY")


def test_after_a_search_the_first_result_starts_within_the_first_screen(journey, nearby, viewport):
    page = journey.page
    journey.goto("/", "home")
    page.get_by_label("ZIP code, postcode or town", exact=True).fill("80302")
    journey.submit("Search", "results for 80302")
    assert nearby[0] in page.locator("ol.results").inner_text()
    top = first_result_top(page)
    filters = page.locator(".filters-column details.filters")
    if viewport == "phone":
        assert top < PHONE_SCREEN_HEIGHT, f"the first result starts {top:.0f} px down on a phone"
        assert filters.get_attribute("open") is None, "on a phone the filters are folded into one control"
        assert not page.get_by_label("Verified credentials only").is_visible()
    else:
        # A sidebar beside the list: open, to the left of the results, level with them.
        assert filters.get_attribute("open") is not None
        side, results = filters.bounding_box(), page.locator(".results-column").bounding_box()
        assert side["x"] + side["width"] <= results["x"]
        assert abs(side["y"] - results["y"]) < 5
        assert top < 900


def test_filters_open_from_one_control_and_count_what_is_active(journey, unverified_in_bozeman, viewport):
    nearby = unverified_in_bozeman
    page = journey.page
    journey.goto("/search?near=59715", "search")
    if viewport == "phone":
        page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Verified credentials only").check()
    page.get_by_label("Accepting new patients").check()
    journey.submit("Show results", "filtered results")
    summary = page.locator(".filters-column summary").inner_text()
    assert "2 active" in summary
    # Nobody here is verified: the page offers to drop each filter, with the count it would give.
    offers = page.locator(".filter-offers").inner_text()
    assert "Include credentials not yet verified" in offers
    journey.click_link("Include credentials not yet verified", "without the verified filter")
    assert nearby[0] in page.locator("ol.results").inner_text()
    assert "1 active" in page.locator(".filters-column summary").inner_text()


def test_the_start_page_a_missing_page_and_an_expired_credential_read_well(journey, live_site, nearby):
    page = journey.page
    journey.goto("/search", "search without a place")
    assert page.get_by_role("heading", name="Where should we look?").is_visible()
    journey.click_link("80302", "an example search", exact=True)
    assert nearby[0] in page.locator("ol.results").inner_text()

    response = journey.goto("/search?near=80302&page=50", "past the last page")
    assert response.status == 404
    journey.click_link("Go to the last page", "the last page")
    assert page.locator("ol.results > li").count() > 0

    with live_site.db():
        from datetime import date

        from directory.models import Practitioner, VerificationStatus
        from tests.factories import CertificationFactory

        who = Practitioner.query.filter_by(display_name=nearby[0]).one()
        CertificationFactory(practitioner=who, status=VerificationStatus.VERIFIED, expires_on=date(2024, 3, 31))
        profile = f"/practitioners/{who.id}"
    journey.goto(profile, "profile with an expired credential")
    assert "Expired on 31 Mar 2024" in page.locator(".credentials-expired").inner_text()


def test_a_place_typed_after_using_my_location_is_the_one_searched(journey, nearby):
    page = journey.page
    journey.goto("/search?lat=40.02&lon=-105.27&radius=10&unit=mi", "results near my location")
    heading = page.locator("#results-heading").inner_text()
    assert "near your location" in heading and "40.02" not in heading
    assert nearby[0] in page.locator("ol.results").inner_text()
    page.get_by_label("ZIP code, postcode or town", exact=True).fill("Denver, CO")
    journey.submit("Search", "results for Denver")
    # Denver is about 25 miles from Boulder: the search is centred on Denver, not on the old coordinates.
    assert "within 10 miles of Denver" in page.locator("#results-heading").inner_text()
    assert nearby[0] not in page.locator("main").inner_text()
