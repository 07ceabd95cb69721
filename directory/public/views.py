"""Public pages: home, search results, practitioner profiles, patient guidance."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from wtforms import SelectChoice
from xstatic.pkg import leaflet

from directory.extensions import db
from directory.models import CertifyingBody
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


def _search_form() -> SearchForm:
    form = SearchForm(request.args)
    form.condition.choices = [SelectChoice(c.slug, c.name) for c in all_conditions()]
    return form


@bp.get("/")
def home():
    """The home page: a search box and what to look for in a practitioner."""
    return render_template("public/home.html", form=_search_form())


@bp.get("/search")
def search():
    """Search results, nearest first; without a place, the form and how to search."""
    form = _search_form()
    page = {"form": form, "error": None, "parsed": None, "result": None, "filters_active": 0}
    try:
        page["filters_active"] = active_filter_count(request.args)
        parsed = parse_search_args(request.args)
    except SearchError as error:
        return render_template("public/search.html", **dict(page, error=str(error))), 400
    if parsed is None:
        return render_template("public/search.html", **page)
    result = search_practitioners(parsed.query)
    args = request.args.to_dict(flat=False)
    page.update(parsed=parsed, result=result, factor=miles_or_km(parsed), args=args)
    if result.past_last_page:
        last = dict(args, page=[str(result.pages)])
        return render_template("public/search.html", **page, last_page_args=last), 404
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
