"""The search form (a GET form: no CSRF token, nothing changes).

The form only shows the search: the query string is checked by `directory.search.parse_search_args`,
which answers bad values with a message. The language choices are set by the view (the languages
listed practitioners speak, see public.languages).
"""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional

from directory.forms import MultiCheckboxField
from directory.practitioners.rules import GENDERS
from directory.search.params import MAX_FEE

# A yes/no filter is off for 0/no/off as well as when missing, as the search reads it.
OFF_WORDS = (False, "", "0", "false", "no", "off")
SESSION_LENGTHS = (30, 45, 60, 90)
SORT_CHOICES = (("distance", "Nearest first"), ("name", "Name (A–Z)"), ("verified", "Most recently verified"))


def _lower(value):
    """A choice as the search reads it: trimmed, lower-case, "non-binary" as "nonbinary"."""
    if not isinstance(value, str):
        return value
    value = value.strip().lower()
    return "nonbinary" if value == "non-binary" else value


class SearchForm(FlaskForm):
    """Where, how far, and what for."""

    class Meta:
        csrf = False

    near = StringField(
        "ZIP code, postcode or town",
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "postal-code", "placeholder": "e.g. 80302 or Boulder, CO"},
    )
    lat = HiddenField()
    lon = HiddenField()
    radius = SelectField(
        "Within",
        choices=[SelectChoice(distance) for distance in ("5", "10", "25", "50", "100", "250")],
        default="25",
    )
    unit = SelectField("Unit", choices=[SelectChoice("mi", "miles"), SelectChoice("km", "km")], default="mi")
    condition = MultiCheckboxField("Focus", choices=[])
    verified = BooleanField("Verified credentials only", false_values=OFF_WORDS, render_kw={"value": "1"})
    accepting = BooleanField("Accepting new patients", false_values=OFF_WORDS, render_kw={"value": "1"})
    wheelchair = BooleanField("Wheelchair accessible", false_values=OFF_WORDS, render_kw={"value": "1"})
    fee_max = IntegerField(
        "Maximum fee",
        validators=[Optional(), NumberRange(min=0, max=MAX_FEE)],
        render_kw={"min": 0, "max": MAX_FEE, "step": 1, "inputmode": "numeric"},
        description="Per session, in the practitioner's currency. Practitioners who state no fee are left out.",
    )
    session_minutes = SelectField(
        "Session length at least",
        choices=[SelectChoice("", "Any length")]
        + [SelectChoice(str(minutes), f"{minutes} minutes") for minutes in SESSION_LENGTHS],
        default="",
    )
    language = SelectField("Language", choices=[SelectChoice("", "Any language")], default="")
    gender = SelectField(
        "Practitioner gender",
        choices=[SelectChoice("", "Any")] + [SelectChoice(value, label) for value, label in GENDERS.items()],
        default="",
        filters=[_lower],
        description="Practitioners who do not state their gender are left out when you choose one.",
    )
    sort = SelectField(
        "Sort by",
        choices=[SelectChoice(value, label) for value, label in SORT_CHOICES],
        default="distance",
        filters=[_lower],
    )
