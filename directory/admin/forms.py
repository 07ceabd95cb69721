"""Forms of the admin area; every form that changes something carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, Optional, Regexp

VERIFICATION_METHODS = [
    SelectChoice("register checked", "Register checked"),
    SelectChoice("certificate inspected", "Certificate inspected"),
    SelectChoice("body contacted", "Certifying body contacted"),
]

SLUG = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message="Use lower-case letters, digits and single hyphens.")


class VerifyCertificationForm(FlaskForm):
    """How the credential was checked."""

    method = SelectField("How was it checked?", choices=VERIFICATION_METHODS, validators=[DataRequired()])
    note = TextAreaField("Note (what you saw, whom you spoke to)", validators=[Optional(), Length(max=2000)])


class RejectForm(FlaskForm):
    """A reason the person will read."""

    reason = TextAreaField(
        "Reason (sent to the person)",
        validators=[DataRequired(message="Please give a reason."), Length(max=2000)],
    )


class ConfirmForm(FlaskForm):
    """A button: only the CSRF token."""


class ReasonOptionalForm(FlaskForm):
    """An action with an optional message to the practitioner."""

    reason = TextAreaField("Message to the practitioner (optional)", validators=[Optional(), Length(max=2000)])


class BulkRegisterForm(FlaskForm):
    """A certifying body's member register, in the CSV import format."""

    body = SelectField("Certifying body", coerce=int, validators=[DataRequired()])
    register = FileField("Member register (CSV)", validators=[FileRequired(message="Please choose a CSV file.")])


class BulkApplyForm(FlaskForm):
    """Apply a previewed register (the file is kept on the server under its id)."""

    token = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{16,64}$")])


class ConditionForm(FlaskForm):
    """A new condition of the taxonomy."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        "Slug (for URLs and the API; made from the name when empty)",
        validators=[Optional(), Length(max=80), SLUG],
    )


class RenameConditionForm(FlaskForm):
    """A condition's new display name."""

    name = StringField("New name", validators=[DataRequired(), Length(max=120)])


class MergeConditionForm(FlaskForm):
    """Merge one condition into another."""

    target = SelectField("Merge into", coerce=int, validators=[DataRequired()])


class BodyForm(FlaskForm):
    """A certifying body of the registry."""

    slug = StringField("Slug (used in CSV files)", validators=[DataRequired(), Length(max=40), SLUG])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    website = StringField(
        "Website", validators=[Optional(), Length(max=300), URL(require_tld=True, message="Enter a full URL.")]
    )
    description = TextAreaField("What the body does and how it certifies", validators=[Optional(), Length(max=5000)])


class CredentialLevelForm(FlaskForm):
    """A credential a body awards, with what it requires."""

    code = StringField("Code (e.g. CST-T)", validators=[DataRequired(), Length(max=40)])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    requirements = TextAreaField("What it requires", validators=[Optional(), Length(max=5000)])


class UserSearchForm(FlaskForm):
    """Find accounts (a GET form)."""

    class Meta:
        csrf = False

    q = StringField("Name or email", validators=[Optional(), Length(max=200)])
    role = SelectField(
        "Role",
        choices=[
            SelectChoice("", "Any"),
            SelectChoice("practitioner", "Practitioner"),
            SelectChoice("provider", "Provider"),
            SelectChoice("admin", "Admin"),
        ],
        validators=[Optional()],
    )


class PractitionerSearchForm(FlaskForm):
    """Find profiles to moderate (a GET form)."""

    class Meta:
        csrf = False

    q = StringField("Name or email", validators=[Optional(), Length(max=200)])
    state = SelectField(
        "State",
        choices=[
            SelectChoice("", "Any"),
            SelectChoice("published", "Published"),
            SelectChoice("unpublished", "Unpublished"),
            SelectChoice("suspended", "Suspended"),
        ],
        validators=[Optional()],
    )


class AuditFilterForm(FlaskForm):
    """Filters of the audit page (a GET form)."""

    class Meta:
        csrf = False

    actor = StringField("Actor email", validators=[Optional(), Length(max=254)])
    action = SelectField("Action", validators=[Optional()], validate_choice=False)
    object_type = SelectField("Record type", validators=[Optional()], validate_choice=False)
    object_id = StringField("Record id", validators=[Optional(), Length(max=80)])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])


def with_unique_ids(form: FlaskForm, suffix) -> FlaskForm:
    """Give a form's fields ids ending in `-suffix`, for pages with one form per row (names stay)."""
    for f in form:
        f.id = f"{f.name}-{suffix}"
        f.label.field_id = f.id
    return form
