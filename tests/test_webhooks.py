"""Signed webhooks for referral status changes: registration, the SSRF rule, and delivery to a real
HTTP receiver on loopback that verifies each signature with standardwebhooks."""

from __future__ import annotations

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from directory.extensions import db
from directory.models import WebhookDelivery, WebhookEndpoint
from directory.models.base import utcnow
from directory.referrals import service, workflow
from directory.webhooks.delivery import deliver_due
from tests.referral_helpers import assert_no_patient_details, make_referral, outbox, token_for


class Receiver:
    """A clinic system's webhook receiver on 127.0.0.1: answers the queued statuses (then 200),
    verifies every request's signature, and keeps what it was sent."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.requests: list[dict] = []
        self.secret: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.answers.pop(0) if receiver.answers else 200
                verified = Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                receiver.requests.append(
                    {"headers": dict(self.headers.items()), "body": body, "event": verified, "status": status}
                )
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cst?source=directory"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def delivered(self) -> list[dict]:
        """The events the receiver took (answered 2xx)."""
        return [r["event"] for r in self.requests if 200 <= r["status"] < 300]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.stop()


def register(client, user, url, events=("referral.status_changed",)):
    response = client.post("/api/v1/webhooks", json={"url": url, "events": list(events)}, headers=token_for(user))
    return response


def registered(client, user, receiver) -> dict:
    """An endpoint of the user at the receiver, which learns its secret."""
    response = register(client, user, receiver.url)
    assert response.status_code == 201, response.get_json()
    receiver.secret = response.get_json()["secret"]
    return response.get_json()


def make_due() -> None:
    """Every waiting delivery is due now (as if its back-off had passed)."""
    db.session.execute(db.update(WebhookDelivery).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return db.session.execute(db.select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars().all()


# --- Registration ---------------------------------------------------------------------------


def test_a_provider_registers_lists_and_deletes_endpoints(client, provider_user, other_provider_user, receiver):
    created = register(client, provider_user, receiver.url, ["referral.status_changed", "referral.message_added"])
    assert created.status_code == 201
    body = created.get_json()
    assert set(body) == {"id", "url", "events", "secret"}
    assert body["secret"].startswith("whsec_") and body["url"] == receiver.url
    assert body["events"] == ["referral.status_changed", "referral.message_added"]
    listed = client.get("/api/v1/webhooks", headers=token_for(provider_user)).get_json()
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0] and listed[0]["recent_deliveries"] == []
    # Someone else's endpoint is not theirs to see or delete.
    assert client.get("/api/v1/webhooks", headers=token_for(other_provider_user)).get_json() == []
    gone = client.delete(f"/api/v1/webhooks/{body['id']}", headers=token_for(other_provider_user))
    assert gone.status_code == 404
    assert client.delete(f"/api/v1/webhooks/{body['id']}", headers=token_for(provider_user)).status_code == 204
    assert db.session.execute(db.select(WebhookEndpoint)).first() is None


def test_only_providers_and_admins_register(client, practitioner_user, admin_user, receiver):
    assert register(client, practitioner_user, receiver.url).status_code == 403
    assert client.post("/api/v1/webhooks", json={"url": receiver.url, "events": []}).status_code == 401
    assert register(client, admin_user, receiver.url).status_code == 201


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"url": "ftp://example.org/x", "events": ["referral.status_changed"]}, "https"),
        ({"url": "http://169.254.169.254/latest/meta-data", "events": ["referral.status_changed"]}, "never"),
        ({"url": "http://[fe80::1]/", "events": ["referral.status_changed"]}, "never"),
        ({"url": "http://0.0.0.0:8080/", "events": ["referral.status_changed"]}, "never"),
        ({"url": "http://user:pw@127.0.0.1/", "events": ["referral.status_changed"]}, "password"),
        ({"url": "http://127.0.0.1/a b", "events": ["referral.status_changed"]}, "spaces"),
        ({"url": "", "events": ["referral.status_changed"]}, "url"),
        ({"url": "http://127.0.0.1/", "events": []}, "events"),
        ({"url": "http://127.0.0.1/", "events": ["referral.deleted"]}, "events"),
        ({"url": "http://127.0.0.1/", "events": "referral.status_changed"}, "events"),
        ({"url": "http://127.0.0.1/"}, "events"),
    ],
)
def test_bad_registrations_are_refused_with_why(client, provider_user, body, said):
    response = client.post("/api/v1/webhooks", json=body, headers=token_for(provider_user))
    assert response.status_code == 400
    assert said in response.get_json()["error"]
    assert db.session.execute(db.select(WebhookEndpoint)).first() is None


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://127.0.0.1/hook", "https"),
        ("https://127.0.0.1/hook", "not a public address"),
        ("https://10.1.2.3/hook", "not a public address"),
        ("https://[::1]/hook", "not a public address"),
        ("https://[::ffff:127.0.0.1]/hook", "not a public address"),
        ("https://localhost/hook", "not a public address"),
    ],
)
def test_without_allow_private_only_https_to_public_addresses(app, client, provider_user, url, said):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    response = register(client, provider_user, url)
    assert response.status_code == 400 and said in response.get_json()["error"]


def test_production_refuses_private_addresses_by_default(app, client, provider_user):
    app.config.pop("WEBHOOK_ALLOW_PRIVATE", None)
    app.config["ENV_NAME"] = "production"
    assert register(client, provider_user, "https://127.0.0.1/hook").status_code == 400
    app.config["ENV_NAME"] = "development"
    assert register(client, provider_user, "https://127.0.0.1/hook").status_code == 201


# --- Delivery -------------------------------------------------------------------------------


def test_every_status_change_reaches_the_referrer_signed_without_patient_details(
    app, client, provider_user, practitioner_user, receiver
):
    registered(client, provider_user, receiver)
    referral = make_referral(provider_user, practitioner_user, workflow.ACCEPTED)
    assert len(deliveries()) == 2  # requested -> received -> accepted, queued with the moves
    assert deliver_due() == (2, 0)
    events = receiver.delivered()
    assert [(e["data"]["previous_status"], e["data"]["status"]) for e in events] == [
        ("requested", "received"),
        ("received", "accepted"),
    ]
    for event, request in zip(events, receiver.requests, strict=True):
        assert set(event) == {"type", "timestamp", "data"} and event["type"] == "referral.status_changed"
        assert set(event["data"]) == {"referral_id", "status", "previous_status", "url"}
        assert event["data"]["referral_id"] == referral.id
        assert event["data"]["url"] == f"http://localhost/api/v1/referrals/{referral.id}"
        assert request["headers"]["webhook-signature"].startswith("v1,")
        assert request["headers"]["webhook-id"].startswith("msg_")
        assert_no_patient_details(request["body"].decode())
    # The receiver fetches the referral with its token.
    fetched = client.get(events[0]["data"]["url"], headers=token_for(provider_user))
    assert fetched.status_code == 200
    # A forged or altered body does not verify.
    first = receiver.requests[0]
    with pytest.raises(Exception, match="signature"):
        Webhook(receiver.secret).verify(first["body"].replace(b"accepted", b"rejected") + b" ", first["headers"])
    # The endpoint lists its deliveries with their status codes.
    listed = client.get("/api/v1/webhooks", headers=token_for(provider_user)).get_json()[0]
    assert [d["status_code"] for d in listed["recent_deliveries"]] == [200, 200]
    assert all(d["delivered_at"] for d in listed["recent_deliveries"])


def test_a_receiver_that_fails_twice_gets_the_event_once_it_recovers_exactly_once(
    client, provider_user, practitioner_user, receiver
):
    registered(client, provider_user, receiver)
    make_referral(provider_user, practitioner_user, workflow.RECEIVED)
    receiver.answers = [500, 503]
    assert deliver_due() == (0, 1)
    (delivery,) = deliveries()
    assert delivery.attempts == 1 and delivery.last_status_code == 500 and delivery.delivered_at is None
    assert delivery.next_attempt_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None)  # backing off
    assert deliver_due() == (0, 0)  # not due yet
    make_due()
    assert deliver_due() == (0, 1)
    make_due()
    assert deliver_due() == (1, 0)
    make_due()
    assert deliver_due() == (0, 0)  # delivered: never posted again
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1  # one message id on every attempt
    assert [r["status"] for r in receiver.requests] == [500, 503, 200]
    assert len(receiver.delivered()) == 1
    (delivery,) = deliveries()
    assert delivery.attempts == 3 and delivery.last_status_code == 200


def test_after_the_last_attempt_the_endpoint_is_disabled_and_its_owner_told(
    app, client, provider_user, practitioner_user, receiver
):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 3
    registered(client, provider_user, receiver)
    referral = make_referral(provider_user, practitioner_user, workflow.RECEIVED)
    receiver.answers = [500] * 10
    for _ in range(5):
        make_due()
        deliver_due()
    assert len(receiver.requests) == 3
    (delivery,) = deliveries()
    assert delivery.gave_up_at is not None and delivery.delivered_at is None
    endpoint = db.session.execute(db.select(WebhookEndpoint)).scalar_one()
    assert endpoint.disabled_at is not None and "HTTP 500" in endpoint.disabled_reason
    told = [m for m in outbox() if m.recipient == provider_user.email and "webhook" in m.subject.lower()]
    assert len(told) == 1 and receiver.url in told[0].text_body
    # A disabled endpoint is sent nothing more.
    service.transition(referral, practitioner_user, workflow.ACCEPTED)
    db.session.commit()
    assert len(deliveries()) == 1
    listed = client.get("/api/v1/webhooks", headers=token_for(provider_user)).get_json()[0]
    assert listed["disabled_at"] and listed["recent_deliveries"][0]["gave_up_at"]


def test_a_refused_connection_is_a_failed_attempt(client, provider_user, practitioner_user):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    response = register(client, provider_user, f"http://127.0.0.1:{port}/hook")
    assert response.status_code == 201
    make_referral(provider_user, practitioner_user, workflow.RECEIVED)
    assert deliver_due() == (0, 1)
    (delivery,) = deliveries()
    assert delivery.attempts == 1 and "ConnectionRefused" in delivery.last_error


def test_the_address_is_checked_again_at_delivery(app, client, provider_user, practitioner_user, receiver):
    registered(client, provider_user, receiver)
    make_referral(provider_user, practitioner_user, workflow.RECEIVED)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False  # as if the name now resolved to a private address
    assert deliver_due() == (0, 1)
    assert receiver.requests == []
    assert "https" in deliveries()[0].last_error


def test_a_webhook_never_reaches_a_provider_who_is_not_the_referrer(
    client, provider_user, other_provider_user, practitioner_user, admin_user, receiver
):
    other = Receiver()
    site = Receiver()
    try:
        registered(client, provider_user, receiver)
        registered(client, other_provider_user, other)
        registered(client, admin_user, site)
        make_referral(provider_user, practitioner_user, workflow.ACCEPTED)
        deliver_due()
        assert len(receiver.delivered()) == 2
        assert other.requests == []  # not their referral
        assert len(site.delivered()) == 2  # an admin's endpoint hears of every referral
    finally:
        other.stop()
        site.stop()


def test_a_refused_move_queues_nothing_and_message_events_are_opt_in(
    client, provider_user, practitioner_user, receiver
):
    registered(client, provider_user, receiver)
    referral = make_referral(provider_user, practitioner_user, workflow.RECEIVED)
    with pytest.raises(service.ReferralError):
        service.transition(referral, practitioner_user, workflow.COMPLETED)
    db.session.rollback()
    assert len(deliveries()) == 1
    from directory.webhooks.service import message_added

    message_added(referral)  # an endpoint that listens to status changes only is not told
    db.session.commit()
    assert len(deliveries()) == 1


def test_send_mail_delivers_webhooks_next_to_the_mail(app, client, provider_user, practitioner_user, receiver):
    registered(client, provider_user, receiver)
    make_referral(provider_user, practitioner_user, workflow.RECEIVED)
    assert json.loads(deliveries()[0].payload)["data"]["status"] == "received"
    mails = len(outbox())
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0 and f"sent {mails + 1}, failed 0" in result.output
    assert len(receiver.delivered()) == 1
