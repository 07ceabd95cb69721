"""Moderation: profiles (publish, unpublish, suspend, reinstate) and accounts (disable, enable)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from directory.admin.forms import ConfirmForm, PractitionerSearchForm, ReasonOptionalForm, RejectForm, UserSearchForm
from directory.admin.moderation import ModerationError, moderate_profile, set_account_disabled
from directory.admin.views import bp
from directory.extensions import db
from directory.models import Practitioner, Role, User

PER_PAGE = 50


@bp.get("/practitioners")
def practitioners():
    """Profiles to moderate, searchable by name or email and filterable by state."""
    return _practitioner_page(PractitionerSearchForm(request.args))


def _practitioner_page(form: PractitionerSearchForm, status: int = 200):
    # Each row counts its verified credentials: loaded with the page, not row by row.
    query = (
        select(Practitioner)
        .options(selectinload(Practitioner.certifications))
        .order_by(Practitioner.display_name, Practitioner.id)
    )
    if form.validate():
        if form.q.data:
            text = form.q.data.strip()
            query = query.where(
                or_(
                    Practitioner.display_name.icontains(text, autoescape=True),
                    Practitioner.email.icontains(text, autoescape=True),
                    Practitioner.practice_name.icontains(text, autoescape=True),
                )
            )
        state = form.state.data
        if state == "published":
            query = query.where(Practitioner.published.is_(True), Practitioner.suspended.is_(False))
        elif state == "unpublished":
            query = query.where(Practitioner.published.is_(False))
        elif state == "suspended":
            query = query.where(Practitioner.suspended.is_(True))
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template(
        "admin/practitioners.html",
        form=form,
        page=page,
        action_form=ReasonOptionalForm(formdata=None),
        suspend_form=RejectForm(formdata=None),
    ), status


def _moderate(practitioner_id: int, action: str, reason_required: bool = False):
    practitioner = db.get_or_404(Practitioner, practitioner_id)
    form = RejectForm() if reason_required else ReasonOptionalForm()
    this_one = PractitionerSearchForm(MultiDict({"q": practitioner.email}))
    if not form.validate_on_submit():
        flash("Please give the reason for the suspension." if reason_required else "Please check the form.", "danger")
        return _practitioner_page(this_one, 400)
    try:
        moderate_profile(practitioner, current_user, action, form.reason.data or "")
    except ModerationError as error:
        flash(str(error), "warning")
        return _practitioner_page(this_one, 409)
    db.session.commit()
    flash(f"{practitioner.display_name}: {action} done; the practitioner is told.", "success")
    return redirect(url_for("admin.practitioners", q=practitioner.email), 303)


@bp.post("/practitioners/<int:practitioner_id>/publish")
def publish_profile(practitioner_id: int):
    """Put a profile in the public directory."""
    return _moderate(practitioner_id, "publish")


@bp.post("/practitioners/<int:practitioner_id>/unpublish")
def unpublish_profile(practitioner_id: int):
    """Take a profile out of the public directory."""
    return _moderate(practitioner_id, "unpublish")


@bp.post("/practitioners/<int:practitioner_id>/suspend")
def suspend_profile(practitioner_id: int):
    """Suspend a profile, with a reason the practitioner reads."""
    return _moderate(practitioner_id, "suspend", reason_required=True)


@bp.post("/practitioners/<int:practitioner_id>/reinstate")
def reinstate_profile(practitioner_id: int):
    """Lift a suspension."""
    return _moderate(practitioner_id, "reinstate")


@bp.get("/users")
def users():
    """Accounts, searchable by name or email and filterable by role."""
    return _user_page(UserSearchForm(request.args))


def _user_page(form: UserSearchForm, status: int = 200):
    query = select(User).order_by(User.created_at.desc(), User.id.desc())
    if form.validate():
        if form.q.data:
            text = form.q.data.strip()
            query = query.where(
                or_(User.email.icontains(text, autoescape=True), User.name.icontains(text, autoescape=True))
            )
        if form.role.data:
            query = query.where(User.role == Role(form.role.data))
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", form=form, page=page, confirm_form=ConfirmForm(formdata=None)), status


def _set_disabled(user_id: int, disabled: bool):
    user = db.get_or_404(User, user_id)
    this_one = UserSearchForm(MultiDict({"q": user.email}))
    if not ConfirmForm().validate_on_submit():
        flash("The form expired; please try again.", "danger")
        return _user_page(this_one, 400)
    try:
        set_account_disabled(user, current_user, disabled)
    except ModerationError as error:
        flash(str(error), "warning")
        return _user_page(this_one, 409)
    db.session.commit()
    flash(f"{user.email} is {'disabled' if disabled else 'enabled'}.", "success")
    return redirect(url_for("admin.users", q=user.email), 303)


@bp.post("/users/<int:user_id>/disable")
def disable_user(user_id: int):
    """Disable an account: it can no longer sign in or use its API tokens."""
    return _set_disabled(user_id, True)


@bp.post("/users/<int:user_id>/enable")
def enable_user(user_id: int):
    """Enable a disabled account again."""
    return _set_disabled(user_id, False)
