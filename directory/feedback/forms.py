"""The public's forms about a listing, protected like the enquiry form, and the practitioner's answer."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from directory.feedback.fields import choices
from directory.models import ConcernKind

CONCERN_KINDS = [
    SelectChoice(ConcernKind.CONDUCT.value, "The practitioner's conduct"),
    SelectChoice(ConcernKind.MISLEADING_CLAIM.value, "A misleading claim on the listing"),
    SelectChoice(ConcernKind.FAKE_CREDENTIAL.value, "A credential that looks false"),
    SelectChoice(ConcernKind.OTHER.value, "Something else"),
]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class _Protected(FlaskForm):
    """A honeypot people never see (`website`) and the signed time the form was shown (`started`)."""

    website = StringField(
        "Leave this empty", validators=[Optional()], render_kw={"tabindex": "-1", "autocomplete": "off"}
    )
    started = HiddenField()


class CorrectionForm(_Protected):
    """Which detail of the listing is wrong, and what is right."""

    field = SelectField(
        "Which detail is wrong?",
        choices=[SelectChoice(key, text) for key, text in choices()],
        validators=[DataRequired()],
    )
    suggestion = TextAreaField(
        "What is right?",
        validators=[DataRequired(), Length(min=2, max=2000, message="Between 2 and 2000 characters.")],
        filters=[_strip],
        render_kw={"rows": 4},
    )
    email = EmailField(
        "Your email address (optional)",
        validators=[Optional(), Length(max=254), Email(message="Enter a valid email address, or leave it empty.")],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )
    share_email = BooleanField("The practitioner may see my email address to ask me about it")


class ConcernForm(_Protected):
    """A concern for the site's administrators only."""

    kind = SelectField("What is your concern about?", choices=CONCERN_KINDS, validators=[DataRequired()])
    details = TextAreaField(
        "What happened, or what is wrong?",
        validators=[DataRequired(), Length(min=10, max=5000, message="Between 10 and 5000 characters.")],
        filters=[_strip],
        render_kw={"rows": 6},
    )
    email = EmailField(
        "Your email address (optional, so that we can ask you more)",
        validators=[Optional(), Length(max=254), Email(message="Enter a valid email address, or leave it empty.")],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )


class CloseConcernForm(FlaskForm):
    """An admin closes a concern, saying what was done."""

    note = TextAreaField("What was done", validators=[DataRequired(), Length(max=5000)], filters=[_strip])
