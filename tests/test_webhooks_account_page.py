"""The account page manages webhooks as the API does: providers and admins, their own only."""

from __future__ import annotations

import sqlalchemy as sa

from directory.extensions import db
from directory.models.webhooks import WebhookEndpoint
from tests.conftest import csrf_token_from, login


def _post(client, url: str, data: dict):
    token = csrf_token_from(client.get("/account/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_a_provider_adds_a_webhook_sees_its_secret_once_and_removes_it(client, provider_user):
    login(client, provider_user)
    page = client.get("/account/").get_data(as_text=True)
    assert 'id="webhooks-heading"' in page and "You have no webhooks." in page
    response = _post(
        client, "/account/webhooks", {"url": "http://127.0.0.1:8765/hooks", "events": ["referral.status_changed"]}
    )
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    endpoint = db.session.execute(sa.select(WebhookEndpoint)).scalar_one()
    assert endpoint.secret in response.get_data(as_text=True)
    again = client.get("/account/").get_data(as_text=True)
    assert "http://127.0.0.1:8765/hooks" in again and endpoint.secret not in again
    assert _post(client, f"/account/webhooks/{endpoint.id}/delete", {}).status_code == 302
    db.session.expire_all()
    assert db.session.execute(sa.select(WebhookEndpoint)).first() is None


def test_a_bad_webhook_is_refused_with_the_api_s_message(client, provider_user):
    login(client, provider_user)
    for data, message in (
        ({"url": "ftp://clinic.example.net/x", "events": ["referral.status_changed"]}, "http"),
        ({"url": "https://169.254.169.254/latest", "events": ["referral.status_changed"]}, ""),
        ({"url": "", "events": ["referral.status_changed"]}, "required"),
    ):
        response = _post(client, "/account/webhooks", data)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.execute(sa.select(WebhookEndpoint)).first() is None


def test_practitioners_have_no_webhooks_and_nobody_removes_another_s(
    client, practitioner_user, provider_user, other_provider_user
):
    login(client, practitioner_user)
    assert 'id="webhooks-heading"' not in client.get("/account/").get_data(as_text=True)
    assert (
        _post(
            client, "/account/webhooks", {"url": "http://127.0.0.1:8766/h", "events": ["referral.status_changed"]}
        ).status_code
        == 404
    )
    login(client, provider_user)
    _post(client, "/account/webhooks", {"url": "http://127.0.0.1:8765/hooks", "events": ["referral.status_changed"]})
    endpoint = db.session.execute(sa.select(WebhookEndpoint)).scalar_one()
    login(client, other_provider_user)
    assert _post(client, f"/account/webhooks/{endpoint.id}/delete", {}).status_code == 404
    db.session.expire_all()
    assert db.session.execute(sa.select(WebhookEndpoint)).first() is not None
