"""`/api/v1/webhooks` on the API blueprint: register, list and delete webhook endpoints.

Providers register endpoints for their own referrals, admins for the whole site. The secret is
answered once, by the registration; the list shows each endpoint's recent deliveries instead.
"""

from __future__ import annotations

from functools import wraps

from flask import g, jsonify
from marshmallow import Schema, fields, validate

from directory.api.contract import operation
from directory.api.fields import Text
from directory.api.referral_schemas import JsonBody
from directory.api.views import bp
from directory.auth import api_login_required
from directory.extensions import db
from directory.webhooks import service
from directory.webhooks.service import EVENTS, WebhookError

NEED_TOKEN = {401: "No valid token", 403: "Not a provider or admin account"}


class NewWebhookSchema(JsonBody):
    """An endpoint to register: where to POST, and which events."""

    url = Text(
        label="url",
        required=True,
        max_length=2000,
        metadata={"description": "https URL to a public address (http and private ones in development only)"},
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENTS, error=f"events must be among: {', '.join(EVENTS)}.")),
        required=True,
        validate=validate.Length(min=1, max=len(EVENTS), error=f"events must list some of: {', '.join(EVENTS)}."),
        error_messages={
            "required": f"events is required: a list of {', '.join(EVENTS)}.",
            "invalid": f"events must be a list of {', '.join(EVENTS)}.",
            "null": f"events must be a list of {', '.join(EVENTS)}.",
        },
    )


class WebhookDeliverySchema(Schema):
    """One delivery of an event to the endpoint, with its latest answer."""

    id = fields.String(attribute="message_id", metadata={"description": "The webhook-id header"})
    type = fields.String(attribute="event_type")
    created_at = fields.DateTime()
    attempts = fields.Integer()
    status_code = fields.Integer(attribute="last_status_code", allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.Function(
        lambda d: None if d.delivered_at or d.gave_up_at else d.next_attempt_at.isoformat(),
        allow_none=True,
        metadata={"type": "string", "format": "date-time"},
    )
    gave_up_at = fields.DateTime(allow_none=True)
    error = fields.Function(lambda d: d.last_error or None, allow_none=True, metadata={"type": "string"})


class WebhookSchema(Schema):
    """A registered endpoint (without its secret), with its recent deliveries."""

    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), attribute="event_list", required=True)
    created_at = fields.DateTime()
    disabled_at = fields.DateTime(allow_none=True)
    disabled_reason = fields.Function(lambda e: e.disabled_reason or None, allow_none=True)
    recent_deliveries = fields.Function(
        lambda e: WebhookDeliverySchema(many=True).dump(service.recent_deliveries(e)),
        metadata={"type": "array", "items": {"type": "object"}, "description": "Newest first, at most 20"},
    )


class NewWebhookAnswerSchema(Schema):
    """A registered endpoint with its signing secret: shown this once."""

    id = fields.Integer(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), attribute="event_list", required=True)
    secret = fields.String(
        required=True, metadata={"description": "Standard Webhooks secret (whsec_...); shown only now"}
    )


def _registrar_required(view):
    """Providers and admins only: 403 for other accounts before any body is read."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not service.may_register(g.api_user):
            return jsonify(error="Only healthcare providers and admins register webhooks."), 403
        return view(*args, **kwargs)

    return wrapped


@bp.errorhandler(WebhookError)
def webhook_error(error: WebhookError):
    """A refused registration: 400 or 403 with why; nothing is kept."""
    db.session.rollback()
    return jsonify(error=error.message), error.status


@bp.post("/webhooks")
@operation(bp, "createWebhook", token=True, errors={400: "Bad URL or events", **NEED_TOKEN})
@api_login_required
@_registrar_required
@bp.arguments(NewWebhookSchema)
@bp.response(201, NewWebhookAnswerSchema, description="The endpoint, with its secret (shown once)")
def create_webhook(data: dict):
    """Register an endpoint told of every status change of your referrals (all referrals, for an admin)."""
    endpoint = service.register_endpoint(g.api_user, data["url"], data["events"])
    db.session.commit()
    return endpoint


@bp.get("/webhooks")
@operation(bp, "listWebhooks", token=True, errors=NEED_TOKEN)
@api_login_required
@_registrar_required
@bp.response(200, WebhookSchema(many=True), description="Your endpoints, with their recent deliveries")
def list_webhooks():
    """Your webhook endpoints and what each was sent lately."""
    return service.user_endpoints(g.api_user)


@bp.delete("/webhooks/<int:webhook_id>")
@operation(bp, "deleteWebhook", token=True, errors={**NEED_TOKEN, 404: "No such endpoint of yours"})
@api_login_required
@_registrar_required
@bp.response(204, description="Deleted")
def delete_webhook(webhook_id: int):
    """Stop sending to an endpoint (its pending deliveries are dropped)."""
    endpoint = service.own_endpoint(g.api_user, webhook_id)
    if endpoint is None:
        return jsonify(error="No such webhook of yours."), 404
    service.delete_endpoint(endpoint)
    db.session.commit()
    return "", 204
