"""The search form (a GET form: no CSRF token, nothing changes)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from directory.forms import MultiCheckboxField


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
    verified = BooleanField("Verified credentials only", render_kw={"value": "1"})
    accepting = BooleanField("Accepting new patients", render_kw={"value": "1"})
    language = StringField("Language", validators=[Optional(), Length(max=40)])
