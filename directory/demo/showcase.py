"""Hand-made showcase practitioners: recognisable profiles that a demo can point at.

They are added through the ORM (so the flush hook fills their search copies), before the
generated ones, and only once. Their opening hours are written as a practitioner would type
them and stored through the editor's rule (practitioners.hours); some leave their gender unstated.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from directory.demo.data import TRAINING_PROVIDER, TRAININGS
from directory.extensions import db
from directory.models import (
    Certification,
    CertifyingBody,
    Condition,
    PracticeLocation,
    Practitioner,
    ProfessionalLicense,
    Training,
)
from directory.models.base import today
from directory.practitioners.hours import parse_opening_hours

SHOWCASE = [
    {
        "email": "maya.thornton@demo.example.org",
        "display_name": "Dr. Maya Thornton, DO",
        "practice_name": "Boulder Craniosacral Health",
        "bio": "Osteopathic physician and Upledger diplomate. My practice has a particular focus on jaw tension "
        "and TMJ disorders, and on recurring headaches. Sessions are gentle, fully clothed and about an hour.",
        "phone": "+1 303-555-0142",
        "website": "https://boulder-craniosacral.example.com",
        "show_email": True,
        "session_minutes": 60,
        "fee_min": 120,
        "fee_max": 160,
        "languages": "English, Spanish",
        "wheelchair_accessible": True,
        "conditions": ["tmj", "migraine-headache"],
        "gender": "female",
        "locations": [("1942 Broadway", "Boulder", "CO", "80302", "US", 40.0176, -105.2797)],
        # Per location, in the same order: typed opening hours, a note, and a phone of its own ("" = main).
        "hours": [("Mon-Thu 8:30-17:30; Fri 8:30-13:00", "Evening sessions by appointment", "")],
        "certifications": [("upledger", "CST-D", "verified", 700)],
        "trainings": "CST-D",
        "license": ("DO", "Colorado"),
    },
    {
        "email": "sam.okafor@demo.example.org",
        "display_name": "Sam Okafor, LMT, RCST",
        "practice_name": "Chelsea Stillpoint Bodywork",
        "bio": "Licensed massage therapist and registered biodynamic craniosacral therapist in Chelsea. Many of my "
        "clients come with stress, jaw clenching or neck pain from desk work.",
        "phone": "+1 212-555-0187",
        "website": "https://chelsea-stillpoint.example.com",
        "session_minutes": 75,
        "fee_min": 140,
        "fee_max": 180,
        "languages": "English, French",
        "conditions": ["tmj", "stress-tension", "neck-back-pain"],
        "gender": "male",
        "locations": [("214 W 29th Street", "New York", "NY", "10001", "US", 40.7484, -73.9956)],
        "hours": [("Tue-Fri 11am-8pm; Sat 10am-4pm", "Late sessions for people who work office hours", "")],
        "certifications": [("bcta-na", "RCST", "verified", 500)],
        "trainings": "bcta-na:RCST",
        "license": ("LMT", "New York"),
    },
    {
        "email": "priya.raman@demo.example.org",
        "display_name": "Priya Raman, PT",
        "practice_name": "Raman Physical Therapy & Craniosacral",
        "bio": "Physical therapist using craniosacral therapy alongside rehabilitation, with a focus on chronic "
        "neck and back pain and fibromyalgia.",
        "phone": "+1 512-555-0119",
        "session_minutes": 60,
        "fee_min": 110,
        "fee_max": 150,
        "languages": "English, Tamil",
        "conditions": ["neck-back-pain", "fibromyalgia"],
        "locations": [
            ("600 Congress Avenue", "Austin", "TX", "78701", "US", 30.2686, -97.7426),
            ("201 E Main Street", "Round Rock", "TX", "78664", "US", 30.5083, -97.6789),
        ],
        "hours": [
            ("Mon, Wed, Fri 8-12, 13-17", "", ""),
            ("Tue, Thu 9am-6pm\nSat 9am-12pm", "Saturday mornings are for existing patients", "+1 512-555-0176"),
        ],
        "certifications": [("upledger", "CST-T", "verified", 400)],
        "trainings": "CST-T",
        "license": ("PT", "Texas"),
    },
    {
        "email": "eleanor.hughes@demo.example.org",
        "display_name": "Eleanor Hughes RCST",
        "practice_name": "Islington Craniosacral Practice",
        "bio": "Registered craniosacral therapist in north London since 2009, seeing adults and children.",
        "phone": "+44 20 7946 0321",
        "session_minutes": 60,
        "fee_min": 65,
        "fee_max": 80,
        "currency": "GBP",
        "languages": "English",
        "conditions": ["migraine-headache", "stress-tension"],
        "gender": "female",
        "locations": [("12 Upper Street", "London", "", "N1 0PQ", "GB", 51.5362, -0.1033)],
        "hours": [("Monday to Friday 10:00-19:00", "Children are seen after school, from 15:30", "")],
        "certifications": [("csta-uk", "RCST", "verified", 300)],
        "trainings": "csta-uk:RCST",
        "license": None,
    },
    {
        "email": "lucas.moreau@demo.example.org",
        "display_name": "Lucas Moreau",
        "practice_name": "Moreau Craniosacral",
        "bio": "Craniosacral therapy in downtown Toronto, in English and French. My certification is being checked.",
        "phone": "+1 416-555-0163",
        "session_minutes": 50,
        "fee_min": 95,
        "fee_max": 120,
        "currency": "CAD",
        "languages": "English, French",
        "conditions": ["fibromyalgia"],
        "gender": "male",
        "locations": [("100 King Street W", "Toronto", "ON", "M5X 1A9", "CA", 43.6487, -79.3817)],
        "hours": [("Mon–Fri 9:00–17:00", "Evenings by appointment", "")],
        "certifications": [("upledger", "CST-T", "pending", 600)],
        "trainings": "CST-T",
        "license": ("LMT", "ON"),
    },
    {
        "email": "aoife.brennan@demo.example.org",
        "display_name": "Aoife Brennan",
        "practice_name": "Liffey Craniosacral",
        "bio": "Craniosacral therapist in Dublin city centre. My registration is due for renewal.",
        "phone": "+353 1 555 0148",
        "session_minutes": 60,
        "fee_min": 70,
        "fee_max": 85,
        "currency": "EUR",
        "languages": "English, Irish",
        "accepting_new_patients": False,
        "conditions": ["stress-tension", "migraine-headache"],
        "locations": [("25 Dame Street", "Dublin", "", "D02", "IE", 53.3441, -6.2655)],
        "hours": [("Tue, Thu 10-18; Sat 10-14", "Closed on bank holidays", "")],
        "certifications": [("csta-uk", "RCST", "verified", -30)],
        "trainings": "csta-uk:RCST",
        "license": None,
    },
]


def _showcase_practitioner(spec: dict, conditions: dict, bodies: dict, number: int) -> Practitioner:
    """A published practitioner from a showcase entry, with their locations, credentials and trainings."""
    plain = {
        k: v
        for k, v in spec.items()
        if k not in {"conditions", "locations", "hours", "certifications", "trainings", "license"}
    }
    plain.setdefault("accepting_new_patients", True)
    p = Practitioner(published=True, **plain)
    p.conditions = [conditions[s] for s in spec["conditions"]]
    for (address, city, region, postal_code, country, lat, lon), (hours, note, phone) in zip(
        spec["locations"], spec["hours"], strict=True
    ):
        p.locations.append(
            PracticeLocation(
                address=address,
                city=city,
                region=region,
                postal_code=postal_code,
                country=country,
                latitude=lat,
                longitude=lon,
                phone=phone,
                opening_hours=parse_opening_hours(hours),
                hours_note=note,
            )
        )
    for body_slug, credential, status, expires_in_days in spec["certifications"]:
        cert = Certification(
            body=bodies[body_slug],
            credential=credential,
            credential_number=f"{body_slug[:2].upper()}-{20000 + number}",
            issued_on=today() - timedelta(days=2000),
            expires_on=today() + timedelta(days=expires_in_days),
        )
        if status == "verified":
            cert.mark_verified("demo register")
        p.certifications.append(cert)
    completed = today() - timedelta(days=3000)
    key = spec["trainings"]
    for course, hours in TRAININGS[key]:
        p.trainings.append(
            Training(course=course, provider=TRAINING_PROVIDER[key], hours=hours, completed_on=completed)
        )
        completed += timedelta(days=180)
    if spec["license"]:
        profession, jurisdiction = spec["license"]
        p.licenses.append(
            ProfessionalLicense(
                profession=profession, jurisdiction=jurisdiction, number=f"{profession}-{40000 + number}"
            )
        )
    return p


def seed_showcase(limit: int | None = None) -> int:
    """Add the hand-made showcase practitioners that are not there yet; returns how many."""
    wanted = SHOWCASE[:limit] if limit is not None else SHOWCASE
    existing = set(
        db.session.execute(select(Practitioner.email).where(Practitioner.email.in_([s["email"] for s in wanted])))
        .scalars()
        .all()
    )
    conditions = {c.slug: c for c in db.session.execute(select(Condition)).scalars()}
    bodies = {b.slug: b for b in db.session.execute(select(CertifyingBody)).scalars()}
    made = 0
    for spec in wanted:
        if spec["email"] in existing:
            continue
        db.session.add(_showcase_practitioner(spec, conditions, bodies, made))
        made += 1
    db.session.flush()
    return made
