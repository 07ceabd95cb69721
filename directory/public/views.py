"""Public pages: home, search results, practitioner profiles, patient guidance."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request, send_from_directory, session, url_for
from flask_wtf.csrf import generate_csrf
from wtforms import SelectChoice
from xstatic.pkg import leaflet, leaflet_markercluster

from directory.config import OSM_ATTRIBUTION, OSM_TILE_URL
from directory.extensions import db
from directory.languages import canonical_name
from directory.models import CertifyingBody
from directory.practitioners.hours import hours_by_day
from directory.practitioners.lookups import all_conditions, get_listed_practitioner_or_404
from directory.practitioners.profile_links import results_url
from directory.practitioners.rules import GENDERS
from directory.public import page_cache
from directory.public.forms import SearchForm
from directory.public.languages import listed_languages
from directory.public.shortlist import saved_ids
from directory.public.suggestions import FILTER_PARAMS, active_filter_count, filter_offers, miles_or_km, wider_offer
from directory.safe_urls import safe_next
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
    """The search form filled from the query string, its choices from the database.

    The language is shown by its English name whatever spelling the link used ("Español" selects
    Spanish), and a language or session length not among the choices is added so the form shows it.
    """
    form = SearchForm(request.args)
    form.condition.choices = [SelectChoice(c.slug, c.name) for c in all_conditions()]
    languages = listed_languages()
    form.language.data = canonical_name(request.args.get("language", "")) or ""
    form.language.choices = [SelectChoice("", "Any language")] + [
        SelectChoice(name) for name in sorted({*languages, form.language.data} - {""})
    ]
    minutes = form.session_minutes.data or ""
    if minutes.isdigit() and minutes not in {choice.value for choice in form.session_minutes.choices}:
        form.session_minutes.choices = [*form.session_minutes.choices, SelectChoice(minutes, f"{minutes} minutes")]
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
    """Search results, nearest first; without a place, the form and how to search.

    The body of a page that answered 200 is kept for the next visitor asking the same search
    (public/page_cache.py); each answer fills in the visitor's own shortlist and CSRF token.
    """
    key, entry = page_cache.lookup()
    if entry is None:
        entry = _draw_search_page()
        page_cache.keep(key, entry)
    body = page_cache.fill(entry, saved_ids(session), generate_csrf())
    page = render_template("public/search.html", body=body, page_title=entry.title, has_hits=entry.has_hits)
    return page, entry.status


def _draw_search_page() -> page_cache.Entry:
    """Run the search the query string asks for and draw the page's body (with holes)."""
    form = _search_form()
    page = {"form": form, "error": None, "parsed": None, "result": None, "filters_active": 0}
    page["filter_params"] = FILTER_PARAMS  # what "Clear all filters" takes off the query string
    page["save_button_hole"] = page_cache.save_button_hole
    status, title, shortlist_href = 200, "Find a practitioner", None
    try:
        page["filters_active"] = active_filter_count(request.args)
        parsed = parse_search_args(request.args)
    except SearchError as error:
        page["error"], status, parsed = str(error), 400, None
    if parsed is not None:
        result = search_practitioners(parsed.query)
        _show_searched_radius(form, parsed)
        args = request.args.to_dict(flat=False)
        page.update(parsed=parsed, result=result, factor=miles_or_km(parsed), args=args)
        title = "Practitioners " + ("near your location" if parsed.by_coordinates else f"near {parsed.place.label}")
        # Each card's profile link carries this search, so the profile's "Back to results" returns here.
        page["search_url"] = request.full_path
        if result.past_last_page:
            page["last_page_args"] = dict(args, page=[str(result.pages)])
            status = 404
        else:
            page["map_data"] = results_map(result, parsed, page["factor"])
            page["first_number"] = page["map_data"]["markers"][0]["number"] if result.hits else 1
            if result.count == 0:
                page.update(offers=filter_offers(parsed, args), wider=wider_offer(parsed, args))
            query = parsed.query
            shortlist_href = url_for(
                "public.shortlist",
                lat=query.latitude,
                lon=query.longitude,
                unit=parsed.unit,
                **{"from": page["search_url"]},
            )
    has_hits = bool(page["result"] is not None and page["result"].hits and status == 200)
    return page_cache.draw(
        lambda: render_template("public/_search_body.html", **page), status, title, has_hits, shortlist_href
    )


def distances_from_search(locations) -> tuple[str, dict[int, float]]:
    """(unit, {location id: distance}) from the searched point a link carried (`lat`, `lon`, `unit`).

    Without a valid point the distances are empty: the page simply does not show them.
    """
    unit = "mi" if request.args.get("unit") == "mi" else "km"
    try:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
    except (KeyError, ValueError):
        return unit, {}
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return unit, {}
    factor = 1 / KM_PER_MILE if unit == "mi" else 1
    return unit, {loc.id: great_circle_km(lat, lon, loc.latitude, loc.longitude) * factor for loc in locations}


def back_to_results() -> str | None:
    """The search the visitor came from, for the profile's "Back to results" link, or None.

    `from` is the search's path and query ("/search?near=80302&..."), followed only when it is a
    path on this site leading to the search page. A bare query string (older links) or the Referer
    still work through `results_url`; an address with a scheme ("https:", "javascript:") is ignored.
    """
    target = request.args.get("from", "")
    if target.startswith("/"):
        local = safe_next(target)
        return local if local and urlsplit(local).path == url_for("public.search") else None
    if urlsplit(target).scheme:
        return None
    return results_url()


# The profile is also rendered by the enquiry form's answers (practitioners.enquiry_views): what
# it shows beyond the practitioner comes from these globals, not from this view's context.
bp.add_app_template_global(back_to_results)
bp.add_app_template_global(hours_by_day, "opening_hours_rows")
bp.add_app_template_global(GENDERS, "genders")


@bp.get("/practitioners/<int:practitioner_id>")
def profile(practitioner_id: int):
    """A practitioner's public profile, with distances from the searched place if any."""
    practitioner = get_listed_practitioner_or_404(practitioner_id)
    unit, distances = distances_from_search(practitioner.locations)
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
