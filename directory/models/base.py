"""Small helpers shared by the models."""

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def today() -> date:
    """Return today's date (UTC)."""
    return utcnow().date()
