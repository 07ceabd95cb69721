"""Small helpers shared by the models."""

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def today() -> date:
    """Return today's date (UTC)."""
    return utcnow().date()


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware UTC datetime (SQLite gives naive ones back; they are UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
