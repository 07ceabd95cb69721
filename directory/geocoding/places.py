"""What a geocoder answers (a Place, with the other places a name could mean) and name folding."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

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
    "united states of america": "US",
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "britain": "GB",
    "great britain": "GB",
    "northern ireland": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "deutschland": "DE",
    "eire": "IE",
    "republic of ireland": "IE",
}


@dataclass(frozen=True)
class Place:
    """A geocoded place, with the address parts the site stores.

    ``alternatives`` lists the other places the same words could mean (most populous first),
    for a "Did you mean ..." line; each is a Place without alternatives of its own.
    """

    label: str
    latitude: float
    longitude: float
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    alternatives: tuple[Place, ...] = ()

    def summary(self) -> dict:
        """The place as the API names it: ``{"name", "latitude", "longitude"}``."""
        return {"name": self.label, "latitude": self.latitude, "longitude": self.longitude}


def normalize(text: str) -> str:
    """Lower-case, strip accents and punctuation so "Zürich" matches "zurich"."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text.casefold())
    return re.sub(r"\s+", " ", text).strip()


def latin(name: str) -> bool:
    """True for names written in Latin script (with or without accents)."""
    return name.isascii() or all(ord(ch) < 0x250 for ch in name)
