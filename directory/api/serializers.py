"""Plain functions that turn models into JSON-ready dicts."""

from __future__ import annotations

from flask import url_for

from directory.models import PracticeLocation, Practitioner


def location_dict(location: PracticeLocation, full: bool = False) -> dict:
    """A practice location."""
    data = {
        "city": location.city,
        "country": location.country,
        "latitude": location.latitude,
        "longitude": location.longitude,
    }
    if full:
        data.update(
            id=location.id,
            address=location.address,
            region=location.region,
            postal_code=location.postal_code,
            label=location.label,
        )
    return data


def credentials_list(practitioner: Practitioner) -> list[dict]:
    """Credentials with whether each is verified today."""
    return [
        {"body": c.body.slug, "credential": c.credential, "verified": bool(c.is_currently_verified)}
        for c in practitioner.certifications
        if c.status.value != "rejected"
    ]


def practitioner_summary(practitioner: Practitioner, distance_km: float, location: PracticeLocation) -> dict:
    """A search result."""
    return {
        "id": practitioner.id,
        "name": practitioner.display_name,
        "distance_km": round(distance_km, 3),
        "conditions": [c.slug for c in practitioner.conditions],
        "credentials": credentials_list(practitioner),
        "accepting_new_patients": practitioner.accepting_new_patients,
        "location": location_dict(location),
        "url": url_for("public.profile", practitioner_id=practitioner.id, _external=True),
    }


def practitioner_detail(practitioner: Practitioner) -> dict:
    """A whole public profile."""
    return {
        "id": practitioner.id,
        "name": practitioner.display_name,
        "practice_name": practitioner.practice_name,
        "bio": practitioner.bio,
        "phone": practitioner.phone,
        "website": practitioner.website,
        "email": practitioner.email if practitioner.show_email else None,
        "accepting_new_patients": practitioner.accepting_new_patients,
        "session_minutes": practitioner.session_minutes,
        "fee_min": practitioner.fee_min,
        "fee_max": practitioner.fee_max,
        "currency": practitioner.currency,
        "languages": practitioner.language_list,
        "wheelchair_accessible": practitioner.wheelchair_accessible,
        "conditions": [c.slug for c in practitioner.conditions],
        "credentials": credentials_list(practitioner),
        "training": [
            {
                "course": t.course,
                "provider": t.provider,
                "hours": t.hours,
                "completed_on": t.completed_on.isoformat() if t.completed_on else None,
            }
            for t in practitioner.trainings
        ],
        "total_training_hours": practitioner.total_training_hours,
        "licenses": [
            {"profession": lic.profession, "jurisdiction": lic.jurisdiction, "number": lic.number}
            for lic in practitioner.licenses
        ],
        "locations": [location_dict(loc, full=True) for loc in practitioner.locations],
        "url": url_for("public.profile", practitioner_id=practitioner.id, _external=True),
    }
