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


class QueryList(ma.fields.List):
    """A list in the query string, given as generated clients send it (``?status=a&status=b``,
    the OpenAPI default for an array), comma-separated (``?status=a,b``), or both."""

    MAX_ITEMS = 50

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        values = value if isinstance(value, list | tuple) else [value]
        parts = [part for item in values for part in (item.split(",") if isinstance(item, str) else [item])]
        if len(parts) > self.MAX_ITEMS:
            raise ma.ValidationError(f"at most {self.MAX_ITEMS} values")
        return super()._deserialize(parts, attr, data, **kwargs)


class _Computed:
    """A value that a method of the schema computes from the dumped object, documented as the
    typed field it is (``ma.fields.Method`` would document nothing)."""

    def __init__(self, *args: Any, method: str, **kwargs: Any):
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.method = method

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        value = getattr(self.parent, self.method)(obj)  # type: ignore[attr-defined]
        return self._serialize(value, attr, obj, **kwargs)  # type: ignore[attr-defined]


class ComputedNested(_Computed, ma.fields.Nested):
    """An object computed by ``method``, dumped by the nested schema."""


class ComputedList(_Computed, ma.fields.List):
    """A list computed by ``method``, each item dumped by the inner field."""


class ComputedDict(_Computed, ma.fields.Dict):
    """An object with free keys computed by ``method``."""


class ComputedString(_Computed, ma.fields.String):
    """A string computed by ``method``."""


class AttributeValue(ma.fields.Raw):
    """The value of a category's attribute, as its definition's datatype says (Open311): a
    string, a number, or a list of strings (``multivaluelist``). Checked against the
    definition by ``reports.attributes``."""

    def __init__(self, **kwargs: Any):
        metadata = {
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "array", "items": {"type": "string"}}],
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)


class ResponseSchema(ma.Schema):
    """The base of what the API answers: never loaded, so the document does not close it
    (``additionalProperties: false``): a client must tolerate fields added later."""

    class Meta:
        unknown = ma.EXCLUDE


class OpenNested(ma.fields.Nested):
    """A nested object whose keys the schema does not all name (a zone's own properties, from
    its source file): the named ones are dumped, the others kept as they are."""

    def _serialize(self, nested_obj: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        dumped = super()._serialize(nested_obj, attr, obj, **kwargs)
        if isinstance(nested_obj, dict) and isinstance(dumped, dict):
            return {**nested_obj, **dumped}
        return dumped
