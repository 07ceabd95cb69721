"""Admin: verification queues, moderation, the registry of certifying bodies, audit.

Every route of this blueprint answers 404 to anyone but a signed-in admin. The check runs
before the CSRF check (the blueprint is exempt from the global one and checks CSRF itself
right after), so that a stranger's POST gets the same 404 as a GET and learns nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from sqlalchemy import func, select

from directory.extensions import csrf, db
from directory.models import Certification, Practitioner, Role, User, VerificationStatus
from directory.models.accounts import ProviderStatus

bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf.exempt(bp)


@bp.before_request
def require_admin():
    """404 for everyone but admins; then CSRF on every state-changing request."""
    if not current_user.is_authenticated or not current_user.is_admin:
        abort(404)
    if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
        csrf.protect()


def _count(query) -> int:
    return db.session.execute(query).scalar_one()


@bp.get("/")
def index():
    """Overview: queue sizes and links to every admin tool."""
    counts = {
        "credentials": _count(
            select(func.count(Certification.id)).where(Certification.status == VerificationStatus.PENDING)
        ),
        "providers": _count(
            select(func.count(User.id)).where(
                User.role == Role.PROVIDER, User.provider_status == ProviderStatus.PENDING
            )
        ),
        "suspended": _count(select(func.count(Practitioner.id)).where(Practitioner.suspended.is_(True))),
        "unpublished": _count(select(func.count(Practitioner.id)).where(Practitioner.published.is_(False))),
        "disabled": _count(select(func.count(User.id)).where(User.disabled.is_(True))),
    }
    return render_template("admin/index.html", counts=counts)


# The routes of the other admin pages register themselves on `bp`.
from directory.admin import (  # noqa: E402, F401
    audit_views,
    bulk_views,
    claims_views,
    feedback_views,
    moderation_views,
    queue_views,
    registry_views,
)
