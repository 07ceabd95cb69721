"""Geocoding: an offline gazetteer by default, a real geopy service when configured.

Both are geopy geocoders (``geocode(query, exactly_one=True)`` returning
``geopy.location.Location``); `geocode()` is what the rest of the site calls. One module per job:

- ``places``: the Place answered (with its ``alternatives``) and name folding;
- ``gazetteer``: country and state names, and the in-memory city list for demo data;
- ``store``: the indexed SQLite store of cities and postal codes, built from PyPI packages' data;
- ``postcodes``: postal-code formats and the countries they belong to;
- ``offline``: the offline geocoder; ``service``: an online one, rate-limited and cached;
- ``selection``: the choice by the GEOCODER setting, and ``geocode()``.
"""

from directory.geocoding.gazetteer import Countries, Gazetteer, get_countries, get_gazetteer
from directory.geocoding.offline import OfflineGeocoder
from directory.geocoding.places import COUNTRY_ALIASES, US_STATES, Place, normalize
from directory.geocoding.postcodes import looks_like_postcode
from directory.geocoding.selection import geocode, make_geocoder, prepare_geocoder
from directory.geocoding.service import CachedServiceGeocoder
from directory.geocoding.store import build_store, get_store, store_path

__all__ = [
    "COUNTRY_ALIASES",
    "US_STATES",
    "CachedServiceGeocoder",
    "Countries",
    "Gazetteer",
    "OfflineGeocoder",
    "Place",
    "build_store",
    "geocode",
    "get_countries",
    "get_gazetteer",
    "get_store",
    "looks_like_postcode",
    "make_geocoder",
    "normalize",
    "prepare_geocoder",
    "store_path",
]
