"""Choosing the geocoder by the GEOCODER setting, and `geocode()`, what the rest of the site calls."""

from __future__ import annotations

import importlib
import re

from flask import current_app

from directory.geocoding.gazetteer import get_countries
from directory.geocoding.offline import OfflineGeocoder
from directory.geocoding.places import Place
from directory.geocoding.service import CachedServiceGeocoder
from directory.geocoding.store import get_store

# GEOCODER="package.module:ClassName": a geopy-style geocoder class of the operator's choice.
DOTTED_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


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
        return offline_geocoder()
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


_offline: OfflineGeocoder | None = None


def offline_geocoder() -> OfflineGeocoder:
    """The process-wide offline geocoder, with its store and the country names open.

    It holds no per-app state; building it (geopy sets up an HTTP adapter it never uses) and
    opening the store take tens of milliseconds, so it is done once, at app start.
    """
    global _offline
    if _offline is None:
        get_store()
        get_countries()
        _offline = OfflineGeocoder()
    return _offline


def prepare_geocoder(config: dict) -> None:
    """At app start, open the offline geocoder's data, so the first search is as fast as any other.

    The store is built first when it is missing (once per version of the data packages);
    online geocoders need nothing here.
    """
    if config.get("GEOCODER", "offline") == "offline":
        offline_geocoder()
