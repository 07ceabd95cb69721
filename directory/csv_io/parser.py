"""Reading a CSV file into validated rows: every cell checked, blank coordinates geocoded.

A file is validated completely before anything is written; the first bad row stops it with
its line number and the reason. Practitioner fields go through the same rules as the profile
editor (`directory.practitioners.rules`), so a value is refused here with the editor's message.
The optional columns a file leaves out are listed in each row's `absent`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.csv_io.format import (
    CONTROL_RE,
    CREDENTIAL_RE,
    MAX_FILE_CHARS,
    MAX_LENGTHS,
    NOT_UTF8,
    OPTIONAL_COLUMNS,
    PAIRED_COLUMNS,
    PRACTITIONER_FIELDS,
    REQUIRED_COLUMNS,
    CsvImportError,
    address_key,
    from_spreadsheet_safe,
    point,
)
from directory.csv_io.geocode import locate
from directory.extensions import db
from directory.geocoding import Place, geocode, get_gazetteer
from directory.models import CertifyingBody, Condition
from directory.practitioners import rules

# A blank currency cell means the profile editor's (and the model's) default.
DEFAULT_CURRENCY = "USD"


@dataclass
class ParsedRow:
    """One validated CSV row: a practitioner's data and one practice location."""

    line: int
    email: str
    name: str
    practice_name: str = ""
    address: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    latitude: float = 0.0
    longitude: float = 0.0
    geocoded: bool = False
    conditions: list[str] = field(default_factory=list)
    # (body slug, credential code, expiry date or None)
    credentials: list[tuple[str, str, date | None]] = field(default_factory=list)
    accepting_new_patients: bool = True
    session_minutes: int | None = None
    languages: list[str] = field(default_factory=list)
    phone: str = ""
    website: str = ""
    fee_min: int | None = None
    fee_max: int | None = None
    currency: str = DEFAULT_CURRENCY
    wheelchair_accessible: bool = False
    gender: str | None = None
    # The practitioner fields left blank on this line (later lines of an email may leave them out).
    blank: frozenset[str] = frozenset()
    # The optional columns the file does not have: the import leaves those fields as they are.
    absent: frozenset[str] = frozenset()

    @property
    def location_key(self) -> tuple:
        """What identifies this location among the practitioner's others: address and point."""
        address = address_key(self.address, self.city, self.region, self.postal_code, self.country)
        return address, point(self.latitude, self.longitude)


class Reference:
    """The conditions and certifying bodies rows are checked against, loaded once per parse."""

    def __init__(self) -> None:
        self.conditions = {c.slug: c for c in db.session.execute(select(Condition)).scalars()}
        query = select(CertifyingBody).options(selectinload(CertifyingBody.credentials))
        self.bodies = {b.slug: b for b in db.session.execute(query).scalars().all()}
        self.gazetteer = get_gazetteer()
        self.geocoded: dict[str, Place | None] = {}

    def geocode(self, query: str) -> Place | None:
        """Geocode once per distinct query in a file."""
        if query not in self.geocoded:
            self.geocoded[query] = geocode(query)
        return self.geocoded[query]


def split_list(value: str) -> list[str]:
    """A cell's items separated by `;`, trimmed, without blanks."""
    return [part.strip() for part in value.split(";") if part.strip()]


def apply_rule(column: str, raw: str, rule: Callable, *args):
    """A practitioner field rule applied to a cell; its message, prefixed with the column, on refusal."""
    try:
        return rule(raw, *args)
    except rules.FieldError as error:
        shown = f" {raw!r}" if raw and len(raw) <= 80 else ""
        raise ValueError(f"{column}{shown}: {error}") from None


def _credential(item: str, ref: Reference) -> tuple[str, str, date | None]:
    """One `body:CODE@YYYY-MM-DD` item, checked against the registry."""
    match = CREDENTIAL_RE.match(item)
    if not match:
        raise ValueError(f"credential {item!r} must look like body-slug:CREDENTIAL or body:CREDENTIAL@YYYY-MM-DD")
    slug, code, expiry = match.group(1).lower(), match.group(2).strip(), match.group(3)
    body = ref.bodies.get(slug)
    if body is None:
        raise ValueError(f"unknown certifying body {slug!r} (known: {', '.join(sorted(ref.bodies))})")
    codes = {c.upper(): c for c in body.credential_codes}
    if codes:
        if code.upper() not in codes:
            raise ValueError(f"{slug} does not award {code!r} (it awards {', '.join(body.credential_codes)})")
        code = codes[code.upper()]
    if expiry is None:
        return slug, code, None
    try:
        return slug, code, date.fromisoformat(expiry.strip())
    except ValueError:
        raise ValueError(f"expiry date {expiry!r} of {slug}:{code} is not a date (use YYYY-MM-DD)") from None


def _credentials(raw: str, ref: Reference) -> list[tuple[str, str, date | None]]:
    """The credentials cell; a credential listed twice keeps its last expiry."""
    found: dict[tuple[str, str], date | None] = {}
    for item in split_list(raw):
        slug, code, expires_on = _credential(item, ref)
        found[(slug, code)] = expires_on
    return [(slug, code, expires_on) for (slug, code), expires_on in found.items()]


def _country(raw: str, ref: Reference) -> str:
    if not raw:
        return ""
    code = ref.gazetteer.country_code(raw)
    if code is None:
        raise ValueError(f"unknown country {raw!r} (use a two-letter ISO code such as US, GB, CA)")
    return code


def _coordinate(raw: str, name: str, limit: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} {raw!r} is not a number") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueError(f"{name} {raw!r} must be between {-limit:g} and {limit:g}")
    return value


def _check_cells(values: dict[str, str]) -> None:
    """Column sizes of the location and list columns, and no control characters anywhere."""
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            raise ValueError(f"{name} is too long ({len(values[name])} characters, at most {limit})")
    for name, value in values.items():
        if CONTROL_RE.search(value):
            raise ValueError(f"{name} contains a control character")


def _fees(values: dict[str, str]) -> dict:
    """fee_min, fee_max and currency, each through its rule, and the two fees as a range."""
    fee_min = apply_rule("fee_min", values["fee_min"], rules.fee)
    fee_max = apply_rule("fee_max", values["fee_max"], rules.fee)
    try:
        rules.fee_range(fee_min, fee_max)
    except rules.FieldError as error:
        raise ValueError(f"fee_max {values['fee_max']!r}: {error}") from None
    raw_currency = values["currency"]
    currency = apply_rule("currency", raw_currency, rules.currency) if raw_currency else DEFAULT_CURRENCY
    return {"fee_min": fee_min, "fee_max": fee_max, "currency": currency}


def _practitioner_fields(values: dict[str, str]) -> dict:
    """The practitioner's own cells, each through its rule in directory.practitioners.rules."""
    apply_rule("languages", values["languages"], rules.languages)
    return {
        **_fees(values),
        "wheelchair_accessible": apply_rule(
            "wheelchair_accessible", values["wheelchair_accessible"], rules.yes_no, False
        ),
        "gender": apply_rule("gender", values["gender"], rules.gender),
        "email": apply_rule("email", values["email"], rules.email),
        "name": apply_rule("name", values["name"], rules.display_name) if values["name"] else "",
        "practice_name": apply_rule("practice_name", values["practice_name"], rules.practice_name),
        "accepting_new_patients": apply_rule(
            "accepting_new_patients", values["accepting_new_patients"], rules.yes_no, True
        ),
        "session_minutes": apply_rule("session_minutes", values["session_minutes"], rules.session_minutes),
        "languages": rules.language_list(values["languages"]),
        "phone": apply_rule("phone", values["phone"], rules.phone),
        "website": apply_rule("website", values["website"], rules.website),
        "blank": frozenset(name for name in PRACTITIONER_FIELDS if not values[name]),
    }


def _parse_row(line: int, values: dict[str, str], ref: Reference, absent: frozenset[str]) -> ParsedRow:
    _check_cells(values)
    unknown = [s for s in split_list(values["conditions"]) if s.lower() not in ref.conditions]
    if unknown:
        raise ValueError(f"unknown condition {unknown[0]!r} (known: {', '.join(ref.conditions)})")
    row = ParsedRow(
        line=line,
        **_practitioner_fields(values),
        address=values["address"],
        city=values["city"],
        region=values["region"],
        postal_code=values["postal_code"],
        country=_country(values["country"], ref),
        conditions=list(dict.fromkeys(s.lower() for s in split_list(values["conditions"]))),
        credentials=_credentials(values["credentials"], ref),
        absent=absent,
    )
    lat_raw, lon_raw = values["latitude"], values["longitude"]
    if lat_raw or lon_raw:
        if not (lat_raw and lon_raw):
            raise ValueError("give both latitude and longitude, or neither (to geocode the address)")
        row.latitude = _coordinate(lat_raw, "latitude", 90)
        row.longitude = _coordinate(lon_raw, "longitude", 180)
    else:
        locate(row, ref.geocode)
    return row


def practitioner_values(row: ParsedRow) -> tuple:
    """The row's practitioner fields (PRACTITIONER_FIELDS order): what later rows of its email must agree with."""
    return tuple(getattr(row, name) for name in PRACTITIONER_FIELDS)


def check_same_practitioner(row: ParsedRow, first: tuple[int, tuple] | None) -> None:
    """Rows of one email must not disagree on the practitioner's own fields, and the first names them.

    `first` is (line, practitioner_values) of the email's first row, None when this row is its first.
    """
    if first is None:
        if not row.name:
            raise CsvImportError(row.line, f"name: {_refusal(rules.display_name, '')}")
        return
    line, values = first
    for name, value in zip(PRACTITIONER_FIELDS, values, strict=True):
        if name not in row.blank and getattr(row, name) != value:
            raise CsvImportError(row.line, f"{name} differs from line {line} for the same email {row.email}")


def _check_header(line: int, record: list[str]) -> list[str]:
    """The header's column names; CsvImportError when one is missing or repeated."""
    header = [name.strip().lower() for name in record]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise CsvImportError(line, f"missing columns: {', '.join(missing)}")
    for pair in PAIRED_COLUMNS:
        if sum(name in header for name in pair) == 1:
            given, other = pair if pair[0] in header else pair[::-1]
            raise CsvImportError(line, f"missing column: {other} (a file with {given} needs {other} too)")
    duplicated = sorted({name for name in header if header.count(name) > 1 and name})
    if duplicated:
        raise CsvImportError(line, f"repeated columns: {', '.join(duplicated)}")
    return header


def _records(lines: Iterable[str]):
    """(line, record) for each non-blank CSV record; CsvImportError on broken quoting or bytes not UTF-8."""
    reader = csv.reader(lines, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise CsvImportError(start, f"not valid CSV ({error})") from None
        except UnicodeDecodeError:
            raise CsvImportError(start, NOT_UTF8) from None
        if any(value.strip() for value in record):
            yield start, record


def _read_row(line: int, header: list[str], record: list[str], ref: Reference) -> ParsedRow:
    if len(record) != len(header):
        raise CsvImportError(line, f"expected {len(header)} fields, found {len(record)}")
    values = {name: from_spreadsheet_safe(value.strip()) for name, value in zip(header, record, strict=True)}
    absent = frozenset(name for name in OPTIONAL_COLUMNS if name not in values)
    values.update(dict.fromkeys(absent, ""))
    try:
        return _parse_row(line, values, ref, absent)
    except ValueError as error:
        raise CsvImportError(line, str(error)) from None


def read_rows(lines: Iterable[str], ref: Reference | None = None) -> Iterator[ParsedRow]:
    """Validated rows, one at a time, from CSV lines (a text stream opened with newline="").

    Checks the header and every cell (geocoding blank coordinates), not yet that the rows of
    one email agree (`check_same_practitioner`); CsvImportError on the first bad row.
    """
    ref = ref or Reference()
    header: list[str] | None = None
    line = 1
    count = 0
    for line, record in _records(lines):
        if header is None:
            header = _check_header(line, record)
            continue
        yield _read_row(line, header, record, ref)
        count += 1
    if header is None:
        raise CsvImportError(1, "the file is empty")
    if not count:
        raise CsvImportError(line, "the file has a header but no practitioners")


def parse_csv(text: str) -> list[ParsedRow]:
    """Validate a whole CSV text (geocoding blank coordinates); CsvImportError on the first bad row."""
    if len(text) > MAX_FILE_CHARS:
        raise CsvImportError(1, f"the file is too large (at most {MAX_FILE_CHARS // (1024 * 1024)} MB)")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise CsvImportError(1, "the file is empty")
    rows: list[ParsedRow] = []
    first_of: dict[str, tuple[int, tuple]] = {}
    for row in read_rows(io.StringIO(text, newline="")):
        check_same_practitioner(row, first_of.get(row.email))
        first_of.setdefault(row.email, (row.line, practitioner_values(row)))
        rows.append(row)
    return rows


def _refusal(rule: Callable, value) -> str:
    """The message a rule gives for a value it refuses."""
    try:
        rule(value)
    except rules.FieldError as error:
        return str(error)
    raise AssertionError(f"{rule.__name__} accepts {value!r}")
