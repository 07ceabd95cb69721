"""Rate limits for everyone (directory/ratelimits.py): search and the JSON API per address, API tokens
per token, Retry-After on every 429, health checks, /metrics and static files exempt."""

from __future__ import annotations

import pytest

from directory import create_app
from directory.extensions import db
from directory.models import Role
from tests.conftest import base_config, reset_database
from tests.factories import UserFactory
from tests.referral_helpers import token_for

SEARCH_PAGE = "/search?near=80302"
API_SEARCH = "/api/v1/practitioners?lat=40.0&lon=-105.27"


def limited(database_url, tmp_path, **settings):
    """The app with rate limits on, the given limits, and everything else generous."""
    config = {
        **base_config(database_url, str(tmp_path)),
        "RATELIMIT_ENABLED": True,
        "SEARCH_RATE_LIMIT": "1000 per minute",
        "API_RATE_LIMIT": "1000 per minute",
        "API_TOKEN_RATE_LIMIT": "1000 per minute",
        **settings,
    }
    app = create_app(config)
    return app


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build a rate-limited app on the emptied test database; closed afterwards."""
    contexts = []

    def build(**settings):
        app = limited(database_url, tmp_path, **settings)
        context = app.app_context()
        context.push()
        contexts.append(context)
        reset_database()
        return app

    yield build
    for context in reversed(contexts):
        db.session.remove()
        db.engine.dispose()
        context.pop()


def at(app, address: str):
    """A client at an IP address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def statuses(client, url: str, times: int, **kwargs) -> list[int]:
    return [client.get(url, **kwargs).status_code for _ in range(times)]


def test_search_page_and_json_search_share_one_limit_per_address(make_app):
    app = make_app(SEARCH_RATE_LIMIT="3 per minute")
    visitor = at(app, "198.51.100.1")
    assert statuses(visitor, SEARCH_PAGE, 2) == [200, 200]
    assert visitor.get(API_SEARCH).status_code == 200
    refused = visitor.get(SEARCH_PAGE)
    assert refused.status_code == 429
    # The site's error page, with when to come back.
    assert "text/html" in refused.content_type and "Too many attempts" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    api_refused = visitor.get(API_SEARCH)
    assert api_refused.status_code == 429
    assert api_refused.get_json() == {"error": "Too many attempts. Please wait a little and try again."}
    assert 1 <= int(api_refused.headers["Retry-After"]) <= 61
    # Another address has its own count; pages that do not search are not counted.
    assert at(app, "198.51.100.2").get(SEARCH_PAGE).status_code == 200
    assert visitor.get("/").status_code == 200
    assert visitor.get("/api/v1/conditions").status_code == 200


def test_the_json_api_is_limited_per_address(make_app):
    app = make_app(API_RATE_LIMIT="2 per minute")
    client = at(app, "203.0.113.5")
    assert statuses(client, "/api/v1/conditions", 2) == [200, 200]
    refused = client.get(API_SEARCH)  # one count for the whole API
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["error"].startswith("Too many")
    assert at(app, "203.0.113.6").get("/api/v1/conditions").status_code == 200
    # The site's pages are not API routes.
    assert client.get(SEARCH_PAGE).status_code == 200


def test_api_tokens_are_limited_per_token_instead_of_per_address(make_app):
    app = make_app(API_RATE_LIMIT="2 per minute", SEARCH_RATE_LIMIT="2 per minute", API_TOKEN_RATE_LIMIT="4 per minute")
    first, second = token_for(UserFactory(role=Role.PROVIDER)), token_for(UserFactory(role=Role.PROVIDER))
    office = at(app, "192.0.2.10")  # one address, several clients
    # Past the per-address limits (2), a token still gets its own 4, searches included.
    assert statuses(office, API_SEARCH, 4, headers=first) == [200] * 4
    refused = office.get("/api/v1/me", headers=first)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # Another token from the same address has its own count.
    assert statuses(office, "/api/v1/me", 4, headers=second) == [200] * 4
    assert office.get("/api/v1/me", headers=second).status_code == 429
    # Without a token the address's own limit applies, untouched by the token requests.
    assert statuses(office, "/api/v1/conditions", 3) == [200, 200, 429]


def test_made_up_tokens_count_against_the_address(make_app):
    app = make_app(API_RATE_LIMIT="2 per minute", API_TOKEN_RATE_LIMIT="100 per minute")
    client = at(app, "203.0.113.9")
    answers = [
        client.get("/api/v1/conditions", headers={"Authorization": f"Bearer made-up-{n}"}).status_code for n in range(3)
    ]
    assert answers == [200, 200, 429]


def test_health_checks_metrics_and_static_files_are_exempt(make_app):
    app = make_app(SEARCH_RATE_LIMIT="1 per minute", API_RATE_LIMIT="1 per minute", RATELIMIT_DEFAULT="1 per minute")
    client = at(app, "127.0.0.1")
    assert statuses(client, "/healthz", 5) == [200] * 5
    assert statuses(client, "/readyz", 5) == [200] * 5
    assert statuses(client, "/metrics", 5) == [200] * 5
    assert statuses(client, "/static/css/app.css", 5) == [200] * 5
    assert statuses(client, SEARCH_PAGE, 2) == [200, 429]  # the limits are on


def test_a_limit_that_cannot_be_read_stops_the_start(database_url, tmp_path):
    with pytest.raises(RuntimeError, match='SEARCH_RATE_LIMIT must be a rate limit such as "120 per minute"'):
        limited(database_url, tmp_path, SEARCH_RATE_LIMIT="lots")


def test_defaults_are_generous(database_url, tmp_path):
    app = create_app({**base_config(database_url, str(tmp_path)), "RATELIMIT_ENABLED": True})
    assert app.config["SEARCH_RATE_LIMIT"] == "120 per minute"
    assert app.config["API_RATE_LIMIT"] == "300 per minute"
    assert app.config["API_TOKEN_RATE_LIMIT"] == "1200 per minute"


def test_the_api_contract_documents_429_with_retry_after(make_app):
    app = make_app()
    document = at(app, "192.0.2.1").get("/api/v1/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue  # the path's own parameters, not an operation
            refused = operation["responses"]["429"]
            assert refused["headers"]["Retry-After"]["schema"]["type"] == "integer", (method, path)
