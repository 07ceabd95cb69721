"""Forms of the referral pages (all with CSRF)."""

from __future__ import annotations

from types import SimpleNamespace

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from directory.forms import MultiCheckboxField
from directory.models.base import today
from directory.referrals import workflow
from directory.referrals.outcome import Outcome
from directory.referrals.service import sending_problems
from directory.referrals.workflow import URGENCY_LABELS

# The fields the sending rule reads.
SENDING_FIELDS = ("patient_name", "patient_phone", "patient_email", "reason", "consent", "urgency")


class ReferralForm(FlaskForm):
    """A new referral (or a draft) for one practitioner."""

    patient_name = StringField(
        "Patient's full name", validators=[DataRequired(), Length(max=120)], render_kw={"autocomplete": "off"}
    )
    patient_phone = StringField(
        "Patient's phone", validators=[Optional(), Length(max=40)], render_kw={"autocomplete": "off"}
    )
    patient_email = EmailField(
        "Patient's email", validators=[Optional(), Email(), Length(max=254)], render_kw={"autocomplete": "off"}
    )
    patient_birth_date = DateField("Date of birth (optional)", validators=[Optional()])
    conditions = MultiCheckboxField("Conditions", choices=[])
    reason = TextAreaField("Reason for referral", validators=[Optional(), Length(max=4000)])
    clinical_notes = TextAreaField("Clinical notes", validators=[Optional(), Length(max=10000)])
    urgency = RadioField(
        "Urgency", choices=[SelectChoice(value, label) for value, label in URGENCY_LABELS.items()], default="routine"
    )
    preferred_contact = SelectField(
        "Preferred contact method",
        choices=[SelectChoice("phone", "Phone"), SelectChoice("email", "Email")],
        default="phone",
    )
    consent = BooleanField("The patient consented to share these details with the practitioner")
    send = SubmitField("Send referral")
    save_draft = SubmitField("Save as draft")

    def validate_patient_birth_date(self, field):
        """A birth date cannot be in the future."""
        if field.data and field.data > today():
            raise ValidationError("The date of birth cannot be in the future.")

    def validate(self, extra_validators=None) -> bool:
        """A draft only needs a name; sending must pass the service's one rule (sending_problems)."""
        ok = super().validate(extra_validators)
        if self.save_draft.data and not self.send.data:
            return ok
        # The recipient and the sender are not fields of this form: the view and the service judge them.
        values = SimpleNamespace(**{name: self[name].data for name in SENDING_FIELDS}, practitioner=None)
        for name, message in sending_problems(values).items():
            if name in SENDING_FIELDS and not self[name].errors:
                self[name].errors = [*self[name].errors, message]
                ok = False
        return ok


class TransitionForm(FlaskForm):
    """One move of the lifecycle; the version says which state of the referral the user saw."""

    status = HiddenField(validators=[InputRequired(), Length(max=20)])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=4000)])
    # Local time at the location chosen (the service reads it in that location's zone).
    appointment_at = DateTimeLocalField("First appointment", validators=[Optional()], format="%Y-%m-%dT%H:%M")
    location_id = IntegerField("Location", validators=[Optional()])
    reason = StringField("Reason", validators=[Optional(), Length(max=20)])
    sessions = IntegerField("Sessions attended", validators=[Optional()])
    last_session_on = DateField("Date of the last session", validators=[Optional()])
    pain_start = IntegerField("Pain at the first session (0–10)", validators=[Optional()])
    pain_end = IntegerField("Pain at the last session (0–10)", validators=[Optional()])
    pgic = IntegerField("Patient's impression of change", validators=[Optional()])
    return_to_referrer = BooleanField("The patient should return to the referrer")
    return_reason = TextAreaField("Why the patient should return", validators=[Optional(), Length(max=4000)])

    def validate_status(self, field):
        """The status (or action) must be one we know."""
        if field.data not in workflow.STATUSES + workflow.ACTIONS:
            raise ValidationError("Unknown status.")

    def outcome(self) -> Outcome | None:
        """The structured outcome typed in, for a completion (None for other moves)."""
        if self.status.data != workflow.COMPLETED:
            return None
        return Outcome(
            sessions=self.sessions.data,
            last_session_on=self.last_session_on.data,
            pain_start=self.pain_start.data,
            pain_end=self.pain_end.data,
            pgic=self.pgic.data,
            return_to_referrer=bool(self.return_to_referrer.data),
            return_reason=self.return_reason.data or "",
        )


class MessageForm(FlaskForm):
    """A message to the other party."""

    body = TextAreaField("Message", validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField("Send message")


class ProviderDetailsForm(FlaskForm):
    """The provider's professional details."""

    name = StringField("Your name", validators=[DataRequired(), Length(max=120)], render_kw={"autocomplete": "name"})
    profession = StringField("Profession", validators=[DataRequired(), Length(max=120)])
    organization = StringField("Practice or organization", validators=[Optional(), Length(max=200)])
    phone = StringField("Work phone", validators=[Optional(), Length(max=40)], render_kw={"autocomplete": "tel"})
    registration_number = StringField(
        "Professional registration or licence number", validators=[DataRequired(), Length(max=80)]
    )
    submit = SubmitField("Save details")


class ConsentForm(FlaskForm):
    """Confirm, on a draft's own page, that the patient consented to share their details."""

    consent = BooleanField(
        "The patient consented to share these details with the practitioner",
        validators=[DataRequired("Tick the box to confirm the patient's consent.")],
    )
    submit = SubmitField("Confirm consent")


class DeleteDraftForm(FlaskForm):
    """Delete a draft (a button with its CSRF token)."""

    submit = SubmitField("Delete draft")
