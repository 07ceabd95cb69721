"""The IANA time zone of a place, offline, from its coordinates (timezonefinder's bundled data).

The finder loads its data once per process (about half a second), on first use; `preload()` lets
a server do it at start.
"""

from __future__ import annotations

import functools

# For coordinates out of range (the data itself covers the oceans with Etc/GMT zones).
FALLBACK = "UTC"


@functools.cache
def _finder():
    from timezonefinder import TimezoneFinder

    return TimezoneFinder(in_memory=True)


def preload() -> None:
    """Load the time zone data now rather than on the first lookup."""
    _finder()


def time_zone_at(latitude: float, longitude: float) -> str:
    """The IANA time zone name at a point ("America/Denver"), or "UTC" where none is known."""
    try:
        return _finder().timezone_at(lat=latitude, lng=longitude) or FALLBACK
    except ValueError:  # coordinates out of range
        return FALLBACK
