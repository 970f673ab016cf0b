"""Open311 over Signal93's services: the services (our categories), their definitions, the
requests (our reports, public fields only), their public updates, and a POST that goes through the
native intake. Raises :class:`Open311Error` with the spec's status for whatever a client controls."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from backend import export
from backend.directory.models import Category, Program
from backend.directory.services import list_categories
from backend.errors import DomainError
from backend.media import services as media_services
from backend.media.models import Media
from backend.open311 import spec
from backend.open311.models import Open311Client
from backend.reports.models import Report, Reporter, ReportEvent, format_reference, parse_reference
from backend.routing.services import Router

WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_DESCRIPTION = 4000


class Open311Error(Exception):
    """What a client gets in the spec's error shape: ``[{"code", "description"}]``."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


# --- services ---------------------------------------------------------------------------------


def service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or "",
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ",".join(category.keywords or []),
        "group": category.program.name,
    }


def list_services(
    session: Session, router: Router, lat: float | None = None, long: float | None = None
) -> list[dict[str, Any]]:
    """One service per active category; with ``lat``/``long``, only those routed to someone there."""
    categories = list_categories(session)
    if lat is None or long is None:
        return [service(c) for c in categories]
    table = router.table(session)
    found = []
    for category in categories:
        try:
            table.route(long, lat, category.program.code, category.code)
        except DomainError:
            continue  # outside the territory, or no rule for it there
        found.append(service(category))
    return found


def service_definition(session: Session, code: str) -> dict[str, Any]:
    category = session.scalar(select(Category).where(Category.code == code, Category.active.is_(True)))
    if category is None:
        raise Open311Error(404, f"unknown service_code: {code}")
    attributes = []
    for definition in sorted(category.attributes or [], key=lambda d: d.get("order", 0)):
        datatype = definition["datatype"]
        attributes.append(
            {
                "variable": True,
                "code": definition["code"],
                "datatype": datatype,
                "required": bool(definition.get("required")),
                "datatype_description": _datatype_description(definition),
                "order": definition.get("order", 0),
                "description": definition.get("description", ""),
                "values": [{"key": v["key"], "name": v["name"]} for v in definition.get("values") or []],
            }
        )
    return {"service_code": category.code, "attributes": attributes}


def _datatype_description(definition: dict[str, Any]) -> str | None:
    if definition["datatype"] != "number":
        return None
    low, high = definition.get("min"), definition.get("max")
    kind = "A whole number" if definition.get("integer") else "A number"
    if low is not None and high is not None:
        return f"{kind} from {low:g} to {high:g}"
    return kind


# --- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    page: int = 1
    page_size: int = MAX_RESULTS
    extensions: bool = False


_COLUMNS = (
    Report.id,
    Report.received_at,
    Report.updated_at,
    Report.due_at,
    Report.status,
    Report.description,
    Report.description_public,
    Report.routing,
    Report.public_lon,
    Report.public_lat,
    Report.sensitive,
    Category.code,
    Category.name,
    Program.code,
)


def search_requests(session: Session, query: RequestQuery, *, now: datetime, base_url: str) -> list[dict[str, Any]]:
    """The requests a GET asks for, newest first: by id (overriding the rest), or by services,
    statuses and a window of at most 90 days (the last 90 by default); at most 1,000."""
    statement = (
        select(*_COLUMNS)
        .join(Category, Category.id == Report.category_id)
        .join(Program, Program.id == Report.program_id)
        .order_by(Report.received_at.desc(), Report.id.desc())
    )
    if query.ids:
        wanted = {parsed for reference in query.ids if (parsed := parse_reference(reference))}
        if not wanted:
            return []
        statement = statement.where(Report.id.in_([report_id for _, report_id in wanted])).limit(MAX_RESULTS)
        rows = [row for row in session.execute(statement) if (row.received_at.year, row.id) in wanted]
    else:
        end = query.end or now
        start = query.start or end - WINDOW
        if start > end:
            raise Open311Error(400, "start_date is after end_date")
        if end - start > WINDOW:
            raise Open311Error(400, "start_date and end_date may not be more than 90 days apart")
        statement = statement.where(Report.received_at >= start, Report.received_at <= end)
        if query.service_codes:
            statement = statement.where(Category.code.in_(query.service_codes))
        if query.statuses:
            statement = statement.where(Report.status.in_(query.statuses))
        if query.updated_after:
            statement = statement.where(Report.updated_at >= query.updated_after)
        if query.updated_before:
            statement = statement.where(Report.updated_at <= query.updated_before)
        statement = statement.limit(query.page_size).offset((query.page - 1) * query.page_size)
        rows = session.execute(statement).all()
    return _requests(session, rows, base_url=base_url, extensions=query.extensions)


def _requests(session: Session, rows: list[Any], *, base_url: str, extensions: bool) -> list[dict[str, Any]]:
    ids = [row.id for row in rows]
    notes = _public_notes(session, ids)
    photos = _public_photos(session, ids, {row.id for row in rows if row.sensitive})
    names = _reporter_names(session, [row.id for row in rows if row.description_public])
    out = []
    for row in rows:
        routing = row.routing or {}
        referred = routing.get("referred_to")
        commune = next((z for z in routing.get("zones", []) if z.get("kind") == "commune"), None)
        report_notes = notes.get(row.id, [])
        report_photos = photos.get(row.id, [])
        description = export.scrub(row.description, names.get(row.id, ())) if row.description_public else None
        request = {
            "service_request_id": format_reference(row.received_at, row.id),
            "status": spec.spec_status(row.status),
            "status_notes": report_notes[-1]["text"] if report_notes else None,
            "service_name": row.name,
            "service_code": row.code,
            "description": description or None,
            "agency_responsible": (referred or routing.get("directorate") or {}).get("name"),
            "service_notice": routing.get("message"),
            "requested_datetime": spec.moment(row.received_at),
            "updated_datetime": spec.moment(row.updated_at),
            "expected_datetime": spec.moment(row.due_at),
            "address": commune.get("name") if commune else None,
            "address_id": None,
            "zipcode": None,
            "lat": row.public_lat,
            "long": row.public_lon,
            "media_url": f"{base_url}{report_photos[0]['url']}" if report_photos else None,
        }
        if extensions:
            request["extended_attributes"] = {
                "program": row[13],
                "directorate": (routing.get("directorate") or {}).get("code"),
                "unit": (routing.get("unit") or {}).get("name"),
                "referral": referred.get("name") if referred else None,
                "location_generalised": bool(row.sensitive),
                "notes": report_notes,
                "photos": [{**photo, "url": f"{base_url}{photo['url']}"} for photo in report_photos],
            }
        out.append(request)
    return out


def _public_notes(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    notes: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return notes
    events = session.execute(
        select(ReportEvent.report_id, ReportEvent.at, ReportEvent.data)
        .where(ReportEvent.report_id.in_(ids), ReportEvent.public.is_(True))
        .order_by(ReportEvent.id)
    )
    for report_id, at, data in events:
        if (data or {}).get("note"):
            notes.setdefault(report_id, []).append({"datetime": spec.moment(at), "text": data["note"]})
    return notes


def _public_photos(session: Session, ids: list[int], sensitive: set[int]) -> dict[int, list[dict[str, Any]]]:
    photos: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return photos
    for media in session.scalars(
        select(Media).where(Media.report_id.in_(ids), Media.kind == "photo").order_by(Media.id)
    ):
        if media_services.is_public(media, sensitive=media.report_id in sensitive):
            display = media.derivatives.get("display", {})
            photos.setdefault(media.report_id, []).append(
                {
                    "url": f"/api/v1/media/{media.id}/display",
                    "thumbnail": f"/api/v1/media/{media.id}/thumb",
                    "width": display.get("width"),
                    "height": display.get("height"),
                }
            )
    return photos


def _reporter_names(session: Session, ids: list[int]) -> dict[int, tuple[str, ...]]:
    if not ids:
        return {}
    rows = session.execute(select(Reporter.report_id, Reporter.name).where(Reporter.report_id.in_(ids)))
    return {report_id: (name,) for report_id, name in rows if name}


def request_updates(session: Session, start: datetime | None, end: datetime | None, *, now: datetime) -> list[dict]:
    """mySociety's extension: the public status changes and notes in a window (90 days at most)."""
    end = end or now
    start = start or end - timedelta(days=1)
    if start > end:
        raise Open311Error(400, "start_date is after end_date")
    if end - start > WINDOW:
        raise Open311Error(400, "start_date and end_date may not be more than 90 days apart")
    rows = session.execute(
        select(ReportEvent.id, ReportEvent.at, ReportEvent.kind, ReportEvent.data, Report.id, Report.received_at)
        .join(Report, Report.id == ReportEvent.report_id)
        .where(
            ReportEvent.public.is_(True),
            ReportEvent.kind.in_(("status", "note")),
            and_(ReportEvent.at >= start, ReportEvent.at <= end),
        )
        .order_by(ReportEvent.at, ReportEvent.id)
        .limit(MAX_RESULTS)
    )
    updates = []
    for event_id, at, _kind, data, report_id, received_at in rows:
        status = (data or {}).get("status")
        updates.append(
            {
                "update_id": str(event_id),
                "service_request_id": format_reference(received_at, report_id),
                "status": spec.spec_status(status) if status else None,
                "updated_datetime": spec.moment(at),
                "description": (data or {}).get("note") or "",
                "media_url": None,
            }
        )
    return updates


# --- the write API ----------------------------------------------------------------------------


def idempotency_key_of(client: Open311Client, device_id: str, form: list[tuple[str, str]], files: Any, day: str) -> str:
    """The same device sending the same body on the same day is the same request (a retry)."""
    digest = hashlib.sha256(json.dumps([client.id, device_id, sorted(form), day]).encode())
    for name in sorted(files):
        for received in files[name]:
            digest.update(bytes.fromhex(received.sha256))
    return "open311:" + digest.hexdigest()


def channel(client: Open311Client, media_url: str | None) -> dict[str, str]:
    """What the trail keeps of how a report came in: the client's name, and the ``media_url`` it
    gave (a link for the agents, never fetched)."""
    recorded = {"channel": "open311", "client": client.name}
    if media_url:
        recorded["media_url"] = media_url
    return recorded
