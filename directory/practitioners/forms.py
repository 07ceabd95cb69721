"""The profile editor's forms and the patients' enquiry form (all with CSRF protection)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    Field,
    HiddenField,
    SelectChoice,
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
from wtforms.widgets import NumberInput, TextArea, TextInput

from directory.forms import MultiCheckboxField
from directory.models.base import today
from directory.practitioners import rules
from directory.practitioners.hours import parse_opening_hours
from directory.practitioners.rules import PHONE_MESSAGE, PHONE_RE

PROFESSIONS = [
    SelectChoice("LMT", "LMT: Licensed massage therapist"),
    SelectChoice("PT", "PT: Physical therapist"),
    SelectChoice("OT", "OT: Occupational therapist"),
    SelectChoice("DO", "DO: Doctor of osteopathic medicine"),
    SelectChoice("DC", "DC: Doctor of chiropractic"),
    SelectChoice("RN", "RN: Registered nurse"),
    SelectChoice("MD", "MD: Physician"),
    SelectChoice("ND", "ND: Naturopathic doctor"),
    SelectChoice("DDS", "DDS: Dentist"),
    SelectChoice("SLP", "SLP: Speech-language pathologist"),
    SelectChoice("LAc", "LAc: Licensed acupuncturist"),
    SelectChoice("Other", "Other licensed health profession"),
]


class RuleField(Field):
    """A text input checked and normalised by one rule of rules.py (the rule the CSV import uses).

    `data` is the rule's value (an int, a str or None); a refused value keeps its raw text on
    the page and shows the rule's message.
    """

    widget = TextInput()

    def __init__(self, label=None, validators=None, rule=None, required: bool = False, **kwargs) -> None:
        super().__init__(label, validators, **kwargs)
        self.rule = rule
        # Marks the label "(required)" and the input `required`, as DataRequired does.
        self.flags.required = required

    def process_data(self, value) -> None:
        """Values from the object or the default are shown as they are."""
        self.data = value

    def process_formdata(self, valuelist) -> None:
        """Apply the rule to the submitted text; its FieldError becomes the field's error."""
        raw = valuelist[0] if valuelist else ""
        try:
            self.data = self.rule(raw)
        except rules.FieldError as error:
            self.data = None
            raise ValueError(str(error)) from None

    def _value(self) -> str:
        raw = getattr(self, "raw_data", None)
        if raw:
            return raw[0]
        return "" if self.data is None else str(self.data)


GENDER_CHOICES = [
    SelectChoice("", "Prefer not to say"),
    *(SelectChoice(v, label) for v, label in rules.GENDERS.items()),
]


def checked_by(rule):
    """A validator that applies a rule of rules.py to a chosen value (a select's), with the rule's message."""

    def check(form, field) -> None:  # noqa: ARG001
        try:
            field.data = rule(field.data)
        except rules.FieldError as error:
            raise ValidationError(str(error)) from None

    return check


def yes_or_no(form, field) -> None:  # noqa: ARG001
    """A checkbox's submitted word must be a yes/no word of rules.py (a browser sends "y")."""
    if field.raw_data:
        try:
            field.data = rules.yes_no(field.raw_data[0], default=False)
        except rules.FieldError as error:
            raise ValidationError(str(error)) from None


def _strip(value):
    """Trim surrounding spaces from text input."""
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    """Trim and upper-case (currency codes)."""
    return value.strip().upper() if isinstance(value, str) else value


def not_in_future(form, field) -> None:  # noqa: ARG001
    """Dates of things already done cannot be in the future."""
    if field.data and field.data > today():
        raise ValidationError("This date is in the future.")


class ActionForm(FlaskForm):
    """A form with only a CSRF token, for one-click actions (toggle, publish, remove, mark read)."""


class PhotoForm(FlaskForm):
    """A profile photo; its type and content are judged by practitioners.photos, not by its name."""

    photo = FileField(
        "Your photo (JPEG, PNG or WebP, at most 5 MB)",
        validators=[FileRequired("Choose a photo to upload.")],
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    submit = SubmitField("Upload photo")


class BasicsForm(FlaskForm):
    """Name, practice, bio, contact, sessions, fees, languages, accessibility and (optionally) gender."""

    display_name = RuleField("Your name as shown", rule=rules.display_name, required=True)
    practice_name = RuleField("Practice name", rule=rules.practice_name)
    bio = TextAreaField(
        "About you and your practice (plain text)", validators=[Optional(), Length(max=5000)], render_kw={"rows": 8}
    )
    phone = RuleField("Phone", rule=rules.phone, render_kw={"autocomplete": "tel", "inputmode": "tel"})
    website = RuleField("Website", rule=rules.website, render_kw={"inputmode": "url"})
    show_email = BooleanField("Show my email address on my profile", validators=[yes_or_no])
    session_minutes = RuleField("Session length (minutes)", rule=rules.session_minutes, widget=NumberInput())
    fee_min = RuleField("Fee from", rule=rules.fee, widget=NumberInput())
    fee_max = RuleField("Fee up to", rule=rules.fee, widget=NumberInput())
    currency = RuleField("Currency", rule=rules.currency, required=True, default="USD", render_kw={"maxlength": 3})
    languages = RuleField(
        "Languages (separated by commas)",
        rule=rules.languages,
        description='Any spelling works: "Spanish", "Español" or "es". We store each by its English name.',
    )
    wheelchair_accessible = BooleanField("My practice is wheelchair accessible", validators=[yes_or_no])
    gender = SelectField(
        "Your gender (optional)",
        choices=GENDER_CHOICES,
        validate_choice=False,  # rules.gender decides, with its own message
        validators=[checked_by(rules.gender)],
        description="Optional. It is used when a patient filters the search by practitioner gender (some prefer "
        "a given gender for hands-on work). If you prefer not to say, you still appear in every search "
        "without that filter.",
    )
    submit = SubmitField("Save")

    def validate_fee_max(self, field) -> None:
        """The upper fee cannot be below the lower one."""
        if self.fee_min.errors:
            return
        try:
            rules.fee_range(self.fee_min.data, field.data)
        except rules.FieldError as error:
            raise ValidationError(str(error)) from None


class ConditionsForm(FlaskForm):
    """The conditions a practitioner focuses on, from the taxonomy."""

    conditions = MultiCheckboxField("Areas of focus", choices=[])
    submit = SubmitField("Save")


class LocationForm(FlaskForm):
    """A practice address (geocoded on save, coordinates may be corrected by hand), its phone and hours."""

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
    phone = RuleField(
        "Phone at this location (optional)",
        rule=rules.phone,
        description="Leave blank to use your main phone.",
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    opening_hours = RuleField(
        "Opening hours (optional)",
        rule=parse_opening_hours,
        widget=TextArea(),
        description="One line (or a semicolon) per day or group of days, in 24-hour time or am/pm, "
        "e.g. Mon-Fri 9-17; Sat 10-13, or Tue, Thu 08:30-19:00. Several openings a day: Mon 9-12, 14-18.",
        render_kw={"rows": 4},
    )
    hours_note = RuleField(
        "Note on your hours (optional)",
        rule=rules.hours_note,
        description="At most 200 characters, e.g. Evenings by appointment.",
        render_kw={"maxlength": rules.HOURS_NOTE_LENGTH},
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
        self.body.choices = [SelectChoice(str(b.id), b.name) for b in bodies]
        self.credential.choices = [
            SelectChoice(c.code, f"{c.code}: {c.name}" if c.name else c.code, optgroup=b.name)
            for b in bodies
            for c in b.credentials
        ]

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
        validators=[Optional(), Length(max=40), Regexp(PHONE_RE, message=PHONE_MESSAGE)],
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
