"""Accounts: sign up, confirm the address, sign in and out, reset a forgotten password."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from directory.accounts import service
from directory.accounts.forms import ForgotPasswordForm, LoginForm, ResetPasswordForm, SignupForm
from directory.accounts.tokens import LinkError
from directory.accounts.views import bp, config_limit, form_page, link_problem, user_key
from directory.extensions import db, limiter
from directory.mail import queue_mail
from directory.models import Role, User
from directory.safe_urls import safe_next

SAME_ANSWER_FOR_LOGIN = "That email and password do not match an account."
RESET_SENT = (
    "If an account exists for that address, we sent it a link to reset the password. "
    "The link works for one hour and only once."
)


def _account_key() -> str:
    """Rate-limit key of the account named in the form, whether or not it exists."""
    return "account:" + service.normalize_email(request.form.get("email", ""))[:254]


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


# --- Sign up and confirmation -------------------------------------------------------------


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(config_limit("SIGNUP_RATE_LIMIT_PER_ADDRESS"), methods=["POST"])
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
            return form_page("accounts/signup.html", form)
        db.session.commit()
        flash(
            f"Thank you. We sent a confirmation link to {service.normalize_email(form.email.data)}. "
            "Follow it to confirm your address, then sign in.",
            "success",
        )
        return redirect(url_for("accounts.login"))
    return form_page("accounts/signup.html", form)


@bp.get("/confirm/<token>")
def confirm(token: str):
    """Follow the emailed link: confirm the address and claim a matching profile."""
    try:
        user = service.confirm_email(token)
    except LinkError as error:
        return link_problem(error)
    db.session.commit()
    flash("Thank you: your email address is confirmed.", "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(home_for(user))
    return redirect(url_for("accounts.login"))


@bp.post("/confirm/resend")
@login_required
@limiter.limit("3 per hour", key_func=user_key)
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
@limiter.limit(config_limit("LOGIN_RATE_LIMIT_PER_ADDRESS"), methods=["POST"], deduct_when=_sign_in_failed)
@limiter.limit(
    config_limit("LOGIN_RATE_LIMIT_PER_ACCOUNT"), key_func=_account_key, methods=["POST"], deduct_when=_sign_in_failed
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
    return form_page("accounts/login.html", form)


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
@limiter.limit(config_limit("RESET_RATE_LIMIT_PER_ADDRESS"), methods=["POST"])
@limiter.limit(config_limit("RESET_RATE_LIMIT_PER_ACCOUNT"), key_func=_account_key, methods=["POST"])
def forgot_password():
    """Ask for a reset link; the answer never says whether the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        service.send_password_reset(form.email.data)
        db.session.commit()
        flash(RESET_SENT, "info")
        return redirect(url_for("accounts.login"))
    return form_page("accounts/forgot_password.html", form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(config_limit("RESET_RATE_LIMIT_PER_ADDRESS"), methods=["POST"])
def reset_password(token: str):
    """Choose a new password through an emailed, single-use link."""
    try:
        user = service.user_for_reset(token)
    except LinkError as error:
        return link_problem(error)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            service.reset_password(token, form.password.data)
        except service.AccountError as error:
            form.password.errors.append(str(error))
        except LinkError as error:
            return link_problem(error)
        else:
            queue_mail(user.email, "Your password was changed", "password_changed", user=user)
            db.session.commit()
            logout_user()
            flash("Your password has been changed. Please sign in with it.", "success")
            return redirect(url_for("accounts.login"))
    return form_page("accounts/reset_password.html", form, user=user)
