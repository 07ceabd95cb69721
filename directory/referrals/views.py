"""Referral pages: send, list, follow, answer, message, print; the provider's details.

Patient details travel only in POST bodies and page content: URLs carry ids alone.
Each view commits once, at its end: also when it answers with a refusal, since opening a
referral has effects of its own (the recipient's first look, an admin's audited look) that
stay; the service raises a refusal before changing anything. An unexpected error rolls
everything back (directory.errors).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from directory.auth import confirmed_required, role_required
from directory.extensions import db
from directory.models import Condition, Practitioner, Role
from directory.models.base import utcnow
from directory.practitioners.lookups import all_conditions
from directory.referrals import appointments, outcome, service, summary, workflow
from directory.referrals.forms import (
    ConsentForm,
    DeleteDraftForm,
    MessageForm,
    ProviderDetailsForm,
    ReferralForm,
    TransitionForm,
)
from directory.referrals.service import ReferralError, ReferralInput, get_referral_or_404
from directory.referrals.workflow import URGENCY_LABELS

bp = Blueprint("referrals", __name__, url_prefix="/referrals")

# Routes about one referral: strangers, signed in or not, get 404 (never a hint it exists).
ONE_REFERRAL_ENDPOINTS = {
    "referrals.detail",
    "referrals.letter",
    "referrals.move",
    "referrals.message",
    "referrals.edit",
    "referrals.delete",
    "referrals.consent",
}


@bp.before_request
def hide_referrals_from_anonymous():
    """A signed-out visitor gets 404 for any referral, with a hint to sign in."""
    if request.endpoint in ONE_REFERRAL_ENDPOINTS and not current_user.is_authenticated:
        try:
            login_url = url_for("accounts.login", next=request.path)
        except BuildError:
            login_url = None
        return render_template("referrals/not_found.html", login_url=login_url), 404
    return None


@bp.app_context_processor
def inject_inbox():
    """Let any template (the practitioner dashboard) call `referral_inbox(user)`."""
    return {"referral_inbox": service.practitioner_inbox}


@bp.app_template_filter("referral_status")
def referral_status_label(status: str) -> str:
    """A status as people read it."""
    return workflow.STATUS_LABELS.get(status, status)


@bp.app_template_filter("referral_colour")
def referral_status_colour(status: str) -> str:
    """The badge class of a status."""
    return workflow.STATUS_COLOURS.get(status, "text-bg-light")


@bp.app_template_filter("referral_explanation")
def referral_status_explanation(status: str) -> str:
    """What a status means, in one sentence."""
    return workflow.STATUS_EXPLANATIONS.get(status, "")


@bp.app_template_filter("overdue_reason")
def overdue_reason(referral) -> str:
    """Why an overdue referral is overdue."""
    return service.overdue_label(referral)


@bp.app_template_filter("appointment")
def appointment_text(referral) -> str:
    """The first appointment in its location's time: "Fri 4 Dec 2026, 10:30 MST, Boulder practice"."""
    return appointments.appointment_text(referral)


@bp.app_template_filter("local_to")
def local_to(moment, referral) -> str:
    """Another moment of this referral (a missed appointment) in the appointment's zone."""
    return appointments.describe(moment, referral.appointment_time_zone)


@bp.app_template_filter("utc")
def utc_time(moment, fmt: str = "%-d %b %Y, %H:%M") -> str:
    """A stored time shown in UTC, whatever the database session's time zone."""
    return workflow.as_utc(moment).strftime(fmt) + " UTC" if moment else ""


def _committed(response):
    """Commit what this request changed, then answer with `response`."""
    db.session.commit()
    return response


def _refuse(status: int, message: str | None = None):
    """Answer with an error page, keeping what looking at the referral recorded."""
    db.session.commit()
    abort(status, message)


def _practitioner_or_404(practitioner_id) -> Practitioner:
    practitioner = db.session.get(Practitioner, practitioner_id) if str(practitioner_id).isdigit() else None
    if practitioner is None or not practitioner.is_listed:
        abort(404)
    return practitioner


def _referral_form(**kwargs) -> ReferralForm:
    form = ReferralForm(**kwargs)
    form.conditions.choices = [SelectChoice(c.slug, c.name) for c in all_conditions()]
    return form


def _input_from(form: ReferralForm, practitioner: Practitioner) -> ReferralInput:
    slugs = form.conditions.data or []
    conditions = (
        db.session.execute(db.select(Condition).where(Condition.slug.in_(slugs))).scalars().all() if slugs else []
    )
    return ReferralInput(
        practitioner=practitioner,
        patient_name=form.patient_name.data or "",
        patient_phone=form.patient_phone.data or "",
        patient_email=form.patient_email.data or "",
        patient_birth_date=form.patient_birth_date.data,
        conditions=list(conditions),
        reason=form.reason.data or "",
        clinical_notes=form.clinical_notes.data or "",
        urgency=form.urgency.data or "routine",
        preferred_contact=form.preferred_contact.data or "phone",
        consent=bool(form.consent.data),
    )


LIST_PER_PAGE = 25
SORTS = {"newest": "Newest first", "oldest": "Oldest first"}


def _list_filters(args) -> tuple[service.ReferralFilter, dict]:
    """The list's filters from the query string (400 for a bad one), and the values to link back with."""
    status = args.get("status") or None
    if status is not None and status not in workflow.STATUSES:
        abort(400, "Unknown status.")
    urgency = args.get("urgency") or None
    if urgency is not None and urgency not in workflow.URGENCIES:
        abort(400, "Unknown urgency.")
    practitioner = args.get("practitioner") or None
    if practitioner is not None and not (practitioner.isascii() and practitioner.isdigit() and len(practitioner) < 10):
        abort(400, "Unknown practitioner.")
    days = {}
    for name in ("from", "to"):
        try:
            days[name] = date.fromisoformat(args[name]) if args.get(name) else None
        except ValueError:
            abort(400, f"The “{name}” date must be YYYY-MM-DD.")
    if days["from"] and days["to"] and days["from"] > days["to"]:
        abort(400, "The “from” date is after the “to” date.")
    filters = service.ReferralFilter(
        status=status,
        practitioner_id=int(practitioner) if practitioner else None,
        urgency=urgency,
        since=datetime.combine(days["from"], time.min, UTC) if days["from"] else None,
        until=datetime.combine(days["to"], time.max, UTC) if days["to"] else None,
    )
    kept = {"status": status, "practitioner": practitioner, "urgency": urgency, "from": args.get("from") or None}
    kept |= {"to": args.get("to") or None, "sort": args.get("sort") if args.get("sort") in SORTS else None}
    return filters, {key: value for key, value in kept.items() if value}


@bp.get("/")
@login_required
def index():
    """Referrals sent (provider), received (practitioner) or all (admin): filtered, 25 a page, overdue first."""
    filters, kept = _list_filters(request.args)
    page = request.args.get("page", "1")
    if not (page.isascii() and page.isdigit() and 0 < int(page) <= 100_000):
        abort(400, "The page must be a whole number.")
    stmt = service.visible_referrals(
        current_user, filters, overdue_first=True, oldest_first=kept.get("sort") == "oldest"
    )
    pagination = db.paginate(stmt, page=int(page), per_page=LIST_PER_PAGE, error_out=False)
    now = utcnow()
    return render_template(
        "referrals/index.html",
        referrals=pagination.items,
        pagination=pagination,
        status=filters.status,
        filters=kept,
        counts=service.counts_by_status(current_user),
        overdue={r.id for r in pagination.items if service.is_overdue(r, now)},
        statuses=workflow.STATUSES,
        practitioners=service.practitioners_referred_to(current_user) if not current_user.is_practitioner else [],
        urgency_labels=URGENCY_LABELS,
        sorts=SORTS,
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.PROVIDER)
@confirmed_required
def new():
    """Refer a patient to the practitioner named in `?practitioner=<id>`."""
    if not request.args.get("practitioner"):
        flash("Find a practitioner first, then choose “Refer a patient” on their profile.", "info")
        return redirect(url_for("public.search"))
    practitioner = _practitioner_or_404(request.args["practitioner"])
    form = _referral_form()
    if form.validate_on_submit():
        draft = bool(form.save_draft.data) or not current_user.can_refer
        if form.send.data and not current_user.can_refer:
            flash("Your account is not verified yet, so the referral was saved as a draft.", "warning")
        try:
            referral = service.create_referral(current_user, _input_from(form, practitioner), draft=draft)
        except ReferralError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return render_template("referrals/new.html", form=form, practitioner=practitioner), error.status
        db.session.commit()
        flash("Draft saved." if draft else "Referral sent. The practitioner has been told by email.", "success")
        return redirect(url_for("referrals.detail", referral_id=referral.id))
    status = 400 if form.is_submitted() else 200
    return render_template("referrals/new.html", form=form, practitioner=practitioner), status


def _detail_page(
    referral, *, status: int = 200, error: str | None = None, move_form=None, message_form=None, consent_form=None
):
    party = service.party_of(current_user, referral)
    moves = [
        m for m in workflow.moves_from(referral.status, party, referral.held_from) if m.target != workflow.RECEIVED
    ]
    return (
        render_template(
            "referrals/detail.html",
            referral=referral,
            party=party,
            moves=moves,
            error=error,
            move_form=move_form or TransitionForm(formdata=None),
            message_form=message_form or MessageForm(formdata=None),
            consent_form=consent_form or ConsentForm(formdata=None),
            overdue=service.is_overdue(referral),
            workflow=workflow,
            urgency_labels=URGENCY_LABELS,
            outcome_rules=outcome,
            locations=list(referral.practitioner.locations) if referral.practitioner is not None else [],
        ),
        status,
    )


@bp.get("/<int:referral_id>")
@login_required
def detail(referral_id: int):
    """One referral: details, timeline, messages and the moves the viewer may make."""
    return _committed(_detail_page(get_referral_or_404(referral_id, current_user)))


@bp.post("/<int:referral_id>/transitions")
@login_required
def move(referral_id: int):
    """Make one move of the lifecycle from the referral's page."""
    referral = get_referral_or_404(referral_id, current_user, mark_read=False)
    form = TransitionForm()
    if not form.validate():
        return _committed(_detail_page(referral, status=400, error="Please correct the form.", move_form=form))
    try:
        service.make_move(
            referral,
            current_user,
            form.status.data,
            note=form.note.data or "",
            appointment_at=form.appointment_at.data,
            location_id=form.location_id.data,
            reason=form.reason.data or "",
            outcome=form.outcome(),
            expected_version=form.version.data,
        )
    except ReferralError as error:
        return _committed(_detail_page(referral, status=error.status, error=error.message, move_form=form))
    db.session.commit()
    if form.status.data == workflow.NO_SHOW:
        flash(f"No-show recorded ({referral.no_shows} so far).", "success")
    else:
        flash(f"The referral is now {workflow.STATUS_LABELS[referral.status].lower()}.", "success")
    return redirect(url_for("referrals.detail", referral_id=referral.id))


@bp.post("/<int:referral_id>/messages")
@login_required
def message(referral_id: int):
    """Post a message to the other party."""
    referral = get_referral_or_404(referral_id, current_user)
    form = MessageForm()
    if not form.validate():
        return _committed(_detail_page(referral, status=400, message_form=form))
    try:
        service.add_message(referral, current_user, form.body.data)
    except ReferralError as error:
        return _committed(_detail_page(referral, status=error.status, error=error.message, message_form=form))
    db.session.commit()
    flash("Message sent.", "success")
    return redirect(url_for("referrals.detail", referral_id=referral.id) + "#messages")


@bp.get("/<int:referral_id>/letter")
@login_required
def letter(referral_id: int):
    """A printable referral letter for the patient's file."""
    referral = get_referral_or_404(referral_id, current_user)
    page = render_template(
        "referrals/letter.html", referral=referral, urgency_labels=URGENCY_LABELS, pgic_labels=outcome.PGIC_LABELS
    )
    return _committed(page)


@bp.route("/<int:referral_id>/edit", methods=["GET", "POST"])
@login_required
def edit(referral_id: int):
    """Change a draft, then save it again or send it."""
    referral = get_referral_or_404(referral_id, current_user)
    if service.party_of(current_user, referral) != workflow.REFERRER:
        _refuse(403)
    if referral.status != workflow.DRAFT:
        flash("This referral has been sent; it can no longer be edited.", "info")
        return _committed(redirect(url_for("referrals.detail", referral_id=referral.id)))
    form = _referral_form(obj=referral)
    if request.method == "GET":
        form.conditions.data = [c.slug for c in referral.conditions]
    practitioner = referral.practitioner
    if form.validate_on_submit():
        if practitioner is None or not practitioner.is_listed:
            flash("This practitioner is not listed any more.", "danger")
            return render_template("referrals/new.html", form=form, practitioner=practitioner, referral=referral), 409
        service.update_draft(referral, current_user, _input_from(form, practitioner))
        if form.send.data:
            try:
                service.make_move(referral, current_user, workflow.REQUESTED)
            except ReferralError as error:
                flash(error.message, "warning")  # the draft's changes are kept
            else:
                flash("Referral sent. The practitioner has been told by email.", "success")
        else:
            flash("Draft saved.", "success")
        return _committed(redirect(url_for("referrals.detail", referral_id=referral.id)))
    status = 400 if form.is_submitted() else 200
    return render_template("referrals/new.html", form=form, practitioner=practitioner, referral=referral), status


@bp.post("/<int:referral_id>/delete")
@login_required
def delete(referral_id: int):
    """Throw a draft away."""
    referral = get_referral_or_404(referral_id, current_user)
    if not DeleteDraftForm().validate():
        _refuse(400, "The form expired. Please reload and try again.")
    try:
        service.delete_draft(referral, current_user)
    except ReferralError as error:
        _refuse(error.status, error.message)
    db.session.commit()
    flash("Draft deleted.", "success")
    return redirect(url_for("referrals.index"))


@bp.post("/<int:referral_id>/consent")
@login_required
def consent(referral_id: int):
    """Confirm the patient's consent on the draft's own page (its author only; 404 for anyone else)."""
    referral = get_referral_or_404(referral_id, current_user, mark_read=False)
    if service.party_of(current_user, referral) != workflow.REFERRER:
        abort(404)  # nothing is recorded: the session is thrown away at teardown
    form = ConsentForm()
    if not form.validate():
        error = "Please correct the form." if form.consent.errors else "The form expired. Please reload and try again."
        return _detail_page(referral, status=400, error=error, consent_form=form)
    try:
        service.confirm_consent(referral, current_user)
    except ReferralError as error:
        return _detail_page(referral, status=error.status, error=error.message)
    db.session.commit()
    flash("The patient's consent is confirmed. You can send the referral.", "success")
    return redirect(url_for("referrals.detail", referral_id=referral.id))


@bp.get("/summary", endpoint="summary")
@role_required(Role.PROVIDER, hide=True)
def summary_page():
    """The provider's own referrals at a glance: statuses, waiting times, outcomes, per practitioner."""
    figures = summary.provider_summary(current_user)
    groups = figures.practitioners
    rows = [figures.overall, *groups] if len(groups) > 1 else groups
    return render_template(
        "referrals/summary.html",
        summary=figures,
        states_chart=summary.states_chart(rows),
        pgic_charts={g.key: summary.pgic_chart(g) for g in [figures.overall, *groups] if g.pgic_answers},
        statuses=workflow.STATUSES,
        pgic_labels=outcome.PGIC_LABELS,
        sample_size=summary.MEDIAN_SAMPLE,
    )


@bp.route("/profile", methods=["GET", "POST"])
@role_required(Role.PROVIDER)
def provider_profile():
    """The provider's professional details, which an admin checks before verifying them."""
    form = ProviderDetailsForm(obj=current_user)
    if form.validate_on_submit():
        for name in ("name", "profession", "organization", "phone", "registration_number"):
            setattr(current_user, name, (getattr(form, name).data or "").strip())
        db.session.commit()
        flash("Your details were saved.", "success")
        return redirect(url_for("referrals.provider_profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("referrals/provider_profile.html", form=form), status
