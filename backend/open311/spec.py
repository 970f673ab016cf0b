"""GeoReport v2's vocabulary, pure: our statuses as open/closed, the documents' element names, and
each resource written as the spec's XML or as its JSON (lists as bare top-level arrays)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

# Our workflow in the spec's two words (ARCHITECTURE.md §3).
OPEN_STATUSES = ("received", "open", "acknowledged", "in_progress")
CLOSED_STATUSES = ("resolved", "rejected", "duplicate", "referred")
LOCAL_TIME = ZoneInfo("Europe/Paris")
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json"

# What XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/U+FFFF): written as U+FFFD,
# so that a stored oddity never makes a document no parser reads.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# The element each list's items take in XML (the spec's names).
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "service_requests_updates": "request_update",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "notes": "note",
    "photos": "photo",
}


def spec_status(status: str) -> str:
    return "open" if status in OPEN_STATUSES else "closed"


def statuses_of(spec: str) -> tuple[str, ...]:
    return OPEN_STATUSES if spec == "open" else CLOSED_STATUSES


def moment(value: datetime | None) -> str | None:
    """A W3C datetime with its offset, in Paris time."""
    if value is None:
        return None
    return value.astimezone(LOCAL_TIME).isoformat(timespec="seconds")


def xml_document(root: str, items: Iterable[dict[str, Any]] | dict[str, Any]) -> bytes:
    """``root`` holding each item (a list) or the fields of one object (a dict), as the spec's XML
    (declaration with its encoding, no namespace)."""
    element = ElementTree.Element(root)
    if isinstance(items, dict):
        _fill(element, items)
    else:
        name = ITEMS[root]
        for item in items:
            _fill(ElementTree.SubElement(element, name), item)
    return ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)


def _fill(element: ElementTree.Element, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        child = ElementTree.SubElement(element, key)
        _value(child, key, value)


def _value(element: ElementTree.Element, key: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        _fill(element, value)
    elif isinstance(value, list):
        name = ITEMS.get(key, "item")
        for item in value:
            _value(ElementTree.SubElement(element, name), name, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = _NOT_XML.sub("\ufffd", str(value))


class BadRequest(ValueError):
    """A request the spec's 400 answers, with what is wrong."""


MAX_MEDIA_URL = 2000


def request_payload(
    form: list[tuple[str, str]], definitions: list[dict[str, Any]]
) -> tuple[dict[str, Any], str | None]:
    """A POST's form fields as the native API's report (and the ``media_url`` given, if any):
    ``attribute[code]=v`` and ``attribute[code][]=v`` (a multivaluelist) as attributes, typed as
    the category defines them. Raises :class:`BadRequest` for what cannot be a report."""
    fields: dict[str, str] = {}
    attributes: dict[str, Any] = {}
    by_code = {d["code"]: d for d in definitions}
    for name, value in form:
        if name.startswith("attribute[") and name.endswith("]"):
            code, many = name[len("attribute[") : -1], False
            if code.endswith("][]") or name.endswith("[]"):
                code, many = name[len("attribute[") : -len("][]")], True
            definition = by_code.get(code)
            if definition is None:
                raise BadRequest(f"attribute[{code}]: not an attribute of this service")
            if many or definition["datatype"] == "multivaluelist":
                attributes.setdefault(code, []).append(value)
            elif definition["datatype"] == "number":
                attributes[code] = _number(value, code)
            elif value != "":
                attributes[code] = value
        elif value != "":
            fields[name] = value
    payload: dict[str, Any] = {"category": fields.get("service_code", ""), "attributes": attributes}
    if "lat" in fields or "long" in fields:
        payload["location"] = {
            "lat": _number(fields.get("lat", ""), "lat"),
            "lon": _number(fields.get("long", ""), "long"),
        }
    elif "address_string" in fields:
        raise BadRequest("address_string alone cannot be placed: send lat and long (Signal93 routes by position)")
    else:
        raise BadRequest("lat and long are required")
    if "description" in fields:
        payload["description"] = fields["description"]
    name = " ".join(part for part in (fields.get("first_name"), fields.get("last_name")) if part)
    contact = {"name": name, "email": fields.get("email"), "phone": fields.get("phone")}
    contact = {key: value for key, value in contact.items() if value}
    if contact:
        payload["reporter"] = contact
    media_url = fields.get("media_url")
    if media_url is not None and (not media_url.startswith(("http://", "https://")) or len(media_url) > MAX_MEDIA_URL):
        raise BadRequest("media_url: an http(s) URL of at most 2,000 characters")
    return payload, media_url


def _number(text: str, name: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name}: not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadRequest(f"{name}: not a number")
    return int(value) if value.is_integer() and abs(value) < 2**53 else value
