"""Search parameters: the limits, the units, and the parsing of a query string into a SearchQuery.

The page and the API read the same parameters through `parse_search_args`, so both accept and
refuse the same input with the same message.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from directory.geocoding import Place, geocode, looks_like_postcode
from directory.languages import english_name, language_code
from directory.practitioners import rules
from directory.search.results import ConditionView, taxonomy

KM_PER_MILE = 1.609344
# The widest search, here and in every offer of a wider one.
MAX_RADIUS_KM = 500.0
DEFAULT_RADIUS_KM = 50.0
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_PAGE = 10_000
MAX_NEAR_LENGTH = 200
MAX_LANGUAGE_LENGTH = 40
# fee_max: whole currency units up to the highest fee a profile may state; session_minutes: up
# to the longest session a profile may state (the profile rules' limits).
MAX_FEE = rules.FEE_LIMITS[1]
MAX_SESSION_MINUTES = rules.SESSION_MINUTES[1]
SORTS = ("distance", "name", "verified")
GENDERS = tuple(rules.GENDERS)
# A whole number as typed in a query string: ASCII digits only ("٥" and "1_000" are refused).
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,12}", re.ASCII)

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}

SINGLE_VALUED = (
    "lat",
    "lon",
    "near",
    "radius",
    "radius_km",
    "unit",
    "verified",
    "accepting",
    "language",
    "page",
    "per_page",
    "fee_max",
    "session_minutes",
    "wheelchair",
    "gender",
    "sort",
)


class SearchError(ValueError):
    """Bad search input; the message says what is wrong and is safe to show."""


@dataclass
class SearchQuery:
    """A validated search: where, how far, and the filters."""

    latitude: float
    longitude: float
    radius_km: float = DEFAULT_RADIUS_KM
    conditions: list[ConditionView] = field(default_factory=list)
    verified_only: bool = False
    accepting_only: bool = False
    # The language's English name ("Spanish") for headings; language_code ("es") is what matches.
    language: str = ""
    language_code: str = ""
    # Fees from at most this much (in the practitioner's currency); None = no fee filter.
    fee_max: int | None = None
    # Sessions of at least this many minutes; None = no filter.
    session_minutes: int | None = None
    wheelchair_only: bool = False
    gender: str | None = None
    sort: str = "distance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def condition_mask(self) -> int:
        """The bits every result's location must carry."""
        mask = 0
        for condition in self.conditions:
            mask |= condition.mask
        return mask


@dataclass
class ParsedSearch:
    """A search parsed from a query string, with the place it was centred on."""

    query: SearchQuery
    place: Place
    unit: str
    radius: float
    # Centred on lat/lon with no place name ("Use my location"): headed "near your location".
    by_coordinates: bool = False


def _flag(args, name: str) -> bool:
    """A yes/no parameter: 1/0, true/false, yes/no, on/off, or empty; anything else is an error."""
    value = (args.get(name) or "").lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise SearchError(f"{name} must be 1 or 0")


def _number(args, name: str, default: float | None = None) -> float | None:
    """A finite number, or the default when the parameter is missing or blank."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SearchError(f"{name} must be a number") from None
    if not math.isfinite(value):
        raise SearchError(f"{name} must be a finite number")
    return value


def _integer(args, name: str, default: int) -> int:
    """A whole number, or the default when the parameter is missing or blank."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SearchError(f"{name} must be a whole number") from None


def _place(args) -> Place | None:
    """The centre: ``lat``+``lon`` (named by ``near`` if given), else ``near`` geocoded; None when neither."""
    lat = _number(args, "lat")
    lon = _number(args, "lon")
    near = (args.get("near") or "").strip()
    if (lat is None) != (lon is None):
        raise SearchError("lat and lon must be given together")
    if lat is not None:
        if not -90 <= lat <= 90:
            raise SearchError("lat must be between -90 and 90")
        if not -180 <= lon <= 180:
            raise SearchError("lon must be between -180 and 180")
        return Place(near or f"{lat:.4f}, {lon:.4f}", lat, lon)
    if not near:
        return None
    if len(near) > MAX_NEAR_LENGTH:
        raise SearchError(f"near is too long (at most {MAX_NEAR_LENGTH} characters)")
    place = geocode(near)
    if place is None:
        if looks_like_postcode(near.split(",")[0]):
            raise SearchError(
                f"We could not find the postcode {near!r}. Check it, add the country (for example "
                "'2000, Australia'), or try the town instead."
            )
        raise SearchError(f"We could not find the place {near!r}. Try a postcode, a town, or 'town, country'.")
    return place


def _radius(args, unit: str) -> tuple[float, float, str]:
    """(radius as asked, radius in km, unit shown): ``radius_km``, or ``radius`` in ``unit``."""
    radius_km = _number(args, "radius_km")
    if radius_km is not None:
        radius = radius_km
        unit = "km" if args.get("unit") is None else unit
    else:
        radius = _number(args, "radius", DEFAULT_RADIUS_KM if unit == "km" else round(DEFAULT_RADIUS_KM / KM_PER_MILE))
        radius_km = radius * (KM_PER_MILE if unit == "mi" else 1)
    if radius <= 0:
        raise SearchError("radius must be greater than 0")
    if radius_km > MAX_RADIUS_KM + 1e-9:
        raise SearchError(f"radius must be at most {MAX_RADIUS_KM:g} km ({MAX_RADIUS_KM / KM_PER_MILE:.0f} mi)")
    return radius, radius_km, unit


def _conditions(args) -> list[ConditionView]:
    """The conditions named by the repeatable ``condition`` slug, each once, in the order given."""
    slugs = [s.strip() for s in args.getlist("condition") if s.strip()] if hasattr(args, "getlist") else []
    if not slugs:
        return []
    found = {c.slug: c for c in taxonomy()}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise SearchError(f"unknown condition: {', '.join(unknown[:5])}"[:300])
    return [found[s] for s in dict.fromkeys(slugs)]


def _paging(args) -> tuple[int, int]:
    """(page, per_page): page from 1, at most MAX_PER_PAGE per page."""
    page = _integer(args, "page", 1)
    if page < 1:
        raise SearchError("page must be 1 or more")
    per_page = _integer(args, "per_page", DEFAULT_PER_PAGE)
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise SearchError(f"per_page must be between 1 and {MAX_PER_PAGE}")
    if page > MAX_PAGE:
        raise SearchError("page is too large")
    return page, per_page


def _bounded_whole(args, name: str, low: int, high: int, unit: str = "") -> int | None:
    """A whole number from low to high (``unit`` names what it counts), or None when missing or blank."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    if not WHOLE_NUMBER.fullmatch(text):
        if re.fullmatch(r"[+-]?[0-9]+", text, re.ASCII):  # too many digits to be in range
            raise SearchError(f"{name} must be between {low} and {high}{unit}")
        raise SearchError(f"{name} must be a whole number{unit and ' of' + unit}")
    value = int(text)
    if not low <= value <= high:
        raise SearchError(f"{name} must be between {low} and {high}{unit}")
    return value


def _language(args) -> tuple[str, str]:
    """(English name, subtag) of ``language`` in any spelling ("Español", "spanish", "es"); ("", "") when blank."""
    language = (args.get("language") or "").strip()
    if not language:
        return "", ""
    if len(language) > MAX_LANGUAGE_LENGTH:
        raise SearchError("language is too long")
    code = language_code(language)
    if code is None:
        raise SearchError(f"unknown language {language!r}: use its name (Spanish, Español) or its code (es)")
    return english_name(code), code


def _gender(args) -> str | None:
    """``gender`` by the profile's own rule (female, male, nonbinary; "non-binary" too); None when blank."""
    try:
        return rules.gender(args.get("gender"))
    except rules.FieldError:
        raise SearchError(f"gender must be one of: {', '.join(GENDERS)}") from None


def _sort(args) -> str:
    """``sort``: distance (the default), name or verified."""
    value = (args.get("sort") or "").strip().lower() or SORTS[0]
    if value not in SORTS:
        raise SearchError(f"sort must be one of: {', '.join(SORTS)}")
    return value


def parse_search_args(args) -> ParsedSearch | None:
    """Validate search parameters (a query-string mapping); None when no location was given.

    Accepts ``lat``+``lon`` or ``near``; ``radius_km``, or ``radius`` with ``unit`` (km|mi);
    ``condition`` (repeatable slug); ``verified``, ``accepting``, ``wheelchair`` (1/0);
    ``language`` (any spelling); ``fee_max`` (whole units); ``session_minutes`` (at least);
    ``gender`` (female|male|nonbinary); ``sort`` (distance|name|verified);
    ``page`` (from 1) and ``per_page`` (at most 100). Raises SearchError on bad input, even
    when no location was given.
    """
    if hasattr(args, "getlist"):
        for name in SINGLE_VALUED:
            if len(args.getlist(name)) > 1:
                raise SearchError(f"{name} may be given only once")
    unit = (args.get("unit") or "km").strip().lower()
    if unit not in {"km", "mi"}:
        raise SearchError("unit must be km or mi")
    place = _place(args)
    radius, radius_km, unit = _radius(args, unit)
    conditions = _conditions(args)
    page, per_page = _paging(args)
    language, code = _language(args)
    verified = _flag(args, "verified")
    accepting = _flag(args, "accepting")
    wheelchair = _flag(args, "wheelchair")
    fee_max = _bounded_whole(args, "fee_max", 0, MAX_FEE)
    session_minutes = _bounded_whole(args, "session_minutes", 1, MAX_SESSION_MINUTES, " minutes")
    gender = _gender(args)
    sort = _sort(args)
    if place is None:
        return None
    query = SearchQuery(
        latitude=place.latitude,
        longitude=place.longitude,
        radius_km=radius_km,
        conditions=conditions,
        verified_only=verified,
        accepting_only=accepting,
        language=language,
        language_code=code,
        fee_max=fee_max,
        session_minutes=session_minutes,
        wheelchair_only=wheelchair,
        gender=gender,
        sort=sort,
        page=page,
        per_page=per_page,
    )
    by_coordinates = not (args.get("near") or "").strip() and _number(args, "lat") is not None
    return ParsedSearch(query=query, place=place, unit=unit, radius=radius, by_coordinates=by_coordinates)
