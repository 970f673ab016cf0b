"""A category's extra attributes (Open311 datatypes): checking the values a citizen sent. Pure."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

STRING_MAX, TEXT_MAX = 200, 4000
# The same rules as a report's observed_at (reports.intake).
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_AGE = timedelta(days=30)


def validate_attributes(
    definitions: list[dict[str, Any]],
    values: dict[str, Any],
    *,
    has_photo: bool = False,
    now: datetime | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check values against the category's attribute definitions (Open311 datatypes).

    A required attribute marked ``photo_may_replace`` (the species of a sighting) may be left out
    when the report comes with a photo: an agent identifies it from the photo. A datetime follows
    ``observed_at``'s rules when ``now`` is given: not in the future, at most 30 days old.
    Returns the cleaned values and the errors by attribute code.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    by_code = {d["code"]: d for d in definitions}
    for code in values:
        if code not in by_code:
            errors[code] = ["unknown attribute for this category"]
    for code, definition in by_code.items():
        value = values.get(code)
        if value is None or value == "" or value == []:
            if definition.get("required") and not (has_photo and definition.get("photo_may_replace")):
                errors[code] = [
                    "is required (or send a photo)" if definition.get("photo_may_replace") else "is required"
                ]
            continue
        problem = attribute_problem(definition, value, now)
        if problem:
            errors[code] = [problem]
        else:
            cleaned[code] = value
    return cleaned, errors


def attribute_problem(definition: dict[str, Any], value: Any, now: datetime | None = None) -> str | None:
    datatype = definition["datatype"]
    keys = {v["key"] for v in definition.get("values", [])}
    if datatype == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return "must be a number"
        if definition.get("integer") and value != int(value):
            return "must be a whole number"
        low, high = definition.get("min"), definition.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            return f"must be between {_number(low)} and {_number(high)}"
    elif datatype in ("string", "text"):
        limit = STRING_MAX if datatype == "string" else TEXT_MAX
        if not isinstance(value, str):
            return "must be a string"
        if len(value) > limit:
            return f"must be at most {limit} characters"
    elif datatype == "datetime":
        if not isinstance(value, str):
            return "must be an ISO 8601 date-time with a time zone"
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return "must be an ISO 8601 date-time with a time zone"
        if parsed.tzinfo is None:
            return "must include a time zone offset"
        try:
            parsed = parsed.astimezone(UTC)  # 0001-01-01T00:00+14:00 has no UTC time
        except OverflowError:
            return "is not a date any report can have"
        if now is not None and parsed > now + MAX_CLOCK_SKEW:
            return "is in the future"
        if now is not None and parsed < now - MAX_AGE:
            return "is more than 30 days old"
    elif datatype == "singlevaluelist":
        if not isinstance(value, str) or value not in keys:
            return "must be one of the allowed values"
    elif datatype == "multivaluelist":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "must be a list of allowed values"
        if not set(value) <= keys:
            return "contains values that are not allowed"
        if len(set(value)) != len(value):
            return "contains a value twice"
    return None


def _number(bound: float | None) -> str:
    if bound is None:
        return "any"
    return str(int(bound)) if float(bound).is_integer() else str(bound)
