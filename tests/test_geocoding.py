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


@pytest.mark.parametrize("query", ["Atlantis-under-the-sea", "", "   ", "Qwzxville, Texas", "x" * 400, "00001"])
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


# --- An online geocoder chosen by the GEOCODER setting ------------------------------------


@pytest.fixture
def online(app, monkeypatch):
    """The app with GEOCODER naming the fake online service, which knows Boulder's address."""
    from tests.fake_geocoder import SETTING, FakeOnlineGeocoder

    monkeypatch.setattr(FakeOnlineGeocoder, "ANSWERS", {"1800 Broadway, Boulder, CO 80302, US": BROADWAY})
    monkeypatch.setattr(FakeOnlineGeocoder, "queries", [])
    monkeypatch.setattr(FakeOnlineGeocoder, "failing", False)
    app.config.update(GEOCODER=SETTING, GEOCODER_MIN_DELAY_SECONDS=0)
    return FakeOnlineGeocoder


BROADWAY = ("1800 Broadway, Boulder, Colorado, 80302, United States", 40.0186, -105.2787)


def test_a_geopy_geocoder_class_is_chosen_by_its_dotted_name(online):
    from tests.fake_geocoder import SETTING

    geocoder = make_geocoder({"GEOCODER": SETTING, "GEOCODER_MIN_DELAY_SECONDS": 0})
    assert isinstance(geocoder, CachedServiceGeocoder) and isinstance(geocoder.geocoder, online)
    assert geocode("1800 Broadway, Boulder, CO 80302, US").latitude == 40.0186
    assert online.queries == ["1800 Broadway, Boulder, CO 80302, US"]


@pytest.mark.parametrize("setting", ["tests.no_such_module:Geocoder", "tests.fake_geocoder:Missing", "os.path:sep"])
def test_a_dotted_geocoder_that_cannot_be_built_stops_with_its_name(app, setting):
    with pytest.raises(RuntimeError, match="GEOCODER"):
        make_geocoder({"GEOCODER": setting})


def test_a_lookup_never_commits_the_callers_unfinished_work(online):
    from directory.models import Condition

    db.session.add(Condition(slug="not-kept", name="Not kept", sort_order=99))
    assert geocode("1800 Broadway, Boulder, CO 80302, US") is not None  # asked the service, cached the answer
    db.session.rollback()
    assert db.session.execute(select(Condition).filter_by(slug="not-kept")).scalar_one_or_none() is None
    assert cache_rows() == 1


def test_practitioner_moving_a_location_to_an_address_that_cannot_be_found_changes_nothing(
    online, client, practitioner_user
):
    from directory.models import PracticeLocation
    from tests.conftest import login, submit_form

    location = practitioner_user.practitioner.locations[0]
    before = (location.address, location.city, location.latitude, location.longitude)
    login(client, practitioner_user)
    url = f"/dashboard/locations/{location.id}"
    moved = {"label": "Main", "address": "1 Nowhere Lane", "city": "Xqzzyville", "region": "", "postal_code": ""}
    response = submit_form(client, url, {**moved, "country": "US", "latitude": "", "longitude": ""})
    assert response.status_code == 400 and "could not find this address" in response.get_data(as_text=True)
    assert online.queries, "the online geocoder was asked"
    location = db.session.get(PracticeLocation, location.id)
    assert (location.address, location.city, location.latitude, location.longitude) == before


def test_practitioner_moving_a_location_to_a_known_address_gets_the_services_coordinates(
    online, client, practitioner_user
):
    from directory.models import PracticeLocation
    from tests.conftest import login, submit_form

    location_id = practitioner_user.practitioner.locations[0].id
    login(client, practitioner_user)
    address = {"address": "1800 Broadway", "city": "Boulder", "region": "CO", "postal_code": "80302", "country": "US"}
    response = submit_form(
        client, f"/dashboard/locations/{location_id}", {"label": "Main", **address, "latitude": "", "longitude": ""}
    )
    assert response.status_code == 302
    location = db.session.get(PracticeLocation, location_id)
    assert (location.address, location.latitude, location.longitude) == ("1800 Broadway", 40.0186, -105.2787)


# --- Place data is opened when the app starts, not on the first search -----------------------


def test_place_data_is_opened_when_the_app_starts(database_url, tmp_path, monkeypatch):
    from directory import create_app
    from directory.geocoding import selection, store
    from tests.conftest import base_config

    monkeypatch.setattr(store, "_store", None)
    monkeypatch.setattr(selection, "_offline", None)
    create_app(base_config(database_url, str(tmp_path)))
    assert store._store is not None and store._store.path.exists()
    assert selection._offline is not None


def test_an_online_geocoder_opens_no_place_data_at_start(database_url, tmp_path, monkeypatch):
    from directory import create_app
    from directory.geocoding import selection, store
    from tests.conftest import base_config

    monkeypatch.setattr(store, "_store", None)
    monkeypatch.setattr(selection, "_offline", None)
    create_app({**base_config(database_url, str(tmp_path)), "GEOCODER": "tests.fake_geocoder:FakeOnlineGeocoder"})
    assert store._store is None and selection._offline is None


def test_a_missing_store_is_built_from_the_installed_packages(tmp_path, monkeypatch):
    """A new version of a data package (or a first start) builds the store anew, offline."""
    from directory.geocoding import store

    monkeypatch.setattr(store, "_load_cities", lambda conn: {})  # world cities: seconds, not needed here
    monkeypatch.setenv("GAZETTEER_DIR", str(tmp_path))
    monkeypatch.setattr(store, "_store", None)
    path = store.build_store(store.store_path(), countries=("IS",))
    assert path.parent == tmp_path and not list(tmp_path.glob("*.partial"))
    codes = store.Store(path)
    assert codes.postcodes("101")[0]["cc"] == "IS" and codes.postcodes("80302")[0]["place"] == "Boulder"
    assert codes.postcodes("SW1A") == []  # only the countries asked for
