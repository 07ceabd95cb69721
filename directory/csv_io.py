"""CSV import and export of practitioners: the format of `import-practitioners` and
`export-practitioners`, and the functions the admin area's register upload reuses.

One row per practice location; rows sharing an email are one practitioner. A file is
validated (and its blank coordinates geocoded) completely before anything is written,
and written in one transaction: a bad row writes nothing.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from directory.extensions import db
from directory.geocoding import Place, geocode, get_gazetteer
from directory.models import (
    Certification,
    CertifyingBody,
    Condition,
    PracticeLocation,
    Practitioner,
    VerificationStatus,
)

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
]
# Longest value accepted per column: the database column sizes.
MAX_LENGTHS = {
    "name": 120,
    "email": 254,
    "practice_name": 160,
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
    "languages": 300,
    "phone": 40,
    "website": 300,
}
MAX_FILE_CHARS = 50 * 1024 * 1024
TRUE_WORDS = {"yes", "y", "true", "t", "1"}
FALSE_WORDS = {"no", "n", "false", "f", "0"}
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
)


class CsvImportError(ValueError):
    """A file that cannot be imported: `line` is the CSV line, `reason` says why."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


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
    # The practitioner fields left blank on this line (later lines of an email may leave them out).
    blank: frozenset[str] = frozenset()

    @property
    def location_key(self) -> tuple:
        """What identifies this location among the practitioner's others: address and point."""
        return _address_key(self.address, self.city, self.region, self.postal_code, self.country), _point(
            self.latitude, self.longitude
        )


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do)."""

    rows: int = 0
    practitioners_created: int = 0
    practitioners_updated: int = 0
    practitioners_unchanged: int = 0
    locations_created: int = 0
    locations_updated: int = 0
    locations_removed: int = 0
    certifications_created: int = 0
    certifications_updated: int = 0
    certifications_verified: int = 0
    dry_run: bool = False
    changes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph for the command line or a flash message."""
        verb = "Would import" if self.dry_run else "Imported"
        return (
            f"{verb} {self.rows} rows: practitioners {self.practitioners_created} created, "
            f"{self.practitioners_updated} updated, {self.practitioners_unchanged} unchanged; "
            f"locations {self.locations_created} created, {self.locations_updated} updated, "
            f"{self.locations_removed} removed; certifications {self.certifications_created} created, "
            f"{self.certifications_updated} updated, {self.certifications_verified} marked verified."
        )


def _point(latitude: float, longitude: float) -> tuple[float, float]:
    return round(latitude, 5), round(longitude, 5)


def _location_key(loc: PracticeLocation) -> tuple:
    return _address_key(loc.address, loc.city, loc.region, loc.postal_code, loc.country), _point(
        loc.latitude, loc.longitude
    )


def _address_key(address: str, city: str, region: str, postal_code: str, country: str) -> tuple:
    return tuple(" ".join(v.casefold().split()) for v in (address, city, region, postal_code, country))


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


def decode_csv(data: bytes) -> str:
    """Bytes of an uploaded or read file as text; CsvImportError unless it is UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CsvImportError(line, "the file is not UTF-8 text (save it as 'CSV UTF-8')") from None


# --- Parsing ---------------------------------------------------------------------------------


class _Reference:
    """The conditions and certifying bodies rows are checked against, loaded once per parse."""

    def __init__(self) -> None:
        self.conditions = {c.slug: c for c in db.session.execute(select(Condition)).scalars()}
        self.bodies = {
            b.slug: b
            for b in db.session.execute(select(CertifyingBody).options(selectinload(CertifyingBody.credentials)))
            .scalars()
            .all()
        }
        self.gazetteer = get_gazetteer()
        self.geocoded: dict[str, Place | None] = {}

    def geocode(self, query: str) -> Place | None:
        """Geocode once per distinct query in a file."""
        if query not in self.geocoded:
            self.geocoded[query] = geocode(query)
        return self.geocoded[query]


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _coordinate(raw: str, name: str, limit: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} {raw!r} is not a number") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueError(f"{name} {raw!r} must be between {-limit:g} and {limit:g}")
    return value


def _boolean(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value == "" or value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueError(f"{name} {raw!r} must be yes or no")


def _credentials(raw: str, ref: _Reference) -> list[tuple[str, str, date | None]]:
    found: dict[tuple[str, str], date | None] = {}
    for item in _split(raw):
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
        expires_on = None
        if expiry is not None:
            try:
                expires_on = date.fromisoformat(expiry.strip())
            except ValueError:
                raise ValueError(f"expiry date {expiry!r} of {slug}:{code} is not a date (use YYYY-MM-DD)") from None
        found[(slug, code)] = expires_on
    return [(slug, code, expires_on) for (slug, code), expires_on in found.items()]


def _website(raw: str) -> str:
    if not raw:
        return ""
    if "://" not in raw:
        raw = "https://" + raw
    if not re.match(r"^https?://[^\s/]+\.[^\s]+$", raw, re.IGNORECASE):
        raise ValueError(f"website {raw!r} must be an http(s) address")
    return raw


def _country(raw: str, ref: _Reference) -> str:
    if not raw:
        return ""
    code = ref.gazetteer.country_code(raw)
    if code is None:
        raise ValueError(f"unknown country {raw!r} (use a two-letter ISO code such as US, GB, CA)")
    return code


def _locate(row: ParsedRow, lat_raw: str, lon_raw: str, ref: _Reference) -> None:
    """Set the row's coordinates: given ones checked, blank ones geocoded from the address."""
    if lat_raw or lon_raw:
        if not (lat_raw and lon_raw):
            raise ValueError("give both latitude and longitude, or neither (to geocode the address)")
        row.latitude = _coordinate(lat_raw, "latitude", 90)
        row.longitude = _coordinate(lon_raw, "longitude", 180)
        return
    if not (row.address or row.city or row.postal_code):
        raise ValueError("give an address (city or postal code at least) or latitude and longitude")
    place = None
    # Most precise first; each query is asked once per file.
    queries = []
    if row.postal_code and row.country in ("", "US"):
        queries.append(f"{row.postal_code}, US")
    if row.city:
        queries.append(", ".join(p for p in (row.city, row.region if row.country == "US" else "", row.country) if p))
    queries.append(", ".join(p for p in (row.address, row.city, row.region, row.postal_code, row.country) if p))
    for query in dict.fromkeys(queries):
        place = ref.geocode(query)
        if place is not None and (not row.country or not place.country or place.country == row.country):
            break
        place = None
    if place is None:
        raise ValueError("the address could not be geocoded: check it, or give latitude and longitude")
    row.latitude, row.longitude, row.geocoded = place.latitude, place.longitude, True
    row.country = row.country or place.country
    row.city = row.city or place.city
    row.region = row.region or place.region
    row.postal_code = row.postal_code or place.postal_code


def _parse_row(line: int, values: dict[str, str], ref: _Reference) -> ParsedRow:
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            raise ValueError(f"{name} is too long ({len(values[name])} characters, at most {limit})")
    for name, value in values.items():
        if CONTROL_RE.search(value):
            raise ValueError(f"{name} contains a control character")
    if not values["email"]:
        raise ValueError("email is empty")
    try:
        email = validate_email(values["email"], check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError(f"email {values['email']!r} is not valid: {error}") from None
    unknown = [s for s in _split(values["conditions"]) if s.lower() not in ref.conditions]
    if unknown:
        raise ValueError(f"unknown condition {unknown[0]!r} (known: {', '.join(ref.conditions)})")
    minutes_raw = values["session_minutes"]
    minutes = None
    if minutes_raw:
        if not minutes_raw.isdigit() or not 5 <= int(minutes_raw) <= 600:
            raise ValueError(f"session_minutes {minutes_raw!r} must be a whole number of minutes (5 to 600)")
        minutes = int(minutes_raw)
    row = ParsedRow(
        line=line,
        email=email,
        name=values["name"],
        practice_name=values["practice_name"],
        address=values["address"],
        city=values["city"],
        region=values["region"],
        postal_code=values["postal_code"],
        country=_country(values["country"], ref),
        conditions=list(dict.fromkeys(s.lower() for s in _split(values["conditions"]))),
        credentials=_credentials(values["credentials"], ref),
        accepting_new_patients=_boolean(values["accepting_new_patients"], "accepting_new_patients"),
        session_minutes=minutes,
        languages=list(dict.fromkeys(p.strip() for p in re.split(r"[;,]", values["languages"]) if p.strip())),
        phone=values["phone"],
        website=_website(values["website"]),
        blank=frozenset(name for name in PRACTITIONER_FIELDS if not values[name]),
    )
    _locate(row, values["latitude"], values["longitude"], ref)
    return row


def _check_same_practitioner(row: ParsedRow, first: ParsedRow) -> None:
    """Rows of one email must not disagree on the practitioner's own fields."""
    for name in PRACTITIONER_FIELDS:
        if name not in row.blank and getattr(row, name) != getattr(first, name):
            raise CsvImportError(row.line, f"{name} differs from line {first.line} for the same email {row.email}")


def parse_csv(text: str) -> list[ParsedRow]:
    """Validate a whole CSV text (geocoding blank coordinates); CsvImportError on the first bad row."""
    if len(text) > MAX_FILE_CHARS:
        raise CsvImportError(1, f"the file is too large (at most {MAX_FILE_CHARS // (1024 * 1024)} MB)")
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise CsvImportError(1, "the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    ref = _Reference()
    rows: list[ParsedRow] = []
    first_of: dict[str, ParsedRow] = {}
    header: list[str] | None = None
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise CsvImportError(start, f"not valid CSV ({error})") from None
        line = start
        if not any(value.strip() for value in record):
            continue
        if header is None:
            header = [name.strip().lower() for name in record]
            missing = [name for name in COLUMNS if name not in header]
            if missing:
                raise CsvImportError(line, f"missing columns: {', '.join(missing)}")
            duplicated = sorted({name for name in header if header.count(name) > 1 and name})
            if duplicated:
                raise CsvImportError(line, f"repeated columns: {', '.join(duplicated)}")
            continue
        if len(record) != len(header):
            raise CsvImportError(line, f"expected {len(header)} fields, found {len(record)}")
        values = {name: from_spreadsheet_safe(value.strip()) for name, value in zip(header, record, strict=True)}
        try:
            row = _parse_row(line, values, ref)
        except ValueError as error:
            raise CsvImportError(line, str(error)) from None
        if row.email in first_of:
            _check_same_practitioner(row, first_of[row.email])
        elif not row.name:
            raise CsvImportError(line, "name is empty")
        else:
            first_of[row.email] = row
        rows.append(row)
    if header is None:
        raise CsvImportError(1, "the file is empty")
    if not rows:
        raise CsvImportError(line, "the file has a header but no practitioners")
    return rows


# --- Importing -------------------------------------------------------------------------------


def _group(rows: Iterable[ParsedRow]) -> dict[str, list[ParsedRow]]:
    groups: dict[str, list[ParsedRow]] = {}
    for row in rows:
        groups.setdefault(row.email, []).append(row)
    return groups


def _existing(emails: list[str]) -> dict[str, Practitioner]:
    """The practitioners already on file for these emails, with what the import compares."""
    found: dict[str, Practitioner] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        for p in db.session.execute(
            select(Practitioner)
            .where(func.lower(Practitioner.email).in_(chunk))
            .options(
                selectinload(Practitioner.locations),
                selectinload(Practitioner.conditions),
                selectinload(Practitioner.certifications),
            )
        ).scalars():
            found[p.email.lower()] = p
    return found


def _apply_practitioner(p: Practitioner, first: ParsedRow, rows: list[ParsedRow], ref: _Reference) -> list[str]:
    """Copy the file's practitioner fields; the names of the fields that changed."""
    changed = []
    conditions: list[str] = list(dict.fromkeys(slug for row in rows for slug in row.conditions))
    languages = ", ".join(dict.fromkeys(lang for row in rows for lang in row.languages))
    wanted = {
        "display_name": first.name,
        "practice_name": first.practice_name,
        "accepting_new_patients": first.accepting_new_patients,
        "session_minutes": first.session_minutes,
        "languages": languages,
        "phone": first.phone,
        "website": first.website,
        "published": True,
    }
    for attr, value in wanted.items():
        if getattr(p, attr) != value:
            setattr(p, attr, value)
            changed.append(attr)
    new_conditions = sorted((ref.conditions[s] for s in conditions), key=lambda c: c.sort_order)
    if {c.slug for c in p.conditions} != set(conditions):
        p.conditions = new_conditions
        changed.append("conditions")
    return changed


def _apply_locations(p: Practitioner, rows: list[ParsedRow], report: ImportReport) -> tuple[int, int, int]:
    """Make the practitioner's locations those of the file, matched by address, then by point."""
    wanted: dict[tuple, ParsedRow] = {}
    for row in rows:
        wanted.setdefault(row.location_key, row)
    unmatched = list(p.locations)
    pairs: list[tuple[ParsedRow, PracticeLocation | None]] = []
    # Same address and point first, then the same address (moved), then the same point (renamed).
    for part in (slice(0, 2), slice(0, 1), slice(1, 2)):
        for key, row in list(wanted.items()):
            match = next((loc for loc in unmatched if _location_key(loc)[part] == key[part]), None)
            if match is not None:
                unmatched.remove(match)
                pairs.append((row, match))
                del wanted[key]
    pairs.extend((row, None) for row in wanted.values())
    pairs.sort(key=lambda pair: pair[0].line)
    created = updated = 0
    for row, location in pairs:
        values = {
            "address": row.address,
            "city": row.city,
            "region": row.region,
            "postal_code": row.postal_code,
            "country": row.country,
            "latitude": row.latitude,
            "longitude": row.longitude,
        }
        if location is None:
            p.locations.append(PracticeLocation(**values))
            created += 1
        elif any(getattr(location, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(location, k, v)
            updated += 1
    for location in unmatched:
        p.locations.remove(location)
    report.locations_created += created
    report.locations_updated += updated
    report.locations_removed += len(unmatched)
    return created, updated, len(unmatched)


def _apply_credentials(
    p: Practitioner, rows: list[ParsedRow], ref: _Reference, mark_verified: str | None, report: ImportReport
) -> tuple[int, int, int]:
    """Add or update the file's credentials; credentials not in the file are left alone."""
    wanted: dict[tuple[str, str], date | None] = {}
    for row in rows:
        for slug, code, expires_on in row.credentials:
            wanted[(slug, code)] = expires_on
    body_slug = {b.id: slug for slug, b in ref.bodies.items()}
    by_key = {(body_slug.get(c.body_id, ""), c.credential): c for c in p.certifications}
    created = updated = verified = 0
    for (slug, code), expires_on in wanted.items():
        cert = by_key.get((slug, code))
        if cert is None:
            cert = Certification(body=ref.bodies[slug], credential=code, expires_on=expires_on)
            cert.status = VerificationStatus.PENDING
            p.certifications.append(cert)
            created += 1
        elif cert.expires_on != expires_on:
            cert.expires_on = expires_on
            if not mark_verified and cert.status == VerificationStatus.VERIFIED:
                # A changed credential goes back to the verification queue.
                cert.mark_pending()
            updated += 1
        if mark_verified and not (
            cert.status == VerificationStatus.VERIFIED and cert.verification_source == mark_verified
        ):
            cert.mark_verified(mark_verified)
            verified += 1
    report.certifications_created += created
    report.certifications_updated += updated
    report.certifications_verified += verified
    return created, updated, verified


def import_rows(rows: list[ParsedRow], mark_verified: str | None = None, dry_run: bool = False) -> ImportReport:
    """Write parsed rows in one transaction (rolled back with dry_run or on any error)."""
    report = ImportReport(rows=len(rows), dry_run=dry_run)
    ref = _Reference()
    groups = _group(rows)
    existing = _existing(list(groups))
    try:
        with db.session.no_autoflush:
            for email, group in groups.items():
                first = group[0]
                p = existing.get(email)
                is_new = p is None
                if is_new:
                    p = Practitioner(email=email, display_name=first.name)
                    db.session.add(p)
                changed = _apply_practitioner(p, first, group, ref)
                loc_new, loc_changed, loc_removed = _apply_locations(p, group, report)
                cert_new, cert_changed, cert_verified = _apply_credentials(p, group, ref, mark_verified, report)
                if is_new:
                    report.practitioners_created += 1
                    report.changes.append(
                        f"line {first.line}: new practitioner {first.name} <{email}>: "
                        f"{loc_new} location(s), {cert_new} credential(s)"
                        + (f", {cert_verified} marked verified" if cert_verified else "")
                    )
                    continue
                parts = []
                if changed:
                    parts.append("changed " + ", ".join(changed))
                if loc_new or loc_changed or loc_removed:
                    parts.append(f"locations {loc_new} added, {loc_changed} updated, {loc_removed} removed")
                if cert_new or cert_changed:
                    parts.append(f"credentials {cert_new} added, {cert_changed} updated")
                if cert_verified:
                    parts.append(f"{cert_verified} credential(s) marked verified")
                if parts:
                    report.practitioners_updated += 1
                    report.changes.append(f"line {first.line}: {first.name} <{email}>: " + "; ".join(parts))
                else:
                    report.practitioners_unchanged += 1
        db.session.flush()
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def import_practitioners(text: str, mark_verified: str | None = None, dry_run: bool = False) -> ImportReport:
    """Validate and import a CSV text; CsvImportError (nothing written) on the first bad row."""
    if mark_verified is not None:
        mark_verified = mark_verified.strip()
        if not mark_verified or len(mark_verified) > 200:
            raise CsvImportError(1, "the verification source must be 1 to 200 characters")
    return import_rows(parse_csv(text), mark_verified=mark_verified, dry_run=dry_run)


# --- Exporting -------------------------------------------------------------------------------


def export_rows() -> Iterable[list[str]]:
    """Every practitioner with a practice location, one row per location, in COLUMNS order."""
    stmt = (
        select(Practitioner)
        .order_by(Practitioner.id)
        .options(
            selectinload(Practitioner.locations),
            selectinload(Practitioner.conditions),
            selectinload(Practitioner.certifications).selectinload(Certification.body),
        )
        .execution_options(yield_per=500)
    )
    for p in db.session.execute(stmt).scalars():
        conditions = ";".join(c.slug for c in p.conditions)
        credentials = ";".join(
            dict.fromkeys(
                f"{c.body.slug}:{c.credential}" + (f"@{c.expires_on.isoformat()}" if c.expires_on else "")
                for c in p.certifications
                if c.status != VerificationStatus.REJECTED
            )
        )
        for loc in p.locations:
            yield [
                p.display_name,
                p.email,
                p.practice_name,
                loc.address,
                loc.city,
                loc.region,
                loc.postal_code,
                loc.country,
                repr(loc.latitude),
                repr(loc.longitude),
                conditions,
                credentials,
                "yes" if p.accepting_new_patients else "no",
                "" if p.session_minutes is None else str(p.session_minutes),
                ";".join(p.language_list),
                p.phone,
                p.website,
            ]


def export_practitioners(out) -> int:
    """Write the CSV (header and rows) to a text stream; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in export_rows():
        writer.writerow([spreadsheet_safe(value) for value in row])
        count += 1
    return count
