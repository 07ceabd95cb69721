"""The profile editor's forms and the patients' enquiry form (all with CSRF protection)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from directory.models.base import today
from directory.public.forms import MultiCheckboxField

PHONE_RE = r"^[0-9+()./ \-]*(?:(?:ext\.?|x) ?[0-9]+)?$"
PROFESSIONS = [
    ("LMT", "LMT: Licensed massage therapist"),
    ("PT", "PT: Physical therapist"),
    ("OT", "OT: Occupational therapist"),
    ("DO", "DO: Doctor of osteopathic medicine"),
    ("DC", "DC: Doctor of chiropractic"),
    ("RN", "RN: Registered nurse"),
    ("MD", "MD: Physician"),
    ("ND", "ND: Naturopathic doctor"),
    ("DDS", "DDS: Dentist"),
    ("SLP", "SLP: Speech-language pathologist"),
    ("LAc", "LAc: Licensed acupuncturist"),
    ("Other", "Other licensed health profession"),
]


def _strip(value):
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    """Trim and upper-case (currency codes)."""
    return value.strip().upper() if isinstance(value, str) else value


def http_url(form, field) -> None:  # noqa: ARG001
    """Allow only http:// and https:// links with a host (no javascript:, data:, ...)."""
    if not field.data:
        return
    parts = urlsplit(field.data)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc or " " in field.data:
        raise ValidationError("Enter a full web address starting with https:// or http://.")


def not_in_future(form, field) -> None:  # noqa: ARG001
    """Dates of things already done cannot be in the future."""
    if field.data and field.data > today():
        raise ValidationError("This date is in the future.")


class ActionForm(FlaskForm):
    """A form with only a CSRF token, for one-click actions (toggle, publish, remove, mark read)."""


class BasicsForm(FlaskForm):
    """Name, practice, bio, contact, sessions, fees, languages and accessibility."""

    display_name = StringField("Your name as shown", validators=[DataRequired(), Length(max=120)], filters=[_strip])
    practice_name = StringField("Practice name", validators=[Optional(), Length(max=160)], filters=[_strip])
    bio = TextAreaField(
        "About you and your practice (plain text)", validators=[Optional(), Length(max=5000)], render_kw={"rows": 8}
    )
    phone = StringField(
        "Phone",
        validators=[Optional(), Length(max=40), Regexp(PHONE_RE, message="Use digits, spaces and + ( ) - only.")],
        filters=[_strip],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    website = StringField(
        "Website", validators=[Optional(), Length(max=300), http_url], filters=[_strip], render_kw={"inputmode": "url"}
    )
    show_email = BooleanField("Show my email address on my profile")
    session_minutes = IntegerField(
        "Session length (minutes)",
        validators=[Optional(), NumberRange(min=15, max=240, message="Between 15 and 240 minutes.")],
    )
    fee_min = IntegerField(
        "Fee from", validators=[Optional(), NumberRange(min=0, max=100000, message="Between 0 and 100000.")]
    )
    fee_max = IntegerField(
        "Fee up to", validators=[Optional(), NumberRange(min=0, max=100000, message="Between 0 and 100000.")]
    )
    currency = StringField(
        "Currency",
        default="USD",
        validators=[DataRequired(), Regexp(r"^[A-Z]{3}$", message="Use the three-letter ISO 4217 code, e.g. USD.")],
        filters=[_upper],
        render_kw={"maxlength": 3},
    )
    languages = StringField(
        "Languages (separated by commas)", validators=[Optional(), Length(max=300)], filters=[_strip]
    )
    wheelchair_accessible = BooleanField("My practice is wheelchair accessible")
    submit = SubmitField("Save")

    def validate_fee_max(self, field) -> None:
        """The upper fee cannot be below the lower one."""
        if field.data is not None and self.fee_min.data is not None and field.data < self.fee_min.data:
            raise ValidationError("The upper fee must not be lower than the starting fee.")


class ConditionsForm(FlaskForm):
    """The conditions a practitioner focuses on, from the taxonomy."""

    conditions = MultiCheckboxField("Areas of focus", choices=[])
    submit = SubmitField("Save")


class LocationForm(FlaskForm):
    """A practice address; geocoded on save, with coordinates that may be corrected by hand."""

    label = StringField("Name of the location (optional)", validators=[Optional(), Length(max=120)], filters=[_strip])
    address = StringField(
        "Street address",
        validators=[Optional(), Length(max=300)],
        filters=[_strip],
        render_kw={"autocomplete": "street-address"},
    )
    city = StringField("Town or city", validators=[Optional(), Length(max=120)], filters=[_strip])
    region = StringField("State, county or region", validators=[Optional(), Length(max=120)], filters=[_strip])
    postal_code = StringField(
        "ZIP or postal code",
        validators=[Optional(), Length(max=20)],
        filters=[_strip],
        render_kw={"autocomplete": "postal-code"},
    )
    country = StringField(
        "Country code",
        default="US",
        validators=[DataRequired(), Regexp(r"^[A-Z]{2}$", message="Use the two-letter country code, e.g. US or GB.")],
        filters=[_upper],
        render_kw={"maxlength": 2},
    )
    latitude = DecimalField(
        "Latitude",
        places=6,
        validators=[Optional(), NumberRange(min=-90, max=90, message="Between -90 and 90.")],
    )
    longitude = DecimalField(
        "Longitude",
        places=6,
        validators=[Optional(), NumberRange(min=-180, max=180, message="Between -180 and 180.")],
    )
    submit = SubmitField("Save location")

    def validate_city(self, field) -> None:
        """Something must say where the place is: a town or a postal code."""
        if not field.data and not self.postal_code.data:
            raise ValidationError("Enter the town or city, or a ZIP or postal code.")

    def validate_latitude(self, field) -> None:  # noqa: ARG002
        """Coordinates corrected by hand come in pairs (each check runs only when its field is filled)."""
        self._check_pair()

    def validate_longitude(self, field) -> None:  # noqa: ARG002
        """Coordinates corrected by hand come in pairs."""
        self._check_pair()

    def _check_pair(self) -> None:
        if (self.longitude.data is None) != (self.latitude.data is None):
            raise ValidationError("Give both latitude and longitude, or neither.")


class TrainingForm(FlaskForm):
    """A completed course."""

    course = StringField("Course", validators=[DataRequired(), Length(max=200)], filters=[_strip])
    provider = StringField(
        "Taught by (school or organization)", validators=[Optional(), Length(max=200)], filters=[_strip]
    )
    hours = DecimalField(
        "Hours",
        places=1,
        validators=[Optional(), NumberRange(min=0.5, max=5000, message="Between 0.5 and 5000 hours.")],
    )
    completed_on = DateField("Completed on", validators=[Optional(), not_in_future])
    submit = SubmitField("Save training")


class LicenseForm(FlaskForm):
    """A licence to practise a health profession."""

    profession = SelectField("Profession", choices=PROFESSIONS, validators=[InputRequired()])
    jurisdiction = StringField(
        "Issued by (state, province or country)", validators=[DataRequired(), Length(max=120)], filters=[_strip]
    )
    number = StringField("Licence number", validators=[Optional(), Length(max=80)], filters=[_strip])
    expires_on = DateField("Expires on", validators=[Optional()])
    submit = SubmitField("Save licence")


class CertificationForm(FlaskForm):
    """A CST credential from a certifying body, with optional evidence."""

    body = SelectField("Certifying body", choices=[], validators=[InputRequired()])
    credential = SelectField("Credential", choices=[], validators=[InputRequired()])
    credential_number = StringField("Certificate number", validators=[Optional(), Length(max=80)], filters=[_strip])
    issued_on = DateField("Issued on", validators=[Optional(), not_in_future])
    expires_on = DateField("Expires on", validators=[Optional()])
    evidence = FileField("Evidence (PDF, JPEG or PNG, at most 5 MB)", render_kw={"accept": ".pdf,.jpg,.jpeg,.png"})
    submit = SubmitField("Save certification")

    def set_registry(self, bodies) -> None:
        """Fill the choices from the registry: bodies, and each body's credentials grouped."""
        self._bodies = {str(b.id): b for b in bodies}
        self.body.choices = [(str(b.id), b.name) for b in bodies]
        self.credential.choices = {
            b.name: [(c.code, f"{c.code}: {c.name}" if c.name else c.code) for c in b.credentials] for b in bodies
        }

    def validate_credential(self, field) -> None:
        """The credential must be one that the chosen body awards."""
        body = getattr(self, "_bodies", {}).get(self.body.data)
        if body is not None and field.data not in body.credential_codes:
            raise ValidationError(f"{body.name} does not award {field.data}. Choose one of its credentials.")

    def validate_expires_on(self, field) -> None:
        """Expiry cannot come before issue."""
        if field.data and self.issued_on.data and field.data < self.issued_on.data:
            raise ValidationError("The expiry date is before the issue date.")


class EnquiryForm(FlaskForm):
    """A patient's message to a practitioner, with a honeypot and a signed start time."""

    name = StringField("Your name", id="enquiry-name", validators=[DataRequired(), Length(max=120)], filters=[_strip])
    email = EmailField(
        "Your email address",
        id="enquiry-email",
        validators=[DataRequired(), Length(max=254), Email(message="Enter a valid email address.")],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )
    phone = StringField(
        "Phone (optional)",
        id="enquiry-phone",
        validators=[Optional(), Length(max=40), Regexp(PHONE_RE, message="Use digits, spaces and + ( ) - only.")],
        filters=[_strip],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    message = TextAreaField(
        "Your message",
        id="enquiry-message",
        validators=[DataRequired(), Length(min=10, max=3000, message="Between 10 and 3000 characters.")],
        render_kw={"rows": 5},
    )
    consent = BooleanField(
        "I agree that this practitioner may contact me about my enquiry",
        id="enquiry-consent",
        validators=[DataRequired(message="Please agree to be contacted, or the practitioner cannot reply.")],
    )
    # Spam traps: people never see or fill `website`; `started` is a signed timestamp.
    website = StringField(
        "Leave this field empty",
        id="enquiry-website",
        validators=[Length(max=300)],
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )
    started = HiddenField(id="enquiry-started")
    submit = SubmitField("Send enquiry", id="enquiry-submit")
