"""Account forms (all with CSRF protection)."""

from __future__ import annotations

from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectChoice, StringField, TelField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from directory.accounts import emails
from directory.accounts.passwords import MAX_LENGTH, MIN_LENGTH, password_problem
from directory.forms import MultiCheckboxField

PASSWORD_HELP = f"At least {MIN_LENGTH} characters; not one of the most common passwords."


def account_email(form, field) -> None:
    """The accounts' one email rule (`accounts.emails`), as a form validator."""
    if emails.email_problem(field.data) is not None:
        raise ValidationError("Invalid email address.")


def _email_field(label: str = "Email address", **kwargs) -> EmailField:
    return EmailField(
        label,
        validators=[InputRequired(), Length(max=emails.MAX_LENGTH), account_email],
        render_kw={"autocomplete": "email", "maxlength": emails.MAX_LENGTH},
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        **kwargs,
    )


def _new_password_field(label: str = "Password", **kwargs) -> PasswordField:
    return PasswordField(
        label,
        validators=[InputRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "new-password", "minlength": MIN_LENGTH, "maxlength": MAX_LENGTH},
        **kwargs,
    )


def _current_password_field(label: str = "Password", **kwargs) -> PasswordField:
    return PasswordField(
        label,
        validators=[InputRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password", "maxlength": MAX_LENGTH},
        **kwargs,
    )


class NewPasswordMixin:
    """Checks the `password` field against the password rules (length, common passwords)."""

    def validate_password(self, field) -> None:
        email = getattr(self, "email", None)
        problem = password_problem(field.data or "", email.data or "" if email is not None else "")
        if problem:
            raise ValidationError(problem)


class SignupForm(NewPasswordMixin, FlaskForm):
    """Email, password and what the account is for; providers say who they are."""

    email = _email_field()
    password = _new_password_field()
    role = RadioField(
        "I am",
        choices=[
            SelectChoice("practitioner", "a craniosacral therapy practitioner"),
            SelectChoice("provider", "a healthcare provider"),
        ],
        validators=[InputRequired(message="Choose practitioner or healthcare provider.")],
    )
    name = StringField("Your full name", validators=[Optional(), Length(max=120)], render_kw={"autocomplete": "name"})
    profession = StringField("Profession", validators=[Optional(), Length(max=120)])
    organization = StringField("Organization or practice", validators=[Optional(), Length(max=200)])
    phone = TelField("Work phone", validators=[Optional(), Length(max=40)], render_kw={"autocomplete": "tel"})
    registration_number = StringField("Registration or licence number", validators=[Optional(), Length(max=80)])

    PROVIDER_FIELDS = ("name", "profession", "organization", "phone", "registration_number")

    def validate(self, extra_validators=None) -> bool:
        """Providers must give the details an admin needs to verify them."""
        valid = super().validate(extra_validators)
        if self.role.data == "provider":
            for name in self.PROVIDER_FIELDS:
                field = self[name]
                if not (field.data or "").strip():
                    field.errors = [*field.errors, "Healthcare providers must fill this in."]
                    valid = False
        return valid


class LoginForm(FlaskForm):
    """Email and password."""

    email = _email_field()
    password = _current_password_field()
    remember = BooleanField("Keep me signed in on this device")


class ForgotPasswordForm(FlaskForm):
    """Where to send a reset link."""

    email = _email_field()


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    """A new password, set through a reset link."""

    password = _new_password_field("New password")


class ChangePasswordForm(FlaskForm):
    """The current password and a new one."""

    current_password = _current_password_field("Current password")
    new_password = _new_password_field("New password")

    def validate_new_password(self, field) -> None:
        problem = password_problem(field.data or "", current_user.email if current_user.is_authenticated else "")
        if problem:
            raise ValidationError(problem)


class ChangeEmailForm(FlaskForm):
    """A new address, confirmed by a link sent there; the password proves it is you."""

    email = _email_field("New email address")
    password = _current_password_field("Your password")


class ApiTokenForm(FlaskForm):
    """A name to recognise a new API token by."""

    name = StringField("Token name", validators=[Optional(), Length(max=80)], render_kw={"placeholder": "e.g. EHR"})


class WebhookForm(FlaskForm):
    """A webhook endpoint: where to POST, and which referral events (directory.webhooks)."""

    url = StringField(
        "Endpoint URL", validators=[InputRequired(), Length(max=2000)], render_kw={"placeholder": "https://..."}
    )
    events = MultiCheckboxField(
        "Events",
        choices=[
            SelectChoice("referral.status_changed", "A referral's status changed"),
            SelectChoice("referral.message_added", "A message was added to a referral"),
        ],
        default=["referral.status_changed"],
    )


class DeleteAccountForm(FlaskForm):
    """The password, to confirm that the account should go."""

    password = _current_password_field("Your password")


class EmptyForm(FlaskForm):
    """A form with only the CSRF token (sign out, revoke, resend)."""
