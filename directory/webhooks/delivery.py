"""The webhook sender: due deliveries POSTed, signed, retried with the outbox's back-off.

Run by `flask send-mail` (cron or `--loop`) right after the mail. Each delivery is claimed with
a lease before it is sent and committed as soon as it is done, so two senders never post the
same delivery twice and a delivered one is never posted again (its webhook-id stays the same
on every attempt, for receivers that drop repeats). A non-2xx answer, a timeout or a refused
connection is a failed attempt; after WEBHOOK_MAX_ATTEMPTS (about two days of back-off) the
delivery is given up, its endpoint disabled, and the endpoint's owner told by email.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from standardwebhooks import Webhook

from directory.extensions import db
from directory.mail import site_url
from directory.models import OutboxMessage, WebhookDelivery, WebhookEndpoint
from directory.models.base import utcnow
from directory.outbox import MAX_ATTEMPTS, backoff, claim
from directory.webhooks.addresses import Target, WebhookUrlError, resolve

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 10.0
# How much of a receiver's answer is read (and kept, shortened, as the error).
MAX_ANSWER_BYTES = 4096
USER_AGENT = "CST-Directory-Webhooks/1"


def max_attempts() -> int:
    """Attempts before a delivery is given up (WEBHOOK_MAX_ATTEMPTS; the mail outbox's by default)."""
    return int(current_app.config.get("WEBHOOK_MAX_ATTEMPTS") or MAX_ATTEMPTS)


def deliver_due(limit: int = 100) -> tuple[int, int]:
    """Post the deliveries that are due; returns (delivered, failed). Safe to run concurrently."""
    delivered = failed = 0
    for delivery_id in _due_ids(limit):
        result = _deliver_one(delivery_id)
        if result is True:
            delivered += 1
        elif result is False:
            failed += 1
    return delivered, failed


def _due_ids(limit: int) -> list[int]:
    """Up to `limit` undelivered deliveries of enabled endpoints whose next attempt is due, oldest first."""
    stmt = (
        select(WebhookDelivery.id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.delivered_at.is_(None),
            WebhookDelivery.gave_up_at.is_(None),
            WebhookDelivery.next_attempt_at <= utcnow(),
            WebhookEndpoint.disabled_at.is_(None),
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def _claim(delivery_id: int) -> bool:
    """Take a due delivery (a lease), atomically; False when another sender has it or it is done."""
    return claim(
        WebhookDelivery, delivery_id, WebhookDelivery.delivered_at.is_(None), WebhookDelivery.gave_up_at.is_(None)
    )


def _deliver_one(delivery_id: int) -> bool | None:
    """Claim and post one delivery: True when the receiver took it, False when it failed, None when not ours."""
    if not _claim(delivery_id):
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id)
    db.session.refresh(delivery)
    endpoint = delivery.endpoint
    delivery.attempts += 1
    try:
        status = post(endpoint.url, endpoint.secret, delivery.message_id, delivery.payload)
    except (OSError, WebhookUrlError, http.client.HTTPException) as error:
        _failed(delivery, None, f"{type(error).__name__}: {error}")
        ok = False
    else:
        if 200 <= status < 300:
            delivery.delivered_at = utcnow()
            delivery.last_status_code = status
            delivery.last_error = ""
            ok = True
        else:
            _failed(delivery, status, f"HTTP {status}")
            ok = False
    # Commit each delivery as it goes, so a crash never posts one twice.
    db.session.commit()
    return ok


def signed_headers(secret: str, message_id: str, body: str, moment: datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers of a body: webhook-id, webhook-timestamp, webhook-signature."""
    moment = moment or utcnow()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body),
    }


def post(url: str, secret: str, message_id: str, body: str) -> int:
    """POST the body, signed now, to the URL's checked address; the answer's status code."""
    target = resolve(url)  # again at delivery: the DNS answer may have changed since registration
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT") or DEFAULT_TIMEOUT)
    connection = _connection(target, timeout)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": target.host if target.port in (80, 443) else f"{target.host}:{target.port}",
        **signed_headers(secret, message_id, body),
    }
    try:
        connection.request("POST", target.path, body=body.encode(), headers=headers)
        answer = connection.getresponse()
        answer.read(MAX_ANSWER_BYTES)
        return answer.status
    finally:
        connection.close()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to the address that was checked, whatever the host name resolves to now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to the checked address; the certificate is checked for the host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self.address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target, timeout)
    return _PinnedHTTPConnection(target, timeout)


def _failed(delivery: WebhookDelivery, status: int | None, error: str) -> None:
    """Count a failed attempt and schedule the next; the last one gives up and disables the endpoint."""
    delivery.last_status_code = status
    delivery.last_error = error[:1000]
    delivery.next_attempt_at = utcnow() + backoff(delivery.attempts)
    if delivery.attempts >= max_attempts():
        delivery.gave_up_at = utcnow()
        _disable(delivery.endpoint, f"{delivery.attempts} failed attempts; the last: {delivery.last_error}")


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop calling an endpoint that keeps failing, and tell its owner (no patient details)."""
    if endpoint.disabled_at is not None:
        return
    endpoint.disabled_at = utcnow()
    endpoint.disabled_reason = reason[:1000]
    log.warning("Webhook endpoint %s disabled: %s", endpoint.id, reason)
    owner = endpoint.user
    if owner is None or not owner.email:
        return
    text = (
        f"Hello,\n\nYour webhook endpoint {endpoint.url} has failed for about two days, so the CST directory "
        f"has stopped calling it.\n\nLast error: {reason}\n\nFix the receiver, then register it again "
        f"(POST /api/v1/webhooks) and delete the old one. Its recent deliveries are listed at "
        f"{site_url('api.list_webhooks')}.\n"
    )
    db.session.add(
        OutboxMessage(
            recipient=owner.email,
            subject="Your webhook endpoint has been disabled",
            text_body=text,
            html_body="",
        )
    )
