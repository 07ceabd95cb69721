"""Placing a CSV row without coordinates: its address geocoded, most precise query first."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from directory.geocoding import Place

if TYPE_CHECKING:
    from directory.csv_io.parser import ParsedRow


def address_queries(row: ParsedRow) -> list[str]:
    """What to ask the geocoder, most precise first: a US ZIP code, the town, the whole address."""
    queries = []
    if row.postal_code and row.country in ("", "US"):
        queries.append(f"{row.postal_code}, US")
    if row.city:
        region = row.region if row.country == "US" else ""
        queries.append(", ".join(p for p in (row.city, region, row.country) if p))
    queries.append(", ".join(p for p in (row.address, row.city, row.region, row.postal_code, row.country) if p))
    return list(dict.fromkeys(queries))


def locate(row: ParsedRow, geocode: Callable[[str], Place | None]) -> None:
    """Set a row's coordinates from its address (ValueError when it cannot be found), filling blanks."""
    if not (row.address or row.city or row.postal_code):
        raise ValueError("give an address (city or postal code at least) or latitude and longitude")
    place = None
    for query in address_queries(row):
        place = geocode(query)
        if place is not None and (not row.country or not place.country or place.country == row.country):
            break
        place = None
    if place is None:
        raise ValueError("the address could not be geocoded: check it, or give latitude and longitude")
    row.latitude, row.longitude, row.geocoded = place.latitude, place.longitude, True
    row.country = row.country or place.country
    row.city = row.city or place.city
    row.region = row.region or place.region
    row.postal_code = row.postal_code or place.postal_code
