"""Marshmallow fields the HTTP layer shares: strict numbers and booleans, bounding boxes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma

from backend.db import INT_MAX


class StrictFloat(ma.fields.Float):
    """A JSON number: refuses strings, booleans, NaN and infinities."""

    def __init__(self, **kwargs: Any):
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class VersionField(ma.fields.Integer):
    """The version of a report a change was made on: a JSON integer from 1 to what the column holds."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("metadata", {"description": "The version you changed (or If-Match with the ETag)"})
        super().__init__(strict=True, validate=ma.validate.Range(1, INT_MAX), **kwargs)


class Moment(ma.fields.AwareDateTime):
    """An ISO 8601 date and time with its offset, that UTC can express (``0001-01-01T00:00+14:00``
    cannot: it would be a database error, not a 422)."""

    def __init__(self, **kwargs: Any):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment.astimezone(UTC)
        except OverflowError:
            raise ma.ValidationError("out of range once in UTC") from None
        return moment


class StrictBoolean(ma.fields.Boolean):
    """A JSON true or false, nothing else ("yes", 1…)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class BBoxField(ma.fields.Field):
    """``min_lon,min_lat,max_lon,max_lat`` in WGS84 degrees."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[float, ...]:
        parts = str(value).split(",")
        if len(parts) != 4:
            raise ma.ValidationError("expected min_lon,min_lat,max_lon,max_lat")
        try:
            numbers = tuple(float(p) for p in parts)
        except ValueError:
            raise ma.ValidationError("expected four numbers: min_lon,min_lat,max_lon,max_lat") from None
        if not all(math.isfinite(n) for n in numbers):
            raise ma.ValidationError("coordinates must be finite numbers")
        min_lon, min_lat, max_lon, max_lat = numbers
        if not all(-180 <= lon <= 180 for lon in (min_lon, max_lon)) or not all(
            -90 <= lat <= 90 for lat in (min_lat, max_lat)
        ):
            raise ma.ValidationError("longitudes must be within [-180, 180] and latitudes within [-90, 90]")
        if min_lon > max_lon or min_lat > max_lat:
            raise ma.ValidationError("the minimum must come before the maximum")
        return numbers


BBOX_METADATA = {
    "description": "Only what meets min_lon,min_lat,max_lon,max_lat (WGS84)",
    "example": "2.40,48.88,2.45,48.92",
    "type": "string",
}
