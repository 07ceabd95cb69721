"""Accounts: sign up, confirm, sign in and out, reset and change password, API tokens."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from directory.accounts import privacy, service
from directory.accounts.forms import (
    PASSWORD_HELP,
    ApiTokenForm,
    ChangeEmailForm,
    ChangePasswordForm,
    DeleteAccountForm,
    EmptyForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
    SignupForm,
)
from directory.accounts.tokens import LinkError
from directory.auth import confirmed_required
from directory.extensions import db, limiter
from directory.mail import queue_mail
from directory.models import ApiToken, Role, User

bp = Blueprint("accounts", __name__, url_prefix="/account")

# Rate limits, overridable in the config (Flask-Limiter syntax).
DEFAULT_LIMITS = {
    "LOGIN_RATE_LIMIT_PER_ADDRESS": "30 per 15 minutes",
    "LOGIN_RATE_LIMIT_PER_ACCOUNT": "10 per 15 minutes",
    "RESET_RATE_LIMIT_PER_ADDRESS": "10 per hour",
    "RESET_RATE_LIMIT_PER_ACCOUNT": "5 per hour",
    "SIGNUP_RATE_LIMIT_PER_ADDRESS": "20 per hour",
    "ACCOUNT_CHANGE_RATE_LIMIT": "10 per hour",
}
SAME_ANSWER_FOR_LOGIN = "That email and password do not match an account."
RESET_SENT = (
    "If an account exists for that address, we sent it a link to reset the password. "
    "The link works for one hour and only once."
)


def _limit(name: str):
    """A limit read from the config at request time, so tests and operators can change it."""
    return lambda: current_app.config.get(name, DEFAULT_LIMITS[name])


def _account_key() -> str:
    """Rate-limit key of the account named in the form, whether or not it exists."""
    return "account:" + service.normalize_email(request.form.get("email", ""))[:254]


def _user_key() -> str:
    """Rate-limit key of the signed-in user."""
    return f"user:{current_user.get_id().partition(':')[0]}" if current_user.is_authenticated else "anonymous"


def _sign_in_failed(response) -> bool:
    """Only failed sign-ins count against the sign-in limits."""
    return bool(g.get("sign_in_failed"))


def home_for(user: User) -> str:
    """Where a user lands after signing in: their role's own area."""
    if user.role == Role.ADMIN:
        return url_for("admin.index")
    if user.role == Role.PROVIDER:
        return url_for("referrals.index")
    return url_for("practitioners.dashboard")


MAX_NEXT_LENGTH = 2000


def safe_next(target: str | None) -> str | None:
    """The `next` link to follow after sign-in when it is a path on this site, else None.

    Nothing is removed or repaired first: browsers and Werkzeug drop tabs and newlines and read
    a backslash as a slash, so "/<tab>/evil.example" or "/\\evil.example" would leave the site.
    Only printable ASCII without spaces or backslashes, starting with exactly one "/", with no
    scheme or host when parsed, is followed.
    """
    if not target or len(target) > MAX_NEXT_LENGTH:
        return None
    if any(not ("!" <= char <= "~") for char in target) or "\\" in target:
        return None  # control characters, whitespace, non-ASCII, backslashes
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return target


def _form_page(template: str, form, **context):
    """Render a form page: 400 when a submission was refused, 200 otherwise."""
    status = 400 if form.is_submitted() else 200
    return render_template(template, form=form, password_help=PASSWORD_HELP, **context), status


def _link_problem(error: LinkError):
    """A page that explains a bad or expired link."""
    return render_template("accounts/link_problem.html", message=str(error), expired=error.expired), 400


# --- Sign up and confirmation -------------------------------------------------------------


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_limit("SIGNUP_RATE_LIMIT_PER_ADDRESS"), methods=["POST"])
def signup():
    """Create an account; the same answer whether or not the email already has one."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignupForm()
    if form.validate_on_submit():
        role = Role(form.role.data)
        fields = SignupForm.PROVIDER_FIELDS if role == Role.PROVIDER else ("name",)
        details = {name: form[name].data for name in fields}
        try:
            service.register(form.email.data, form.password.data, role, **details)
        except service.AccountError as error:
            form.password.errors.append(str(error))
            return _form_page("accounts/signup.html", form)
        db.session.commit()
        flash(
            f"Thank you. We sent a confirmation link to {service.normalize_email(form.email.data)}. "
            "Follow it to confirm your address, then sign in.",
            "success",
        )
        return redirect(url_for("accounts.login"))
    return _form_page("accounts/signup.html", form)


@bp.get("/confirm/<token>")
def confirm(token: str):
    """Follow the emailed link: confirm the address and claim a matching profile."""
    try:
        user = service.confirm_email(token)
    except LinkError as error:
        return _link_problem(error)
    db.session.commit()
    flash("Thank you: your email address is confirmed.", "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(home_for(user))
    return redirect(url_for("accounts.login"))


@bp.post("/confirm/resend")
@login_required
@limiter.limit("3 per hour", key_func=_user_key)
def resend_confirmation():
    """Send the confirmation link again to the signed-in user."""
    if current_user.is_confirmed:
        flash("Your email address is already confirmed.", "info")
    else:
        service.send_confirmation(current_user)
        db.session.commit()
        flash(f"We sent a new confirmation link to {current_user.email}.", "success")
    return redirect(url_for("accounts.settings"))


# --- Sign in and out ----------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_RATE_LIMIT_PER_ADDRESS"), methods=["POST"], deduct_when=_sign_in_failed)
@limiter.limit(
    _limit("LOGIN_RATE_LIMIT_PER_ACCOUNT"), key_func=_account_key, methods=["POST"], deduct_when=_sign_in_failed
)
def login():
    """Sign in with email and password, optionally remembered on this device."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None and user.disabled:
            form.email.errors.append("This account has been disabled. Please contact us.")
        elif user is not None:
            db.session.commit()  # a rehashed password
            login_user(user, remember=form.remember.data)
            if not user.is_confirmed:
                flash("Please confirm your email address: follow the link we emailed you.", "warning")
            return redirect(safe_next(request.args.get("next")) or home_for(user))
        else:
            form.password.errors.append(SAME_ANSWER_FOR_LOGIN)
        g.sign_in_failed = True
    elif form.is_submitted():
        g.sign_in_failed = True
    return _form_page("accounts/login.html", form)


@bp.post("/logout")
def logout():
    """Sign out (a POST form with a CSRF token, so no other site can sign you out).

    The account's session token changes, so a copied session or remember-me cookie stops
    working too: signing out ends the account's sessions on every device.
    """
    if current_user.is_authenticated:
        service.rotate_session_token(current_user._get_current_object())
        db.session.commit()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("public.home"))


# --- Forgotten password -------------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_limit("RESET_RATE_LIMIT_PER_ADDRESS"), methods=["POST"])
@limiter.limit(_limit("RESET_RATE_LIMIT_PER_ACCOUNT"), key_func=_account_key, methods=["POST"])
def forgot_password():
    """Ask for a reset link; the answer never says whether the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        service.send_password_reset(form.email.data)
        db.session.commit()
        flash(RESET_SENT, "info")
        return redirect(url_for("accounts.login"))
    return _form_page("accounts/forgot_password.html", form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("RESET_RATE_LIMIT_PER_ADDRESS"), methods=["POST"])
def reset_password(token: str):
    """Choose a new password through an emailed, single-use link."""
    try:
        user = service.user_for_reset(token)
    except LinkError as error:
        return _link_problem(error)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            service.reset_password(token, form.password.data)
        except service.AccountError as error:
            form.password.errors.append(str(error))
        except LinkError as error:
            return _link_problem(error)
        else:
            queue_mail(user.email, "Your password was changed", "password_changed", user=user)
            db.session.commit()
            logout_user()
            flash("Your password has been changed. Please sign in with it.", "success")
            return redirect(url_for("accounts.login"))
    return _form_page("accounts/reset_password.html", form, user=user)


# --- Account settings ---------------------------------------------------------------------


def _settings_page(new_token: str | None = None, token_form: ApiTokenForm | None = None, status: int = 200):
    tokens = service.active_api_tokens(current_user)
    response = render_template(
        "accounts/settings.html",
        tokens=tokens,
        token_form=token_form or ApiTokenForm(formdata=None),
        action_form=EmptyForm(),
        new_token=new_token,
    )
    return response, status


@bp.get("/")
@login_required
def settings():
    """The account page: email, password, API tokens, your data."""
    return _settings_page()


@bp.route("/email", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit("ACCOUNT_CHANGE_RATE_LIMIT"), key_func=_user_key, methods=["POST"])
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
    return _form_page("accounts/change_email.html", form)


@bp.get("/email/confirm/<token>")
def confirm_email_change(token: str):
    """Follow the link sent to a new address: the account switches to it."""
    # Who is signed in here must be read before the change rotates the session token.
    signed_in_id = current_user.id if current_user.is_authenticated else None
    try:
        user = service.confirm_email_change(token)
    except LinkError as error:
        return _link_problem(error)
    db.session.commit()
    if signed_in_id == user.id:
        login_user(user)  # this browser stays signed in; other sessions have ended
        flash(f"Your email address is now {user.email}.", "success")
        return redirect(url_for("accounts.settings"))
    flash(f"Your email address is now {user.email}. Please sign in with it.", "success")
    return redirect(url_for("accounts.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_limit("ACCOUNT_CHANGE_RATE_LIMIT"), key_func=_user_key, methods=["POST"])
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
    return _form_page("accounts/change_password.html", form)


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
@limiter.limit(_limit("ACCOUNT_CHANGE_RATE_LIMIT"), key_func=_user_key, methods=["POST"])
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
    return _form_page("accounts/delete_account.html", form)
