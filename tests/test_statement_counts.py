"""Lists load what they show in a fixed number of SQL statements, whether they show 1 row or 50."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from directory.extensions import db
from directory.models import Role, VerificationStatus
from directory.models.accounts import ProviderStatus
from directory.models.base import utcnow
from tests.conftest import login
from tests.factories import CertificationFactory, PractitionerFactory, UserFactory
from tests.referral_helpers import make_referral, token_for

SMALL, LARGE = 1, 50


@contextmanager
def counting_statements(reading: str | None = None):
    """Count the SQL statements sent to the database inside the block: `counter["n"]`.

    With `reading`, only the statements that name that table.
    """
    counter = {"n": 0}

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        if reading is None or reading in statement:
            counter["n"] += 1

    db.session.commit()  # the test's own set-up is written before the counting starts
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def statements_for(client, url: str, **kwargs) -> int:
    """How many statements one request for `url` runs (it must answer 200)."""
    with counting_statements() as counter:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return counter["n"]


def _referrals(provider, practitioner_user, how_many: int) -> None:
    for _ in range(how_many):
        make_referral(provider, practitioner_user, status="accepted")


def _count_with_rows(client, add_rows, url: str, **kwargs) -> tuple[int, int]:
    """Statements for `url` with SMALL rows, then with LARGE rows."""
    add_rows(SMALL)
    small = statements_for(client, url, **kwargs)
    add_rows(LARGE - SMALL)
    large = statements_for(client, url, **kwargs)
    return small, large


def test_the_api_lists_50_referrals_in_as_many_statements_as_1(client, provider_user, practitioner_user):
    headers = token_for(provider_user)
    # A token's first use in a minute records "last used" with one statement of its own: make
    # that use before counting, so both counts see the same token bookkeeping.
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    small, large = _count_with_rows(
        client,
        lambda n: _referrals(provider_user, practitioner_user, n),
        "/api/v1/referrals?per_page=50",
        headers=headers,
    )
    assert large == small
    # Each row carries its referrer, conditions and timeline: loaded with the rows.
    body = client.get("/api/v1/referrals?per_page=50", headers=headers).get_json()
    assert len(body["results"]) == LARGE
    assert all(r["conditions"] == ["tmj"] and len(r["events"]) == 3 for r in body["results"])


def _referrals_from_many_providers(practitioner_user, how_many: int) -> None:
    for _ in range(how_many):
        provider = UserFactory(
            role=Role.PROVIDER, provider_status=ProviderStatus.VERIFIED, organization="A Clinic", name="Dr. Many"
        )
        make_referral(provider, practitioner_user, status="accepted")


def test_the_referrals_page_lists_50_in_as_many_statements_as_1(client, provider_user, practitioner_user):
    login(client, provider_user)
    small, large = _count_with_rows(
        client, lambda n: _referrals(provider_user, practitioner_user, n), "/referrals/?status=accepted"
    )
    assert large == small


def test_the_practitioners_referral_page_shows_50_senders_in_as_many_statements_as_1(client, practitioner_user):
    login(client, practitioner_user)
    small, large = _count_with_rows(
        client, lambda n: _referrals_from_many_providers(practitioner_user, n), "/referrals/?status=accepted"
    )
    assert large == small
    html = client.get("/referrals/?status=accepted").get_data(as_text=True)
    assert html.count("Dr. Many, A Clinic") == min(LARGE, 25)  # 25 referrals a page


def _profiles_with_credentials(how_many: int) -> None:
    for _ in range(how_many):
        practitioner = PractitionerFactory()
        CertificationFactory(practitioner=practitioner, status=VerificationStatus.VERIFIED)
        CertificationFactory(practitioner=practitioner)


def test_the_admin_profile_list_shows_50_in_as_many_statements_as_1(client):
    login(client, UserFactory(role=Role.ADMIN))
    small, large = _count_with_rows(client, _profiles_with_credentials, "/admin/practitioners")
    assert large == small
    html = client.get("/admin/practitioners").get_data(as_text=True)
    assert html.count("1 verified credential(s)") == LARGE


def test_the_admin_credential_queue_shows_50_in_as_many_statements_as_1(client):
    login(client, UserFactory(role=Role.ADMIN))
    small, large = _count_with_rows(client, _profiles_with_credentials, "/admin/credentials")
    assert large == small
    html = client.get("/admin/credentials").get_data(as_text=True)
    assert html.count('class="card mb-4 queue-item"') == LARGE


def _searchable(how_many: int) -> None:
    """Practitioners near Boulder who match every search filter, each with two credentials."""
    for i in range(how_many):
        practitioner = PractitionerFactory(
            conditions=["tmj"],
            fee_min=60,
            gender="female",
            wheelchair_accessible=True,
            languages="English, Spanish",
            latitude=40.015 + i * 0.001,
            longitude=-105.27,
        )
        CertificationFactory(practitioner=practitioner, status=VerificationStatus.VERIFIED, verified_at=utcnow())
        CertificationFactory(practitioner=practitioner)


EVERY_SEARCH_FILTER = (
    "lat=40.015&lon=-105.27&condition=tmj&verified=1&accepting=1&fee_max=80&session_minutes=60"
    "&wheelchair=1&gender=female&language=Espa%C3%B1ol"
)


@pytest.mark.parametrize("sort", ["distance", "name", "verified"])
def test_the_search_api_answers_50_in_as_many_statements_as_1(client, sort):
    url = f"/api/v1/practitioners?{EVERY_SEARCH_FILTER}&per_page=50&sort={sort}"
    small, large = _count_with_rows(client, _searchable, url)
    # The taxonomy, the count, the page, its practitioners and their credentials.
    assert large == small <= 5
    body = client.get(url).get_json()
    assert len(body["results"]) == LARGE and all(len(r["credentials"]) == 2 for r in body["results"])


@pytest.mark.parametrize("sort", ["distance", "name", "verified"])
def test_the_search_page_shows_50_in_as_many_statements_as_1(client, sort):
    url = f"/search?{EVERY_SEARCH_FILTER}&per_page=50&sort={sort}"
    small, large = _count_with_rows(client, _searchable, url)
    assert large == small
