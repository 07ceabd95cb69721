"""Geocoding: the offline gazetteer understands what patients type; the online one is rate-limited and cached."""

from __future__ import annotations

import time

import pytest
from geopy.exc import GeocoderServiceError
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from sqlalchemy import func, select

from directory.extensions import db
from directory.geocoding import CachedServiceGeocoder, OfflineGeocoder, geocode, make_geocoder
from directory.models import GeocodeCache


@pytest.fixture(scope="module")
def offline():
    return OfflineGeocoder()


@pytest.mark.parametrize(
    "query, city, region, country, lat, lon",
    [
        ("80302", "Boulder", "CO", "US", 40.02, -105.28),
        ("10001", "New York", "NY", "US", 40.75, -74.0),
        ("Boulder, CO 80302", "Boulder", "CO", "US", 40.02, -105.28),
        ("Boulder", "Boulder", "CO", "US", 40.01, -105.27),
        ("Portland, OR", "Portland", "OR", "US", 45.52, -122.68),
        ("Portland, Maine", "Portland", "ME", "US", 43.66, -70.26),
        ("Paris, France", "Paris", "", "FR", 48.85, 2.35),
        ("Paris, TX", "Paris", "TX", "US", 33.66, -95.56),
        ("London, UK", "London", "", "GB", 51.51, -0.13),
        ("Dublin, Ireland", "Dublin", "", "IE", 53.33, -6.25),
        ("Sydney, Australia", "Sydney", "", "AU", -33.87, 151.21),
        ("Toronto, CA", "Toronto", "", "CA", 43.71, -79.40),
        ("123 Main St, Springfield, IL", "Springfield", "IL", "US", 39.80, -89.64),
    ],
)
def test_patient_types_a_zip_code_or_a_town(offline, query, city, region, country, lat, lon):
    place = offline.lookup(query)
    assert place is not None, query
    assert (place.city, place.region, place.country) == (city, region, country)
    assert place.latitude == pytest.approx(lat, abs=0.05) and place.longitude == pytest.approx(lon, abs=0.05)


@pytest.mark.parametrize(
    "query, city", [("Muenchen", "Munich"), ("Koeln", "Köln"), ("zurich", "Zürich"), ("ZÜRICH", "Zürich")]
)
def test_alternate_names_and_accents_are_understood(offline, query, city):
    assert offline.lookup(query).city == city


@pytest.mark.parametrize("query", ["Atlantis-under-the-sea", "", "   ", "Qwzxville, Texas", "x" * 400, "99999"])
def test_unknown_places_give_none(offline, query):
    assert offline.lookup(query) is None


def test_coordinates_are_taken_as_they_are(offline):
    place = offline.lookup("51.5, -0.12")
    assert (place.latitude, place.longitude) == (51.5, -0.12)
    assert offline.lookup("-33.9 151.2").longitude == 151.2
    assert offline.lookup("95.0, 10.0") is None or offline.lookup("95.0, 10.0").latitude != 95.0


def test_offline_geocoder_speaks_geopy(offline):
    location = offline.geocode("Boulder, CO")
    assert isinstance(location, Location) and location.latitude == pytest.approx(40.01, abs=0.01)
    assert isinstance(offline.geocode("Boulder", exactly_one=False), list)
    assert offline.geocode("Atlantis-under-the-sea") is None


class DictGeocoder(Geocoder):
    """A geopy geocoder answering from a dict, counting its calls: tests never use the network."""

    def __init__(self, answers: dict, fail: bool = False) -> None:
        super().__init__()
        self.answers = answers
        self.fail = fail
        self.calls: list[float] = []

    def geocode(self, query, exactly_one=True, timeout=None, **kwargs):  # noqa: ARG002
        self.calls.append(time.monotonic())
        if self.fail:
            raise GeocoderServiceError("service unavailable")
        found = self.answers.get(query)
        if found is None:
            return None
        return Location(found[0], (found[1], found[2]), {})


def cache_rows() -> int:
    return db.session.execute(select(func.count()).select_from(GeocodeCache)).scalar_one()


def test_online_answers_are_cached_in_the_database(app):
    service = DictGeocoder({"Bath, UK": ("Bath, Somerset, England", 51.38, -2.36)})
    geocoder = CachedServiceGeocoder("dict", service, min_delay_seconds=0)
    place = geocoder.lookup("Bath, UK")
    assert (place.label, place.latitude, place.longitude) == ("Bath, Somerset, England", 51.38, -2.36)
    assert geocoder.lookup("bath,   uk").latitude == 51.38  # same normalized query: from the cache
    assert len(service.calls) == 1 and cache_rows() == 1
    # A new geocoder (a new process) still finds the answer in the database.
    again = CachedServiceGeocoder("dict", DictGeocoder({}), min_delay_seconds=0)
    assert again.lookup("Bath, UK").longitude == -2.36


def test_online_not_found_is_cached_too(app):
    service = DictGeocoder({})
    geocoder = CachedServiceGeocoder("dict", service, min_delay_seconds=0)
    assert geocoder.lookup("Nowhere") is None
    assert geocoder.lookup("Nowhere") is None
    assert len(service.calls) == 1 and cache_rows() == 1


def test_online_failures_are_not_cached(app):
    failing = CachedServiceGeocoder("dict", DictGeocoder({}, fail=True), min_delay_seconds=0)
    assert failing.lookup("Bath, UK") is None
    assert cache_rows() == 0
    working = CachedServiceGeocoder("dict", DictGeocoder({"Bath, UK": ("Bath", 51.38, -2.36)}), min_delay_seconds=0)
    assert working.lookup("Bath, UK").latitude == 51.38


def test_online_calls_are_rate_limited(app):
    service = DictGeocoder({"A": ("A", 1.0, 1.0), "B": ("B", 2.0, 2.0), "C": ("C", 3.0, 3.0)})
    geocoder = CachedServiceGeocoder("dict", service, min_delay_seconds=0.2)
    for query in ("A", "B", "C"):
        geocoder.lookup(query)
    gaps = [later - earlier for earlier, later in zip(service.calls, service.calls[1:])]
    assert len(gaps) == 2 and all(gap >= 0.19 for gap in gaps)


def test_geocoder_is_chosen_by_configuration(app):
    assert isinstance(make_geocoder({"GEOCODER": "offline"}), OfflineGeocoder)
    with pytest.raises(RuntimeError, match="GEOCODER_USER_AGENT"):
        make_geocoder({"GEOCODER": "nominatim"})
    nominatim = make_geocoder(
        {"GEOCODER": "nominatim", "GEOCODER_USER_AGENT": "cst-tests", "GEOCODER_MIN_DELAY_SECONDS": 1}
    )
    assert isinstance(nominatim, CachedServiceGeocoder) and nominatim.name == "nominatim"
    with pytest.raises(RuntimeError, match="Unknown GEOCODER"):
        make_geocoder({"GEOCODER": "guess"})


def test_site_geocodes_with_the_configured_geocoder(app):
    assert geocode("80302").city == "Boulder"
    app.extensions["geocoder"] = CachedServiceGeocoder(
        "dict", DictGeocoder({"Bath": ("Bath, England", 51.38, -2.36)}), 0
    )
    assert geocode("Bath").label == "Bath, England"


@pytest.mark.parametrize("query, expected", [("９０２１０", "90210"), ("٩٠٢١٠", None), ("9０210", "90210")])
def test_unicode_digits_never_reach_the_zip_library_unfolded(app, query, expected):
    """Full-width digits fold to ASCII; other scripts' digits are not a ZIP (zipcodes panicked on them)."""
    from directory.geocoding import OfflineGeocoder

    place = OfflineGeocoder().lookup(query)
    assert (place.postal_code if place else None) == expected


def test_search_page_with_full_width_zip_code_answers(client):
    assert client.get("/search?near=%EF%BC%99%EF%BC%90%EF%BC%92%EF%BC%91%EF%BC%90").status_code == 200
    assert client.get("/api/v1/practitioners?near=%D9%A9%D9%A0%D9%A2%D9%A1%D9%A0").status_code == 400
