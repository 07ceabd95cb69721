"""Accounts: the account page (email, password, API tokens, webhooks, your data) and deleting the account."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user

from directory.accounts import privacy, service
from directory.accounts.forms import (
    ApiTokenForm,
    ChangeEmailForm,
    ChangePasswordForm,
    DeleteAccountForm,
    EmptyForm,
    WebhookForm,
)
from directory.accounts.tokens import LinkError
from directory.accounts.views import bp, config_limit, form_page, link_problem, user_key
from directory.auth import confirmed_required
from directory.extensions import db, limiter
from directory.mail import queue_mail
from directory.models import ApiToken
from directory.webhooks import service as webhooks

# --- Account settings ---------------------------------------------------------------------


def _settings_page(
    new_token: str | None = None,
    token_form: ApiTokenForm | None = None,
    status: int = 200,
    webhook_form: WebhookForm | None = None,
    new_webhook=None,
):
    """The account page, with a token or webhook secret just created (shown once) or a refused form."""
    tokens = service.active_api_tokens(current_user)
    may_hook = webhooks.may_register(current_user)
    response = render_template(
        "accounts/settings.html",
        tokens=tokens,
        token_form=token_form or ApiTokenForm(formdata=None),
        action_form=EmptyForm(),
        new_token=new_token,
        webhooks=[(e, webhooks.recent_deliveries(e)) for e in webhooks.user_endpoints(current_user)]
        if may_hook
        else None,
        webhook_form=webhook_form or WebhookForm(formdata=None),
        new_webhook=new_webhook,
    )
    return response, status


@bp.get("/")
@login_required
def settings():
    """The account page: email, password, API tokens, your data."""
    return _settings_page()


@bp.route("/email", methods=["GET", "POST"])
@login_required
@limiter.limit(config_limit("ACCOUNT_CHANGE_RATE_LIMIT"), key_func=user_key, methods=["POST"])
def change_email():
    """Ask to change the email address; it changes once the new address is confirmed."""
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            service.request_email_change(current_user, form.password.data, form.email.data)
        except service.AccountError as error:
            form[error.field].errors.append(str(error))
        else:
            db.session.commit()
            flash(
                f"We sent a link to {service.normalize_email(form.email.data)}. "
                "Your address changes when you follow it.",
                "success",
            )
            return redirect(url_for("accounts.settings"))
    return form_page("accounts/change_email.html", form)


@bp.get("/email/confirm/<token>")
def confirm_email_change(token: str):
    """Follow the link sent to a new address: the account switches to it."""
    # Who is signed in here must be read before the change rotates the session token.
    signed_in_id = current_user.id if current_user.is_authenticated else None
    try:
        user = service.confirm_email_change(token)
    except LinkError as error:
        return link_problem(error)
    db.session.commit()
    if signed_in_id == user.id:
        login_user(user)  # this browser stays signed in; other sessions have ended
        flash(f"Your email address is now {user.email}.", "success")
        return redirect(url_for("accounts.settings"))
    flash(f"Your email address is now {user.email}. Please sign in with it.", "success")
    return redirect(url_for("accounts.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(config_limit("ACCOUNT_CHANGE_RATE_LIMIT"), key_func=user_key, methods=["POST"])
def change_password():
    """Change the password; every other session of the account ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            service.change_password(user, form.current_password.data, form.new_password.data)
        except service.AccountError as error:
            form.current_password.errors.append(str(error))
        else:
            queue_mail(user.email, "Your password was changed", "password_changed", user=user)
            db.session.commit()
            login_user(user)  # keep this session, under the new session token
            flash("Your password has been changed. Other devices have been signed out.", "success")
            return redirect(url_for("accounts.settings"))
    return form_page("accounts/change_password.html", form)


# --- API tokens ---------------------------------------------------------------------------


@bp.post("/tokens")
@confirmed_required
def create_token():
    """Create an API token and show it once."""
    form = ApiTokenForm()
    if not form.validate_on_submit():
        return _settings_page(token_form=form, status=400)
    _row, plain = ApiToken.issue(current_user, (form.name.data or "").strip() or "API token")
    db.session.commit()
    response, status = _settings_page(new_token=plain)
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of your own API tokens; anyone else's answers 404."""
    if not service.revoke_api_token(current_user, token_id):
        abort(404)
    db.session.commit()
    flash("The token was revoked. Programs using it can no longer sign in.", "success")
    return redirect(url_for("accounts.settings"))


# --- Webhooks (the same as /api/v1/webhooks, for people) --------------------------------------


@bp.post("/webhooks")
@confirmed_required
def create_webhook():
    """Register a webhook endpoint (providers and admins); its signing secret is shown once."""
    if not webhooks.may_register(current_user):
        abort(404)
    form = WebhookForm()
    if not form.validate_on_submit():
        return _settings_page(webhook_form=form, status=400)
    try:
        endpoint = webhooks.register_endpoint(current_user, form.url.data, form.events.data or [])
    except webhooks.WebhookError as error:
        db.session.rollback()
        form.url.errors.append(error.message)
        return _settings_page(webhook_form=form, status=400)
    db.session.commit()
    response, status = _settings_page(new_webhook=endpoint)
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/webhooks/<int:webhook_id>/delete")
@login_required
def delete_webhook(webhook_id: int):
    """Remove one of your own webhook endpoints; anyone else's answers 404."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    endpoint = webhooks.own_endpoint(current_user, webhook_id)
    if endpoint is None:
        abort(404)
    webhooks.delete_endpoint(endpoint)
    db.session.commit()
    flash("The webhook was removed.", "success")
    return redirect(url_for("accounts.settings", _anchor="webhooks-heading"))


# --- Privacy ------------------------------------------------------------------------------


@bp.get("/data.json")
@login_required
def export_data():
    """Download everything held about your account as JSON."""
    response = jsonify(privacy.export_account(current_user))
    response.headers["Content-Disposition"] = f'attachment; filename="cst-directory-account-{current_user.id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@limiter.limit(config_limit("ACCOUNT_CHANGE_RATE_LIMIT"), key_func=user_key, methods=["POST"])
def delete_account():
    """Delete your account (and your profile) after confirming with your password."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            evidence = privacy.delete_account(current_user._get_current_object(), form.password.data)
        except service.AccountError as error:
            form.password.errors.append(str(error))
        else:
            db.session.commit()
            privacy.remove_evidence_files(evidence)
            logout_user()
            flash("Your account has been deleted.", "success")
            return redirect(url_for("public.home"))
    return form_page("accounts/delete_account.html", form)
