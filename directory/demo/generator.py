"""One demo practitioner's rows: the person, their practice, locations, credential, training and licence.

Every value comes from one random.Random in a fixed order, so a seed always gives the same
directory: a change here that draws in another order changes every demo practitioner after it.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from directory.demo.credentials import certification_row, license_row, training_rows
from directory.demo.data import (
    CURRENCY,
    FEES,
    FIRST_NAMES,
    LAST_NAMES,
    LOCAL_LANGUAGE,
    NAME_POOL,
    PHONE_PREFIX,
    PRACTICE_KINDS,
    PRACTICE_WORDS,
    SESSION_MINUTES,
    split_names,
)
from directory.demo.rows import Batch, Ids
from directory.demo.towns import jitter, region_of, street_address, us_zips
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
from directory.models.base import today, utcnow
from directory.models.practitioners import (
    last_verified_day,
    last_verified_on,
    practitioner_conditions,
    search_copies,
)
from directory.timezones import time_zone_at


@dataclass(frozen=True)
class Reference:
    """What every generated practitioner draws from: the time, name lists, conditions and bodies."""

    now: datetime
    today: date
    first: dict[str, list[str]]
    last: dict[str, list[str]]
    conditions: list[tuple[int, int]]  # (id, bit), by bit
    condition_names: dict[int, str]
    bodies: dict[str, int]  # slug -> id


def load_reference() -> Reference:
    """Read the taxonomy and the certifying bodies once per seeding."""
    return Reference(
        now=utcnow(),
        today=today(),
        first={k: v.split() for k, v in FIRST_NAMES.items()},
        last={k: split_names(v) for k, v in LAST_NAMES.items()},
        conditions=[(c.id, c.bit) for c in db.session.execute(select(Condition).order_by(Condition.bit)).scalars()],
        condition_names={c.id: c.name for c in db.session.execute(select(Condition)).scalars()},
        bodies={b.slug: b.id for b in db.session.execute(select(CertifyingBody)).scalars()},
    )


@dataclass(frozen=True)
class Person:
    """Who a demo practitioner is and where they work, drawn before their rows are written."""

    pid: int
    town: dict
    first: str
    last: str
    region: str
    zip_code: str
    area: str
    currency: str
    fee_min: int
    minutes: int
    languages: list[str]

    @property
    def cc(self) -> str:
        """The country code of the town."""
        return self.town["cc"]


def _person(rng: random.Random, pid: int, town: dict, ref: Reference) -> Person:
    """Name, region, ZIP and area code, currency, fee, session length and languages."""
    cc = town["cc"]
    pool = NAME_POOL.get(cc, "en")
    first, last = rng.choice(ref.first[pool]), rng.choice(ref.last[pool])
    region = region_of(town)
    zips = us_zips().get((town["name"].lower(), region), []) if cc == "US" else []
    zip_code, area = rng.choice(zips) if zips else ("", "555")
    currency = CURRENCY.get(cc, "EUR")
    low, high = FEES[currency]
    fee_min = rng.randrange(low, high, 5)
    minutes = rng.choice(SESSION_MINUTES)
    languages = ["English"] if cc not in LOCAL_LANGUAGE else [LOCAL_LANGUAGE[cc], "English"]
    if cc == "US" and rng.random() < 0.15:
        languages.append("Spanish")
    if cc == "CA" and rng.random() < 0.25:
        languages.append("French")
    return Person(pid, town, first, last, region, zip_code, area, currency, fee_min, minutes, languages)


def _conditions(rng: random.Random, ref: Reference) -> list[tuple[int, int]]:
    """The (id, bit) of the conditions the practitioner works with: none to four."""
    n_conditions = rng.choices([0, 1, 2, 3, 4], weights=[4, 30, 34, 22, 10])[0]
    return rng.sample(ref.conditions, n_conditions)


def _practitioner_row(rng: random.Random, person: Person, conditions: list, ref: Reference) -> dict:
    """The practitioner's own row: practice name, a bio that names their focus, contact, fees."""
    first, last, town, cc = person.first, person.last, person.town, person.cc
    practice = rng.choice(
        [
            f"{last} Craniosacral Therapy",
            f"{town['name']} {rng.choice(PRACTICE_KINDS)}",
            f"{rng.choice(PRACTICE_WORDS)} {rng.choice(PRACTICE_KINDS)}",
        ]
    )
    focus = ", ".join(ref.condition_names[cid].lower() for cid, _ in conditions)
    bio = (
        f"{first} has offered craniosacral therapy in {town['name']} since {rng.randint(1995, 2022)}. "
        f"Sessions are gentle and fully clothed, and last about {person.minutes} minutes."
        + (f" Many clients come with {focus}." if focus else "")
    )
    phone = (
        f"+1 {person.area}-555-01{rng.randint(0, 99):02d}"
        if cc in ("US", "CA")
        else f"{PHONE_PREFIX.get(cc, '+49 30 555 0')}{rng.randint(0, 999):03d}"
    )
    published = rng.random() < 0.98
    slug = f"{last}-{first}".lower().replace(" ", "-").encode("ascii", "ignore").decode()
    return {
        "id": person.pid,
        "user_id": None,
        "email": f"{slug}.{person.pid}@demo.example.org",
        "display_name": f"{first} {last}",
        "practice_name": practice,
        "bio": bio,
        "phone": phone,
        "website": f"https://{slug}.example.com" if rng.random() < 0.35 else "",
        "show_email": rng.random() < 0.3,
        "accepting_new_patients": rng.random() < 0.8,
        "session_minutes": person.minutes,
        "fee_min": person.fee_min,
        "fee_max": person.fee_min + rng.randrange(0, 50, 5),
        "currency": person.currency,
        "languages": ", ".join(person.languages),
        "wheelchair_accessible": rng.random() < 0.4,
        "published": published,
        "suspended": False,
        "suspension_reason": "",
        "created_at": ref.now,
        "updated_at": ref.now,
    }


def _location_rows(rng: random.Random, ids: Ids, person: Person) -> list[dict]:
    """One to three practice locations in and around the town (bigger towns spread wider)."""
    town = person.town
    spread = min(20.0, 2.0 + math.sqrt(town["population"]) / 150)
    lat, lon = jitter(rng, town["lat"], town["lon"], spread)
    n_locations = rng.choices([1, 2, 3], weights=[88, 10, 2])[0]
    locations = []
    for i in range(n_locations):
        if i:
            lat, lon = jitter(rng, town["lat"], town["lon"], spread + 25)
        locations.append(
            {
                "id": ids.take(PracticeLocation),
                "practitioner_id": person.pid,
                "label": "" if n_locations == 1 else f"Clinic {i + 1}",
                "address": street_address(rng, person.cc),
                "city": town["name"],
                "region": person.region,
                "postal_code": person.zip_code,
                "country": person.cc,
                "latitude": lat,
                "longitude": lon,
            }
        )
    return locations


# Opening hours a demo location may keep (see practitioners.hours for the format).
DEMO_HOURS = (
    "Mon 09:00-17:00\nTue 09:00-17:00\nWed 09:00-17:00\nThu 09:00-17:00\nFri 09:00-15:00",
    "Mon 10:00-18:00\nWed 10:00-18:00\nFri 10:00-18:00\nSat 09:00-13:00",
    "Tue 08:30-16:30\nThu 08:30-19:00\nSat 09:00-12:00",
    "",
)
DEMO_HOURS_NOTES = ("", "", "Evenings by appointment", "Home visits on request")


@functools.lru_cache(maxsize=65536)
def _time_zone(latitude: float, longitude: float) -> str:
    """The time zone of a 0.1° cell (demo rows bypass the ORM hook that sets it)."""
    return time_zone_at(latitude, longitude)


def _add_later_details(rng: random.Random, practitioner: dict, locations: list[dict], certification, ref) -> None:
    """Gender (or none stated), opening hours, a phone per location, and spread verification days."""
    practitioner["gender"] = rng.choices(["female", "male", "nonbinary", None], weights=[62, 25, 3, 10])[0]
    for location in locations:
        location["time_zone"] = _time_zone(round(location["latitude"], 1), round(location["longitude"], 1))
        location["opening_hours"] = rng.choice(DEMO_HOURS)
        location["hours_note"] = rng.choice(DEMO_HOURS_NOTES)
        location["phone"] = "" if len(locations) == 1 else practitioner["phone"]
    if certification is not None and certification.get("verified_at") is not None:
        certification["verified_at"] = ref.now - timedelta(days=rng.randrange(0, 720), minutes=rng.randrange(0, 1440))


def generate_practitioner(
    rng: random.Random, ids: Ids, batch: Batch, town: dict, ref: Reference, details: bool
) -> None:
    """One demo practitioner with their locations, conditions, credential, training and licence.

    `details=False` leaves out trainings and licences.
    """
    person = _person(rng, ids.take(Practitioner), town, ref)
    conditions = _conditions(rng, ref)
    bits = 0
    for condition_id, bit in conditions:
        bits |= 1 << bit
        batch.add(practitioner_conditions, {"practitioner_id": person.pid, "condition_id": condition_id})
    practitioner = _practitioner_row(rng, person, conditions, ref)
    locations = _location_rows(rng, ids, person)
    certification, training_key = certification_row(rng, ids, person, ref)
    # Details added after the first demo data, drawn from their own generator so that every
    # earlier detail (and every test that counts on one) stays as it was.
    _add_later_details(random.Random(f"details-{person.pid}"), practitioner, locations, certification, ref)
    batch.add(Practitioner.__table__, practitioner)
    for location in locations:
        batch.add(PracticeLocation.__table__, location)
    if certification is not None:
        batch.add(Certification.__table__, certification)
    credentials = [(certification["status"], certification["expires_on"])] if certification else []
    # These rows bypass the ORM: they get what the flush hook would copy onto each location.
    copies = search_copies(
        condition_bits=bits,
        published=practitioner["published"],
        suspended=practitioner["suspended"],
        accepting=practitioner["accepting_new_patients"],
        languages=practitioner["languages"],
        verified_until=last_verified_day(credentials),
        verified_on=last_verified_on(
            [(certification["status"], certification["expires_on"], certification["verified_at"])]
            if certification
            else []
        ),
        fee_from=practitioner["fee_min"],
        session_minutes=practitioner["session_minutes"],
        wheelchair=practitioner["wheelchair_accessible"],
        gender=practitioner["gender"],
        display_name=practitioner["display_name"],
        confirmed_on=practitioner["created_at"].date(),
    )
    for location in locations:
        location.update(copies)
    if not details:
        return
    for training in training_rows(rng, ids, person.pid, training_key, ref):
        batch.add(Training.__table__, training)
    licence = license_row(rng, ids, person)
    if licence is not None:
        batch.add(ProfessionalLicense.__table__, licence)
