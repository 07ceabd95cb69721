"""The one practitioner search behind the HTML page and the JSON API.

- `geometry`: distances, the circle's bounding and inscribed boxes, latitude bands;
- `params`: the limits and units, and the query string parsed into a `SearchQuery`;
- `engine`: the SQL statements (built once, run with bound parameters) and the search steps;
- `results`: the read-only result shapes and the queries that load a page of them.

Import from here: `from directory.search import parse_search_args, search_practitioners`.
"""

from directory.search.engine import (
    DEFAULT_COUNT_LIMIT,
    ROWS_PER_PRACTITIONER,
    count_limit,
    search_practitioners,
)
from directory.search.geometry import EARTH_RADIUS_KM, NO_BOX, bounding_box, great_circle_km, inner_box, latitude_bands
from directory.search.params import (
    DEFAULT_PER_PAGE,
    DEFAULT_RADIUS_KM,
    FALSE_WORDS,
    GENDERS,
    KM_PER_MILE,
    MAX_FEE,
    MAX_LANGUAGE_LENGTH,
    MAX_NEAR_LENGTH,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_RADIUS_KM,
    MAX_SESSION_MINUTES,
    SINGLE_VALUED,
    SORTS,
    TRUE_WORDS,
    ParsedSearch,
    SearchError,
    SearchQuery,
    parse_search_args,
)
from directory.search.results import (
    BodyView,
    CertificationView,
    ConditionView,
    LocationView,
    PractitionerView,
    SearchHit,
    SearchResult,
    load_hits,
    taxonomy,
)

__all__ = [
    "DEFAULT_COUNT_LIMIT",
    "DEFAULT_PER_PAGE",
    "DEFAULT_RADIUS_KM",
    "EARTH_RADIUS_KM",
    "FALSE_WORDS",
    "GENDERS",
    "KM_PER_MILE",
    "MAX_FEE",
    "MAX_LANGUAGE_LENGTH",
    "MAX_NEAR_LENGTH",
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "MAX_RADIUS_KM",
    "MAX_SESSION_MINUTES",
    "NO_BOX",
    "ROWS_PER_PRACTITIONER",
    "SINGLE_VALUED",
    "SORTS",
    "TRUE_WORDS",
    "BodyView",
    "CertificationView",
    "ConditionView",
    "LocationView",
    "ParsedSearch",
    "PractitionerView",
    "SearchError",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "bounding_box",
    "count_limit",
    "great_circle_km",
    "inner_box",
    "latitude_bands",
    "load_hits",
    "parse_search_args",
    "search_practitioners",
    "taxonomy",
]
