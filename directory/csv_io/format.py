"""The CSV format itself: its columns, the cells a spreadsheet must not run, and decoding.

One row per practice location; rows sharing an email are one practitioner. The practitioner
fields' limits live in `directory.practitioners.rules`; this module holds only what belongs
to the file: column names, the sizes of the location columns, and cell escaping.

The last columns (OPTIONAL_COLUMNS) came later: a file may leave them out, and then the
import leaves those fields of an existing practitioner as they are (a new one gets the
defaults). A column that is present and blank means the field's default, as for the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

COLUMNS = [
    "name",
    "email",
    "practice_name",
    "address",
    "city",
    "region",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "conditions",
    "credentials",
    "accepting_new_patients",
    "session_minutes",
    "languages",
    "phone",
    "website",
    # Optional trailing columns: old files without them still import.
    "fee_min",
    "fee_max",
    "currency",
    "wheelchair_accessible",
    "gender",
]
OPTIONAL_COLUMNS = ("fee_min", "fee_max", "currency", "wheelchair_accessible", "gender")
REQUIRED_COLUMNS = [name for name in COLUMNS if name not in OPTIONAL_COLUMNS]
# Columns that only make sense together: a file has both or neither (the range is checked as one).
PAIRED_COLUMNS = (("fee_min", "fee_max"),)
# Longest cell accepted for the columns that no practitioner field rule checks (the rules in
# directory.practitioners.rules give the limits of name, email, practice_name, phone, website
# and languages, with the same message as the profile editor).
MAX_LENGTHS = {
    "address": 300,
    "city": 120,
    "region": 120,
    "postal_code": 20,
    "country": 60,
    "latitude": 40,
    "longitude": 40,
    "conditions": 1000,
    "credentials": 2000,
    "accepting_new_patients": 10,
    "session_minutes": 10,
    "fee_min": 10,
    "fee_max": 10,
    "currency": 10,
    "wheelchair_accessible": 10,
    "gender": 20,
}
MAX_FILE_CHARS = 50 * 1024 * 1024
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CREDENTIAL_RE = re.compile(r"^([a-z0-9][a-z0-9-]*):([^@:]+?)(?:@(.+))?$", re.IGNORECASE)
# Fields that belong to the practitioner, not to one of their locations.
PRACTITIONER_FIELDS = (
    "name",
    "practice_name",
    "accepting_new_patients",
    "session_minutes",
    "languages",
    "phone",
    "website",
    "fee_min",
    "fee_max",
    "currency",
    "wheelchair_accessible",
    "gender",
)


class CsvImportError(ValueError):
    """A file that cannot be imported: `line` is the CSV line, `reason` says why."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


NOT_UTF8 = "the file is not UTF-8 text (save it as 'CSV UTF-8')"


def decode_csv(data: bytes) -> str:
    """Bytes of an uploaded or read file as text; CsvImportError unless it is UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CsvImportError(line, NOT_UTF8) from None


def decoded_lines(stream) -> Iterator[str]:
    """The lines of a binary file as text, for a file too big to decode at once; CsvImportError unless UTF-8."""
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise CsvImportError(number, NOT_UTF8) from None
        yield line


# Cells a spreadsheet would run as a formula ("CSV injection"): the export writes them with a
# leading apostrophe, which spreadsheets show as text, and the import takes it off again.
# Numbers and phone numbers ("+1 303-555-0100", "-105.27") are left as they are.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER_LIKE = re.compile(r"[+-]?[\d\s().\-/]*")


def _formula_like(value: str) -> bool:
    """True for a cell a spreadsheet would run, once any apostrophes in front are set aside."""
    bare = value.lstrip("'")
    return bare.startswith(FORMULA_START) and not NUMBER_LIKE.fullmatch(bare)


def spreadsheet_safe(value: str) -> str:
    """A cell as the export writes it: an apostrophe in front of anything formula-like."""
    return "'" + value if _formula_like(value) else value


def from_spreadsheet_safe(value: str) -> str:
    """A cell as the import reads it: the export's apostrophe taken off again."""
    return value[1:] if value.startswith("'") and _formula_like(value) else value


def point(latitude: float, longitude: float) -> tuple[float, float]:
    """Coordinates rounded to about a metre: two rows at the same point are one place."""
    return round(latitude, 5), round(longitude, 5)


def address_key(address: str, city: str, region: str, postal_code: str, country: str) -> tuple:
    """An address compared without case and extra spaces."""
    return tuple(" ".join(v.casefold().split()) for v in (address, city, region, postal_code, country))
