"""Distances on the Earth's surface, and checking the points and radii clients send."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

from adapters.records import GeoPoint
from resolvers.errors import BadUserInput

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance by the haversine formula: within 0.5% of the ellipsoid, plenty
    for "stores near me"."""
    lat1, lat2 = radians(a.latitude), radians(b.latitude)
    dlat = lat2 - lat1
    dlon = radians(b.longitude - a.longitude)
    h = sin(dlat / 2) ** 2 + cos(lat1) * cos(lat2) * sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def checked_point(point: GeoPoint, argument: str = "near") -> GeoPoint:
    lat, lon = point.latitude, point.longitude
    # NaN fails both comparisons, so it is refused too.
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise BadUserInput(
            f"`{argument}` must have latitude in [-90, 90] and longitude in [-180, 180]",
            field=argument,
        )
    return point


def checked_radius(radius_km: float | None, default: float) -> float:
    if radius_km is None:
        return default
    if not 0.0 <= radius_km <= 20_100.0:  # half the Earth's circumference covers everything
        raise BadUserInput("`radiusKm` must be between 0 and 20100", field="radiusKm")
    return radius_km
