"""Marshmallow fields the API's schemas share: strict input types and the site's date formats.

Each field reads input the way the API always has (strings stripped, `null` or "" for "not given",
no silent type coercion) and writes what clients already parse; apispec documents each one as the
standard type it derives from.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from marshmallow import ValidationError, fields

from directory.referrals import workflow


def iso_utc(moment: datetime | None) -> str | None:
    """A moment as ISO 8601 in UTC with a `Z`, as the API has always written it."""
    if moment is None:
        return None
    return workflow.as_utc(moment).isoformat().replace("+00:00", "Z")


class Text(fields.String):
    """A string, stripped; `null` reads as "". With `required=True` a blank one is refused too.

    `label` names the field in messages ("patient.name is required."), so every refusal is one
    sentence a client can show.
    """

    def __init__(self, *, label: str, max_length: int = 4000, required: bool = False, **kwargs):
        self.label = label
        self.max_length = max_length
        messages = {
            "required": f"{label} is required.",
            "null": f"{label} is required." if required else f"{label} must be a string.",
            "invalid": f"{label} must be a string.",
        }
        metadata = {"maxLength": max_length, **({"minLength": 1, "pattern": r"\S"} if required else {})}
        kwargs.setdefault("load_default", "")
        if required:
            kwargs.pop("load_default")
        super().__init__(
            required=required,
            allow_none=not required,
            error_messages={**messages, **kwargs.pop("error_messages", {})},
            metadata={**metadata, **kwargs.pop("metadata", {})},
            **kwargs,
        )

    def deserialize(self, value, attr=None, data=None, **kwargs):
        """None means "not given" for an optional text."""
        if value is None and not self.required:
            return ""
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > self.max_length:
            raise ValidationError(f"{self.label} is longer than {self.max_length} characters.")
        text = text.strip()
        if self.required and not text:
            raise ValidationError(f"{self.label} is required.")
        return text


class StrictInteger(fields.Integer):
    """A JSON integer: never a string, a float or a boolean."""

    def __init__(self, *, label: str, **kwargs):
        message = f"{label} must be an integer."
        kwargs.setdefault("error_messages", {"invalid": message, "required": message, "null": message})
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):  # True is an int to Python, not to a client
            raise self.make_error("invalid")
        return super()._validated(value)


class MustBeTrue(fields.Boolean):
    """A JSON `true` and nothing else (not "true", not 1): documented as `enum: [true]`."""

    def __init__(self, *, message: str, **kwargs):
        super().__init__(
            required=True,
            error_messages={"required": message, "invalid": message, "null": message},
            metadata={"enum": [True], **kwargs.pop("metadata", {})},
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if value is not True:
            raise self.make_error("invalid")
        return True


class PastDate(fields.Date):
    """An optional YYYY-MM-DD date not after today; `null` or "" read as not given."""

    def __init__(self, *, label: str, today, **kwargs):
        self.label = label
        self.today = today
        super().__init__(allow_none=True, load_default=None, **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        """ "" means "not given", as it always has."""
        return None if value == "" else super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        if not isinstance(value, str):
            raise ValidationError(f"{self.label} must be a date string YYYY-MM-DD.")
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{self.label} must be a date YYYY-MM-DD.") from None
        if parsed > self.today():
            raise ValidationError(f"{self.label} cannot be in the future.")
        return parsed

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return value.isoformat() if value else None


class Moment(fields.DateTime):
    """An ISO 8601 date-time: read with or without a zone (none means UTC), written in UTC with `Z`."""

    def __init__(self, *, label: str = "", **kwargs):
        self.label = label
        super().__init__(**kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        """`null` or "" mean "not given"."""
        return None if value in (None, "") else super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str):
            raise ValidationError(f"{self.label} must be an ISO 8601 date-time string.")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"{self.label} must be an ISO 8601 date-time, e.g. 2026-03-02T09:30:00Z.") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed

    def _serialize(self, value, attr, obj, **kwargs) -> str | None:
        return iso_utc(value)
