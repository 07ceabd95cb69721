"""Postcodes worldwide: a patient types the postcode they know, on a phone and on a desktop.

For each country where CST bodies register practitioners (issue 11), a practitioner practises a
short walk from the postcode; the patient searches from the home page, reads the place the site
understood in the heading, and finds that practitioner first, at the distance a map would give.
All offline: the place comes from the bundled gazetteer.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from geopy.distance import great_circle

from tests.factories import PractitionerFactory

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

KM_PER_MILE = 1.609344
DISTANCE_RE = re.compile(r"^([0-9.]+) (mi|km) away$")


@dataclass(frozen=True)
class Postcode:
    """A search as a patient types it, the place the site should name, and the practice near it."""

    typed: str
    place: str  # the heading names this place ("Berlin 10115, Germany")
    latitude: float  # the practice, a short walk from the postcode's centre
    longitude: float
    city: str
    country: str
    unit: str = "km"


POSTCODES = {
    "uk-full": Postcode("SW1A 1AA", "SW1A 1AA, United Kingdom", 51.4995, -0.1300, "London", "GB", "mi"),
    "uk-outward": Postcode("M1", "Manchester M1, United Kingdom", 53.4790, -2.2400, "Manchester", "GB", "mi"),
    "ireland-routing-key": Postcode("D02", "Dublin 2 D02, Ireland", 53.3390, -6.2580, "Dublin", "IE"),
    "ireland-eircode": Postcode("T12 X70A", "T12 X70A, Ireland", 51.8750, -8.4850, "Cork", "IE"),
    "canada": Postcode("K1A", "K1A, Canada", 45.4230, -75.6980, "Ottawa", "CA"),
    "australia": Postcode("2000, Australia", "Sydney 2000, Australia", -33.8660, 151.2070, "Sydney", "AU"),
    "new-zealand": Postcode("6011, New Zealand", "6011, New Zealand", -41.2950, 174.7900, "Wellington", "NZ"),
    "germany": Postcode("10115, Germany", "Berlin 10115, Germany", 52.5310, 13.3870, "Berlin", "DE"),
    "france": Postcode("75001, France", "Paris 75001, France", 48.8580, 2.3430, "Paris", "FR"),
    "netherlands": Postcode("1012 AB", "Amsterdam 1012 AB, The Netherlands", 52.3720, 4.8930, "Amsterdam", "NL"),
    "denmark": Postcode("1050, Denmark", "1050, Denmark", 55.6790, 12.5880, "København", "DK"),
    "sweden": Postcode("114 55, Sweden", "Stockholm 114 55, Sweden", 59.3340, 18.0680, "Stockholm", "SE"),
    "norway": Postcode("0150, Norway", "Oslo 0150, Norway", 59.9110, 10.7480, "Oslo", "NO"),
    "finland": Postcode("00100, Finland", "Helsinki 00100, Finland", 60.1700, 24.9340, "Helsinki", "FI"),
    "iceland": Postcode("101, Iceland", "101, Iceland", 64.1370, -21.8930, "Reykjavík", "IS"),
}


@pytest.fixture
def practitioner_near(live_site):
    """Put a listed practitioner at a postcode's practice; unlisted again after the test.

    Each journey's practitioner leaves the shared live database's search as it found it, so the
    phone and desktop runs of a country never see each other's practitioner, nor other journeys theirs.
    """
    made: list[int] = []

    def make(postcode: Postcode) -> str:
        name = f"Pia Postcode {uuid.uuid4().hex[:6]}"
        with live_site.db():
            who = PractitionerFactory(display_name=name, latitude=postcode.latitude, longitude=postcode.longitude)
            who.locations[0].city = postcode.city
            who.locations[0].country = postcode.country
            made.append(who.id)
        return name

    yield make
    from directory.models import Practitioner

    with live_site.db() as session:
        for practitioner_id in made:
            session.get(Practitioner, practitioner_id).published = False


def expected_distance(live_site, postcode: Postcode) -> float:
    """How far the practice is from the place the site's own gazetteer gives for the postcode."""
    from directory.geocoding import geocode

    with live_site.app.app_context():
        place = geocode(postcode.typed)
    assert place is not None, f"the offline gazetteer does not know {postcode.typed!r}"
    km = great_circle((place.latitude, place.longitude), (postcode.latitude, postcode.longitude)).km
    return km / KM_PER_MILE if postcode.unit == "mi" else km


@pytest.mark.parametrize("country", list(POSTCODES))
def test_a_patient_finds_the_practitioner_near_the_postcode_they_typed(
    journey, live_site, practitioner_near, viewport, country
):
    postcode = POSTCODES[country]
    name = practitioner_near(postcode)
    page = journey.page
    # On a phone from the home page, on a desktop from the search page: both boxes search.
    journey.goto("/" if viewport == "phone" else "/search", "start")
    page.get_by_label("ZIP code, postcode or town", exact=True).fill(postcode.typed)
    page.get_by_label("Unit", exact=True).select_option(postcode.unit)
    journey.submit("Search", f"results for {postcode.typed}")

    heading = " ".join(page.locator("#results-heading").inner_text().split())
    assert postcode.place in heading, f"the heading does not name {postcode.place!r}: {heading!r}"
    unit_name = "miles" if postcode.unit == "mi" else "km"
    assert f"1 practitioner within 25 {unit_name} of" in heading
    first = page.locator("ol.results > li").first
    assert first.get_by_role("heading").inner_text().endswith(name)
    assert postcode.city in first.inner_text()

    shown = DISTANCE_RE.match(first.locator(".distance").inner_text().strip())
    assert shown, f"no distance on the card: {first.locator('.distance').inner_text()!r}"
    assert shown.group(2) == postcode.unit
    expected = expected_distance(live_site, postcode)
    assert expected < 1.5, "the practice should be a short walk from the postcode"
    assert float(shown.group(1)) == pytest.approx(expected, abs=0.06)


def test_a_code_shared_by_several_countries_offers_the_others(journey, live_site, practitioner_near):
    # "2000" is Sydney's postcode, and Frederiksberg's, and Lillestrøm's: the most likely first, the others offered.
    frederiksberg = Postcode("2000", "Frederiksberg 2000, Denmark", 55.6810, 12.5200, "Frederiksberg", "DK")
    name = practitioner_near(frederiksberg)
    page = journey.page
    journey.goto("/search?near=2000&unit=km", "results for 2000")
    assert "Sydney 2000, Australia" in page.locator("#results-heading").inner_text()
    assert name not in page.locator("main").inner_text()
    offers = page.locator(".did-you-mean")
    assert "Lillestrøm 2000, Norway" in offers.inner_text()
    with page.expect_navigation():
        offers.get_by_role("link", name=frederiksberg.place).click()
    journey.check("results for Frederiksberg")
    assert frederiksberg.place in page.locator("#results-heading").inner_text()
    first = page.locator("ol.results > li").first
    assert first.get_by_role("heading").inner_text().endswith(name)
    assert float(DISTANCE_RE.match(first.locator(".distance").inner_text().strip()).group(1)) < 0.5
