"""Patients write to a practitioner from the public profile; the practitioner marks enquiries read.

Whatever the answer, the patient sees it where they were writing. The form posts to
`/practitioners/<id>/enquiry#enquiry`, so a refused message comes back as the profile page opened
at the enquiry section (no JavaScript needed), with the reasons at the section's top and the typed
text kept. A sent message redirects to the profile at the same section, where a thank-you
replaces the form. Only sent enquiries count toward ENQUIRY_RATE_LIMIT; past it the profile comes
back too, with the message kept and when to try again (429).
"""

from __future__ import annotations

import math
import time

from flask import current_app, make_response, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded

from directory.errors import error_response
from directory.extensions import db, limiter
from directory.models import Enquiry, Practitioner
from directory.models.base import utcnow
from directory.practitioners import enquiries as enquiry_rules
from directory.practitioners.forms import EnquiryForm
from directory.practitioners.lookups import get_listed_practitioner_or_404
from directory.practitioners.views import action_or_400, back_to_dashboard, bp, own_or_404, owner_required

# The session remembers, until the profile shows its thank-you, to whom a message was just sent.
SENT_KEY = "enquiry_sent_to"


def new_enquiry_form(practitioner: Practitioner) -> EnquiryForm:
    """A fresh enquiry form for a profile, stamped with the time it was shown."""
    form = EnquiryForm(formdata=None)
    form.started.data = enquiry_rules.start_token(practitioner.id)
    return form


def enquiry_just_sent(practitioner: Practitioner) -> bool:
    """Whether this visitor has just sent this practitioner a message (then the thank-you shows, once)."""
    if session.get(SENT_KEY) != practitioner.id:
        return False
    session.pop(SENT_KEY)
    return True


@bp.app_context_processor
def enquiry_helpers():
    """Let the profile page build the enquiry form it includes, or thank the patient instead."""
    return {"new_enquiry_form": new_enquiry_form, "enquiry_just_sent": enquiry_just_sent}


def _rate_limit() -> str:
    return current_app.config.get("ENQUIRY_RATE_LIMIT", "5 per hour")


def _was_sent(response) -> bool:
    """Only a sent enquiry (answered with a redirect to the thank-you) counts toward the limit."""
    return response.status_code == 302


def _profile_with_form(practitioner: Practitioner, form: EnquiryForm, message: str, status: int, **context):
    """The profile page again, its enquiry form filled with what was typed and the reason on top."""
    page = render_template(
        "public/profile.html",
        practitioner=practitioner,
        distances={},
        unit="km",
        enquiry_form=form,
        enquiry_error=message,
        **context,
    )
    return page, status


@bp.post("/practitioners/<int:practitioner_id>/enquiry")
@limiter.limit(_rate_limit, deduct_when=_was_sent)
def send_enquiry(practitioner_id: int):
    """A patient writes to a published practitioner; stored, and the practitioner notified."""
    practitioner = get_listed_practitioner_or_404(practitioner_id)
    form = EnquiryForm()
    if not form.validate_on_submit():
        form.started.data = enquiry_rules.start_token(practitioner.id)
        return _profile_with_form(practitioner, form, "Please correct the marked fields.", 400)
    try:
        enquiry_rules.check_spam(practitioner.id, form.website.data, form.started.data)
    except enquiry_rules.SpamSuspected as error:
        if isinstance(error, enquiry_rules.FormOutdated):
            # A new stamp lets the kept message go next time; "too quick" keeps its stamp, so a resend works.
            form.started.data = enquiry_rules.start_token(practitioner.id)
        return _profile_with_form(practitioner, form, str(error), 400)
    enquiry_rules.record_enquiry(practitioner, form.name.data, form.email.data, form.phone.data, form.message.data)
    db.session.commit()
    session[SENT_KEY] = practitioner.id
    return redirect(url_for("public.profile", practitioner_id=practitioner.id, _anchor="enquiry"))


@bp.errorhandler(RateLimitExceeded)
def too_many_enquiries(error: RateLimitExceeded):
    """Past the enquiry limit: the profile with the typed message kept, when to try again, and 429."""
    practitioner_id = (request.view_args or {}).get("practitioner_id")
    practitioner = db.session.get(Practitioner, practitioner_id) if practitioner_id else None
    if request.endpoint != "practitioners.send_enquiry" or practitioner is None or not practitioner.is_listed:
        return error_response(429, "Too many attempts. Please wait a little and try again.")
    form = EnquiryForm()  # filled from what was posted; nothing is checked or stored
    form.started.data = enquiry_rules.start_token(practitioner.id)
    current = limiter.current_limit
    wait = max(1, math.ceil(current.reset_at - time.time())) if current is not None else 3600
    minutes = max(1, round(wait / 60))
    message = (
        f"Too many messages from this connection in a short time, so this one was not sent. "
        f"It is kept below: please send it again in about {minutes} minute{'s' if minutes != 1 else ''}"
        + (f", or call {practitioner.display_name} on {practitioner.phone}." if practitioner.phone else ".")
    )
    response = make_response(_profile_with_form(practitioner, form, message, 429, enquiry_limited=True))
    response.headers["Retry-After"] = str(wait)
    return response


@bp.post("/dashboard/enquiries/<int:enquiry_id>/read")
@owner_required
def mark_enquiry_read(enquiry_id: int):
    """Mark an enquiry as read."""
    action_or_400()
    enquiry = own_or_404(Enquiry, enquiry_id)
    enquiry.read_at = enquiry.read_at or utcnow()
    db.session.commit()
    return back_to_dashboard("enquiries")
