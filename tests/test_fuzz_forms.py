"""Arbitrary text, numbers and Unicode in every query string and form: never a 500,
and a rejected request changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.extensions import db
from tests.factories import PractitionerFactory

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)

# Text a person (or an attacker) might type: any Unicode, numbers written oddly, SQL and markup.
nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(
        [
            "' OR 1=1 --",
            '"><script>alert(1)</script>',
            "%",
            "_",
            "\\",
            "1e309",
            "-0",
            "NaN",
            "inf",
            "0x10",
            "١٢٣",  # Arabic-Indic digits
            "９０２１０",  # full-width digits
            "80302\x00",
            "Zürich",
            "東京",
            "a" * 5000,
        ]
    ),
)
numberish = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    nasty_text,
)
SEARCH_FIELDS = {
    "near": nasty_text,
    "lat": numberish,
    "lon": numberish,
    "radius": numberish,
    "radius_km": numberish,
    "unit": st.one_of(st.sampled_from(["km", "mi", "KM", " mi "]), nasty_text),
    "condition": st.lists(st.one_of(st.sampled_from(["tmj", "fibromyalgia"]), nasty_text), max_size=4),
    "verified": st.one_of(st.sampled_from(["1", "0", "yes", "on"]), nasty_text),
    "accepting": st.one_of(st.sampled_from(["1", "0"]), nasty_text),
    "language": nasty_text,
    "page": numberish,
    "per_page": numberish,
}
search_args = st.fixed_dictionaries({}, optional=SEARCH_FIELDS)


def row_counts() -> dict[str, int]:
    """How many rows each table holds, to prove that nothing changed."""
    counts = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            counts[table.name] = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    return counts


@pytest.fixture
def directory_with_people(app):
    """A couple of practitioners near Boulder to find."""
    PractitionerFactory(display_name="Tess Tmj", conditions=["tmj"], latitude=40.02, longitude=-105.27)
    PractitionerFactory(display_name="Fred Fibro", conditions=["fibromyalgia"], latitude=40.1, longitude=-105.2)


@FUZZ
@given(args=search_args)
def test_search_page_answers_any_query_string_without_a_server_error(client, directory_with_people, args):
    response = client.get("/search", query_string=args)
    assert response.status_code in (200, 400), (args, response.status_code)
    assert "Something went wrong" not in response.get_data(as_text=True)


@FUZZ
@given(args=search_args)
def test_search_api_answers_any_query_string_with_json_and_never_a_500(client, directory_with_people, args):
    response = client.get("/api/v1/practitioners", query_string=args)
    assert response.status_code in (200, 400), (args, response.status_code)
    assert response.is_json
    body = response.get_json()
    if response.status_code == 400:
        assert isinstance(body["error"], str) and body["error"]
    else:
        assert body["count"] >= len(body["results"])


@FUZZ
@given(args=search_args)
def test_profile_page_ignores_any_query_string(client, directory_with_people, args):
    practitioner_id = db.session.execute(sa.text("SELECT MIN(id) FROM practitioners")).scalar_one()
    response = client.get(f"/practitioners/{practitioner_id}", query_string=args)
    assert response.status_code == 200


@FUZZ
@given(path=st.text(min_size=1, max_size=60))
def test_any_path_answers_without_a_server_error(client, path):
    response = client.get("/" + path.lstrip("/"))
    assert response.status_code < 500, path
