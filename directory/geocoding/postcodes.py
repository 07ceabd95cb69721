"""Postal-code formats: which countries a code could belong to, and the key it is stored under.

UK, Irish and Canadian codes have shapes of their own and need no country. Numeric codes are
shared by many countries: "2000, Australia" narrows one; without a country a five-digit code is
a US ZIP code first (as the site always did), and the other countries are offered as alternatives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from directory.geocoding.places import normalize

# ASCII digits only: other Unicode digits are no postal code (and once crashed zipcodes' core).
UK_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)(?:\s*([0-9][A-Z]{2}))?", re.ASCII)
EIRCODE = re.compile(r"([AC-FHKNPRTV-Y][0-9]{2}|D6W)(?:\s*([0-9AC-FHKNPRTV-Y]{4}))?", re.ASCII)
CANADIAN = re.compile(r"([A-Z][0-9][A-Z])(?:\s*([0-9][A-Z][0-9]))?", re.ASCII)
DUTCH = re.compile(r"([1-9][0-9]{3})\s*([A-Z]{2})", re.ASCII)
US_ZIP = re.compile(r"([0-9]{5})(?:-[0-9]{4})?", re.ASCII)
NUMERIC = re.compile(r"([0-9]{3,5}|[0-9]{3} [0-9]{2})", re.ASCII)
# Whole postcodes inside longer text: "10 Downing St, London SW1A 2AA".
US_ZIP_IN_TEXT = re.compile(r"\b([0-9]{5})(?:-[0-9]{4})?\b", re.ASCII)
UK_FULL_IN_TEXT = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b", re.ASCII)
CANADIAN_FULL_IN_TEXT = re.compile(r"\b([A-Z][0-9][A-Z])\s*([0-9][A-Z][0-9])\b", re.ASCII)

# Without a country, the order in which countries sharing a numeric code are offered.
NUMERIC_PRIORITY = (
    "US",
    "AU",
    "NZ",
    "DE",
    "FR",
    "NL",
    "DK",
    "NO",
    "SE",
    "FI",
    "IS",
    "AT",
    "CH",
    "BE",
    "LU",
    "ES",
    "IT",
)


@dataclass(frozen=True)
class Candidate:
    """One reading of a postal code: the country it would be in (None: any) and its stored key."""

    country: str | None
    key: str
    shown: str
    # "Frederiksberg 2000": the folded town name the code's place must bear ("" when none was given).
    town: str = ""


def _shown(match: re.Match) -> str:
    """The code as people write it: outward and inward parts with one space."""
    return " ".join(part for part in match.groups() if part)


def candidates(text: str) -> list[Candidate]:
    """The readings of text as a postal code, most likely first; [] when it has no postal-code shape."""
    code = " ".join(text.upper().split())
    found: list[Candidate] = []
    if match := UK_POSTCODE.fullmatch(code):
        found.append(Candidate("GB", match.group(1), _shown(match)))
    if match := EIRCODE.fullmatch(code):
        found.append(Candidate("IE", match.group(1), _shown(match)))
    if match := CANADIAN.fullmatch(code):
        found.append(Candidate("CA", match.group(1), _shown(match)))
    if match := DUTCH.fullmatch(code):
        found.append(Candidate("NL", match.group(1), _shown(match)))
    if match := US_ZIP.fullmatch(code):
        found.append(Candidate("US", match.group(1), code))
    if match := NUMERIC.fullmatch(code):
        found.append(Candidate(None, match.group(1).replace(" ", ""), code))
    return found


def candidates_after_town(text: str) -> list[Candidate]:
    """ "Frederiksberg 2000", "Stockholm 114 55": a town, then its postal code (how places are labelled)."""
    words = text.split()
    found = []
    for size in (2, 1):
        if len(words) > size:
            town = normalize(" ".join(words[:-size]))
            found += [replace(c, town=town) for c in candidates(" ".join(words[-size:]))]
    return found


def candidates_before_town(text: str) -> list[tuple[Candidate, str]]:
    """ "10115 Berlin", "114 55 Stockholm", "1012 AB Amsterdam", "2000 Australia": a postal code, then
    a town or a country (how addresses are written in much of Europe). Each reading comes with
    the words after the code, which the caller reads as a country or a town."""
    words = text.split()
    found = []
    for size in (2, 1):
        if len(words) > size:
            rest = " ".join(words[size:])
            found += [(c, rest) for c in candidates(" ".join(words[:size]))]
    return found


def same_town(typed: str, stored: str) -> bool:
    """Whether a folded town name names a stored place ("reykjavik" names "Reykjavík - 1")."""
    place = normalize(stored.split(" (")[0])
    return place == typed or place.startswith(typed + " ")


def candidates_in_text(text: str) -> list[Candidate]:
    """Whole postcodes inside an address ("Boulder, CO 80302"), for when no part is a postcode by itself."""
    upper = text.upper()
    found = [Candidate("US", m.group(1), m.group(0)) for m in US_ZIP_IN_TEXT.finditer(upper)]
    found += [Candidate("GB", m.group(1), _shown(m)) for m in UK_FULL_IN_TEXT.finditer(upper)]
    found += [Candidate("CA", m.group(1), _shown(m)) for m in CANADIAN_FULL_IN_TEXT.finditer(upper)]
    return found


def looks_like_postcode(text: str) -> bool:
    """True when text has the shape of a postal code (so "not found" can say "postcode")."""
    return bool(candidates(text))


def country_rank(country: str) -> int:
    """Where a country comes among those sharing a numeric code (unlisted countries last)."""
    return NUMERIC_PRIORITY.index(country) if country in NUMERIC_PRIORITY else len(NUMERIC_PRIORITY)
