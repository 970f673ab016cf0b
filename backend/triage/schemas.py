"""What agents read of a report (everything, contact only with consent) and what they send."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from webargs.fields import DelimitedList

from backend.fields import BBOX_METADATA, BBoxField, Moment, VersionField
from backend.pagination import DEFAULT_LIMIT, MAX_LIMIT
from backend.reports.models import STATUSES, format_reference
from backend.reports.schemas import ReportPublicSchema, media_view
from backend.triage.services import PRIORITY_NAMES
from backend.triage.workflow import targets


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


def agent_view(report: Any, agent: Any) -> dict[str, Any]:
    """A report for an agent of its directorate."""
    body = ReportPublicSchema().dump(report)
    body["location"] = {
        "lat": report.lat,
        "lon": report.lon,
        "accuracy_m": report.accuracy_m,
        "source": report.location_source,
    }
    body["version"] = report.version
    body["description"] = report.description
    body["attributes"] = report.attributes
    body["observed_at"] = report.observed_at.isoformat() if report.observed_at else None
    contact = report.reporter
    body["reporter"] = (
        {"name": contact.name, "email": contact.email, "phone": contact.phone}
        if contact is not None and contact.consent_contact
        else None
    )
    body["media"] = [
        {
            **media_view(m, sensitive=report.sensitive),
            "original_url": f"/api/v1/triage/media/{m.id}/original",
            "failure_reason": m.failure_reason,
        }
        for m in report.media
    ]
    body["trail"] = [
        {
            "kind": e.kind,
            "at": e.at.isoformat(),
            "actor": e.actor_type,
            "actor_id": e.actor_id,
            "public": e.public,
            "data": e.data,
        }
        for e in report.events
    ]
    body["allowed_moves"] = targets(agent.role, report.status)
    body["priority"] = PRIORITY_NAMES[report.priority]
    body["assigned_agent_id"] = report.assigned_agent_id
    return body


class QueueQuerySchema(ma.Schema):
    status = DelimitedList(
        ma.fields.String(validate=ma.validate.OneOf(STATUSES)), metadata={"description": "comma-separated"}
    )
    category = ma.fields.String()
    program = ma.fields.String()
    unit = ma.fields.String()
    commune = ma.fields.String(metadata={"description": "INSEE code"})
    bbox = BBoxField(metadata=BBOX_METADATA)
    received_from = Moment()
    received_to = Moment()
    overdue = ma.fields.Boolean(metadata={"description": "past the category's target time, still open"})
    has_media = ma.fields.Boolean()
    q = ma.fields.String(
        validate=ma.validate.Length(min=2, max=200), metadata={"description": "text in the description"}
    )
    assigned = ma.fields.String(metadata={"description": "me, nobody, or an agent's e-mail"})
    counts = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "Count per status under the filters (false: a faster page, for scrolling)"},
    )
    sort = ma.fields.String(
        load_default="received", validate=ma.validate.OneOf(["received", "oldest", "supports", "due", "priority"])
    )
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT, validate=ma.validate.Range(1, MAX_LIMIT))
    cursor = ma.fields.String()


def queue_item(row: Any) -> dict[str, Any]:
    """A queue row (:data:`backend.triage.services.QUEUE_COLUMNS`) as the API shows it."""
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
    priority = ma.fields.String(required=True, validate=ma.validate.OneOf(["low", "normal", "high", "urgent"]))
    version = VersionField()


class RerouteSchema(ma.Schema):
    unit = ma.fields.String(required=True, metadata={"description": "The unit that takes the report, e.g. DEA-T6"})
    note = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4000))
    version = VersionField()


class StatsQuerySchema(ma.Schema):
    since = Moment(metadata={"description": "default: 30 days ago"})
    until = Moment(metadata={"description": "default: now"})


class BulkSchema(ma.Schema):
    references = ma.fields.List(ma.fields.String(), required=True, validate=ma.validate.Length(min=1, max=200))
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(["transition", "assign"]))
    to = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
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
