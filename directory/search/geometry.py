"""Distances and the boxes around a search circle, in plain Python (the SQL uses the same formula).

A circle's candidates are read from the covering index as one longitude range in each 0.1°
latitude band of its bounding box; a count needs no distance for the points of its inscribed box.
"""

from __future__ import annotations

import math

from directory.models.practitioners import band_of

# geopy's great_circle uses the same mean Earth radius.
EARTH_RADIUS_KM = 6371.009

# An empty box (its low ends above its high ends): no point is in it.
NO_BOX = (1.0, 0.0, 1.0, 0.0)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km, the same formula the SQL uses."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, list[tuple[float, float]]]:
    """Latitude range and longitude ranges that contain every point within radius_km.

    Handles the poles (the whole longitude circle) and the ±180° meridian (two ranges).
    """
    delta = math.degrees(radius_km / EARTH_RADIUS_KM)
    min_lat, max_lat = lat - delta, lat + delta
    if max_lat >= 90 or min_lat <= -90:
        return max(min_lat, -90.0), min(max_lat, 90.0), [(-180.0, 180.0)]
    dlon = math.degrees(math.asin(min(1.0, math.sin(math.radians(delta)) / math.cos(math.radians(lat)))))
    # A little slack against rounding at the edge of the box; the exact distance decides.
    dlon += 1e-9
    min_lon, max_lon = lon - dlon, lon + dlon
    if min_lon < -180:
        return min_lat, max_lat, [(min_lon + 360, 180.0), (-180.0, max_lon)]
    if max_lon > 180:
        return min_lat, max_lat, [(min_lon, 180.0), (-180.0, max_lon - 360)]
    return min_lat, max_lat, [(min_lon, max_lon)]


def inner_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float] | None:
    """A latitude/longitude box wholly inside the circle (its points need no distance), or None.

    None near the poles and the ±180° meridian, where every candidate gets the exact distance.
    """
    delta = radius_km / EARTH_RADIUS_KM
    half_lat = math.degrees(delta) / math.sqrt(2)
    if abs(lat) + math.degrees(delta) > 80:
        return None
    target = math.sin(delta / 2) ** 2
    dlon = math.pi
    for corner in (lat - half_lat, lat + half_lat):
        rest = target - math.sin(math.radians(corner - lat) / 2) ** 2
        if rest <= 0:  # a radius too small for floating point: compute every distance
            return None
        scale = math.cos(math.radians(lat)) * math.cos(math.radians(corner))
        dlon = min(dlon, 2 * math.asin(min(1.0, math.sqrt(rest / scale))))
    # Shrink a little: rounding must never put a point of the box outside the circle.
    half_lat, dlon = half_lat * 0.999, math.degrees(dlon) * 0.999
    if lon - dlon < -180 or lon + dlon > 180:
        return None
    return lat - half_lat, lat + half_lat, lon - dlon, lon + dlon


def latitude_bands(min_lat: float, max_lat: float) -> list[int]:
    """The index's 0.1° latitude bands that a latitude range spans."""
    return list(range(band_of(min_lat), band_of(max_lat) + 1))
