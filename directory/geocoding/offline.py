"""The offline geocoder: coordinates, postal codes and towns, read from the indexed store."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from geopy.geocoders.base import Geocoder
from geopy.location import Location

from directory.geocoding import postcodes
from directory.geocoding.gazetteer import Countries, get_countries
from directory.geocoding.places import Place, normalize
from directory.geocoding.store import get_store

COORDS_RE = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[, ]\s*(-?\d{1,3}(?:\.\d+)?)\s*$", re.ASCII)
MAX_ALTERNATIVES = 5
# "Boulder Colorado", "Saint Paul Minnesota", "Paris France": a qualifier of up to three words.
MAX_QUALIFIER_WORDS = 3


class OfflineGeocoder(Geocoder):
    """A geopy geocoder over bundled data: postal codes, world cities, coordinates."""

    def __init__(self) -> None:
        super().__init__()

    def geocode(self, query: str, *, exactly_one: bool = True, timeout=None):  # noqa: ARG002
        """Resolve a postal code, "city", "city, state", "city, country" or an address."""
        place = self.lookup(query)
        if place is None:
            return None
        location = Location(place.label, (place.latitude, place.longitude), place.__dict__)
        return location if exactly_one else [location]

    def lookup(self, query: str) -> Place | None:
        """The best Place for free text (with the other places it could mean), or None."""
        # NFKC folds full-width and other compatibility forms: "９０２１０" is 90210.
        query = unicodedata.normalize("NFKC", query or "").strip()
        if not query or len(query) > 300:
            return None
        match = COORDS_RE.match(query)
        if match:
            lat, lon = float(match.group(1)), float(match.group(2))
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                return Place(f"{lat:.5f}, {lon:.5f}", lat, lon)
        countries = get_countries()
        parts = [p.strip() for p in query.split(",") if p.strip()]
        qualifier = parts[-1] if len(parts) > 1 and countries.is_qualifier(parts[-1]) else ""
        names = parts[:-1] if qualifier else parts
        # "Springfield, MA, United States" (how places are labelled): the state narrows more.
        if len(names) > 1 and countries.country_code(qualifier) == "US" and countries.state_code(names[-1]):
            qualifier, names = names[-1], names[:-1]
        place = self._postcode(names, qualifier, countries)
        if place is None:
            # "123 Main St, Springfield, IL": the town is the part nearest the qualifier.
            for name in reversed(names):
                if place := self._town(name, qualifier, countries):
                    break
        if place is None and len(names) == 1 and not qualifier:
            place = self._town_then_region(names[0], countries)
        return place

    def _postcode(self, names: list[str], qualifier: str, countries: Countries) -> Place | None:
        """The place of a postal code given as a part of the query (or inside an address), or None."""
        state = countries.state_code(qualifier)
        country = "US" if state else countries.country_code(qualifier)
        readings = [c for name in names for c in postcodes.candidates(name)]
        readings = readings or [c for name in names for c in postcodes.candidates_after_town(name)]
        readings = readings or [
            c for name in names for c in self._code_then_town(name, countries) if country in (None, c.country)
        ]
        readings = readings or postcodes.candidates_in_text(", ".join(names))
        found: list[Place] = []
        # Without a country (or a town) a five-digit code is a US ZIP code, as it always was here;
        # when no US ZIP code has it ("00100"), the other countries' places are offered.
        elsewhere: list[Place] = []
        for reading in readings:
            for row in get_store().postcodes(reading.key):
                if reading.country not in (None, row["cc"]) or country not in (None, row["cc"]):
                    continue
                if state and row["region"] != state:
                    continue
                if reading.town and not postcodes.same_town(reading.town, row["place"]):
                    continue
                place = self._postcode_place(row, reading.shown, countries)
                if reading.country is None and not (country or reading.town) and len(reading.key) == 5:
                    if row["cc"] != "US":
                        elsewhere.append(place)
                    continue
                found.append(place)
        found = found or [p for p in elsewhere if not any(q.country == "US" for q in found)]
        if not found:
            return None
        found = sorted(dict.fromkeys(found), key=lambda p: postcodes.country_rank(p.country))
        return _with_alternatives(found)

    @staticmethod
    def _code_then_town(text: str, countries: Countries) -> list[postcodes.Candidate]:
        """ "10115 Berlin", "2000 Australia", "1012 AB Amsterdam": readings of a code followed by a
        town (which the code's place must bear) or a country (which the code must be in)."""
        readings = []
        for reading, rest in postcodes.candidates_before_town(text):
            rest_country = countries.country_code(rest) if countries.is_qualifier(rest) else None
            if rest_country and not countries.state_code(rest):
                if reading.country in (None, rest_country):
                    readings.append(replace(reading, country=rest_country))
            else:
                readings.append(replace(reading, town=normalize(rest)))
        return readings

    @staticmethod
    def _postcode_place(row, shown: str, countries: Countries) -> Place:
        """A Place for a stored postal code, labelled like "Manchester M1, United Kingdom"."""
        if row["cc"] == "US":
            label = f"{row['place']}, {row['region']} {row['code']}, US"
            region, code = row["region"], row["code"]
        else:
            # "Downtown Toronto (CN Tower / King and Spadina / ...)" reads as "Downtown Toronto".
            label = f"{row['place'].split(' (')[0]} {shown}, {countries.country_name(row['cc'])}"
            region, code = "", shown
        return Place(
            label, row["lat"], row["lon"], city=row["place"], region=region, postal_code=code, country=row["cc"]
        )

    def _town(self, name: str, qualifier: str, countries: Countries) -> Place | None:
        """The most populous town called `name` (in the country or US state `qualifier`), with the others."""
        key = normalize(name)
        state = countries.state_code(qualifier)
        country = countries.country_code(qualifier)
        found, named_so = [], []
        for city in get_store().cities(key):
            in_state = state and city["cc"] == "US" and city["admin1"] == state
            if qualifier and not (in_state or (country and city["cc"] == country)):
                continue
            region = city["admin1"] if city["cc"] == "US" else ""
            label = ", ".join(p for p in (city["name"], region, countries.country_name(city["cc"])) if p)
            place = Place(label, city["lat"], city["lon"], city=city["name"], region=region, country=city["cc"])
            found.append(place)
            named_so.append(normalize(city["name"]) == key)
        if not found:
            return None
        # Offered instead: towns of that very name ("Springfield"), not those that merely answer
        # to it ("Springfield Gardens", or "Parys" once spelt "Paris").
        others = [p for p, exact in zip(found[1:], named_so[1:]) if exact]
        return _with_alternatives(list(dict.fromkeys([found[0], *others])))

    def _town_then_region(self, text: str, countries: Countries) -> Place | None:
        """ "Boulder Colorado", "Paris France": a town followed by its state or country, without a comma."""
        words = text.split()
        for size in range(1, min(MAX_QUALIFIER_WORDS, len(words) - 1) + 1):
            qualifier = " ".join(words[-size:])
            if countries.is_qualifier(qualifier):
                place = self._town(" ".join(words[:-size]), qualifier, countries)
                if place is not None:
                    return place
        return None


def _with_alternatives(found: list[Place]) -> Place:
    """The first place, carrying the next few as alternatives."""
    first, others = found[0], tuple(found[1 : MAX_ALTERNATIVES + 1])
    if not others:
        return first
    return Place(**{**first.__dict__, "alternatives": others})
