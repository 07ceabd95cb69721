"""The first appointment: booked at one of the practitioner's locations, in that location's time.

An appointment is stored in UTC with the location, its IANA zone and its name copied at
booking; pages and the API show it in that zone. A local time without an offset is read at the
location, with one rule for the two yearly surprises of daylight saving: a time that does not
exist there (the hour skipped in spring) is refused, and a time that happens twice (the hour
repeated in autumn) is the first of the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from directory.models import PracticeLocation, Referral
from directory.models.base import as_utc
from directory.referrals.errors import InvalidReferral


def zone(name: str) -> ZoneInfo:
    """The zone of this IANA name; UTC for an empty or unknown one (appointments booked before zones)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def place_name(location: PracticeLocation) -> str:
    """How a location is named next to an appointment: its label, else "<city> practice"."""
    if location.label:
        return location.label
    return f"{location.city} practice" if location.city else location.one_line or "Practice"


def choose_location(referral: Referral, location_id: int | None) -> PracticeLocation:
    """The practitioner's location named by id; without one, their only location.

    Raises InvalidReferral when the id is not one of theirs, or when they have several and
    none was named.
    """
    locations = list(referral.practitioner.locations) if referral.practitioner is not None else []
    if location_id is None:
        if len(locations) == 1:
            return locations[0]
        if not locations:
            raise InvalidReferral("The practitioner has no practice location to book the appointment at.")
        raise InvalidReferral("Say at which of the practitioner's locations the appointment is (location_id).")
    for location in locations:
        if location.id == location_id:
            return location
    raise InvalidReferral(f"Location {location_id} is not one of the practitioner's locations.")


def to_utc(moment: datetime, time_zone: str) -> datetime:
    """A moment in UTC: an aware one as it is, a naive one read as local time in `time_zone`.

    A local time skipped by a daylight-saving change is refused (InvalidReferral); a repeated one
    is the first of the two.
    """
    if moment.tzinfo is not None:
        return as_utc(moment)
    tz = zone(time_zone)
    first = moment.replace(tzinfo=tz, fold=0)
    # A skipped time does not survive the round trip through UTC.
    if as_utc(first).astimezone(tz).replace(tzinfo=None) != moment:
        raise InvalidReferral(
            f"{moment:%-d %b %Y, %H:%M} does not exist in {time_zone}: the clocks skip that hour "
            "for daylight saving. Please give another time."
        )
    return first.astimezone(UTC)


def local_time(referral: Referral) -> datetime | None:
    """The first appointment in its location's zone (None when none is booked)."""
    if referral.appointment_at is None:
        return None
    return as_utc(referral.appointment_at).astimezone(zone(referral.appointment_time_zone))


def iso_local(moment: datetime | None) -> str | None:
    """ISO 8601 with the local offset ("2026-12-04T10:30:00-07:00"); UTC is written with "Z"."""
    if moment is None:
        return None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def describe(moment: datetime | None, time_zone: str, place: str = "") -> str:
    """A moment as people read it at the location: "Fri 4 Dec 2026, 10:30 MST, Boulder practice"."""
    if moment is None:
        return ""
    local = as_utc(moment).astimezone(zone(time_zone))
    text = f"{local:%a %-d %b %Y, %H:%M} {local.tzname()}"
    return f"{text}, {place}" if place else text


def appointment_text(referral: Referral) -> str:
    """The referral's first appointment as people read it (empty when none is booked)."""
    return describe(referral.appointment_at, referral.appointment_time_zone, referral.appointment_place)


def book(referral: Referral, moment: datetime, location_id: int | None) -> None:
    """Set the first appointment: at which location, and when (see to_utc)."""
    location = choose_location(referral, location_id)
    referral.appointment_at = to_utc(moment, location.time_zone)
    referral.appointment_location = location
    referral.appointment_time_zone = location.time_zone
    referral.appointment_place = place_name(location)
