"""What the search page offers when a search finds nothing: drop one filter, or look further.

Each offer runs the same `search_practitioners` without one filter (or with twice the radius),
one result per page: the counts stop at the search's count limit, so each costs little.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from directory.practitioners.rules import GENDERS
from directory.search import KM_PER_MILE, MAX_RADIUS_KM, ParsedSearch, SearchQuery, search_practitioners


@dataclass
class Offer:
    """A link that changes the search, what it changes, and how many practitioners it would show."""

    label: str
    args: dict[str, list[str]]
    count: int
    count_exact: bool = True
    # The filter the offer drops, as the Filters control names it ("" for a wider radius).
    filter_name: str = ""


def _count(query: SearchQuery) -> tuple[int, bool]:
    """How many practitioners a search finds (a lower bound when not exact), loading one result."""
    result = search_practitioners(replace(query, page=1, per_page=1))
    return result.count, result.count_exact


def _without(args: dict[str, list[str]], name: str, value: str | None = None) -> dict[str, list[str]]:
    """The query string without a parameter (or one of its values), back on page 1."""
    changed = {k: list(v) for k, v in args.items() if k != "page"}
    if value is None:
        changed.pop(name, None)
    else:
        changed[name] = [v for v in changed.get(name, []) if v != value]
    return changed


# The query-string parameters that filter the results (the Filters control counts and clears them;
# `sort` only orders them).
FILTER_PARAMS = ("condition", "verified", "accepting", "wheelchair", "language", "fee_max", "session_minutes", "gender")
FLAG_PARAMS = ("verified", "accepting", "wheelchair")


def active_filter_count(args) -> int:
    """How many filters the query string sets (each condition counts once): the Filters control shows it."""
    conditions = {s.strip() for s in args.getlist("condition") if s.strip()}
    flags = sum((args.get(name) or "").strip().lower() in {"1", "true", "yes", "on"} for name in FLAG_PARAMS)
    valued = sum(bool((args.get(name) or "").strip()) for name in ("language", "fee_max", "session_minutes", "gender"))
    return len(conditions) + flags + valued


def filter_offers(parsed: ParsedSearch, args: dict[str, list[str]]) -> list[Offer]:
    """One offer per active filter that drops it, the one that frees the most results first."""
    query = parsed.query
    offers = []
    for condition in query.conditions:
        others = [c for c in query.conditions if c.slug != condition.slug]
        count = _count(replace(query, conditions=others))
        label = f"Any focus, not only “{condition.name}”"
        offers.append(Offer(label, _without(args, "condition", condition.slug), *count, condition.name))
    if query.verified_only:
        count = _count(replace(query, verified_only=False))
        offers.append(
            Offer(
                "Include credentials not yet verified", _without(args, "verified"), *count, "Verified credentials only"
            )
        )
    if query.accepting_only:
        count = _count(replace(query, accepting_only=False))
        label = "Include practitioners not accepting new patients"
        offers.append(Offer(label, _without(args, "accepting"), *count, "Accepting new patients"))
    if query.wheelchair_only:
        count = _count(replace(query, wheelchair_only=False))
        label = "Include places without wheelchair access"
        offers.append(Offer(label, _without(args, "wheelchair"), *count, "Wheelchair accessible"))
    if query.language:
        count = _count(replace(query, language="", language_code=""))
        label = f"Any language, not only “{query.language}”"
        offers.append(Offer(label, _without(args, "language"), *count, f"Language: {query.language}"))
    if query.fee_max is not None:
        count = _count(replace(query, fee_max=None))
        label = f"Any fee, not only up to {query.fee_max:,}"
        offers.append(Offer(label, _without(args, "fee_max"), *count, f"Maximum fee {query.fee_max:,}"))
    if query.session_minutes is not None:
        count = _count(replace(query, session_minutes=None))
        label = f"Any session length, not only {query.session_minutes} minutes or more"
        name = f"Session length at least {query.session_minutes} minutes"
        offers.append(Offer(label, _without(args, "session_minutes"), *count, name))
    if query.gender:
        count = _count(replace(query, gender=None))
        shown = GENDERS.get(query.gender, query.gender)
        label = f"Any practitioner gender, not only {shown.lower()}"
        offers.append(Offer(label, _without(args, "gender"), *count, f"Practitioner gender: {shown}"))
    return sorted(offers, key=lambda offer: -offer.count)


def wider_offer(parsed: ParsedSearch, args: dict[str, list[str]]) -> Offer | None:
    """Twice the radius, when that stays within the widest search allowed."""
    if parsed.query.radius_km * 2 > MAX_RADIUS_KM:
        return None
    changed = _without(args, "radius_km")
    changed.pop("page", None)
    changed["radius"] = [f"{parsed.radius * 2:g}"]
    if "radius_km" in args:
        changed["unit"] = [parsed.unit]
    count = _count(replace(parsed.query, radius_km=parsed.query.radius_km * 2))
    unit = "miles" if parsed.unit == "mi" else "km"
    return Offer(f"Search within {parsed.radius * 2:g} {unit} instead", changed, *count)


def miles_or_km(parsed: ParsedSearch) -> float:
    """The factor from km to the unit the searcher reads."""
    return 1 / KM_PER_MILE if parsed.unit == "mi" else 1
