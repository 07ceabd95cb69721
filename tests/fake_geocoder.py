"""A geopy geocoder that plays an online service: the tests select it with the setting users use,
`GEOCODER="tests.fake_geocoder:FakeOnlineGeocoder"`, and no request leaves the machine.
"""

from __future__ import annotations

from geopy.exc import GeocoderServiceError
from geopy.geocoders.base import Geocoder
from geopy.location import Location

SETTING = "tests.fake_geocoder:FakeOnlineGeocoder"


class FakeOnlineGeocoder(Geocoder):
    """Answers the queries in `ANSWERS` (label, latitude, longitude), None for any other.

    The app builds it without arguments, as it builds any configured geocoder class, so a test
    sets the class attributes: `ANSWERS`, `failing` (the service is down); `queries` records
    what was asked.
    """

    ANSWERS: dict[str, tuple[str, float, float]] = {}
    failing = False
    queries: list[str] = []

    def geocode(self, query, exactly_one=True, timeout=None, **kwargs):  # noqa: ARG002  (geopy's signature)
        """The known answer for the query, or None."""
        type(self).queries.append(query)
        if self.failing:
            raise GeocoderServiceError("service unavailable")
        found = self.ANSWERS.get(query)
        if found is None:
            return None
        location = Location(found[0], (found[1], found[2]), {})
        return location if exactly_one else [location]
