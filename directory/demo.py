"""Realistic, deterministic demo practitioners around real towns (`flask seed-demo`).

Towns come from the offline gazetteer, chosen by population in countries where
craniosacral therapy is practised. Rows are written with SQLAlchemy Core in
batches (executemany), so 100,000 practitioners take seconds, not minutes.
"""

from __future__ import annotations

import functools
import math
import random
from datetime import date, timedelta

from sqlalchemy import func, insert, select, text

from directory.extensions import db
from directory.geocoding import get_gazetteer
from directory.models import (
    Certification,
    CertifyingBody,
    Condition,
    PracticeLocation,
    Practitioner,
    ProfessionalLicense,
    Training,
    VerificationStatus,
)
from directory.models.base import today, utcnow
from directory.models.practitioners import last_verified_day, practitioner_conditions, search_copies

BATCH = 5000
# Share of the demo practitioners per country (percent).
COUNTRY_SHARE = {
    "US": 55,
    "CA": 7,
    "GB": 10,
    "IE": 2,
    "AU": 7,
    "NZ": 2,
    "DE": 7,
    "NL": 3,
    "CH": 2,
    "AT": 2,
    "BE": 1,
    "SE": 1,
    "NO": 1,
}
CURRENCY = {"US": "USD", "CA": "CAD", "GB": "GBP", "AU": "AUD", "NZ": "NZD", "CH": "CHF", "SE": "SEK", "NO": "NOK"}
FEES = {"USD": (80, 180), "CAD": (90, 170), "GBP": (45, 90), "AUD": (90, 160), "NZD": (80, 140), "EUR": (60, 120)}
FEES.update({"CHF": (100, 180), "SEK": (700, 1300), "NOK": (700, 1300)})
LOCAL_LANGUAGE = {"DE": "German", "AT": "German", "CH": "German", "NL": "Dutch", "BE": "Dutch", "SE": "Swedish"}
LOCAL_LANGUAGE["NO"] = "Norwegian"
PHONE_PREFIX = {"GB": "+44 20 7946 0", "IE": "+353 1 555 0", "AU": "+61 2 5550 0", "NZ": "+64 9 555 0"}
CA_PROVINCES = {"01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON", "09": "PE"}
CA_PROVINCES.update({"10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU"})
AU_STATES = {"01": "ACT", "02": "NSW", "03": "NT", "04": "QLD", "05": "SA", "06": "TAS", "07": "VIC", "08": "WA"}

FIRST_NAMES = {
    "en": "Emma Olivia Ava Sophia Mia Amelia Harper Grace Chloe Lily Hannah Nora Zoe Leah Ruth Claire Maya Anna Sarah "
    "Laura Julia Megan Rachel Erin Kate Jessica Naomi Priya Aisha Mei Rosa Elena Noah Liam James Lucas Ethan Daniel "
    "Samuel David Michael Owen Henry Jack Thomas Andrew Ben Nathan Aaron Marcus Kevin Omar Diego Raj Ken Paul Simon",
    "de": "Anna Lena Lea Hannah Marie Sophie Katharina Julia Laura Sarah Miriam Eva Sabine Petra Claudia Monika Jonas Lukas "
    "Leon Felix Paul Maximilian Tobias Jan Stefan Thomas Michael Andreas Markus Florian Matthias Johannes",
    "nl": "Emma Sanne Lotte Fleur Anouk Femke Iris Eva Noor Lieke Daan Sem Bram Thijs Jesse Ruben Lars Niels Joost Bas",
    "sv": "Astrid Elsa Ingrid Maja Freja Linnea Sara Karin Erik Lars Nils Olof Anders Johan Magnus Henrik Sven Leif",
}
LAST_NAMES = {
    "en": "Smith Johnson Williams Brown Jones Miller Davis Garcia Rodriguez Wilson Martinez Anderson Taylor Thomas Moore "
    "Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green "
    "Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Murphy "
    "Cook Morgan Bell Murray Kelly Ryan Walsh Byrne OBrien Patel Chen Nguyen Okafor Kowalski Rossi Cohen",
    "de": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf Schröder "
    "Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Werner Krause Lehmann Huber Gruber Steiner",
    "nl": "de Jong Jansen de Vries van den Berg van Dijk Bakker Janssen Visser Smit Meijer de Boer Mulder de Groot "
    "Bos Vos Peters Hendriks van Leeuwen Dekker Brouwer",
    "sv": "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsen Hansen Johansen Pedersen Berg Lund Dahl",
}
NAME_POOL = {"DE": "de", "AT": "de", "CH": "de", "NL": "nl", "BE": "nl", "SE": "sv", "NO": "sv"}
PRACTICE_WORDS = ["Still Point", "Quiet Tide", "Open Hands", "Gentle Current", "Deep Rest", "Midline", "Tidewater"]
PRACTICE_KINDS = ["Craniosacral Therapy", "Bodywork", "Craniosacral Studio", "Wellness", "Integrative Bodywork"]
STREETS = ["Main", "Oak", "Maple", "Pine", "Cedar", "Elm", "Park", "Lake", "Hill", "Church", "Mill", "River", "Spring"]
STREET_KINDS = ["Street", "Avenue", "Road", "Lane", "Drive", "Way"]
SESSION_MINUTES = [45, 50, 60, 60, 60, 60, 75, 90]
LICENSES = ["LMT", "LMT", "LMT", "PT", "OT", "DC", "DO", "RN"]
# (body slug, credential, share percent) per group of countries; the rest hold no credential.
CREDENTIAL_MIX = {
    "NA": [("upledger", "CST-T", 35), ("upledger", "CST-D", 10), ("bcta-na", "RCST", 22)],
    "UK": [("csta-uk", "RCST", 55), ("upledger", "CST-T", 15), ("upledger", "CST-D", 3)],
    "OTHER": [("upledger", "CST-T", 40), ("upledger", "CST-D", 8), ("csta-uk", "RCST", 5)],
}
TRAININGS = {
    "CST-T": [
        ("CranioSacral Therapy 1 (CST1)", 24),
        ("CranioSacral Therapy 2 (CST2)", 24),
        ("SomatoEmotional Release 1", 24),
    ],
    "CST-D": [
        ("CranioSacral Therapy 1 (CST1)", 24),
        ("CranioSacral Therapy 2 (CST2)", 24),
        ("SomatoEmotional Release 1", 24),
        ("SomatoEmotional Release 2", 24),
        ("Advanced CranioSacral Therapy", 40),
    ],
    "bcta-na:RCST": [("Biodynamic Craniosacral Therapy foundation training", 700)],
    "csta-uk:RCST": [("Craniosacral therapy diploma (accredited school)", 600)],
    None: [("CranioSacral Therapy 1 (CST1)", 24)],
}
TRAINING_PROVIDER = {"CST-T": "Upledger Institute International", "CST-D": "Upledger Institute International"}
TRAINING_PROVIDER.update(
    {"bcta-na:RCST": "BCTA/NA approved school", "csta-uk:RCST": "CSTA accredited school", None: ""}
)


def has_practitioners() -> bool:
    """True when at least one practitioner exists."""
    return db.session.execute(select(Practitioner.id).limit(1)).first() is not None


@functools.cache
def _towns() -> dict[str, tuple[list[dict], list[float]]]:
    """Per country: its towns and their cumulative population weights."""
    gaz = get_gazetteer()
    towns: dict[str, tuple[list[dict], list[float]]] = {}
    for cc in COUNTRY_SHARE:
        cities = [c for c in gaz.cities if c["cc"] == cc and c["population"] > 0]
        cities.sort(key=lambda c: (-c["population"], c["name"], c["lat"]))
        cum, total = [], 0.0
        for city in cities:
            total += city["population"]
            cum.append(total)
        towns[cc] = (cities, cum)
    return towns


def sample_towns(rng: random.Random, n: int) -> list[dict]:
    """n towns where people live: a country by its share, then a town by population."""
    towns = _towns()
    countries = rng.choices(list(COUNTRY_SHARE), weights=list(COUNTRY_SHARE.values()), k=n)
    picked = []
    for cc in countries:
        cities, cum = towns[cc]
        picked.append(rng.choices(cities, cum_weights=cum)[0])
    return picked


@functools.cache
def _us_zips() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(city, state) -> [(ZIP code, area code)] for standard US ZIP codes."""
    import zipcodes

    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for z in zipcodes.list_all():
        if z["zip_code_type"] == "STANDARD":
            area = (z.get("area_codes") or ["555"])[0]
            found.setdefault((z["city"].lower(), z["state"]), []).append((z["zip_code"], area))
    return found


def _jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    """A point uniformly spread within km of (lat, lon)."""
    r = km * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    new_lat = max(-89.9, min(89.9, lat + r * math.cos(theta) / 111.2))
    new_lon = lon + r * math.sin(theta) / (111.2 * max(0.05, math.cos(math.radians(lat))))
    new_lon = (new_lon + 180) % 360 - 180
    return round(new_lat, 6), round(new_lon, 6)


def _region(town: dict) -> str:
    cc, code = town["cc"], town["admin1"]
    if cc == "US":
        return code
    return {"CA": CA_PROVINCES, "AU": AU_STATES}.get(cc, {}).get(code, "")


def _address(rng: random.Random, cc: str) -> str:
    street = rng.choice(STREETS)
    number = rng.randint(1, 2400 if cc in ("US", "CA", "AU") else 180)
    if cc in ("DE", "AT", "CH"):
        return f"{street}straße {number}"
    if cc in ("NL", "BE", "SE", "NO"):
        return f"{street}laan {number}"
    return f"{number} {street} {rng.choice(STREET_KINDS)}"


class _Ids:
    """Next free primary key per table, so rows can reference each other before insert."""

    def __init__(self, *models) -> None:
        self.next = {m: (db.session.execute(select(func.max(m.id))).scalar() or 0) + 1 for m in models}

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


class _Batch:
    """Rows waiting to be inserted, per table, written with executemany."""

    def __init__(self) -> None:
        self.rows: dict = {}

    def add(self, table, row: dict) -> None:
        self.rows.setdefault(table, []).append(row)

    def flush(self) -> None:
        order = [
            Practitioner.__table__,
            PracticeLocation.__table__,
            practitioner_conditions,
            Certification.__table__,
            Training.__table__,
            ProfessionalLicense.__table__,
        ]
        for table in order:
            rows = self.rows.pop(table, [])
            if rows:
                db.session.execute(insert(table), rows)
        self.rows.clear()


def _credential_status(rng: random.Random, today_: date) -> tuple[VerificationStatus, date | None, bool]:
    """Status and expiry: most verified, some pending, a few rejected or expired."""
    roll = rng.random()
    if roll < 0.58:
        return VerificationStatus.VERIFIED, today_ + timedelta(days=rng.randint(60, 1100)), True
    if roll < 0.66:
        return VerificationStatus.VERIFIED, today_ - timedelta(days=rng.randint(5, 400)), True  # expired
    if roll < 0.95:
        return VerificationStatus.PENDING, today_ + timedelta(days=rng.randint(60, 1100)), False
    return VerificationStatus.REJECTED, None, False


def _generate(rng: random.Random, ids: _Ids, batch: _Batch, town: dict, ref: dict, details: bool) -> None:
    """One demo practitioner with their locations, conditions, credential, training and licence."""
    cc = town["cc"]
    pid = ids.take(Practitioner)
    pool = NAME_POOL.get(cc, "en")
    first, last = rng.choice(ref["first"][pool]), rng.choice(ref["last"][pool])
    region = _region(town)
    zips = _us_zips().get((town["name"].lower(), region), []) if cc == "US" else []
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
    n_conditions = rng.choices([0, 1, 2, 3, 4], weights=[4, 30, 34, 22, 10])[0]
    conditions = rng.sample(ref["conditions"], n_conditions)
    bits = 0
    for condition_id, bit in conditions:
        bits |= 1 << bit
        batch.add(practitioner_conditions, {"practitioner_id": pid, "condition_id": condition_id})
    practice = rng.choice(
        [
            f"{last} Craniosacral Therapy",
            f"{town['name']} {rng.choice(PRACTICE_KINDS)}",
            f"{rng.choice(PRACTICE_WORDS)} {rng.choice(PRACTICE_KINDS)}",
        ]
    )
    focus = ", ".join(ref["condition_names"][cid].lower() for cid, _ in conditions)
    bio = (
        f"{first} has offered craniosacral therapy in {town['name']} since {rng.randint(1995, 2022)}. "
        f"Sessions are gentle and fully clothed, and last about {minutes} minutes."
        + (f" Many clients come with {focus}." if focus else "")
    )
    phone = (
        f"+1 {area}-555-01{rng.randint(0, 99):02d}"
        if cc in ("US", "CA")
        else f"{PHONE_PREFIX.get(cc, '+49 30 555 0')}{rng.randint(0, 999):03d}"
    )
    published = rng.random() < 0.98
    slug = f"{last}-{first}".lower().replace(" ", "-").encode("ascii", "ignore").decode()
    batch.add(
        Practitioner.__table__,
        {
            "id": pid,
            "user_id": None,
            "email": f"{slug}.{pid}@demo.example.org",
            "display_name": f"{first} {last}",
            "practice_name": practice,
            "bio": bio,
            "phone": phone,
            "website": f"https://{slug}.example.com" if rng.random() < 0.35 else "",
            "show_email": rng.random() < 0.3,
            "accepting_new_patients": rng.random() < 0.8,
            "session_minutes": minutes,
            "fee_min": fee_min,
            "fee_max": fee_min + rng.randrange(0, 50, 5),
            "currency": currency,
            "languages": ", ".join(languages),
            "wheelchair_accessible": rng.random() < 0.4,
            "published": published,
            "suspended": False,
            "suspension_reason": "",
            "created_at": ref["now"],
            "updated_at": ref["now"],
        },
    )
    spread = min(20.0, 2.0 + math.sqrt(town["population"]) / 150)
    lat, lon = _jitter(rng, town["lat"], town["lon"], spread)
    n_locations = rng.choices([1, 2, 3], weights=[88, 10, 2])[0]
    locations = []
    for i in range(n_locations):
        if i:
            lat, lon = _jitter(rng, town["lat"], town["lon"], spread + 25)
        locations.append(
            {
                "id": ids.take(PracticeLocation),
                "practitioner_id": pid,
                "label": "" if n_locations == 1 else f"Clinic {i + 1}",
                "address": _address(rng, cc),
                "city": town["name"],
                "region": region,
                "postal_code": zip_code,
                "country": cc,
                "latitude": lat,
                "longitude": lon,
            }
        )
        batch.add(PracticeLocation.__table__, locations[-1])
    group = "NA" if cc in ("US", "CA") else "UK" if cc in ("GB", "IE") else "OTHER"
    roll, held = rng.random() * 100, None
    for body_slug, credential, share in CREDENTIAL_MIX[group]:
        if roll < share:
            held = (body_slug, credential)
            break
        roll -= share
    training_key = None
    credentials = []
    if held:
        body_slug, credential = held
        status, expires_on, verified = _credential_status(rng, ref["today"])
        credentials.append((status, expires_on))
        batch.add(
            Certification.__table__,
            {
                "id": ids.take(Certification),
                "practitioner_id": pid,
                "body_id": ref["bodies"][body_slug],
                "credential": credential,
                "credential_number": f"{body_slug[:2].upper()}-{rng.randint(10000, 99999)}",
                "issued_on": ref["today"] - timedelta(days=rng.randint(400, 6000)),
                "expires_on": expires_on,
                "status": status,
                "created_at": ref["now"],
                "verified_at": ref["now"] if verified or status == VerificationStatus.REJECTED else None,
                "verified_by_id": None,
                "verification_source": "demo register" if verified else "",
                "verification_note": "",
                "rejection_reason": "The certifying body has no record of this number."
                if status == VerificationStatus.REJECTED
                else "",
                "evidence_path": "",
                "evidence_name": "",
                "evidence_mimetype": "",
                "expiry_warning_sent_for": None,
                "expiry_notice_sent_for": None,
            },
        )
        training_key = credential if body_slug == "upledger" else f"{body_slug}:{credential}"
    # These rows bypass the ORM: they get what the flush hook would copy onto each location.
    practitioner = batch.rows[Practitioner.__table__][-1]
    copies = search_copies(
        condition_bits=bits,
        published=practitioner["published"],
        suspended=practitioner["suspended"],
        accepting=practitioner["accepting_new_patients"],
        languages=practitioner["languages"],
        verified_until=last_verified_day(credentials),
    )
    for location in locations:
        location.update(copies)
    if not details:
        return
    completed = ref["today"] - timedelta(days=rng.randint(500, 7000))
    for course, hours in TRAININGS[training_key]:
        batch.add(
            Training.__table__,
            {
                "id": ids.take(Training),
                "practitioner_id": pid,
                "course": course,
                "provider": TRAINING_PROVIDER[training_key],
                "hours": hours,
                "completed_on": completed,
            },
        )
        completed += timedelta(days=rng.randint(60, 400))
    if rng.random() < 0.6:
        profession = rng.choice(LICENSES)
        batch.add(
            ProfessionalLicense.__table__,
            {
                "id": ids.take(ProfessionalLicense),
                "practitioner_id": pid,
                "profession": profession,
                "jurisdiction": region or get_gazetteer().country_name(cc),
                "number": f"{profession}-{rng.randint(100000, 999999)}",
                "expires_on": None,
            },
        )


def _reset_sequences() -> None:
    """After explicit ids, move PostgreSQL's sequences past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (Practitioner, PracticeLocation, Certification, Training, ProfessionalLicense):
        name = model.__tablename__
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608  (table names are ours)
                f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
            )
        )


def seed_demo(count: int = 2000, seed: int = 1, details: bool = True) -> int:
    """Add `count` demo practitioners (the hand-made showcase ones first); returns how many.

    `details=False` leaves out trainings and licences (the search benchmark needs neither).
    """
    rng = random.Random(seed)
    made = seed_showcase(limit=count)
    ref = {
        "now": utcnow(),
        "today": today(),
        "first": {k: v.split() for k, v in FIRST_NAMES.items()},
        "last": {k: _names(v) for k, v in LAST_NAMES.items()},
        "conditions": [(c.id, c.bit) for c in db.session.execute(select(Condition).order_by(Condition.bit)).scalars()],
        "condition_names": {c.id: c.name for c in db.session.execute(select(Condition)).scalars()},
        "bodies": {b.slug: b.id for b in db.session.execute(select(CertifyingBody)).scalars()},
    }
    ids = _Ids(Practitioner, PracticeLocation, Certification, Training, ProfessionalLicense)
    remaining = count - made
    try:
        while remaining > 0:
            size = min(BATCH, remaining)
            batch = _Batch()
            for town in sample_towns(rng, size):
                _generate(rng, ids, batch, town, ref, details)
            batch.flush()
            remaining -= size
            made += size
        _reset_sequences()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return made


def _names(words: str) -> list[str]:
    """Split a name list, keeping Dutch particles with their name ("de Jong")."""
    names, particle = [], ""
    for word in words.split():
        if word in ("de", "van", "den", "der"):
            particle += word + " "
            continue
        names.append(particle + word)
        particle = ""
    return [n.replace("OBrien", "O'Brien") for n in names]


# --- Hand-made showcase practitioners --------------------------------------------------------

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
        "locations": [("1942 Broadway", "Boulder", "CO", "80302", "US", 40.0176, -105.2797)],
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
        "locations": [("214 W 29th Street", "New York", "NY", "10001", "US", 40.7484, -73.9956)],
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
        "locations": [("12 Upper Street", "London", "", "N1 0PQ", "GB", 51.5362, -0.1033)],
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
        "locations": [("100 King Street W", "Toronto", "ON", "M5X 1A9", "CA", 43.6487, -79.3817)],
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
        "certifications": [("csta-uk", "RCST", "verified", -30)],
        "trainings": "csta-uk:RCST",
        "license": None,
    },
]


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
        plain = {
            k: v
            for k, v in spec.items()
            if k not in {"conditions", "locations", "certifications", "trainings", "license"}
        }
        plain.setdefault("accepting_new_patients", True)
        p = Practitioner(published=True, **plain)
        p.conditions = [conditions[s] for s in spec["conditions"]]
        for address, city, region, postal_code, country, lat, lon in spec["locations"]:
            p.locations.append(
                PracticeLocation(
                    address=address,
                    city=city,
                    region=region,
                    postal_code=postal_code,
                    country=country,
                    latitude=lat,
                    longitude=lon,
                )
            )
        for body_slug, credential, status, expires_in_days in spec["certifications"]:
            cert = Certification(
                body=bodies[body_slug],
                credential=credential,
                credential_number=f"{body_slug[:2].upper()}-{20000 + made}",
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
                    profession=profession, jurisdiction=jurisdiction, number=f"{profession}-{40000 + made}"
                )
            )
        db.session.add(p)
        made += 1
    db.session.flush()
    return made
