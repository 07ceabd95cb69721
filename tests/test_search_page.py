"""The search page as a patient meets it: a start page, pages that exist, ways out of an empty result."""

from __future__ import annotations

import re
from datetime import date, timedelta

from directory.models import VerificationStatus
from tests.factories import CertificationFactory, PractitionerFactory

BOULDER = {"latitude": 40.02, "longitude": -105.27}


def text_of(html: str) -> str:
    """The page's words, without tags, on one line."""
    return re.sub(r" ([:.,)?])", r"\1", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_a_search_without_a_place_explains_how_to_search_and_offers_examples(client):
    response = client.get("/search")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.index('id="search-form"') < html.index("Where should we look?")
    assert "nearest first" in text_of(html)
    assert re.search(r'href="/search\?near=80302"', html)
    assert "/how-we-verify" in html


def test_an_example_search_on_the_start_page_finds_practitioners(client):
    PractitionerFactory(display_name="Bea Boulder", **BOULDER)
    html = client.get("/search").get_data(as_text=True)
    example = re.search(r'href="(/search\?near=80302)"', html).group(1)
    assert "Bea Boulder" in client.get(example).get_data(as_text=True)
    examples = re.findall(r'<a href="(/search\?near=[^"]+)"', html)
    assert len(examples) >= 3
    assert all(client.get(href.replace("&amp;", "&")).status_code == 200 for href in examples)


def test_a_page_past_the_last_answers_404_and_links_the_last_page_keeping_the_search(client):
    for _ in range(5):
        PractitionerFactory(**BOULDER)
    response = client.get("/search?near=80302&radius=25&unit=mi&accepting=1&per_page=2&page=50")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "There is no page 50" in html and "This search has 3 pages" in html
    assert "Page 50 of" not in html
    link = re.search(r'href="([^"]*)">Go to the last page', html).group(1).replace("&amp;", "&")
    assert "page=3" in link and "near=80302" in link and "accepting=1" in link and "radius=25" in link
    last = client.get(link)
    assert last.status_code == 200 and "Page 3 of 3" in last.get_data(as_text=True)


def test_page_two_of_a_search_with_no_results_is_not_found(client):
    response = client.get("/search?near=80302&page=2")
    assert response.status_code == 404
    assert "This search has 1 page of results" in text_of(response.get_data(as_text=True))


def test_the_api_refuses_a_page_past_the_last_with_the_page_count(client):
    for _ in range(3):
        PractitionerFactory(**BOULDER)
    response = client.get("/api/v1/practitioners?lat=40.0&lon=-105.27&per_page=1&page=50")
    assert response.status_code == 400
    assert response.get_json() == {"error": "page 50 is past the last page: this search has 3 page(s)"}
    assert client.get("/api/v1/practitioners?lat=40.0&lon=-105.27&per_page=1&page=3").status_code == 200


def test_an_empty_result_offers_to_drop_each_filter_with_the_count_it_would_give(client):
    busy = PractitionerFactory(accepting_new_patients=False, conditions=["tmj"], languages="English", **BOULDER)
    CertificationFactory(practitioner=busy, status=VerificationStatus.VERIFIED)
    PractitionerFactory(accepting_new_patients=False, conditions=["tmj"], languages="English", **BOULDER)
    PractitionerFactory(accepting_new_patients=True, conditions=["fibromyalgia"], languages="French", **BOULDER)
    html = client.get(
        "/search?near=80302&radius=25&unit=mi&condition=tmj&verified=1&accepting=1&language=French"
    ).get_data(as_text=True)
    words = text_of(html)
    assert "0 practitioners" in words
    offers = re.findall(r'<li><a href="([^"]+)">([^<]+)</a> <span class="text-muted">\(([^)]+)\)</span>', html)
    by_label = {label: (href.replace("&amp;", "&"), count) for href, label, count in offers}
    assert len(by_label) == 4
    href, count = by_label["Include practitioners not accepting new patients"]
    assert count == "0 practitioners" and "accepting" not in href and "language=French" in href
    href, count = by_label["Any language, not only “French”"]
    assert count == "0 practitioners" and "language" not in href and "accepting=1" in href
    assert by_label["Include credentials not yet verified"][1] == "0 practitioners"
    assert by_label["Any focus, not only “Temporomandibular joint (TMJ) disorders”"][1] == "0 practitioners"
    # Without TMJ, verified and accepting, French alone finds one: the offer counts each filter alone.
    html = client.get("/search?near=80302&radius=25&unit=mi&accepting=1&language=English").get_data(as_text=True)
    offers = dict(re.findall(r'">([^<]+)</a> <span class="text-muted">\(([^)]+)\)</span>', html))
    assert offers["Include practitioners not accepting new patients"] == "2 practitioners"
    assert offers["Any language, not only “English”"] == "1 practitioner"
    assert "The filter that rules out the most is Accepting new patients: without it, 2 practitioners." in text_of(html)


def test_following_a_drop_filter_link_finds_the_practitioners_it_promised(client):
    PractitionerFactory(display_name="Ava Away", accepting_new_patients=False, **BOULDER)
    html = client.get("/search?near=80302&accepting=1").get_data(as_text=True)
    href = re.search(r'href="([^"]+)">Include practitioners not accepting', html).group(1).replace("&amp;", "&")
    assert "Ava Away" in client.get(href).get_data(as_text=True)


def test_results_from_my_location_are_headed_near_your_location_without_coordinates(client):
    PractitionerFactory(display_name="Lou Local", **BOULDER)
    html = client.get("/search?lat=40.01499&lon=-105.27055&radius=10&unit=mi").get_data(as_text=True)
    heading = text_of(re.search(r'<h2[^>]*id="results-heading".*?</h2>', html, re.S).group(0))
    assert "1 practitioner near your location, within 10 miles" in heading
    assert "40.01" not in heading and "105.27" not in heading
    assert "40.0150" not in text_of(html.split("<title>")[1].split("</title>")[0])
    assert "Lou Local" in html


def test_a_named_place_still_heads_the_results(client):
    html = client.get("/search?near=80302&radius=10&unit=mi").get_data(as_text=True)
    assert "within 10 miles of" in html and "your location" not in html


def test_an_expired_credential_shows_its_expiry_date_in_results_and_on_the_profile(client):
    expired_on = date.today() - timedelta(days=3)
    p = PractitionerFactory(display_name="Ed Expired", **BOULDER)
    CertificationFactory(practitioner=p, status=VerificationStatus.VERIFIED, expires_on=expired_on)
    shown = f"Expired on {expired_on.day} {expired_on:%b %Y}"
    results = text_of(client.get("/search?near=80302").get_data(as_text=True))
    assert f"CST-T ({shown})" in results and "not yet verified" not in results
    profile = text_of(client.get(f"/practitioners/{p.id}").get_data(as_text=True))
    assert shown in profile
    assert "not yet verified" not in profile
    assert "No credential verified yet" in profile


def test_a_credential_awaiting_checks_is_still_not_yet_verified(client):
    p = PractitionerFactory(**BOULDER)
    CertificationFactory(practitioner=p, expires_on=date.today() + timedelta(days=300))
    assert "CST-T (not yet verified)" in text_of(client.get("/search?near=80302").get_data(as_text=True))
    assert "Expired" not in client.get(f"/practitioners/{p.id}").get_data(as_text=True)


def test_the_filters_control_says_how_many_filters_are_active(client):
    html = client.get("/search?near=80302&condition=tmj&condition=fibromyalgia&verified=1&language=").get_data(
        as_text=True
    )
    summary = text_of(re.search(r"<summary.*?</summary>", html, re.S).group(0))
    assert summary.strip() == "Filters 3 active"
    assert "Clear all filters" in html
    plain = client.get("/search?near=80302").get_data(as_text=True)
    assert text_of(re.search(r"<summary.*?</summary>", plain, re.S).group(0)).strip() == "Filters"


def test_every_filter_belongs_to_the_search_form(client):
    """The filters sit in a sidebar outside the search bar; each one still goes with the search."""
    html = client.get("/search?near=80302").get_data(as_text=True)
    details = re.search(r'<details class="filters.*?</details>', html, re.S).group(0)
    inputs = re.findall(r"<input[^>]*>", details)
    assert len(inputs) > 4
    assert all('form="search-form"' in tag for tag in inputs)


def test_a_place_name_with_several_meanings_offers_the_others(client, monkeypatch):
    from directory.geocoding import Place

    others = (Place("Springfield, MA, US", 42.1, -72.59), Place("Springfield, MO, US", 37.21, -93.29))
    found = Place("Springfield, IL, US", 39.8, -89.64, alternatives=others)
    monkeypatch.setattr("directory.search.params.geocode", lambda near: found)
    html = client.get("/search?near=Springfield&radius=10&unit=mi&lat=&lon=").get_data(as_text=True)
    line = text_of(re.search(r'<p class="did-you-mean">.*?</p>', html, re.S).group(0))
    assert line.strip() == "Did you mean Springfield, MA, US · Springfield, MO, US?"
    link = (
        re.search(r'<p class="did-you-mean">\s*Did you mean\s+<a href="([^"]+)"', html).group(1).replace("&amp;", "&")
    )
    assert "near=Springfield,+MA,+US" in link and "radius=10" in link and "lat=" not in link


def test_a_link_without_a_radius_shows_the_radius_it_searched(client):
    """/search?near=80302 searches 50 km: the form says 50 km, not its own 25 miles default."""
    html = client.get("/search?near=80302").get_data(as_text=True)
    assert "within 50 km" in html
    assert '<option selected value="50">' in html or 'value="50" selected' in html
    assert '<option selected value="km">' in html or 'value="km" selected' in html
