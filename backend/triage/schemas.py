"""What agents read of a report (everything, contact only with consent) and what they send."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from backend.fields import (
    BBOX_METADATA,
    AttributeValue,
    BBoxField,
    ComputedList,
    ComputedNested,
    ComputedString,
    Moment,
    QueryList,
    ResponseSchema,
    VersionField,
)
from backend.pagination import DEFAULT_LIMIT, MAX_LIMIT
from backend.reports.models import PRIORITIES, PRIORITY_NAMES, STATUSES, format_reference
from backend.reports.schemas import (
    CodeNameSchema,
    MediaViewSchema,
    ReportPublicSchema,
    Seen,
    SimilarReportSchema,
    media_view,
)
from backend.triage.identification import VERDICTS
from backend.triage.moves import MAX_BULK
from backend.triage.queue import SORTS


class TransitionSchema(ma.Schema):
    to = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES))
    note = ma.fields.String(
        validate=ma.validate.Length(max=4000), metadata={"description": "Why (required to reject or refer)"}
    )
    note_public = ma.fields.Boolean(
        load_default=False, metadata={"description": "Show the note on the public timeline"}
    )
    duplicate_of = ma.fields.String(metadata={"description": "The original's reference, to mark a duplicate"})
    version = VersionField()


class AgentLocationSchema(ResponseSchema):
    lat = ma.fields.Float(required=True)
    lon = ma.fields.Float(required=True)
    accuracy_m = ma.fields.Float(allow_none=True, required=True)
    source = ma.fields.String(required=True, metadata={"enum": ["device", "exif"]})


class ContactSchema(ResponseSchema):
    name = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)


class AgentMediaSchema(MediaViewSchema):
    original_url = ma.fields.String(required=True)
    failure_reason = ma.fields.String(allow_none=True, required=True)


class TrailEventSchema(ResponseSchema):
    kind = ma.fields.String(required=True)
    at = ma.fields.DateTime(required=True)
    actor = ma.fields.String(attribute="actor_type", required=True, metadata={"enum": ["citizen", "agent", "system"]})
    actor_id = ma.fields.Integer(allow_none=True, required=True)
    public = ma.fields.Boolean(required=True)
    data = ma.fields.Dict(required=True)


class TriageReportSchema(ReportPublicSchema):
    """A report for an agent of its directorate: everything, the contact only with consent.
    Dumps a :class:`backend.triage.access.AgentReport` (its ETag: the version)."""

    location = ComputedNested(AgentLocationSchema, method="_exact_location", required=True)
    attributes = ma.fields.Dict(keys=ma.fields.String(), values=AttributeValue(), required=True)
    media = ComputedList(ma.fields.Nested(AgentMediaSchema), method="_agent_media", required=True)
    version = ma.fields.Integer(required=True)
    description = ma.fields.String(required=True)
    description_public = ma.fields.Boolean(
        required=True, metadata={"description": "Published in the open data (contacts and links scrubbed)"}
    )
    observed_at = ma.fields.DateTime(allow_none=True, required=True)
    reporter = ComputedNested(
        ContactSchema, method="_contact", allow_none=True, required=True, metadata={"description": "With consent only"}
    )
    trail = ma.fields.List(ma.fields.Nested(TrailEventSchema), attribute="events", required=True)
    allowed_moves = ma.fields.List(ma.fields.String(), required=True)
    priority = ComputedString(method="_priority", required=True, metadata={"enum": list(PRIORITIES)})
    assigned_agent_id = ma.fields.Integer(allow_none=True, required=True)

    @ma.pre_dump
    def _seen(self, read: Any, **kwargs: Any) -> Seen:
        return Seen(read.report, **{k: v for k, v in vars(read).items() if k != "report"})

    def _exact_location(self, report: Any) -> dict[str, Any]:
        return {"lat": report.lat, "lon": report.lon, "accuracy_m": report.accuracy_m, "source": report.location_source}

    def _agent_media(self, report: Any) -> list[dict[str, Any]]:
        return [
            {
                **media_view(m, sensitive=report.sensitive),
                "original_url": f"/api/v1/triage/media/{m.id}/original",
                "failure_reason": m.failure_reason,
            }
            for m in report.media
        ]

    def _contact(self, report: Any) -> Any:
        contact = report.reporter
        return contact if contact is not None and contact.consent_contact else None

    def _priority(self, report: Any) -> str:
        return PRIORITY_NAMES[report.priority]


class TriageReportDetailSchema(TriageReportSchema):
    """A report read by an agent: also the open reports of its category nearby."""

    nearby_open_reports = ma.fields.List(ma.fields.Nested(SimilarReportSchema), required=True)


class QueueFilterSchema(ma.Schema):
    """What selects and orders the queue's reports (the CSV export takes only these)."""

    status = QueryList(
        ma.fields.String(validate=ma.validate.OneOf(STATUSES)),
        metadata={"description": "One or more statuses: repeated (status=open&status=acknowledged) or comma-separated"},
    )
    category = ma.fields.String()
    program = ma.fields.String()
    unit = ma.fields.String()
    commune = ma.fields.String(
        validate=ma.validate.Regexp(r"^(?:[0-9]{5}|2[AB][0-9]{3})\Z", error="not an INSEE commune code (93001, say)"),
        metadata={"description": "INSEE code", "example": "93001"},
    )
    bbox = BBoxField(metadata=BBOX_METADATA)
    received_from = Moment()
    received_to = Moment()
    overdue = ma.fields.Boolean(metadata={"description": "past the category's target time, still open"})
    has_media = ma.fields.Boolean()
    q = ma.fields.String(
        validate=ma.validate.Length(min=2, max=200), metadata={"description": "text in the description"}
    )
    assigned = ma.fields.String(metadata={"description": "me, nobody, or an agent's e-mail"})
    sort = ma.fields.String(load_default="received", validate=ma.validate.OneOf(list(SORTS)))


class QueueQuerySchema(QueueFilterSchema):
    """A page of the queue: the filters and order, and the page's own."""

    counts = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "Count per status under the filters (false: a faster page, for scrolling)"},
    )
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT, validate=ma.validate.Range(1, MAX_LIMIT))
    cursor = ma.fields.String()


def queue_item(row: Any) -> dict[str, Any]:
    """A queue row (:data:`backend.triage.queue.QUEUE_COLUMNS`) as :class:`QueueItemSchema`
    declares it, built by hand: a page of 50 is read at every scroll of every agent, and the
    queue's benchmark (``bench/queue.py``) has no room for a schema's dump per row. A test checks
    that the schema's dump of each item is the item itself."""
    (
        report_id,
        received_at,
        status,
        due_at,
        commune,
        support_count,
        priority,
        assigned_agent_id,
        lat,
        lon,
        version,
        category_code,
        category_name,
        program,
        unit,
    ) = row
    return {
        "reference": format_reference(received_at, report_id),
        "status": status,
        "category": {"code": category_code, "name": category_name},
        "program": program,
        "received_at": received_at,  # written by the JSON provider, as isoformat() would
        "due_at": due_at,
        "commune": commune,
        "unit": unit,
        "support_count": support_count,
        "priority": PRIORITY_NAMES[priority],
        "assigned_agent_id": assigned_agent_id,
        "location": {"lat": lat, "lon": lon},
        "version": version,
    }


class PointSchema(ResponseSchema):
    lat = ma.fields.Float(required=True)
    lon = ma.fields.Float(required=True)


class QueueItemSchema(ResponseSchema):
    """A report in the queue (what the list shows; read the report for the rest)."""

    reference = ma.fields.String(required=True, metadata={"example": "S93-2026-000123"})
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES)})
    category = ma.fields.Nested(CodeNameSchema, required=True)
    program = ma.fields.String(required=True)
    received_at = ma.fields.DateTime(required=True)
    due_at = ma.fields.DateTime(allow_none=True, required=True)
    commune = ma.fields.String(allow_none=True, required=True, metadata={"description": "INSEE code"})
    unit = ma.fields.String(allow_none=True, required=True)
    support_count = ma.fields.Integer(required=True)
    priority = ma.fields.String(required=True, metadata={"enum": list(PRIORITIES)})
    assigned_agent_id = ma.fields.Integer(allow_none=True, required=True)
    location = ma.fields.Nested(PointSchema, required=True)
    version = ma.fields.Integer(required=True)


class QueuePageSchema(ResponseSchema):
    items = ma.fields.List(ma.fields.Nested(QueueItemSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)
    counts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        allow_none=True,
        required=True,
        metadata={"description": "Reports per status under the filters (null with counts=false)"},
    )


class BulkResultSchema(ResponseSchema):
    changed = ma.fields.List(ma.fields.Nested(QueueItemSchema), required=True)


class WeekSchema(ResponseSchema):
    week = ma.fields.String(required=True, metadata={"description": "Its Monday (Paris time), YYYY-MM-DD"})
    received = ma.fields.Integer(required=True)
    resolved = ma.fields.Integer(required=True)


class StatsSchema(ResponseSchema):
    since = ma.fields.String(required=True)
    until = ma.fields.String(required=True)
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    by_category = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    by_unit = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    by_directorate = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    median_hours_to_acknowledge = ma.fields.Float(allow_none=True, required=True)
    p90_hours_to_acknowledge = ma.fields.Float(allow_none=True, required=True)
    median_hours_to_resolve = ma.fields.Float(allow_none=True, required=True)
    p90_hours_to_resolve = ma.fields.Float(allow_none=True, required=True)
    overdue = ma.fields.Integer(required=True, metadata={"description": "Still open past their category's target"})
    weeks = ma.fields.List(ma.fields.Nested(WeekSchema), required=True)


class NoteSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4000))
    public = ma.fields.Boolean(load_default=False, metadata={"description": "Shown on the public timeline"})


class AssignmentSchema(ma.Schema):
    agent = ma.fields.String(allow_none=True, metadata={"description": "E-mail, or null for nobody"})
    unit = ma.fields.String(metadata={"description": "A unit of the report's directorate, e.g. DVD-T8"})
    version = VersionField()

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if "agent" not in data and "unit" not in data:
            raise ma.ValidationError({"agent": ["give an agent (or null), a unit, or both"]})


class PrioritySchema(ma.Schema):
    priority = ma.fields.String(required=True, validate=ma.validate.OneOf(list(PRIORITIES)))
    version = VersionField()


class DescriptionPublicationSchema(ma.Schema):
    publishable = ma.fields.Boolean(
        required=True, metadata={"description": "true: the description goes into the open data, scrubbed"}
    )
    version = VersionField()


class IdentificationReviewSchema(ma.Schema):
    verdict = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(VERDICTS),
        metadata={"description": "confirmed, corrected (name the right `species`) or unverifiable"},
    )
    species = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={
            "description": "For a correction: the scientific name of the right species",
            "example": "Ixobrychus minutus",
        },
    )
    note = ma.fields.String(
        load_default="", validate=ma.validate.Length(max=4000), metadata={"description": "Internal: for the trail"}
    )
    version = VersionField()


class RerouteSchema(ma.Schema):
    unit = ma.fields.String(required=True, metadata={"description": "The unit that takes the report, e.g. DEA-T6"})
    note = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4000))
    version = VersionField()


class StatsQuerySchema(ma.Schema):
    since = Moment(metadata={"description": "default: 30 days ago"})
    until = Moment(metadata={"description": "default: now"})


class BulkSchema(ma.Schema):
    references = ma.fields.List(ma.fields.String(), required=True, validate=ma.validate.Length(min=1, max=MAX_BULK))
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(["transition", "assign", "priority"]))
    to = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    priority = ma.fields.String(
        validate=ma.validate.OneOf(list(PRIORITIES)), metadata={"description": "For priority: the new priority"}
    )
    note = ma.fields.String(validate=ma.validate.Length(max=4000))
    note_public = ma.fields.Boolean(load_default=False)
    agent = ma.fields.String(allow_none=True, metadata={"description": "For assign: an e-mail, or null"})
    unit = ma.fields.String(metadata={"description": "For assign: a unit of the reports' directorate"})

    @ma.validates_schema
    def _complete(self, data, **kwargs):
        if data["action"] == "transition" and not data.get("to"):
            raise ma.ValidationError({"to": ["required to move reports"]})
        if data["action"] == "assign" and "agent" not in data and "unit" not in data:
            raise ma.ValidationError({"agent": ["to assign reports: an agent (null for nobody), a unit, or both"]})
        if data["action"] == "priority" and not data.get("priority"):
            raise ma.ValidationError({"priority": ["required to set the reports' priority"]})
