"""Search: nearest first, correct everywhere on Earth, filters, and the API contract."""

from __future__ import annotations

import random

import pytest
from geopy.distance import geodesic

from directory.models import VerificationStatus
from directory.search import SearchQuery, bounding_box, search_practitioners
from tests.factories import CertificationFactory, PractitionerFactory


def api(client, **params):
    return client.get("/api/v1/practitioners", query_string=params)


def test_patient_finds_nearest_practitioners_first(client):
    near = PractitionerFactory(display_name="Near", latitude=40.02, longitude=-105.27)
    far = PractitionerFactory(display_name="Far", latitude=40.3, longitude=-105.1)
    PractitionerFactory(display_name="Colorado Springs, too far", latitude=38.83, longitude=-104.82)
    response = api(client, lat=40.015, lon=-105.2705, radius_km=40)
    assert response.status_code == 200
    data = response.get_json()
    assert data["count"] == 2
    assert [r["id"] for r in data["results"]] == [near.id, far.id]
    first = data["results"][0]
    assert set(first) >= {"id", "name", "distance_km", "conditions", "credentials", "location", "url"}
    assert first["distance_km"] == pytest.approx(geodesic((40.015, -105.2705), (40.02, -105.27)).km, rel=0.006)


def test_practitioner_appears_once_at_distance_of_nearest_location(client):
    p = PractitionerFactory(locations=[(40.5, -105.0), (40.02, -105.27), (40.1, -105.2)])
    data = api(client, lat=40.015, lon=-105.2705, radius_km=100).get_json()
    assert data["count"] == 1
    assert data["results"][0]["id"] == p.id
    assert data["results"][0]["distance_km"] < 1
    assert data["results"][0]["location"]["latitude"] == 40.02


@pytest.mark.parametrize(
    "center, points",
    [
        # High latitude: Svalbard and northern Norway.
        ((78.22, 15.65), [(78.9, 11.9), (77.0, 15.5), (79.5, 40.0), (80.5, -170.0)]),
        # Across the antimeridian: Fiji and Taveuni.
        ((-16.8, 179.9), [(-16.8, -179.8), (-17.0, 179.5), (-16.0, -179.0), (-16.8, 178.0)]),
        # Near the North Pole: the circle contains the pole.
        ((89.5, 0.0), [(89.6, 179.0), (89.0, -90.0), (88.0, 45.0)]),
        # Southern hemisphere, far south.
        ((-77.85, 166.67), [(-77.5, 170.0), (-78.5, 160.0), (-75.0, -170.0)]),
    ],
)
@pytest.mark.parametrize("radius_km", [50, 150, 400])
def test_search_matches_geodesic_distance_everywhere(client, center, points, radius_km):
    made = {PractitionerFactory(latitude=lat, longitude=lon).id: (lat, lon) for lat, lon in points}
    data = api(client, lat=center[0], lon=center[1], radius_km=radius_km, per_page=100).get_json()
    found = {r["id"]: r["distance_km"] for r in data["results"]}
    for pid, point in made.items():
        true_km = geodesic(center, point).km
        if true_km <= radius_km * 0.994:
            assert pid in found, f"{point} at {true_km:.1f} km dropped from a {radius_km} km search"
            assert found[pid] == pytest.approx(true_km, rel=0.006)
        elif true_km > radius_km * 1.006:
            assert pid not in found
    assert [found[k] for k in found] == sorted(found.values())


def test_random_points_agree_with_geodesic(client):
    rng = random.Random(7)
    center = (64.13, -21.9)  # Reykjavik
    made = {}
    for _ in range(60):
        point = (center[0] + rng.uniform(-3, 3), center[1] + rng.uniform(-8, 8))
        made[PractitionerFactory(latitude=point[0], longitude=point[1]).id] = point
    data = api(client, lat=center[0], lon=center[1], radius_km=200, per_page=100).get_json()
    found = {r["id"] for r in data["results"]}
    expected = {pid for pid, p in made.items() if geodesic(center, p).km <= 200 * 0.994}
    outside = {pid for pid, p in made.items() if geodesic(center, p).km > 200 * 1.006}
    assert expected <= found
    assert not (found & outside)
    assert data["count"] == len(found)


def test_bounding_box_splits_at_the_antimeridian():
    _, _, ranges = bounding_box(-16.8, 179.9, 100)
    assert len(ranges) == 2
    assert ranges[0][1] == 180.0 and ranges[1][0] == -180.0


def test_condition_filter_needs_every_condition(client):
    both = PractitionerFactory(conditions=["tmj", "migraine-headache"])
    PractitionerFactory(conditions=["tmj"])
    PractitionerFactory(conditions=[])
    data = client.get(
        "/api/v1/practitioners?lat=40.015&lon=-105.27&condition=tmj&condition=migraine-headache"
    ).get_json()
    assert [r["id"] for r in data["results"]] == [both.id]
    assert sorted(data["results"][0]["conditions"]) == ["migraine-headache", "tmj"]
    assert api(client, lat=40.015, lon=-105.27, condition="tmj").get_json()["count"] == 2


def test_verified_and_accepting_filters(client):
    verified = PractitionerFactory()
    CertificationFactory(practitioner=verified, status=VerificationStatus.VERIFIED)
    pending = PractitionerFactory(accepting_new_patients=False)
    CertificationFactory(practitioner=pending)
    ids = lambda **kw: [r["id"] for r in api(client, lat=40.015, lon=-105.27, **kw).get_json()["results"]]  # noqa: E731
    assert ids(verified=1) == [verified.id]
    assert ids(accepting=1) == [verified.id]
    assert sorted(ids()) == sorted([verified.id, pending.id])
    result = api(client, lat=40.015, lon=-105.27, verified=1).get_json()["results"][0]
    assert result["credentials"] == [{"body": "upledger", "credential": "CST-T", "verified": True}]


def test_expired_credential_is_not_verified(client):
    from datetime import date, timedelta

    p = PractitionerFactory()
    CertificationFactory(
        practitioner=p, status=VerificationStatus.VERIFIED, expires_on=date.today() - timedelta(days=1)
    )
    assert api(client, lat=40.015, lon=-105.27, verified=1).get_json()["count"] == 0
    assert api(client, lat=40.015, lon=-105.27).get_json()["results"][0]["credentials"][0]["verified"] is False


def test_unpublished_and_suspended_are_never_found(client):
    PractitionerFactory(published=False)
    PractitionerFactory(suspended=True)
    assert api(client, lat=40.015, lon=-105.27).get_json()["count"] == 0


def test_language_filter(client):
    es = PractitionerFactory(languages="English, Spanish")
    PractitionerFactory(languages="English")
    assert [r["id"] for r in api(client, lat=40.015, lon=-105.27, language="spanish").get_json()["results"]] == [es.id]


@pytest.mark.parametrize("typed", ["%", "_", "\\", "%es%", "es%", "sp_nish", "|es|", "es|en"])
def test_a_like_wildcard_is_no_language_refused_not_matched(client, typed):
    """Languages are matched by language: a LIKE wildcard or the index's separator is refused (400).

    Never a 500, and never every practitioner (as an unescaped "%" would match).
    """
    PractitionerFactory(languages="English, Spanish")
    response = api(client, lat=40.015, lon=-105.27, language=typed)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"unknown language {typed!r}")
    assert client.get("/search", query_string={"lat": 40.015, "lon": -105.27, "language": typed}).status_code == 400


def test_pagination_pages_through_every_result_once(client):
    ids = {PractitionerFactory(latitude=40 + i * 0.01, longitude=-105.27).id for i in range(25)}
    seen = []
    for page in (1, 2, 3):
        data = api(client, lat=40.0, lon=-105.27, per_page=10, page=page).get_json()
        assert data["count"] == 25 and data["page"] == page and data["per_page"] == 10
        seen += [r["id"] for r in data["results"]]
    assert len(seen) == 25 and set(seen) == ids
    dists = [api(client, lat=40.0, lon=-105.27, per_page=100).get_json()["results"][i]["distance_km"] for i in (0, 24)]
    assert dists[0] < dists[1]


def test_search_by_zip_code_and_town(client):
    boulder = PractitionerFactory(latitude=40.015, longitude=-105.2705)
    assert api(client, near="80302", radius_km=25).get_json()["results"][0]["id"] == boulder.id
    assert api(client, near="Boulder, CO", radius_km=25).get_json()["results"][0]["id"] == boulder.id


@pytest.mark.parametrize(
    "params, message",
    [
        ({"lat": 91, "lon": 0}, "lat"),
        ({"lat": -90.5, "lon": 0}, "lat"),
        ({"lat": 0, "lon": 181}, "lon"),
        ({"lat": "abc", "lon": 0}, "lat"),
        ({"lat": "nan", "lon": 0}, "lat"),
        ({"lat": 10}, "lon"),
        ({"lat": 0, "lon": 0, "radius_km": -5}, "radius"),
        ({"lat": 0, "lon": 0, "radius_km": 0}, "radius"),
        ({"lat": 0, "lon": 0, "radius_km": 501}, "radius"),
        ({"lat": 0, "lon": 0, "radius_km": "far"}, "radius"),
        ({"lat": 0, "lon": 0, "condition": "gout"}, "condition"),
        ({"lat": 0, "lon": 0, "page": 0}, "page"),
        ({"lat": 0, "lon": 0, "page": "x"}, "page"),
        ({"lat": 0, "lon": 0, "per_page": 101}, "per_page"),
        ({"lat": 0, "lon": 0, "per_page": 0}, "per_page"),
        ({"lat": 0, "lon": 0, "verified": "maybe"}, "verified"),
        ({"near": "Atlantis-under-the-sea"}, "place"),
        ({}, "lat"),
    ],
)
def test_bad_search_input_answers_400_with_a_message(client, params, message):
    response = api(client, **params)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


@pytest.mark.parametrize("name", ["page", "lat", "radius_km", "near"])
def test_a_single_valued_parameter_given_twice_answers_400(client, name):
    values = {"page": ["1", "2"], "lat": ["40", "41"], "radius_km": ["5", "9"], "near": ["80302", "Boulder"]}[name]
    params = [("lat", "40.0"), ("lon", "-105.27")] if name not in ("lat", "near") else [("lon", "-105.27")]
    if name == "near":
        params = []
    params += [(name, v) for v in values]
    query = "&".join(f"{k}={v}" for k, v in params)
    response = client.get(f"/api/v1/practitioners?{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error": f"{name} may be given only once"}
    assert client.get(f"/search?{query}").status_code == 400


@pytest.mark.parametrize("radius_km", ["5e-324", "1e-300", "0.000001"])
@pytest.mark.parametrize("lat, lon", [(90.0, 0.5), (0.0, 180.0), (40.015, -105.2705)])
def test_a_vanishingly_small_radius_finds_only_what_is_exactly_there(client, radius_km, lat, lon):
    PractitionerFactory(latitude=89.99, longitude=0.5)
    exact = PractitionerFactory(latitude=40.015, longitude=-105.2705)
    response = api(client, lat=lat, lon=lon, radius_km=radius_km)
    assert response.status_code == 200
    expected = [exact.id] if (lat, lon) == (40.015, -105.2705) else []
    assert [r["id"] for r in response.get_json()["results"]] == expected


def test_default_radius_is_50_km(client):
    PractitionerFactory(latitude=40.015 + 0.40, longitude=-105.27)  # ~44 km north
    PractitionerFactory(latitude=40.015 + 0.50, longitude=-105.27)  # ~56 km north
    assert api(client, lat=40.015, lon=-105.27).get_json()["count"] == 1


def test_an_empty_search_offers_a_wider_radius_only_up_to_the_limit(client):
    """The offer doubles the radius and never goes past MAX_RADIUS_KM, which the search would refuse."""
    from directory.search import MAX_RADIUS_KM

    half = MAX_RADIUS_KM / 2
    html = client.get(f"/search?lat=0.5&lon=-30.5&radius={half:g}&unit=km").get_data(as_text=True)
    assert f"Search within {MAX_RADIUS_KM:g} km instead" in html
    html = client.get(f"/search?lat=0.5&lon=-30.5&radius={half + 1:g}&unit=km").get_data(as_text=True)
    assert "0 practitioners" in html and "instead" not in html
    assert client.get(f"/search?lat=0.5&lon=-30.5&radius={2 * half + 2:g}&unit=km").status_code == 400


def test_practitioner_detail_and_conditions_api(client):
    p = PractitionerFactory(conditions=["fibromyalgia"], show_email=False)
    data = client.get(f"/api/v1/practitioners/{p.id}").get_json()
    assert data["id"] == p.id and data["conditions"] == ["fibromyalgia"] and data["email"] is None
    assert client.get("/api/v1/practitioners/999999").status_code == 404
    hidden = PractitionerFactory(published=False)
    assert client.get(f"/api/v1/practitioners/{hidden.id}").status_code == 404
    conditions = client.get("/api/v1/conditions").get_json()
    assert {"slug": "tmj", "name": "Temporomandibular joint (TMJ) disorders"} in conditions
    assert len(conditions) == 5


def test_search_builds_no_orm_objects_for_candidates(app):
    for i in range(30):
        PractitionerFactory(latitude=40 + i * 0.001, longitude=-105.27)
    from directory.extensions import db

    db.session.expunge_all()
    result = search_practitioners(SearchQuery(latitude=40.0, longitude=-105.27, radius_km=50, per_page=5))
    assert result.count == 30 and len(result.hits) == 5
    from directory.models import Certification, PracticeLocation, Practitioner

    # Results are plain views built from rows: no practitioner, location or credential is an ORM object.
    loaded = [
        o for o in db.session.identity_map.values() if isinstance(o, (Practitioner, PracticeLocation, Certification))
    ]
    assert loaded == []
    assert [h.distance_km for h in result.hits] == sorted(h.distance_km for h in result.hits)


@pytest.mark.parametrize("lat, lon", [(0.0, 0.0), (40.0, -105.0), (-45.0, 170.0), (64.1, -21.9), (72.0, 25.0)])
@pytest.mark.parametrize("radius_km", [1, 25, 100, 500])
def test_inner_box_lies_inside_the_circle(lat, lon, radius_km):
    from directory.search import great_circle_km, inner_box

    box = inner_box(lat, lon, radius_km)
    if box is None:
        return
    min_lat, max_lat, min_lon, max_lon = box
    for corner_lat in (min_lat, lat, max_lat):
        for corner_lon in (min_lon, lon, max_lon):
            assert great_circle_km(lat, lon, corner_lat, corner_lon) <= radius_km
    # And it is not a trivially small box.
    assert great_circle_km(lat, lon, min_lat if lat >= 0 else max_lat, max_lon) > radius_km * 0.95


def _brute_force(made: dict, center: tuple[float, float], radius_km: float) -> list[int]:
    """Every practitioner within radius_km, nearest first: what the search must agree with."""
    from directory.search import great_circle_km

    within = []
    for pid, points in made.items():
        km = min(great_circle_km(*center, *p) for p in points)
        if km <= radius_km:
            within.append((km, pid))
    return [pid for _, pid in sorted(within)]


def test_count_stops_at_the_limit_and_every_page_stays_exact(app, client):
    """Past SEARCH_COUNT_LIMIT the count says "more than", while pages are still the true nearest.

    A crowded town centre (more than the search's cheap page size), a suburb and a sparse
    countryside, so that the page's circle is found by shrinking, by growing, or not at all.
    """
    app.config["SEARCH_COUNT_LIMIT"] = 10
    rng = random.Random(11)
    made = {}
    for spread, n in ((0.01, 130), (0.1, 40), (1.0, 40)):
        for _ in range(n):
            points = [(45.0 + rng.uniform(-spread, spread), 7.0 + rng.uniform(-spread, spread))]
            if rng.random() < 0.2:  # a second practice location further out
                points.append((45.0 + rng.uniform(-1, 1), 7.0 + rng.uniform(-1, 1)))
            made[PractitionerFactory(locations=points).id] = points
    cases = [
        ((45.0, 7.0), 100, 5, 1),
        ((45.0, 7.0), 100, 20, 3),
        ((45.0, 7.0), 0.5, 20, 1),
        ((45.05, 7.05), 30, 7, 2),
        ((45.6, 7.6), 50, 10, 1),
        ((44.2, 6.2), 200, 100, 2),
        ((46.5, 8.5), 30, 20, 1),
    ]
    for (lat, lon), radius_km, per_page, page in cases:
        data = api(client, lat=lat, lon=lon, radius_km=radius_km, per_page=per_page, page=page).get_json()
        expected = _brute_force(made, (lat, lon), radius_km)
        case = f"{lat},{lon} within {radius_km} km, page {page} of {per_page}"
        assert [r["id"] for r in data["results"]] == expected[(page - 1) * per_page : page * per_page], case
        assert data["count"] == min(len(expected), 10), case
        assert data["count_exact"] is (len(expected) <= 10), case
    page = client.get("/search", query_string={"lat": 45.0, "lon": 7.0, "radius": 100})
    assert "More than 10 practitioners near your location, within 100 km" in page.get_data(as_text=True)
    page = client.get("/search", query_string={"lat": 46.5, "lon": 8.5, "radius": 30})
    assert "More than" not in page.get_data(as_text=True)


@pytest.mark.parametrize("page", [1, 2, 3])
def test_pages_past_the_count_limit_are_still_served(app, client, page):
    app.config["SEARCH_COUNT_LIMIT"] = 3
    made = {
        PractitionerFactory(latitude=40 + i * 0.01, longitude=-105.0).id: [(40 + i * 0.01, -105.0)] for i in range(8)
    }
    data = api(client, lat=40.0, lon=-105.0, radius_km=50, per_page=3, page=page).get_json()
    assert data["count"] == 3 and data["count_exact"] is False
    assert [r["id"] for r in data["results"]] == _brute_force(made, (40.0, -105.0), 50)[(page - 1) * 3 : page * 3]


@pytest.mark.parametrize(
    "latitude", [-90.0, -89.95, -45.05, -0.1, -1e-12, 0.0, 0.1, 0.3, 0.7, 12.3, 40.1, 44.99999999, 45.0, 89.99, 90.0]
)
def test_the_databases_latitude_band_is_the_searchs(app, latitude):
    """The band column (computed by the database) must be the band the search asks for."""
    from directory.extensions import db
    from directory.models import PracticeLocation
    from directory.models.practitioners import band_of

    p = PractitionerFactory(latitude=latitude, longitude=10.0)
    stored = db.session.execute(
        db.select(PracticeLocation.band).where(PracticeLocation.practitioner_id == p.id)
    ).scalar_one()
    assert stored == band_of(latitude)
    assert 0 <= stored <= 1800


def test_a_condition_in_a_high_bit_is_searchable(client):
    """The taxonomy may use bits up to 62: condition bits are 64-bit on every database."""
    from directory.extensions import db
    from directory.models import Condition

    rare = Condition(slug="rare-focus", name="A rare focus", bit=62, sort_order=99)
    db.session.add(rare)
    db.session.commit()
    with_it = PractitionerFactory(latitude=40.0, longitude=-105.0, conditions=[rare, "tmj"])
    PractitionerFactory(latitude=40.0, longitude=-105.0, conditions=["tmj"])
    data = api(client, lat=40.0, lon=-105.0, radius_km=10, condition="rare-focus").get_json()
    assert [r["id"] for r in data["results"]] == [with_it.id]
    assert data["results"][0]["conditions"] == ["tmj", "rare-focus"]


def test_verified_and_accepting_filters_follow_every_change(client):
    """The index's copies of accepting and verified follow the practitioner and their credentials."""
    from datetime import date, timedelta

    from directory.extensions import db
    from directory.models import PracticeLocation

    p = PractitionerFactory(accepting_new_patients=False)
    found = lambda **kw: [r["id"] for r in api(client, lat=40.015, lon=-105.27, **kw).get_json()["results"]]  # noqa: E731
    assert found(verified=1) == [] and found(accepting=1) == []
    cert = CertificationFactory(practitioner=p, status=VerificationStatus.VERIFIED)
    p.accepting_new_patients = True
    db.session.commit()
    assert found(verified=1) == [p.id] and found(accepting=1) == [p.id]
    cert.status = VerificationStatus.REJECTED
    db.session.commit()
    assert found(verified=1) == []
    cert.status = VerificationStatus.VERIFIED
    cert.expires_on = date.today()  # still counts today
    db.session.commit()
    assert found(verified=1) == [p.id]
    cert.expires_on = date.today() - timedelta(days=1)
    db.session.commit()
    assert found(verified=1) == []
    cert.expires_on = None
    p.locations.append(PracticeLocation(city="Lyons", country="US", latitude=40.22, longitude=-105.27))
    db.session.commit()
    assert all(loc.verified_until == date.max and loc.accepting for loc in p.locations)
    db.session.delete(cert)
    p.languages = "English, Português"
    db.session.commit()
    assert found(verified=1) == [] and found() == [p.id]
    assert all(loc.verified_until is None for loc in p.locations)
    assert found(language="PORTUGUÊS") == [p.id] and found(language="spanish") == []


def test_a_search_process_that_outlives_a_day_moves_to_the_new_day(client, monkeypatch):
    """Statements are built once per process: the date they check expiry against is bound per run."""
    from datetime import date, timedelta

    from directory.search import engine, results

    p = PractitionerFactory()
    CertificationFactory(practitioner=p, status=VerificationStatus.VERIFIED, expires_on=date.today())
    first = api(client, lat=40.015, lon=-105.27, verified=1).get_json()
    assert first["count"] == 1 and first["results"][0]["credentials"][0]["verified"] is True
    tomorrow = date.today() + timedelta(days=1)
    monkeypatch.setattr(engine, "today", lambda: tomorrow)  # the verified filter
    monkeypatch.setattr(results, "today", lambda: tomorrow)  # the credentials shown
    assert api(client, lat=40.015, lon=-105.27, verified=1).get_json()["count"] == 0
    later = api(client, lat=40.015, lon=-105.27).get_json()
    assert later["results"][0]["credentials"][0]["verified"] is False


@pytest.mark.parametrize("sort", ["distance", "name", "verified"])
def test_every_filter_and_order_reads_locations_from_the_search_index_alone(app, client, sort):
    """SQLite's plan for each search statement: the search index, and never a location row.

    EXPLAIN QUERY PLAN says "USING INDEX", not "COVERING": a query naming the generated `band`
    column counts every column of the table as used. The bytecode shows what runs: every column
    is read from the index cursor, and the table's deferred seek never happens.
    """
    from sqlalchemy import event

    from directory.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    p = PractitionerFactory(
        conditions=["tmj"], fee_min=50, gender="female", wheelchair_accessible=True, languages="Spanish"
    )
    CertificationFactory(practitioner=p, status=VerificationStatus.VERIFIED)
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        if "band" in statement:
            statements.append((statement, parameters))

    every = "condition=tmj&verified=1&accepting=1&fee_max=80&session_minutes=60&wheelchair=1&gender=female&language=es"
    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert client.get(f"/api/v1/practitioners?lat=40.015&lon=-105.27&{every}&sort={sort}").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert {"count", "page"} <= {"count" if "count(" in sql else "page" for sql, _ in statements}
    raw = db.session.connection().connection.driver_connection
    (root,) = raw.execute("SELECT rootpage FROM sqlite_master WHERE name = 'practice_locations'").fetchone()
    for sql, parameters in statements:
        plan = " ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", parameters))
        assert "USING INDEX ix_practice_locations_search" in plan and "SCAN practice_locations" not in plan, plan
        program = raw.execute(f"EXPLAIN {sql}", parameters).fetchall()
        table = {op[2] for op in program if op[1] == "OpenRead" and op[3] == root}
        assert not [op for op in program if op[1] in ("Column", "Rowid") and op[2] in table], plan
