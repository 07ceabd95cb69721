"""A real geopy service (Nominatim or the operator's choice), rate-limited, its answers cached in the database."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders.base import Geocoder
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from directory.geocoding.places import Place, normalize


class CachedServiceGeocoder:
    """A real geopy service behind geopy's RateLimiter, with answers cached in the database.

    The cache reads and writes on connections of its own: a lookup never flushes nor commits
    the caller's session, so an edit refused after a lookup leaves nothing behind.
    """

    def __init__(self, name: str, geocoder: Geocoder, min_delay_seconds: float) -> None:
        self.name = name
        self.geocoder = geocoder
        # Errors are not swallowed here: lookup() must not cache a failure as "not found".
        self._geocode = RateLimiter(
            geocoder.geocode,
            min_delay_seconds=min_delay_seconds,
            max_retries=1,
            swallow_exceptions=False,
        )

    def lookup(self, query: str) -> Place | None:
        """Ask the cache, then the service."""
        key = normalize(query)[:300]
        if not key:
            return None
        cached = self._cached(key)
        if cached is None:
            try:
                location = self._geocode(query, exactly_one=True, addressdetails=True)
            except GeopyError:
                current_app.logger.warning("geocoder %s failed for a query; not cached", self.name, exc_info=True)
                return None
            cached = {"found": location is not None, "address": "", "latitude": None, "longitude": None}
            if location is not None:
                cached.update(address=location.address[:500], latitude=location.latitude, longitude=location.longitude)
            self._remember(key, cached)
        if not cached["found"]:
            return None
        return Place(cached["address"], cached["latitude"], cached["longitude"])

    def _cached(self, key: str) -> dict | None:
        """The stored answer for a normalized query, or None when it was never asked."""
        from directory.extensions import db
        from directory.models import GeocodeCache

        table = GeocodeCache.__table__
        columns = (table.c.found, table.c.address, table.c.latitude, table.c.longitude)
        with db.engine.connect() as conn:
            row = conn.execute(sa.select(*columns).where(table.c.provider == self.name, table.c.query == key)).first()
        return dict(row._mapping) if row is not None else None

    def _remember(self, key: str, answer: dict) -> None:
        """Store an answer in its own transaction; the answer is used even when storing fails."""
        from directory.extensions import db
        from directory.models import GeocodeCache
        from directory.models.base import utcnow

        try:
            with db.engine.begin() as conn:
                conn.execute(
                    sa.insert(GeocodeCache.__table__).values(
                        provider=self.name, query=key, created_at=utcnow(), **answer
                    )
                )
        except IntegrityError:
            pass  # another request stored the same query first
        except SQLAlchemyError:
            current_app.logger.warning("geocoder %s: an answer could not be cached", self.name, exc_info=True)
