"""The patient's filters through the API: fees, session length, wheelchair access, gender,
language in any spelling and the three orders, combined with the older filters, and every bad
value refused with 400 and a sentence that names the parameter (on the page as in the API)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from directory.extensions import db
from directory.models import Practitioner, VerificationStatus
from tests.conftest import login, submit_form
from tests.factories import CertificationFactory, PractitionerFactory

HERE = {"lat": 40.015, "lon": -105.27}
# The keys a search result shares with GET /api/v1/practitioners/<id>.
PROFILE_KEYS = (
    "session_minutes",
    "fee_min",
    "fee_max",
    "currency",
    "languages",
    "wheelchair_accessible",
    "gender",
)


def api(client, **params):
    return client.get("/api/v1/practitioners", query_string={**HERE, **params})


def found(client, **params) -> list[int]:
    """The ids a search answers, in its order (the search must answer 200)."""
    response = api(client, per_page=100, **params)
    assert response.status_code == 200, response.get_json()
    return [r["id"] for r in response.get_json()["results"]]


def north(km: float) -> dict:
    """A point `km` north of HERE (one degree of latitude is about 111 km)."""
    return {"latitude": HERE["lat"] + km / 111.2, "longitude": HERE["lon"]}


def verified(practitioner: Practitioner, on: date, expires_on: date | None = None) -> None:
    """Give the practitioner a credential an admin verified on that day."""
    CertificationFactory(
        practitioner=practitioner,
        status=VerificationStatus.VERIFIED,
        verified_at=datetime(on.year, on.month, on.day, 12, 0),
        expires_on=expires_on,
    )


# --- What a result says ------------------------------------------------------------------------


def test_a_result_carries_fees_session_languages_access_and_gender_as_the_profile_does(client):
    stated = PractitionerFactory(
        session_minutes=45,
        fee_min=60,
        fee_max=90,
        currency="EUR",
        languages="English, Spanish",
        wheelchair_accessible=True,
        gender="female",
        **north(1),
    )
    silent = PractitionerFactory(session_minutes=None, languages="", gender=None, **north(2))
    results = api(client).get_json()["results"]
    assert [r["id"] for r in results] == [stated.id, silent.id]
    for result in results:
        profile = client.get(f"/api/v1/practitioners/{result['id']}").get_json()
        assert {k: result[k] for k in PROFILE_KEYS} == {k: profile[k] for k in PROFILE_KEYS}
    assert {k: results[0][k] for k in PROFILE_KEYS} == {
        "session_minutes": 45,
        "fee_min": 60,
        "fee_max": 90,
        "currency": "EUR",
        "languages": ["English", "Spanish"],
        "wheelchair_accessible": True,
        "gender": "female",
    }
    assert results[1]["gender"] is None and results[1]["languages"] == []
    assert results[1]["fee_min"] is None and results[1]["session_minutes"] is None
    # The keys results always had keep their names.
    assert set(results[0]) >= {"id", "name", "distance_km", "conditions", "credentials", "location", "url"}


# --- Each filter ---------------------------------------------------------------------------------


def test_fee_max_compares_the_lowest_fee_and_leaves_out_those_without_fees(client):
    from_50 = PractitionerFactory(fee_min=50, fee_max=120, **north(1))
    only_max_80 = PractitionerFactory(fee_min=None, fee_max=80, **north(2))
    from_100 = PractitionerFactory(fee_min=100, fee_max=150, **north(3))
    free = PractitionerFactory(fee_min=0, fee_max=None, **north(4))
    no_fees = PractitionerFactory(fee_min=None, fee_max=None, **north(5))
    assert found(client) == [from_50.id, only_max_80.id, from_100.id, free.id, no_fees.id]
    assert found(client, fee_max=80) == [from_50.id, only_max_80.id, free.id]
    assert found(client, fee_max=79) == [from_50.id, free.id]
    assert found(client, fee_max=100_000) == [from_50.id, only_max_80.id, from_100.id, free.id]
    assert found(client, fee_max=0) == [free.id]
    assert found(client, fee_max="") == found(client)  # a blank form field is no filter


def test_session_minutes_finds_sessions_at_least_that_long(client):
    by_length = {m: PractitionerFactory(session_minutes=m, **north(i + 1)).id for i, m in enumerate([30, 45, 60, 90])}
    unstated = PractitionerFactory(session_minutes=None, **north(6))
    assert found(client) == [*by_length.values(), unstated.id]
    assert found(client, session_minutes=45) == [by_length[45], by_length[60], by_length[90]]
    assert found(client, session_minutes=60) == [by_length[60], by_length[90]]
    assert found(client, session_minutes=1) == list(by_length.values())
    assert found(client, session_minutes=91) == []


def test_wheelchair_finds_only_accessible_practices(client):
    accessible = PractitionerFactory(wheelchair_accessible=True, **north(1))
    stairs = PractitionerFactory(wheelchair_accessible=False, **north(2))
    assert found(client, wheelchair=1) == [accessible.id]
    assert found(client, wheelchair="yes") == [accessible.id]
    assert found(client, wheelchair=0) == found(client) == [accessible.id, stairs.id]
    # A change of the profile reaches the index.
    stairs.wheelchair_accessible = True
    db.session.commit()
    assert found(client, wheelchair=1) == [accessible.id, stairs.id]


def test_gender_leaves_out_those_who_do_not_state_it_only_when_asked(client):
    female = PractitionerFactory(gender="female", **north(1))
    male = PractitionerFactory(gender="male", **north(2))
    nonbinary = PractitionerFactory(gender="nonbinary", **north(3))
    unstated = PractitionerFactory(gender=None, **north(4))
    assert found(client) == [female.id, male.id, nonbinary.id, unstated.id]
    assert found(client, gender="female") == [female.id]
    assert found(client, gender="MALE") == [male.id]
    for spelling in ("nonbinary", "non-binary", "Non-Binary"):
        assert found(client, gender=spelling) == [nonbinary.id], spelling
    assert found(client, gender="") == found(client)


@pytest.mark.parametrize("spelling", ["Spanish", "spanish", "Español", "es", "ESPAÑOL", "spa"])
def test_a_language_is_one_filter_whatever_its_spelling(client, spelling):
    bilingual = PractitionerFactory(languages="English, Spanish", **north(1))
    english = PractitionerFactory(languages="English", **north(2))
    spanish = PractitionerFactory(languages="Spanish", **north(3))
    PractitionerFactory(languages="Portuguese", **north(4))
    assert found(client, language=spelling) == [bilingual.id, spanish.id]
    assert found(client, language="en") == [bilingual.id, english.id]


def test_a_language_typed_in_its_own_spelling_on_the_profile_is_stored_by_its_english_name(client, practitioner_user):
    login(client, practitioner_user)
    profile = {
        "display_name": "Pat Practitioner",
        "session_minutes": "60",
        "currency": "USD",
        "languages": "English, Español",
    }
    response = submit_form(client, "/dashboard/profile", profile)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    practitioner = practitioner_user.practitioner
    db.session.refresh(practitioner)
    assert practitioner.languages == "English, Spanish"
    for spelling in ("es", "Spanish", "Español"):
        assert found(client, language=spelling) == [practitioner.id]
    assert api(client, language="es").get_json()["results"][0]["languages"] == ["English", "Spanish"]


# --- The orders ----------------------------------------------------------------------------------


def test_sort_by_name_ignores_case_and_pages_on(client):
    zoe = PractitionerFactory(display_name="Zoe Near", **north(1))
    alice = PractitionerFactory(display_name="alice Far", **north(20))
    bob = PractitionerFactory(display_name="Bob Middle", **north(10))
    assert found(client) == found(client, sort="distance") == [zoe.id, bob.id, alice.id]
    assert found(client, sort="name") == [alice.id, bob.id, zoe.id]
    assert found(client, sort="NAME") == [alice.id, bob.id, zoe.id]
    second = api(client, sort="name", per_page=2, page=2).get_json()
    assert [r["id"] for r in second["results"]] == [zoe.id] and second["count"] == 3
    # The distance shown is still the distance.
    assert [r["distance_km"] > 15 for r in api(client, sort="name").get_json()["results"]] == [True, False, False]


def test_sort_by_verified_puts_current_credentials_first_most_recently_verified_first(client):
    today = date.today()
    unverified_nearest = PractitionerFactory(display_name="Nearest, no credential", **north(1))
    pending = PractitionerFactory(display_name="Pending", **north(2))
    CertificationFactory(practitioner=pending)
    long_ago = PractitionerFactory(display_name="Verified long ago", **north(3))
    verified(long_ago, today - timedelta(days=700))
    lately = PractitionerFactory(display_name="Verified lately", **north(9))
    verified(lately, today - timedelta(days=10))
    # Verified most recently of all, but the credential expired yesterday: not current.
    expired = PractitionerFactory(display_name="Expired", **north(4))
    verified(expired, today - timedelta(days=5), expires_on=today - timedelta(days=1))
    # Expires today: still current.
    until_today = PractitionerFactory(display_name="Until today", **north(5))
    verified(until_today, today - timedelta(days=30), expires_on=today)
    order = found(client, sort="verified")
    assert order[:3] == [lately.id, until_today.id, long_ago.id]
    # The rest are not currently verified: the expired verification, then the nearest first.
    assert order[3:] == [expired.id, unverified_nearest.id, pending.id]
    assert found(client, sort="verified", verified=1) == [lately.id, until_today.id, long_ago.id]
    # Each result shows its credentials' state as they are today.
    results = {r["id"]: r for r in api(client, sort="verified").get_json()["results"]}
    assert results[expired.id]["credentials"][0]["verified"] is False
    assert results[until_today.id]["credentials"][0]["verified"] is True


def test_sort_by_verified_puts_profiles_unconfirmed_for_15_months_after_the_others(client):
    today = date.today()
    stale = PractitionerFactory(display_name="Stale", **north(1))
    verified(stale, today - timedelta(days=3))
    confirmed = PractitionerFactory(display_name="Confirmed", **north(5))
    verified(confirmed, today - timedelta(days=300))
    db.session.commit()
    stale.created_at = datetime.now(UTC) - timedelta(days=600)  # never confirmed since
    db.session.commit()
    assert found(client, sort="verified") == [confirmed.id, stale.id]
    stale.details_confirmed_at = datetime.now(UTC)
    db.session.commit()
    assert found(client, sort="verified") == [stale.id, confirmed.id]


@pytest.mark.parametrize("sort", ["name", "verified"])
def test_every_page_of_a_sorted_search_agrees_with_ranking_everyone_by_hand(client, sort):
    """Ties (one name, one verification day) go to the nearest; a practitioner with many
    locations in the circle is listed once, at the nearest one, on one page."""
    from directory.search import great_circle_km

    rng = random.Random(5)
    today = date.today()
    names = ["Ann Ash", "ann ash", "Bea Birch", "Cy Cedar", "Di Dogwood"]
    expected = []
    for i in range(36):
        points = [(HERE["lat"] + rng.uniform(-0.3, 0.3), HERE["lon"] + rng.uniform(-0.3, 0.3))]
        if i % 6 == 0:  # five locations in the circle
            points += [(HERE["lat"] + rng.uniform(-0.3, 0.3), HERE["lon"] + rng.uniform(-0.3, 0.3)) for _ in range(4)]
        practitioner = PractitionerFactory(display_name=rng.choice(names), locations=points)
        day, current = None, False
        if i % 3:
            day = today - timedelta(days=rng.choice([3, 3, 40, 400]))
            current = rng.random() < 0.7
            verified(practitioner, day, expires_on=None if current else today - timedelta(days=1))
        km = min(great_circle_km(HERE["lat"], HERE["lon"], *p) for p in points)
        if sort == "name":
            key = (practitioner.display_name.lower(), km, practitioner.id)
        else:
            key = (not current, -(day.toordinal() if day else 0), km, practitioner.id)
        expected.append((key, practitioner.id))
    expected = [pid for _, pid in sorted(expected)]
    seen = []
    for page in range(1, 7):
        data = api(client, sort=sort, per_page=6, page=page, radius_km=100).get_json()
        assert data["count"] == 36
        seen += [r["id"] for r in data["results"]]
    assert seen == expected


@pytest.mark.parametrize("sort", ["name", "verified"])
def test_practitioners_with_many_locations_in_the_circle_still_fill_a_sorted_page(client, sort):
    made = []
    for i, name in enumerate(["Ada", "Ben", "Cal", "Dee"]):
        points = [(HERE["lat"] + 0.01 * (i + 1), HERE["lon"] + 0.01 * k) for k in range(6)]
        practitioner = PractitionerFactory(display_name=name, locations=points)
        verified(practitioner, date.today() - timedelta(days=i))
        made.append(practitioner.id)
    data = api(client, sort=sort, per_page=3).get_json()
    assert [r["id"] for r in data["results"]] == made[:3] and data["count"] == 4
    assert [r["location"]["longitude"] for r in data["results"]] == [HERE["lon"]] * 3  # each at their nearest
    assert [r["id"] for r in api(client, sort=sort, per_page=3, page=2).get_json()["results"]] == made[3:]


# --- Combined with each other and with the older filters -----------------------------------------

EVERY_FILTER = {
    "condition": "tmj",
    "verified": "1",
    "accepting": "1",
    "fee_max": "80",
    "session_minutes": "60",
    "wheelchair": "1",
    "gender": "female",
    "language": "Español",
}
# What a practitioner matching every filter states, and how one falls short of each filter.
MATCHING = {
    "conditions": ["tmj"],
    "accepting_new_patients": True,
    "fee_min": 70,
    "fee_max": 90,
    "session_minutes": 60,
    "wheelchair_accessible": True,
    "gender": "female",
    "languages": "English, Spanish",
}
FALLING_SHORT = {
    "condition": {"conditions": ["fibromyalgia"]},
    "verified": {},  # no verified credential
    "accepting": {"accepting_new_patients": False},
    "fee_max": {"fee_min": 90, "fee_max": 120},
    "session_minutes": {"session_minutes": 45},
    "wheelchair": {"wheelchair_accessible": False},
    "gender": {"gender": "nonbinary"},
    "language": {"languages": "English"},
}


def _matching_and_one_short_of_each() -> tuple[int, dict[str, int]]:
    """The practitioner who matches every filter (nearest), and one who misses only each filter."""
    best = PractitionerFactory(display_name="Zara Best", **MATCHING, **north(1))
    verified(best, date.today() - timedelta(days=3))
    short = {}
    for i, (name, change) in enumerate(FALLING_SHORT.items()):
        practitioner = PractitionerFactory(display_name=f"Short of {name}", **{**MATCHING, **change}, **north(2 + i))
        if name != "verified":
            verified(practitioner, date.today() - timedelta(days=20 + i))
        short[name] = practitioner.id
    return best.id, short


@pytest.mark.parametrize("sort", ["distance", "name", "verified"])
def test_every_filter_together_finds_only_who_matches_them_all(client, sort):
    best, short = _matching_and_one_short_of_each()
    assert found(client, **EVERY_FILTER, sort=sort) == [best]
    assert len(found(client, sort=sort)) == 1 + len(short)


@pytest.mark.parametrize("dropped", list(EVERY_FILTER))
def test_dropping_one_filter_brings_back_only_who_misses_that_one(client, dropped):
    best, short = _matching_and_one_short_of_each()
    params = {k: v for k, v in EVERY_FILTER.items() if k != dropped}
    assert found(client, **params) == [best, short[dropped]]
    by_name = found(client, **params, sort="name")
    assert sorted(by_name) == sorted([best, short[dropped]]) and by_name[-1] == best  # "Short of ..." < "Zara"
    # The verified order puts the most recent verification first (best: 3 days ago).
    expected = [best] if dropped == "verified" else [best, short[dropped]]
    assert found(client, **params, sort="verified")[: len(expected)] == expected


# --- Bad values --------------------------------------------------------------------------------

BAD_VALUES = [
    ("fee_max", "abc", "fee_max must be a whole number"),
    ("fee_max", "-1", "fee_max must be between 0 and 100000"),
    ("fee_max", "1.5", "fee_max must be a whole number"),
    ("fee_max", "100001", "fee_max must be between 0 and 100000"),
    ("fee_max", "9" * 40, "fee_max must be between 0 and 100000"),
    ("fee_max", "٥٠", "fee_max must be a whole number"),
    ("fee_max", "1e3", "fee_max must be a whole number"),
    ("session_minutes", "0", "session_minutes must be between 1 and 240 minutes"),
    ("session_minutes", "999", "session_minutes must be between 1 and 240 minutes"),
    ("session_minutes", "an hour", "session_minutes must be a whole number of minutes"),
    ("wheelchair", "maybe", "wheelchair must be 1 or 0"),
    ("gender", "other", "gender must be one of: female, male, nonbinary"),
    ("sort", "price", "sort must be one of: distance, name, verified"),
    ("language", "xx", "unknown language 'xx'"),
    ("language", "Elvish", "unknown language 'Elvish'"),
    ("language", "x" * 41, "language is too long"),
]


@pytest.mark.parametrize("name, value, message", BAD_VALUES, ids=[f"{n}={v[:12]}" for n, v, _ in BAD_VALUES])
def test_a_bad_value_answers_400_with_a_sentence_naming_the_parameter(client, name, value, message):
    PractitionerFactory()
    response = api(client, **{name: value})
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)
    assert name in response.get_json()["error"]
    page = client.get("/search", query_string={**HERE, name: value})
    assert page.status_code == 400


@pytest.mark.parametrize(
    "name, values",
    [
        ("fee_max", ["50", "60"]),
        ("session_minutes", ["30", "30"]),
        ("wheelchair", ["1", "0"]),
        ("gender", ["female", "male"]),
        ("sort", ["name", "distance"]),
        ("language", ["es", "Spanish"]),
    ],
)
def test_a_new_parameter_given_twice_answers_400(client, name, values):
    query = "lat=40.015&lon=-105.27&" + "&".join(f"{name}={v}" for v in values)
    response = client.get(f"/api/v1/practitioners?{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error": f"{name} may be given only once"}
    assert client.get(f"/search?{query}").status_code == 400


def test_a_bad_value_is_refused_even_without_a_place(client):
    response = client.get("/api/v1/practitioners", query_string={"sort": "price"})
    assert response.status_code == 400 and "sort" in response.get_json()["error"]


# --- The search page reads the same parameters ---------------------------------------------------


def test_the_search_page_accepts_every_new_parameter(client):
    best, _ = _matching_and_one_short_of_each()
    for sort in ("distance", "name", "verified"):
        page = client.get("/search", query_string={**HERE, **EVERY_FILTER, "sort": sort})
        assert page.status_code == 200, sort
    blank = {name: "" for name in ("fee_max", "session_minutes", "wheelchair", "gender", "sort", "language")}
    assert client.get("/search", query_string={**HERE, **blank}).status_code == 200
    assert (
        client.get("/search", query_string={"near": "80302", "language": "es", "gender": "non-binary"}).status_code
        == 200
    )
