"""Arbitrary text, numbers and Unicode in every query string and form: never a 500,
and a rejected request changes nothing."""

from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.extensions import db
from tests.factories import PractitionerFactory

# In CI the fuzzers replay the same examples every run (a failure there is reproducible);
# on a developer machine they draw new ones each time, to keep finding new inputs.
IN_CI = os.environ.get("CI") == "true"

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=IN_CI
)
# Each form example is a full page load and post: fewer of them, over more forms.
FORM_FUZZ = settings(FUZZ, max_examples=20)

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
    has_nul = "\x00" in repr(args) or "\\x00" in repr(args)
    assert response.status_code == 200 or (has_nul and response.status_code == 400)


@FUZZ
@given(path=st.text(min_size=1, max_size=60))
def test_any_path_answers_without_a_server_error(client, path):
    response = client.get("/" + path.lstrip("/"))
    assert response.status_code < 500, path


# --- Every form: arbitrary input, a valid CSRF token, the role that may use it -------------

FORM_RE = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
NAME_RE = re.compile(r"<(?:input|select|textarea)\b[^>]*?\bname=\"([^\"]+)\"", re.I)
ACTION_RE = re.compile(r"\baction=\"([^\"]*)\"", re.I)
METHOD_RE = re.compile(r"\bmethod=\"post\"", re.I)

# (who, the page with the form, the form's action or None for the page itself)
FORMS = [
    ("anonymous", "/account/signup", None),
    ("anonymous", "/account/login", None),
    ("anonymous", "/account/forgot-password", None),
    ("anonymous", "/practitioners/{practitioner_id}", "/practitioners/{practitioner_id}/enquiry"),
    ("practitioner", "/dashboard/profile", None),
    ("practitioner", "/dashboard/profile/conditions", None),
    ("practitioner", "/dashboard/locations/new", None),
    ("practitioner", "/dashboard/training/new", None),
    ("practitioner", "/dashboard/licences/new", None),
    ("practitioner", "/dashboard/certifications/new", None),
    ("practitioner", "/account/password", None),
    ("practitioner", "/account/email", None),
    ("practitioner", "/account/delete", None),
    ("provider", "/referrals/new?practitioner={practitioner_id}", "/referrals/new"),
    ("provider", "/referrals/profile", None),
    ("provider", "/referrals/{referral_id}", "/referrals/{referral_id}/messages"),
    ("practitioner", "/referrals/{referral_id}", "/referrals/{referral_id}/transitions"),
    ("admin", "/admin/bodies/new", None),
    ("admin", "/admin/conditions", "/admin/conditions"),
    ("admin", "/admin/credentials", "/admin/credentials/{certification_id}/reject"),
    ("admin", "/admin/credentials", "/admin/credentials/{certification_id}/verify"),
]


def form_fields(html: str, action: str) -> list[str]:
    """The field names of the POST form that sends to `action` (path only)."""
    for form in FORM_RE.findall(html):
        if not METHOD_RE.search(form):
            continue
        found = ACTION_RE.search(form)
        target = found.group(1) if found else ""
        if target in ("", action) or target.split("#")[0].split("?")[0] == action:
            names = [n for n in NAME_RE.findall(form) if n != "csrf_token"]
            if target or names:
                return list(dict.fromkeys(names))
    raise AssertionError(f"no POST form sending to {action}")


def snapshot() -> dict[str, list]:
    """Every row of every table: a rejected request must leave all of them as they were."""
    rows = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            rows[table.name] = sorted(map(repr, conn.execute(sa.select(table)).all()))
    return rows


@pytest.fixture
def people(app, practitioner_user, provider_user, admin_user):
    """Signed-in clients per role, and the ids the forms need."""
    from directory.models import VerificationStatus
    from tests.conftest import login
    from tests.factories import CertificationFactory
    from tests.referral_helpers import make_referral

    app.config["ENQUIRY_MIN_SECONDS"] = 0
    referral = make_referral(provider_user, practitioner_user)
    cert = CertificationFactory(practitioner=practitioner_user.practitioner, status=VerificationStatus.PENDING)
    clients = {"anonymous": app.test_client()}
    for role, user in [("practitioner", practitioner_user), ("provider", provider_user), ("admin", admin_user)]:
        clients[role] = app.test_client()
        login(clients[role], user)
    ids = {
        "practitioner_id": practitioner_user.practitioner.id,
        "referral_id": referral.id,
        "certification_id": cert.id,
    }
    return clients, ids


form_values = st.one_of(nasty_text, numberish, st.sampled_from(["y", "on", "", "2024-02-30", "2031-03-04T09:30"]))


# A form an earlier example used successfully may be gone (a credential already verified):
# its fields are remembered from the first time, and posting them again must still not fail.
_FIELDS: dict[str, list[str]] = {}


@pytest.mark.parametrize("who, form_page, action", FORMS, ids=[f"{w}:{a or p}" for w, p, a in FORMS])
@FORM_FUZZ
@given(data=st.data())
def test_every_form_takes_any_input_without_a_500_and_a_rejection_changes_nothing(people, who, form_page, action, data):
    from tests.conftest import csrf_token_from

    clients, ids = people
    client = clients[who]
    page_url = form_page.format(**ids)
    post_url = (action or form_page.split("?")[0]).format(**ids)
    html = client.get(page_url).get_data(as_text=True)
    key = f"{who} {form_page} {action}"
    if key not in _FIELDS:
        _FIELDS[key] = form_fields(html, post_url)
    names = _FIELDS[key]
    values = data.draw(st.fixed_dictionaries({}, optional={name: form_values for name in names}))
    before = snapshot()
    response = client.post(post_url, data={"csrf_token": csrf_token_from(html), **values})
    assert response.status_code < 500, (post_url, values)
    if response.status_code >= 400:
        assert snapshot() == before, f"{post_url} answered {response.status_code} but changed data: {values}"
