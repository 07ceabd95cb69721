"""The search results as cards worth comparing, and the data the map beside them is drawn from."""

from __future__ import annotations

import json
import re

from directory.extensions import cache
from directory.models import VerificationStatus
from tests.factories import CertificationFactory, PractitionerFactory

BOULDER = {"latitude": 40.02, "longitude": -105.27}


def text_of(html: str) -> str:
    """The page's words, without tags, on one line."""
    return re.sub(r" ([:.,)?])", r"\1", re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def map_data(html: str) -> dict:
    """The JSON block the results map reads."""
    block = re.search(r'<script type="application/json" id="results-map-data">(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


def card_of(html: str, name: str) -> str:
    """The words of the result card that names this practitioner."""
    cards = re.findall(r'<li class="card mb-3 result".*?</li>\s*(?=<li class="card|</ol>)', html, re.S)
    return next(text_of(card) for card in cards if name in card)


def test_a_card_shows_the_facts_that_decide(client):
    ana = PractitionerFactory(
        display_name="Ana María López",
        practice_name="Flatirons Craniosacral",
        phone="+1 303 555 0100",
        session_minutes=50,
        fee_min=90,
        fee_max=120,
        currency="USD",
        languages="English, Spanish",
        wheelchair_accessible=True,
        **BOULDER,
    )
    CertificationFactory(practitioner=ana, status=VerificationStatus.VERIFIED, credential="CST-D")
    html = client.get("/search?near=80302&unit=mi").get_data(as_text=True)
    card = card_of(html, "Ana María López")
    assert "Flatirons Craniosacral" in card
    assert re.search(r"\d+\.\d mi away", card)
    assert "Verified CST-D" in card and "Verified by Upledger" in card and "(CST-D)" in card
    assert "Accepting new patients" in card
    assert "50-minute sessions" in card
    assert "Fee 90–120 USD a session" in card
    assert "Speaks English, Spanish" in card
    assert "Wheelchair accessible" in card
    assert '<span class="avatar-initials">AL</span>' in html
    assert 'href="tel:+13035550100"' in html
    # The same directions link as the profile (profile_links.directions_href).
    assert "https://www.google.com/maps/dir/?api=1&amp;destination=40.020000,-105.270000" in html


def test_a_card_leaves_out_what_the_practitioner_did_not_say(client):
    PractitionerFactory(display_name="Bo Brief", session_minutes=None, fee_min=None, fee_max=None, phone="", **BOULDER)
    html = client.get("/search?near=80302").get_data(as_text=True)
    card = card_of(html, "Bo Brief")
    assert "Fee" not in card and "sessions" not in card and "Wheelchair" not in card and "Verified" not in card
    assert "Directions" in card and "tel:" not in html


def test_a_single_fee_reads_as_one_amount(client):
    PractitionerFactory(display_name="Cy Single", fee_min=80, fee_max=None, currency="EUR", **BOULDER)
    card = card_of(client.get("/search?near=80302").get_data(as_text=True), "Cy Single")
    assert "Fee 80 EUR a session" in card


def test_the_map_data_has_one_numbered_marker_per_result_on_the_page(client):
    for n in range(5):
        PractitionerFactory(display_name=f"Map Person {n}", latitude=40.02 + n / 100, longitude=-105.27)
    html = client.get("/search?near=80302&per_page=2&page=2&unit=km").get_data(as_text=True)
    data = map_data(html)
    assert [m["number"] for m in data["markers"]] == [3, 4]
    for marker in data["markers"]:
        assert f'id="{marker["card"]}"' in html
        assert marker["name"] in html
        assert marker["distance"].endswith(" km")
        assert 40 < marker["lat"] < 41 and -106 < marker["lon"] < -105
    assert 'start="3"' in html


def test_the_map_uses_openstreetmap_tiles_unless_configured(client, app):
    PractitionerFactory(**BOULDER)
    data = map_data(client.get("/search?near=80302").get_data(as_text=True))
    assert data["tiles"] == "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in data["attribution"]
    app.config.update(MAP_TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png", MAP_ATTRIBUTION="Example tiles")
    cache.clear()  # settings are read at start: a restarted site keeps no page drawn with the old ones
    data = map_data(client.get("/search?near=80302").get_data(as_text=True))
    assert data["tiles"] == "https://tiles.example.org/{z}/{x}/{y}.png" and data["attribution"] == "Example tiles"


def test_names_in_the_map_data_cannot_break_out_of_the_data_block(client):
    PractitionerFactory(display_name="</script><script>alert(1)</script>", **BOULDER)
    html = client.get("/search?near=80302").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert map_data(html)["markers"][0]["name"] == "</script><script>alert(1)</script>"


def test_without_results_there_is_no_map(client):
    html = client.get("/search?near=80302").get_data(as_text=True)
    assert "results-map-data" not in html and "results-map.js" not in html
    assert "results-map.js" not in client.get("/search").get_data(as_text=True)


def test_the_map_scripts_are_served_from_our_own_site(client):
    PractitionerFactory(**BOULDER)
    html = client.get("/search?near=80302").get_data(as_text=True)
    for src in re.findall(r'<script src="([^"]+)"', html):
        assert src.startswith("/"), src
        assert client.get(src).status_code == 200, src
    assert "leaflet.markercluster.js" in html
    assert client.get("/vendor/leaflet-markercluster/MarkerCluster.css").status_code == 200


def test_the_content_security_policy_lets_in_the_configured_tiles_only(client, app):
    PractitionerFactory(**BOULDER)
    policy = client.get("/search?near=80302").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tile.openstreetmap.org;" in policy
    app.config.update(MAP_TILE_URL="https://tiles.example.org/{z}/{x}/{y}.png")
    policy = client.get("/search?near=80302").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example.org;" in policy and "openstreetmap" not in policy
    app.config.update(MAP_TILE_URL="https://evil.example; script-src *")
    policy = client.get("/search?near=80302").headers["Content-Security-Policy"]
    assert "script-src *" not in policy and "https://*.tile.openstreetmap.org" in policy
