"""Postcodes worldwide and the `near` rules: a patient types what they would write on a letter."""

from __future__ import annotations

import math

import pytest

from directory.geocoding import OfflineGeocoder, Place


@pytest.fixture(scope="module")
def offline():
    return OfflineGeocoder()


def km_between(place: Place, lat: float, lon: float) -> float:
    """Great-circle distance from a place to a point."""
    p1, p2 = math.radians(place.latitude), math.radians(lat)
    dp, dl = p2 - p1, math.radians(lon - place.longitude)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(a))


@pytest.mark.parametrize(
    "query, country, town, lat, lon",
    [
        ("SW1A 1AA", "GB", "Westminster", 51.501, -0.142),
        ("EH1 1YZ", "GB", "Edinburgh", 55.953, -3.189),
        ("CF10 1AA", "GB", "Cardiff", 51.481, -3.179),
        ("BT1 5GS", "GB", "Belfast", 54.597, -5.930),
        ("D02 X285", "IE", "Dublin", 53.338, -6.252),
        ("H91", "IE", "Galway", 53.271, -9.049),
        ("K1A 0B1", "CA", "Ottawa", 45.421, -75.697),
        ("H3B 4W8", "CA", "Montreal", 45.501, -73.567),
        ("2000, Australia", "AU", "Sydney", -33.868, 151.209),
        ("3000, Australia", "AU", "Melbourne", -37.814, 144.963),
        ("6011, New Zealand", "NZ", "Mount Victoria", -41.296, 174.788),
        ("10115, Germany", "DE", "Berlin", 52.532, 13.385),
        ("75001, France", "FR", "Paris", 48.862, 2.336),
        ("1012 AB", "NL", "Amsterdam", 52.373, 4.893),
        ("1050, Denmark", "DK", "København", 55.679, 12.585),
        ("0150, Norway", "NO", "Oslo", 59.911, 10.750),
        ("114 55, Sweden", "SE", "Stockholm", 59.336, 18.073),
        ("00100, Finland", "FI", "Helsinki", 60.170, 24.938),
        ("101, Iceland", "IS", "Reykjavík", 64.147, -21.942),
    ],
)
def test_patient_finds_a_postcode_of_each_country_where_practitioners_register(offline, query, country, town, lat, lon):
    place = offline.lookup(query)
    assert place is not None, query
    assert place.country == country and town in place.label
    assert km_between(place, lat, lon) < 5, place


@pytest.mark.parametrize(
    "query, town, lat, lon",
    [("M1", "Manchester", 53.479, -2.240), ("m1", "Manchester", 53.479, -2.240), ("EH1", "Edinburgh", 55.953, -3.189)],
)
def test_a_uk_outward_code_alone_is_enough(offline, query, town, lat, lon):
    place = offline.lookup(query)
    assert place.country == "GB" and town in place.label and km_between(place, lat, lon) < 5


@pytest.mark.parametrize("query", ["K1A", "k1a", "K1A 0B1", "k1a0b1"])
def test_a_canadian_forward_sortation_area_needs_no_country(offline, query):
    place = offline.lookup(query)
    assert place.country == "CA" and km_between(place, 45.421, -75.697) < 5


@pytest.mark.parametrize("written", ["sw1a1aa", "Sw1A   1aa", "SW1A 1AA, UK", "SW1A 1AA, United Kingdom"])
def test_a_uk_postcode_is_understood_however_it_is_written(offline, written):
    assert offline.lookup(written).label == offline.lookup("SW1A 1AA").label


def test_a_code_shared_by_two_countries_answers_one_and_offers_the_other(offline):
    place = offline.lookup("W12")  # Shepherd's Bush in London, and an Irish routing key
    assert place.country == "GB"
    assert [alt.label for alt in place.alternatives] == ["Newbridge W12, Ireland"]


def test_a_numeric_postcode_without_a_country_offers_the_countries_that_have_it(offline):
    place = offline.lookup("2000")
    assert "Sydney" in place.label
    assert {"Denmark", "Norway"} <= {alt.label.rsplit(", ", 1)[1] for alt in place.alternatives}
    assert offline.lookup("2000, Norway").country == "NO"


def test_a_five_digit_code_without_a_country_is_a_us_zip_code_as_before(offline):
    assert offline.lookup("80302").city == "Boulder"
    assert offline.lookup("10115, Germany").country == "DE"


@pytest.mark.parametrize(
    "query, label",
    [
        ("Boulder Colorado", "Boulder, CO, United States"),
        ("boulder co", "Boulder, CO, United States"),
        ("Portland Maine", "Portland, ME, United States"),
        ("Paris Texas", "Paris, TX, United States"),
        ("Paris France", "Paris, France"),
        ("Saint Paul Minnesota", "Saint Paul, MN, United States"),
        ("Springfield, Massachusetts", "Springfield, MA, United States"),
        ("Cork, Ireland", "Cork, Ireland"),
    ],
)
def test_a_town_narrowed_by_its_state_or_country_with_or_without_a_comma(offline, query, label):
    assert offline.lookup(query).label == label


def test_an_ambiguous_town_answers_the_most_populous_and_lists_the_others(offline):
    place = offline.lookup("Springfield")
    assert place.region == "MO"  # the largest Springfield
    labels = [alt.label for alt in place.alternatives]
    assert {"Springfield, IL, United States", "Springfield, MA, United States"} <= set(labels)
    assert all(alt.label.startswith("Springfield,") for alt in place.alternatives)
    assert all(-90 <= alt.latitude <= 90 and -180 <= alt.longitude <= 180 for alt in place.alternatives)
    assert offline.lookup("Springfield, IL").alternatives == ()


def test_every_offered_alternative_finds_itself_again(offline):
    """A "Did you mean" link may carry the alternative's name as `near`."""
    for place in map(offline.lookup, ("Springfield", "Paris", "2000", "W12", "SW1A 1AA", "114 55, Sweden")):
        for alt in (place, *place.alternatives):
            again = offline.lookup(alt.label)
            assert again.summary() == alt.summary()


def test_a_search_reads_the_store_never_the_in_memory_city_list(offline, monkeypatch):
    """The city list takes seconds to load; searches use the indexed store built at start."""
    from directory.geocoding import gazetteer

    def refuse():
        raise AssertionError("a search loaded the in-memory city list")

    monkeypatch.setattr(gazetteer, "_gazetteer", None)
    monkeypatch.setattr(gazetteer, "Gazetteer", refuse)
    assert offline.lookup("Springfield").alternatives and offline.lookup("M1").country == "GB"


# --- The page and the API -------------------------------------------------------------------


@pytest.mark.parametrize("near", ["SW1A 1AA", "M1", "K1A", "D02 X285", "2000, Australia", "Boulder Colorado"])
def test_search_page_and_api_find_places_by_postcode_and_town(client, near):
    assert client.get("/search", query_string={"near": near}).status_code == 200
    api = client.get("/api/v1/practitioners", query_string={"near": near})
    assert api.status_code == 200
    assert api.get_json()["place"]["name"] == OfflineGeocoder().lookup(near).label


def test_api_names_the_place_it_used_and_the_alternatives(client):
    body = client.get("/api/v1/practitioners", query_string={"near": "Springfield"}).get_json()
    assert body["place"]["name"] == "Springfield, MO, United States"
    assert body["place"]["latitude"] == pytest.approx(37.215, abs=0.01)
    names = [alt["name"] for alt in body["alternatives"]]
    assert "Springfield, IL, United States" in names
    assert set(body["alternatives"][0]) == {"name", "latitude", "longitude"}
    assert client.get("/api/v1/practitioners?lat=40&lon=-105").get_json()["alternatives"] == []


@pytest.mark.parametrize("near", ["ZZ9 9ZZ", "X99", "Z1Z 1Z1", "00001"])
def test_an_unknown_postcode_is_refused_with_a_clear_message(client, near):
    page = client.get("/search", query_string={"near": near})
    assert page.status_code == 400
    assert "We could not find the postcode" in page.get_data(as_text=True)
    api = client.get("/api/v1/practitioners", query_string={"near": near})
    assert api.status_code == 400
    assert api.get_json()["error"].startswith(f"We could not find the postcode '{near}'")


def test_an_unknown_town_keeps_its_message(client):
    api = client.get("/api/v1/practitioners", query_string={"near": "Atlantis-under-the-sea"})
    assert api.status_code == 400 and "Try a postcode, a town" in api.get_json()["error"]


def test_the_store_is_built_by_a_documented_command(app):
    result = app.test_cli_runner().invoke(args=["geodata", "build"])
    assert result.exit_code == 0 and "gazetteer-" in result.output


@pytest.mark.parametrize(
    ("query", "country", "label"),
    [
        # The code first, then the town or the country, as addresses are written in much of Europe.
        ("10115 Berlin", "DE", "Berlin 10115, Germany"),
        ("10115 Germany", "DE", "Berlin 10115, Germany"),
        ("75001 Paris", "FR", "Paris 75001, France"),
        ("0150 Oslo", "NO", "Oslo 0150, Norway"),
        ("114 55 Stockholm", "SE", "Stockholm 114 55, Sweden"),
        ("1012 AB Amsterdam", "NL", "Amsterdam 1012 AB, The Netherlands"),
        ("00100 Helsinki", "FI", "Helsinki 00100, Finland"),
        ("2000 Sydney", "AU", "Sydney 2000, Australia"),
        ("2000 Australia", "AU", "Sydney 2000, Australia"),
        ("6011 New Zealand", "NZ", "Mount Victoria 6011, New Zealand"),
        ("101 Reykjavik", "IS", "Reykjavík - 1 101, Iceland"),
    ],
)
def test_a_code_before_its_town_or_country_is_found_there_not_in_the_us(offline, query, country, label):
    place = offline.lookup(query)
    assert (place.country, place.label) == (country, label)


def test_a_five_digit_code_no_us_zip_has_is_found_abroad(offline):
    place = offline.lookup("00100")
    assert place.country == "FI" and place.label == "Helsinki 00100, Finland"
    assert offline.lookup("99999").label == "Korvatunturi 99999, Finland"  # Santa Claus's own
    # A real ZIP code stays a ZIP code, and a US address keeps its ZIP code.
    assert offline.lookup("10115").country == "US"
    assert offline.lookup("Boulder, CO 80302").country == "US"
