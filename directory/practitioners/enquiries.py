"""Patient enquiries: spam checks without third parties, storage, and the practitioner's notice.

Spam protection: a honeypot field people never see, a minimum fill time carried in a
signed timestamp (ENQUIRY_MIN_SECONDS, default 3; 0 switches it off), and a rate limit per address
on the enquiries actually sent (ENQUIRY_RATE_LIMIT, default "5 per hour", applied in the view).
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from directory.extensions import db
from directory.mail import queue_mail, site_url
from directory.models import Enquiry, Practitioner
from directory.models.base import utcnow

SALT = "enquiry-form-started"
# A form left open longer than this must be reloaded (its timestamp is too old to trust).
MAX_FORM_AGE_SECONDS = 24 * 3600


class SpamSuspected(ValueError):
    """A submission the spam checks refuse, with a message for the person."""


class FormOutdated(SpamSuspected):
    """The form's start time cannot be trusted: the person needs a freshly stamped form."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def start_token(practitioner_id: int) -> str:
    """A signed token saying when the form for this practitioner was shown."""
    return _serializer().dumps(practitioner_id)


def check_spam(practitioner_id: int, honeypot: str, started: str) -> None:
    """Raise SpamSuspected when the honeypot is filled, or the form was sent too fast or is stale."""
    if honeypot:
        raise SpamSuspected("Your message looks automated and was not sent.")
    minimum = float(current_app.config.get("ENQUIRY_MIN_SECONDS", 3))
    if minimum <= 0:
        return  # the fill-time check is switched off (tests, or by choice): the timestamp checks nothing
    try:
        signed_for, signed_at = _serializer().loads(started or "", max_age=MAX_FORM_AGE_SECONDS, return_timestamp=True)
    except SignatureExpired:
        raise FormOutdated(
            "This form was open too long to be sent. Your message is kept: please send it again."
        ) from None
    except BadSignature:
        raise FormOutdated("This form could not be checked. Your message is kept: please send it again.") from None
    if signed_for != practitioner_id:
        raise FormOutdated("This form belonged to another profile. Your message is kept: please send it again.")
    if (utcnow() - signed_at).total_seconds() < minimum:
        raise SpamSuspected("That was very quick. Please check your message and send it again.")


def record_enquiry(practitioner: Practitioner, name: str, email: str, phone: str, message: str) -> Enquiry:
    """Store an enquiry and queue the practitioner's notice (which holds no patient details)."""
    enquiry = Enquiry(
        practitioner=practitioner, name=name, email=email, phone=phone or "", message=message, consent=True
    )
    db.session.add(enquiry)
    recipient = practitioner.user.email if practitioner.user is not None else practitioner.email
    queue_mail(
        recipient,
        "You have a new enquiry on CST Directory",
        "enquiry_received",
        name=practitioner.display_name,
        has_account=practitioner.user is not None,
        dashboard_url=site_url("practitioners.dashboard"),
    )
    return enquiry
