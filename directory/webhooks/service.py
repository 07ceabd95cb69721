"""Webhook endpoints and the events queued for them.

Nothing here commits: the view (or the referral move) that called it commits once at its end,
so a delivery exists exactly when the change it tells of was committed.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid

from sqlalchemy import or_, select

from directory.extensions import db
from directory.mail import site_url
from directory.models import Referral, Role, User, WebhookDelivery, WebhookEndpoint
from directory.models.base import utcnow
from directory.webhooks.addresses import WebhookUrlError, check_url, resolve

STATUS_CHANGED = "referral.status_changed"
MESSAGE_ADDED = "referral.message_added"
EVENTS = (STATUS_CHANGED, MESSAGE_ADDED)
# Enough for a clinic system's few receivers; more is a mistake or abuse.
MAX_ENDPOINTS_PER_USER = 10
# Deliveries an endpoint lists (newest first).
RECENT_DELIVERIES = 20


class WebhookError(Exception):
    """A registration refused: the status and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def may_register(user: User) -> bool:
    """Providers register endpoints for their referrals; admins for the whole site."""
    return user.role in (Role.PROVIDER, Role.ADMIN)


def new_secret() -> str:
    """A Standard Webhooks signing secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def register_endpoint(user: User, url: str, events: list[str]) -> WebhookEndpoint:
    """Add an endpoint (its secret is on the returned object, to show once), or raise WebhookError."""
    if not may_register(user):
        raise WebhookError(403, "Only healthcare providers and admins register webhooks.")
    try:
        url = check_url(url)
        resolve(url)
    except WebhookUrlError as error:
        raise WebhookError(400, str(error)) from None
    chosen = list(dict.fromkeys(events))
    if not chosen:
        raise WebhookError(400, f"events must list at least one of: {', '.join(EVENTS)}.")
    unknown = [event for event in chosen if event not in EVENTS]
    if unknown:
        raise WebhookError(400, f"Unknown event {unknown[0]!r}; one of: {', '.join(EVENTS)}.")
    if len(user_endpoints(user)) >= MAX_ENDPOINTS_PER_USER:
        raise WebhookError(400, f"At most {MAX_ENDPOINTS_PER_USER} webhooks an account: delete one first.")
    endpoint = WebhookEndpoint(user=user, url=url, events=",".join(chosen), secret=new_secret(), disabled_reason="")
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def user_endpoints(user: User) -> list[WebhookEndpoint]:
    """The user's endpoints, oldest first."""
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.user_id == user.id).order_by(WebhookEndpoint.id)
    return list(db.session.execute(stmt).scalars())


def own_endpoint(user: User, endpoint_id: int) -> WebhookEndpoint | None:
    """One of the user's endpoints, or None (someone else's is None too)."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    return endpoint if endpoint is not None and endpoint.user_id == user.id else None


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its deliveries."""
    db.session.delete(endpoint)
    db.session.flush()


def recent_deliveries(endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first."""
    stmt = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(RECENT_DELIVERIES)
    )
    return list(db.session.execute(stmt).scalars())


def _receivers(referral: Referral, event: str) -> list[WebhookEndpoint]:
    """The enabled endpoints told of this referral: its referrer's, and the admins' (whole site)."""
    owners = [WebhookEndpoint.user_id.in_(select(User.id).where(User.role == Role.ADMIN))]
    if referral.referrer_id is not None:
        owners.append(WebhookEndpoint.user_id == referral.referrer_id)
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.disabled_at.is_(None), or_(*owners))
    return [endpoint for endpoint in db.session.execute(stmt).scalars() if event in endpoint.event_list]


def payload(event: str, referral: Referral, previous_status: str) -> dict:
    """The body of an event: what happened to which referral, and where to fetch it. No patient details."""
    return {
        "type": event,
        "timestamp": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data": {
            "referral_id": referral.id,
            "status": referral.status,
            "previous_status": previous_status,
            "url": site_url("api.get_referral", referral_id=referral.id),
        },
    }


def queue_event(event: str, referral: Referral, previous_status: str) -> list[WebhookDelivery]:
    """Add one delivery of the event for each endpoint that listens, in the caller's transaction."""
    if referral.id is None:
        db.session.flush()
    body = json.dumps(payload(event, referral, previous_status), separators=(",", ":"))
    deliveries = []
    for endpoint in _receivers(referral, event):
        delivery = WebhookDelivery(
            endpoint=endpoint,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type=event,
            payload=body,
            last_error="",
        )
        db.session.add(delivery)
        deliveries.append(delivery)
    return deliveries


def referral_moved(referral: Referral, previous_status: str) -> list[WebhookDelivery]:
    """A move of the transition table: `referral.status_changed` when the status did change."""
    if referral.status == previous_status:
        return []  # an action that keeps the status (a no-show)
    return queue_event(STATUS_CHANGED, referral, previous_status)


def message_added(referral: Referral) -> list[WebhookDelivery]:
    """A message on the referral's thread: `referral.message_added` (the status is unchanged)."""
    return queue_event(MESSAGE_ADDED, referral, referral.status)
