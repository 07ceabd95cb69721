"""The admin's forms of the claims review: a screened phrase, and a decision on held text."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from directory.claims.screening import phrase_words


def _has_words(form, field) -> None:  # noqa: ARG001
    if not phrase_words(field.data or ""):
        raise ValidationError("The phrase needs at least one word or number.")


class ClaimPhraseForm(FlaskForm):
    """A phrase that holds a text back, and why (the practitioner reads the explanation)."""

    phrase = StringField(
        "Phrase (matched as whole words; plurals, past tenses, case and punctuation do not matter)",
        validators=[DataRequired(), Length(max=120), _has_words],
    )
    explanation = TextAreaField("Explanation shown to the practitioner", validators=[DataRequired(), Length(max=400)])


class DeletePhraseForm(FlaskForm):
    """Remove a phrase from the list."""

    submit = SubmitField("Remove")


class ApproveForm(FlaskForm):
    """Approve held text: it goes live."""

    submit = SubmitField("Approve and publish the text")


class RejectForm(FlaskForm):
    """Reject held text, saying why (the practitioner is emailed the reason)."""

    reason = TextAreaField("Reason (sent to the practitioner)", validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField("Reject")
