"""Practitioners, where they practise, what they focus on and trained in."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.sql.functions import FunctionElement

from directory.extensions import db
from directory.models.base import utcnow

if TYPE_CHECKING:
    from directory.models.accounts import User
    from directory.models.credentials import Certification

practitioner_conditions = Table(
    "practitioner_conditions",
    db.metadata,
    Column("practitioner_id", ForeignKey("practitioners.id", ondelete="CASCADE"), primary_key=True),
    Column("condition_id", ForeignKey("conditions.id", ondelete="CASCADE"), primary_key=True),
)


class Condition(db.Model):
    """A condition a practitioner may state as a focus; `bit` feeds the search index."""

    __tablename__ = "conditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Position of this condition in PracticeLocation.condition_bits (0..62).
    bit: Mapped[int] = mapped_column(Integer, unique=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def mask(self) -> int:
        """The bit mask of this condition in the search index."""
        return 1 << self.bit

    def __repr__(self) -> str:
        return f"<Condition {self.slug}>"


# The practitioner's texts a CSV import also writes (see Practitioner.texts_edited).
IMPORTED_TEXTS = ("display_name", "practice_name")


class Practitioner(db.Model):
    """A craniosacral therapy practitioner's public profile."""

    __tablename__ = "practitioners"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    # The profile's contact email: the key for imports and for claiming a profile.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    practice_name: Mapped[str] = mapped_column(String(160), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    show_email: Mapped[bool] = mapped_column(Boolean, default=False)
    accepting_new_patients: Mapped[bool] = mapped_column(Boolean, default=True)
    session_minutes: Mapped[int | None] = mapped_column(Integer)
    fee_min: Mapped[int | None] = mapped_column(Integer)
    fee_max: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # Comma-separated language names, e.g. "English, Spanish".
    languages: Mapped[str] = mapped_column(String(300), default="")
    wheelchair_accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    # Stated by the practitioner or not: "female", "male", "nonbinary", or None (see rules.gender).
    gender: Mapped[str | None] = mapped_column(String(12))
    # The stored file name of the profile photo under UPLOAD_FOLDER/photos/ (see practitioners.photos).
    photo_path: Mapped[str | None] = mapped_column(String(64))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    # The practitioner said their details are current (dashboard or API); reminded once a year.
    details_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmation_reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who took the profile off the directory ("owner" or "admin") and when; cleared on publishing.
    # The CSV import does not publish such a profile again.
    unpublished_by: Mapped[str | None] = mapped_column(String(10))
    unpublished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last CSV import that created or changed the profile.
    imported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The profile texts the import writes that the practitioner edited since (key -> ISO time):
    # the import keeps them until the file says the same (see note_text_edits).
    texts_edited: Mapped[dict | None] = mapped_column(JSON)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    suspension_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    user: Mapped[User | None] = relationship(back_populates="practitioner")
    locations: Mapped[list[PracticeLocation]] = relationship(
        back_populates="practitioner", cascade="all, delete-orphan", order_by="PracticeLocation.id"
    )
    conditions: Mapped[list[Condition]] = relationship(
        secondary=practitioner_conditions, order_by="Condition.sort_order"
    )
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="practitioner", cascade="all, delete-orphan", order_by="Certification.id"
    )
    trainings: Mapped[list[Training]] = relationship(
        back_populates="practitioner", cascade="all, delete-orphan", order_by="Training.completed_on"
    )
    licenses: Mapped[list[ProfessionalLicense]] = relationship(
        back_populates="practitioner", cascade="all, delete-orphan", order_by="ProfessionalLicense.id"
    )
    enquiries: Mapped[list[Enquiry]] = relationship(
        back_populates="practitioner", cascade="all, delete-orphan", order_by="Enquiry.created_at.desc()"
    )

    def note_text_edits(self, keys) -> None:
        """Record that the practitioner edited these texts now (only those the CSV import writes)."""
        edited = [key for key in keys if key in IMPORTED_TEXTS]
        if edited:
            self.texts_edited = {**(self.texts_edited or {}), **dict.fromkeys(edited, utcnow().isoformat())}

    @property
    def is_listed(self) -> bool:
        """True when the profile is visible to the public."""
        return self.published and not self.suspended

    def verified_on(self, excluding: frozenset | set = frozenset()) -> date | None:
        """The day of this practitioner's latest verification, or None. See last_verified_on."""
        return last_verified_on(
            (c.status, c.expires_on, c.verified_at) for c in self.certifications if c not in excluding
        )

    def verified_until(self, excluding: frozenset | set = frozenset()) -> date | None:
        """The last day one of this practitioner's credentials counts as verified, or None.

        `excluding` leaves out credentials being deleted. See last_verified_day.
        """
        return last_verified_day((c.status, c.expires_on) for c in self.certifications if c not in excluding)

    @property
    def condition_bits(self) -> int:
        """The bit set of this practitioner's conditions, as stored on each location."""
        bits = 0
        for condition in self.conditions:
            bits |= condition.mask
        return bits

    @property
    def confirmed_on(self) -> date | None:
        """The day the details were last known current: the last confirmation, else the profile's creation."""
        moment = self.details_confirmed_at or self.created_at
        return moment.date() if moment is not None else utcnow().date()  # a new profile: today

    @property
    def fee_from(self) -> int | None:
        """The lowest fee the practitioner charges (the starting fee, else the only one stated)."""
        return self.fee_min if self.fee_min is not None else self.fee_max

    @validates("email")
    def _store_email_lower_case(self, key: str, value: str) -> str:  # noqa: ARG002
        """Emails are stored trimmed and lower-case, whoever writes them: lookups compare them plainly."""
        return (value or "").strip().lower()

    @property
    def language_list(self) -> list[str]:
        """Languages as a list of names."""
        return [part.strip() for part in self.languages.split(",") if part.strip()]

    @property
    def total_training_hours(self) -> float:
        """Sum of the hours of every recorded training."""
        return sum(t.hours or 0 for t in self.trainings)

    @property
    def verified_certifications(self) -> list[Certification]:
        """Credentials verified and not expired."""
        return [c for c in self.certifications if c.is_currently_verified]

    @property
    def is_verified(self) -> bool:
        """True when at least one credential is verified and current."""
        return bool(self.verified_certifications)

    def __repr__(self) -> str:
        return f"<Practitioner {self.id} {self.display_name!r}>"


# A profile whose details were not confirmed for this long says they may be out of date, and
# sort=verified puts it after the others (15 months; reminders go after 12).
DETAILS_STALE_AFTER = timedelta(days=456)


def last_verified_day(credentials) -> date | None:
    """The last day one of the (status, expires_on) credentials counts as verified, or None.

    date.max for a verified credential without expiry. Stored on each location, so that
    "verified only" is answered from the search index: a practitioner has a currently verified
    credential while today <= this day.
    """
    days = [
        expires_on or date.max
        for status, expires_on in credentials
        if status is not None and status.value == "verified"
    ]
    return max(days, default=None)


def last_verified_on(credentials) -> date | None:
    """The day the most recent verification of a (status, expires_on, verified_at) credential happened.

    Only credentials that count as verified on some day (status verified) are considered; the
    search's sort=verified puts practitioners with a current verification first, most recent first.
    """
    days = [
        verified_at.date()
        for status, _expires_on, verified_at in credentials
        if status is not None and status.value == "verified" and verified_at is not None
    ]
    return max(days, default=None)


def search_copies(
    *,
    condition_bits: int,
    published: bool,
    suspended: bool,
    accepting: bool,
    languages: str | None,
    verified_until: date | None,
    verified_on: date | None = None,
    fee_from: int | None = None,
    session_minutes: int | None = None,
    wheelchair: bool = False,
    gender: str | None = None,
    display_name: str = "",
    confirmed_on: date | None = None,
) -> dict:
    """What each location carries of its practitioner so that every search filter is in the index.

    Kept in step by the flush hook (directory.database) and written by the bulk demo seeder.
    Languages are stored as language subtags ("|en|es|", see directory.languages), so a filter
    matches a language whatever its spelling.
    """
    from directory.languages import index_value

    return {
        "condition_bits": condition_bits,
        "listed": bool(published) and not suspended,
        "accepting": bool(accepting),
        "verified_until": verified_until,
        "verified_on": verified_on,
        "languages": index_value((languages or "").split(",")),
        "fee_from": fee_from,
        "session_minutes": session_minutes,
        "wheelchair": bool(wheelchair),
        "gender": gender,
        "sort_name": sort_name(display_name),
        "confirmed_on": confirmed_on,
    }


def sort_name(display_name: str | None) -> str:
    """How sort=name orders a practitioner: the name lower-cased, as long as the column allows."""
    return (display_name or "").casefold()[:120]


# The search index leads with the latitude band: BANDS_PER_DEGREE bands to a degree.
BANDS_PER_DEGREE = 10


class latitude_band(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """The search-index band of a latitude, in SQL: floor((latitude + 90) * BANDS_PER_DEGREE)."""

    type = Integer()
    inherit_cache = True
    name = "latitude_band"


@compiles(latitude_band)
def _latitude_band_sql(element, compiler, **kw) -> str:
    # latitude + 90 is never negative, so SQLite's CAST, which truncates, is floor here.
    return f"CAST(({compiler.process(element.clauses, **kw)} + 90) * {BANDS_PER_DEGREE} AS INTEGER)"


@compiles(latitude_band, "postgresql")
def _latitude_band_postgresql(element, compiler, **kw) -> str:
    # PostgreSQL's CAST rounds: floor first.
    return f"(floor(({compiler.process(element.clauses, **kw)} + 90) * {BANDS_PER_DEGREE}))::integer"


def band_of(latitude: float) -> int:
    """The band of a latitude, computed exactly as the database computes it."""
    return math.floor((latitude + 90) * BANDS_PER_DEGREE)


# What the ordered walks of the search read after their order's column: the circle's test
# and every filter.
WALK_INDEX_COLUMNS = (
    "practitioner_id",
    "latitude",
    "longitude",
    "condition_bits",
    "accepting",
    "verified_until",
    "languages",
    "fee_from",
    "session_minutes",
    "wheelchair",
    "gender",
)


class PracticeLocation(db.Model):
    """A place where a practitioner sees patients."""

    __tablename__ = "practice_locations"
    __table_args__ = (
        # The search answers from this covering composite index alone (see search/engine.py).
        Index(
            "ix_practice_locations_search",
            "listed",
            "band",
            "longitude",
            "latitude",
            "condition_bits",
            "practitioner_id",
            "accepting",
            "verified_until",
            "languages",
            "fee_from",
            "session_minutes",
            "wheelchair",
            "gender",
            "verified_on",
            "sort_name",
            "confirmed_on",
        ),
        # A crowded circle sorted by name or by verification is read in these, in that order,
        # until the page is full (see search/engine.py). The practitioner comes before the
        # coordinates, so that SQLite never skips through the order to a latitude range.
        Index(
            "ix_practice_locations_by_name",
            "listed",
            "sort_name",
            *WALK_INDEX_COLUMNS,
        ),
        Index(
            "ix_practice_locations_by_verified",
            "listed",
            "verified_on",
            *WALK_INDEX_COLUMNS,
            "confirmed_on",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    region: Mapped[str] = mapped_column(String(120), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")
    # The location's own phone ("" = the practitioner's) and opening hours, one "Mon 09:00-17:00"
    # line per opening (see practitioners.hours), with a free-text note ("Evenings by appointment").
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    opening_hours: Mapped[str] = mapped_column(Text, default="", server_default="")
    hours_note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    # The IANA time zone at the coordinates ("America/Denver"), set by a flush hook whenever
    # they are set or change (directory.database); appointments are in this zone.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Copy of the practitioner's condition bits, kept in step by a flush hook,
    # so that the condition filter is answered from the index.
    condition_bits: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    # Copy of the practitioner's is_listed (published and not suspended), kept in step by
    # the same hook, so that the search never joins the practitioners table to count.
    listed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Copies of the practitioner's accepting_new_patients, verified_until(), languages (as
    # language subtags, "|en|es|"), lowest fee, session length, wheelchair access, gender and
    # the day of their latest verification, kept in step by the same hook (see search_copies),
    # so that every filter and sort is answered from the search index.
    accepting: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    verified_until: Mapped[date | None] = mapped_column(Date)
    verified_on: Mapped[date | None] = mapped_column(Date)
    languages: Mapped[str] = mapped_column(String(300), default="", server_default="")
    fee_from: Mapped[int | None] = mapped_column(Integer)
    session_minutes: Mapped[int | None] = mapped_column(Integer)
    wheelchair: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    gender: Mapped[str | None] = mapped_column(String(12))
    # The public display name, lower-cased, for sort=name without a join (see sort_name).
    sort_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # The day the practitioner last confirmed their details (else created the profile): sort=verified
    # puts profiles unconfirmed for 15 months after the others.
    confirmed_on: Mapped[date | None] = mapped_column(Date)
    # The 0.1° latitude band (see latitude_band), computed by the database, leads the search index.
    band: Mapped[int] = mapped_column(Integer, Computed(latitude_band(literal_column("latitude"))))

    practitioner: Mapped[Practitioner] = relationship(back_populates="locations")

    @property
    def one_line(self) -> str:
        """The address on one line."""
        parts = [self.address, self.city, self.region, self.postal_code, self.country]
        return ", ".join(p for p in parts if p)


class Training(db.Model):
    """A completed course."""

    __tablename__ = "trainings"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"), index=True)
    course: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200), default="")
    hours: Mapped[float | None] = mapped_column(Float)
    completed_on: Mapped[date | None] = mapped_column(Date)

    practitioner: Mapped[Practitioner] = relationship(back_populates="trainings")


class ProfessionalLicense(db.Model):
    """A licence to practise a health profession (LMT, PT, OT, DO, DC, RN, ...)."""

    __tablename__ = "professional_licenses"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"), index=True)
    profession: Mapped[str] = mapped_column(String(40))
    jurisdiction: Mapped[str] = mapped_column(String(120), default="")
    number: Mapped[str] = mapped_column(String(80), default="")
    expires_on: Mapped[date | None] = mapped_column(Date)

    practitioner: Mapped[Practitioner] = relationship(back_populates="licenses")


class Enquiry(db.Model):
    """A message a patient sent from a profile's contact form."""

    __tablename__ = "enquiries"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("practitioners.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    message: Mapped[str] = mapped_column(Text)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    practitioner: Mapped[Practitioner] = relationship(back_populates="enquiries")


class GeocodeCache(db.Model):
    """Answers of an online geocoder, kept so each query is asked once."""

    __tablename__ = "geocode_cache"
    __table_args__ = (UniqueConstraint("provider", "query"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    query: Mapped[str] = mapped_column(String(300))
    found: Mapped[bool] = mapped_column(Boolean, default=True)
    address: Mapped[str] = mapped_column(String(500), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
