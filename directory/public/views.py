"""Public pages: home, search results, practitioner profiles, patient guidance."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, send_from_directory
from wtforms import SelectChoice
from xstatic.pkg import leaflet, leaflet_markercluster

from directory.config import OSM_ATTRIBUTION, OSM_TILE_URL
from directory.extensions import db
from directory.models import CertifyingBody, Practitioner
from directory.practitioners.lookups import all_conditions, get_listed_practitioner_or_404
from directory.public.forms import SearchForm
from directory.public.suggestions import active_filter_count, filter_offers, miles_or_km, wider_offer
from directory.search import (
    KM_PER_MILE,
    SearchError,
    great_circle_km,
    parse_search_args,
    search_practitioners,
)

bp = Blueprint("public", __name__)
# Leaflet is served from the XStatic-Leaflet package, never from a CDN.
leaflet_bp = Blueprint("leaflet", __name__, static_folder=leaflet.BASE_DIR, static_url_path="/vendor/leaflet")


@leaflet_bp.get("/vendor/leaflet-markercluster/<path:filename>")
def markercluster(filename: str):
    """Leaflet.markercluster's files, from the XStatic-Leaflet-MarkerCluster package."""
    return send_from_directory(leaflet_markercluster.BASE_DIR, filename, max_age=86400)


def card_details(result) -> dict[int, dict]:
    """What each result card shows beyond the search row: contact, session, fees, languages, access."""
    ids = [hit.practitioner.id for hit in result.hits]
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(
            Practitioner.id,
            Practitioner.phone,
            Practitioner.session_minutes,
            Practitioner.fee_min,
            Practitioner.fee_max,
            Practitioner.currency,
            Practitioner.languages,
            Practitioner.wheelchair_accessible,
        ).where(Practitioner.id.in_(ids))
    )
    details = {}
    for row in rows:
        fees = sorted({fee for fee in (row.fee_min, row.fee_max) if fee is not None})
        details[row.id] = {
            "phone": (row.phone or "").strip(),
            "tel": "".join(ch for ch in (row.phone or "") if ch.isdigit() or ch == "+"),
            "session_minutes": row.session_minutes,
            "fees": "–".join(f"{fee:,}" for fee in fees),
            "currency": row.currency or "",
            "languages": [name.strip() for name in (row.languages or "").split(",") if name.strip()],
            "wheelchair_accessible": bool(row.wheelchair_accessible),
        }
    return details


def results_map(result, parsed, factor: float) -> dict:
    """What the results map needs, ready for a JSON data block: tiles and one numbered marker a result."""
    first = (parsed.query.page - 1) * parsed.query.per_page + 1
    unit = "mi" if parsed.unit == "mi" else "km"
    markers = [
        {
            "number": first + index,
            "card": f"result-{first + index}",
            "name": hit.practitioner.display_name,
            "lat": hit.location.latitude,
            "lon": hit.location.longitude,
            "distance": f"{hit.distance_km * factor:.1f} {unit}",
        }
        for index, hit in enumerate(result.hits)
    ]
    config = current_app.config
    tiles, attribution = config.get("MAP_TILE_URL", OSM_TILE_URL), config.get("MAP_ATTRIBUTION", OSM_ATTRIBUTION)
    return {"tiles": tiles, "attribution": attribution, "markers": markers}


def _search_form() -> SearchForm:
    form = SearchForm(request.args)
    form.condition.choices = [SelectChoice(c.slug, c.name) for c in all_conditions()]
    return form


@bp.get("/")
def home():
    """The home page: a search box and what to look for in a practitioner."""
    return render_template("public/home.html", form=_search_form())


def _show_searched_radius(form: SearchForm, parsed) -> None:
    """The form shows the radius and unit the results were found with (50 km when a link gave none)."""
    form.unit.data = parsed.unit
    shown = f"{parsed.radius:g}"
    if shown in {choice.value for choice in form.radius.choices}:
        form.radius.data = shown


@bp.get("/search")
def search():
    """Search results, nearest first; without a place, the form and how to search."""
    form = _search_form()
    page = {"form": form, "error": None, "parsed": None, "result": None, "filters_active": 0, "details": {}}
    try:
        page["filters_active"] = active_filter_count(request.args)
        parsed = parse_search_args(request.args)
    except SearchError as error:
        return render_template("public/search.html", **dict(page, error=str(error))), 400
    if parsed is None:
        return render_template("public/search.html", **page)
    result = search_practitioners(parsed.query)
    _show_searched_radius(form, parsed)
    args = request.args.to_dict(flat=False)
    page.update(parsed=parsed, result=result, factor=miles_or_km(parsed), args=args)
    if result.past_last_page:
        last = dict(args, page=[str(result.pages)])
        return render_template("public/search.html", **page, last_page_args=last), 404
    page["map_data"] = results_map(result, parsed, page["factor"])
    page["details"] = card_details(result)
    page["first_number"] = page["map_data"]["markers"][0]["number"] if result.hits else 1
    if result.count == 0:
        page.update(offers=filter_offers(parsed, args), wider=wider_offer(parsed, args))
    return render_template("public/search.html", **page)


@bp.get("/practitioners/<int:practitioner_id>")
def profile(practitioner_id: int):
    """A practitioner's public profile, with distances from the searched place if any."""
    practitioner = get_listed_practitioner_or_404(practitioner_id)
    distances = {}
    unit = "mi" if request.args.get("unit") == "mi" else "km"
    try:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            factor = 1 / KM_PER_MILE if unit == "mi" else 1
            distances = {
                loc.id: great_circle_km(lat, lon, loc.latitude, loc.longitude) * factor
                for loc in practitioner.locations
            }
    except (KeyError, ValueError):
        pass
    return render_template("public/profile.html", practitioner=practitioner, distances=distances, unit=unit)


@bp.get("/about/choosing-a-practitioner")
def guidance():
    """What to expect from craniosacral therapy and how to choose a practitioner."""
    return render_template("public/guidance.html")


@bp.get("/how-we-verify")
def how_we_verify():
    """How we verify practitioners: each body's credentials, what Verified means and does not."""
    bodies = db.session.execute(db.select(CertifyingBody).order_by(CertifyingBody.name)).scalars().all()
    return render_template("public/how_we_verify.html", bodies=bodies)


from directory.public import shortlist_views  # noqa: E402,F401
