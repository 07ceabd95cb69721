"""Profile rules: creating a draft, publishing, and placing practice locations on the map.

These functions know nothing about requests; views call them and commit.
"""

from __future__ import annotations

from sqlalchemy import select

from directory.accounts.emails import normalize_email
from directory.claims.service import blocks_publishing
from directory.extensions import db
from directory.geocoding import Place, geocode
from directory.models import PracticeLocation, Practitioner, User
from directory.models.base import utcnow


class ProfileError(Exception):
    """A change the profile rules refuse, with a message for the practitioner."""


def profile_status(practitioner: Practitioner) -> str:
    """The status word: suspended, published or draft."""
    if practitioner.suspended:
        return "suspended"
    return "published" if practitioner.published else "draft"


def profile_with_email(email: str) -> Practitioner | None:
    """The profile with this contact email (claimed or not), or None.

    Emails are stored lower-case (see rules.email), so the comparison needs no lower(): the
    database answers from the unique index.
    """
    return db.session.execute(
        select(Practitioner).where(Practitioner.email == normalize_email(email))
    ).scalar_one_or_none()


def unclaimed_profile_for(user: User) -> Practitioner | None:
    """An imported profile with the user's email that nobody has claimed yet (the one such lookup)."""
    profile = profile_with_email(user.email)
    return profile if profile is not None and profile.user_id is None else None


def create_profile(user: User) -> Practitioner:
    """A new draft profile for the user, with the user's email as its contact email."""
    if user.practitioner is not None:
        return user.practitioner
    taken = profile_with_email(user.email)
    if taken is not None and taken.user_id is None:
        raise ProfileError(
            "A profile with your email address already exists. Confirm your email address to take it over."
        )
    if taken is not None:
        raise ProfileError("Another account holds the profile with your email address. Please contact us.")
    practitioner = Practitioner(
        user=user,
        email=normalize_email(user.email),
        display_name=user.name or user.email.split("@")[0],
        published=False,
    )
    db.session.add(practitioner)
    return practitioner


def publish_problems(practitioner: Practitioner, user: User) -> list[str]:
    """What stands between the profile and publication (empty when it may be published)."""
    problems = []
    if not user.is_confirmed:
        problems.append("Confirm your email address first (use the link we emailed you).")
    if not practitioner.locations:
        problems.append("Add at least one practice location.")
    if not practitioner.display_name.strip():
        problems.append("Give the name to show on your profile.")
    if blocks_publishing(practitioner):
        problems.append("Some of your text is held for review: rephrase it, or wait for an administrator's decision.")
    return problems


def publish(practitioner: Practitioner, user: User) -> None:
    """Make the profile public, or raise ProfileError saying what is missing."""
    problems = publish_problems(practitioner, user)
    if problems:
        raise ProfileError(" ".join(problems))
    practitioner.published = True
    record_unpublished(practitioner, None)


def unpublish(practitioner: Practitioner) -> None:
    """Take the profile out of search and off the site (a CSV import will not put it back)."""
    practitioner.published = False
    record_unpublished(practitioner, "owner")


def record_unpublished(practitioner: Practitioner, by: str | None) -> None:
    """Record who took the profile off ("owner" or "admin"), or None when it is published again."""
    practitioner.unpublished_by = by
    practitioner.unpublished_at = utcnow() if by else None


def remove_location(practitioner: Practitioner, location: PracticeLocation) -> None:
    """Remove a location; a published profile keeps at least one."""
    if practitioner.published and len(practitioner.locations) <= 1:
        raise ProfileError(
            "A published profile needs at least one location: add another one first, or unpublish your profile."
        )
    practitioner.locations.remove(location)


def address_query(location: PracticeLocation) -> str:
    """The location's address fields as one line for the geocoder."""
    region = " ".join(p for p in (location.region, location.postal_code) if p)
    return ", ".join(p for p in (location.address, location.city, region, location.country) if p)


def place_location(location: PracticeLocation, address_changed: bool, latitude, longitude) -> Place | None:
    """Set the coordinates: by hand when given and changed, else by geocoding a new address.

    Returns the geocoded Place (None when the coordinates came by hand or nothing changed);
    raises ProfileError when the address cannot be found.
    """
    by_hand = latitude is not None and longitude is not None
    if by_hand and (
        location.latitude is None
        or round(float(latitude), 6) != round(location.latitude, 6)
        or round(float(longitude), 6) != round(location.longitude, 6)
    ):
        location.latitude, location.longitude = float(latitude), float(longitude)
        return None
    if not address_changed and location.latitude is not None:
        return None
    place = _find(location)
    if place is None:
        raise ProfileError(
            "We could not find this address. Check the town and postal code, or enter the latitude and longitude by hand."
        )
    location.latitude, location.longitude = place.latitude, place.longitude
    # Fill in what the geocoder knows and the practitioner left empty.
    location.city = location.city or place.city[:120]
    location.region = location.region or place.region[:120]
    location.postal_code = location.postal_code or place.postal_code[:20]
    return place


def _find(location: PracticeLocation) -> Place | None:
    """Geocode the full address, then fall back to the postal code, then the town."""
    queries = [address_query(location)]
    if location.postal_code:
        queries.append(f"{location.postal_code}, {location.country}")
    if location.city:
        queries.append(", ".join(p for p in (location.city, location.region, location.country) if p))
        queries.append(f"{location.city}, {location.country}")
    for query in dict.fromkeys(queries):
        place = geocode(query)
        if place is not None:
            return place
    return None
