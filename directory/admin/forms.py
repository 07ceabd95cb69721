"""Forms of the admin area; every form that changes something carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, Regexp

from directory.admin.credential_queue import AGE_CHOICES, QueueFilter
from directory.admin.verification import METHODS, Check

SLUG = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message="Use lower-case letters, digits and single hyphens.")


class VerifyCertificationForm(FlaskForm):
    """How the credential was checked, and what that check names (`verification.check_problems` judges it)."""

    # Nothing is chosen in advance, and the choice is judged with what it needs (one rule, one message).
    method = RadioField(
        "How did you check it?", choices=[SelectChoice(v, label) for v, label in METHODS.items()], validate_choice=False
    )
    reference = StringField("Register reference or URL of the entry", validators=[Optional(), Length(max=300)])
    contact = StringField("Whom you contacted at the body", validators=[Optional(), Length(max=200)])
    contacted_on = DateField("When you contacted them", validators=[Optional()])
    note = TextAreaField("Note (optional: anything else you saw)", validators=[Optional(), Length(max=2000)])

    def check(self) -> Check:
        """The check as the admin described it."""
        return Check(
            method=self.method.data or "",
            reference=self.reference.data or "",
            contact=self.contact.data or "",
            contacted_on=self.contacted_on.data,
            note=self.note.data or "",
        )


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


class QueueFilterForm(FlaskForm):
    """Filters of the credential queue (a GET form); `body` and `credential` choices come from the view."""

    class Meta:
        csrf = False

    q = StringField("Name or email", validators=[Optional(), Length(max=200)])
    body = SelectField("Certifying body", validators=[Optional()])
    credential = SelectField("Credential", validators=[Optional()])
    age = SelectField(
        "Waiting",
        choices=[SelectChoice("", "Any time")] + [SelectChoice(str(d), f"More than {d} days") for d in AGE_CHOICES],
        validators=[Optional()],
    )
    evidence = SelectField(
        "Evidence file",
        choices=[SelectChoice("", "Either"), SelectChoice("yes", "Has evidence"), SelectChoice("no", "No evidence")],
        validators=[Optional()],
    )
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=1_000_000)])

    def queue_filter(self) -> QueueFilter:
        """The filter these (validated) fields describe."""
        return QueueFilter(
            body_id=int(self.body.data) if self.body.data else None,
            credential=self.credential.data or "",
            older_than_days=int(self.age.data) if self.age.data else None,
            has_evidence={"yes": True, "no": False}.get(self.evidence.data or ""),
            search=(self.q.data or "").strip(),
        )

    def args(self) -> dict[str, str]:
        """The filters as query-string arguments (empty ones left out), for links that keep them."""
        values = {f.name: str(f.data if f.data is not None else "").strip() for f in self if f.name != "page"}
        return {name: value for name, value in values.items() if value}


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
