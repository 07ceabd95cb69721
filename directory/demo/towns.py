"""Where demo practitioners live: towns by population, ZIP codes, regions, street addresses.

Towns come from the offline gazetteer, chosen by population in countries where craniosacral
therapy is practised.
"""

from __future__ import annotations

import functools
import math
import random

from directory.demo.data import AU_STATES, CA_PROVINCES, COUNTRY_SHARE, STREET_KINDS, STREETS
from directory.geocoding import get_gazetteer


@functools.cache
def _towns() -> dict[str, tuple[list[dict], list[float]]]:
    """Per country: its towns and their cumulative population weights."""
    gaz = get_gazetteer()
    towns: dict[str, tuple[list[dict], list[float]]] = {}
    for cc in COUNTRY_SHARE:
        cities = [c for c in gaz.cities if c["cc"] == cc and c["population"] > 0]
        cities.sort(key=lambda c: (-c["population"], c["name"], c["lat"]))
        cum, total = [], 0.0
        for city in cities:
            total += city["population"]
            cum.append(total)
        towns[cc] = (cities, cum)
    return towns


def sample_towns(rng: random.Random, n: int) -> list[dict]:
    """n towns where people live: a country by its share, then a town by population."""
    towns = _towns()
    countries = rng.choices(list(COUNTRY_SHARE), weights=list(COUNTRY_SHARE.values()), k=n)
    picked = []
    for cc in countries:
        cities, cum = towns[cc]
        picked.append(rng.choices(cities, cum_weights=cum)[0])
    return picked


@functools.cache
def us_zips() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(city, state) -> [(ZIP code, area code)] for standard US ZIP codes."""
    import zipcodes

    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for z in zipcodes.list_all():
        if z["zip_code_type"] == "STANDARD":
            area = (z.get("area_codes") or ["555"])[0]
            found.setdefault((z["city"].lower(), z["state"]), []).append((z["zip_code"], area))
    return found


def jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    """A point uniformly spread within km of (lat, lon)."""
    r = km * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    new_lat = max(-89.9, min(89.9, lat + r * math.cos(theta) / 111.2))
    new_lon = lon + r * math.sin(theta) / (111.2 * max(0.05, math.cos(math.radians(lat))))
    new_lon = (new_lon + 180) % 360 - 180
    return round(new_lat, 6), round(new_lon, 6)


def region_of(town: dict) -> str:
    """The town's state or province code as people write it ("CO", "ON", "NSW"); empty elsewhere."""
    cc, code = town["cc"], town["admin1"]
    if cc == "US":
        return code
    return {"CA": CA_PROVINCES, "AU": AU_STATES}.get(cc, {}).get(code, "")


def street_address(rng: random.Random, cc: str) -> str:
    """A street address in the country's usual form."""
    street = rng.choice(STREETS)
    number = rng.randint(1, 2400 if cc in ("US", "CA", "AU") else 180)
    if cc in ("DE", "AT", "CH"):
        return f"{street}straße {number}"
    if cc in ("NL", "BE", "SE", "NO"):
        return f"{street}laan {number}"
    return f"{number} {street} {rng.choice(STREET_KINDS)}"
