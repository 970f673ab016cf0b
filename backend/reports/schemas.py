"""What a report submission must look like, and what the public (and the reporter) may see.

Output schemas are allow-lists: a field not named here never leaves.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from backend.directory.schemas import ZoneRefSchema
from backend.fields import (
    BBOX_METADATA,
    AttributeValue,
    BBoxField,
    ComputedDict,
    ComputedList,
    ComputedNested,
    Moment,
    QueryList,
    ResponseSchema,
    StrictBoolean,
    StrictFloat,
)
from backend.media import services as media_services
from backend.media.models import MEDIA_KINDS, MEDIA_STATUSES
from backend.pagination import DEFAULT_LIMIT, MAX_LIMIT
from backend.reports.models import STATUSES

PUBLIC_ATTRIBUTE_TYPES = ("singlevaluelist", "multivaluelist", "number")
PUBLIC_EVENT_FIELDS = ("status", "message", "note", "directorate", "referred_to")


# --- input -----------------------------------------------------------------------------------


class LocationInSchema(ma.Schema):
    lat = StrictFloat(required=True, validate=ma.validate.Range(-90, 90), metadata={"example": 48.9097})
    lon = StrictFloat(required=True, validate=ma.validate.Range(-180, 180), metadata={"example": 2.4392})
    accuracy_m = StrictFloat(
        allow_none=True, validate=ma.validate.Range(0, 100_000), metadata={"description": "GPS accuracy, metres"}
    )


class ReporterInSchema(ma.Schema):
    name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=254))
    phone = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Regexp(r"^\+?[0-9][0-9 .()-]{5,30}$", error="not a phone number"),
    )
    consent_contact = StrictBoolean(
        load_default=False, metadata={"description": "The reporter accepts to be contacted about this report"}
    )


class ReportCreateSchema(ma.Schema):
    """A citizen's report. Unknown fields are refused."""

    category = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=64), metadata={"example": "nid-de-poule"}
    )
    location = ma.fields.Nested(
        LocationInSchema,
        load_default=None,
        metadata={"description": "Required, unless a photo sent with the report carries GPS data"},
    )
    observed_at = Moment(
        allow_none=True,
        metadata={"description": "Device time of the observation, ISO 8601 with offset; at most 30 days old"},
    )
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=4000))
    attributes = ma.fields.Dict(
        keys=ma.fields.String(),
        values=AttributeValue(),
        load_default=dict,
        metadata={"description": "Values of the category's attributes, by attribute code"},
    )
    reporter = ma.fields.Nested(ReporterInSchema, allow_none=True, metadata={"description": "Private contact"})
    client_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "UUID generated on the phone; a retry with it is idempotent"}
    )
    zone = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=64),
        metadata={
            "description": (
                "Observ'acteurs: the nature zone's slug (the QR code's page names it; a former slug works). "
                "Without a location, or with one outside the zone's park, the sighting is placed at the "
                "zone (its centre, with its radius as accuracy)"
            ),
            "example": "sausset-marais",
        },
    )
    device_id = ma.fields.UUID(
        allow_none=True,
        metadata={
            "description": (
                "Observ'acteurs: the app installation's own UUID, never stored nor shown: a second sighting "
                "of one species in one zone on one day from it is a 'me too' on the first (`me_too`)"
            )
        },
    )


class ReportMultipartSchema(ma.Schema):
    """A report sent with its files (multipart/form-data)."""

    report = ma.fields.String(
        required=True, metadata={"description": "The report, as the JSON body of the JSON variant"}
    )
    photos = ma.fields.List(
        ma.fields.Raw(metadata={"type": "string", "format": "binary"}),
        metadata={"description": "Up to 5 photos: JPEG, PNG, WebP or HEIC, 15 MB and 40 megapixels each"},
    )
    video = ma.fields.Raw(
        metadata={"type": "string", "format": "binary", "description": "One MP4 or QuickTime video, 50 MB (vigies-eau)"}
    )


class MediaUploadSchema(ma.Schema):
    """Files sent after the report (multipart/form-data)."""

    photos = ma.fields.List(ma.fields.Raw(metadata={"type": "string", "format": "binary"}))
    video = ma.fields.Raw(metadata={"type": "string", "format": "binary"})


# A photo sent after the report (multipart), for the document.
MEDIA_UPLOAD_BODY = {
    "schema": MediaUploadSchema,
    "encoding": {
        "photos": {"contentType": "image/jpeg, image/png, image/webp, image/heic"},
        "video": {"contentType": "video/mp4, video/quicktime"},
    },
}


class MediaUrlsSchema(ResponseSchema):
    """Where a public medium's derivatives are: a photo's ``thumb`` (320 px) and ``display``
    (1600 px), a published video's ``video``."""

    thumb = ma.fields.String(metadata={"example": "/api/v1/media/12/thumb"})
    display = ma.fields.String(metadata={"example": "/api/v1/media/12/display"})
    video = ma.fields.String()


class MediaViewSchema(ResponseSchema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(MEDIA_KINDS)})
    status = ma.fields.String(required=True, metadata={"enum": list(MEDIA_STATUSES)})
    urls = ma.fields.Nested(MediaUrlsSchema, required=True, metadata={"description": "Empty until it is public"})


class MediaListSchema(ResponseSchema):
    """Media just added to a report. Dumps a :class:`backend.reports.services.AddedMedia`."""

    media = ma.fields.List(ma.fields.Nested(MediaViewSchema), required=True)

    @ma.pre_dump
    def _views(self, added: Any, **kwargs: Any) -> dict[str, Any]:
        return {"media": [media_view(m, sensitive=added.report.sensitive) for m in added.media]}


class SupportInSchema(ma.Schema):
    client_id = ma.fields.UUID(required=True, metadata={"description": "UUID generated on the phone"})


class ReportQuerySchema(ma.Schema):
    bbox = BBoxField(metadata=BBOX_METADATA)
    category = ma.fields.String()
    program = ma.fields.String()
    status = QueryList(
        ma.fields.String(validate=ma.validate.OneOf(STATUSES)),
        metadata={"description": "One or more statuses: repeated (status=open&status=referred) or comma-separated"},
    )
    since = Moment(metadata={"description": "Received at or after (ISO 8601)"})
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT, validate=ma.validate.Range(1, MAX_LIMIT))
    cursor = ma.fields.String(metadata={"description": "The `next_cursor` of the previous page"})


# --- output ------------------------------------------------------------------------------------


class CodeNameSchema(ResponseSchema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class PublicLocationSchema(ResponseSchema):
    """Where a report is, as the public may see it (WGS84)."""

    lat = ma.fields.Float(required=True, metadata={"example": 48.901})
    lon = ma.fields.Float(required=True, metadata={"example": 2.399})
    precision = ma.fields.String(
        required=True,
        metadata={
            "enum": ["exact", "coarsened"],
            "description": (
                "coarsened: a sensitive species, generalised to its park's reference point (outside a park, "
                "its commune's); the sighting is within `uncertainty_m` of it"
            ),
        },
    )
    uncertainty_m = ma.fields.Float(
        allow_none=True,
        required=True,
        metadata={"description": "How far the sighting may be from this point, metres (null: exact)"},
    )


class ExactLocationSchema(ResponseSchema):
    """Where the reporter was, as sent (the reporter's own view only)."""

    lat = ma.fields.Float(required=True)
    lon = ma.fields.Float(required=True)
    accuracy_m = ma.fields.Float(allow_none=True, required=True)


class TimelineEventSchema(ResponseSchema):
    kind = ma.fields.String(required=True, metadata={"example": "routed"})
    at = ma.fields.DateTime(required=True)
    status = ma.fields.String(allow_none=True)
    message = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    directorate = ma.fields.String(allow_none=True)
    referred_to = ma.fields.String(allow_none=True)


class RoutingZoneSchema(ZoneRefSchema):
    """A zone the routing decision rests on."""

    snapped_m = ma.fields.Float(metadata={"description": "Distance to the commune when the point fell in a gap"})


class RoutingSchema(ResponseSchema):
    """Where the report went and why."""

    directorate = ma.fields.Nested(CodeNameSchema, required=True)
    unit = ma.fields.Nested(CodeNameSchema, allow_none=True, required=True)
    referred_to = ma.fields.Nested(CodeNameSchema, allow_none=True, required=True)
    rule = ma.fields.String(required=True, metadata={"description": "The routing rule that decided"})
    zones = ma.fields.List(ma.fields.Nested(RoutingZoneSchema), required=True)
    message = ma.fields.String(required=True, metadata={"description": "Public message, in French"})


class ReportPublicSchema(ResponseSchema):
    """A report as anyone may see it: no contact, no client id, no free text."""

    reference = ma.fields.String(required=True, metadata={"example": "S93-2026-000123"})
    program = ma.fields.String(attribute="program.code", required=True)
    category = ma.fields.Nested(CodeNameSchema, required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES)})
    location = ComputedNested(PublicLocationSchema, method="_location", required=True)
    received_at = ma.fields.DateTime(required=True)
    attributes = ComputedDict(
        method="_public_attributes",
        keys=ma.fields.String(),
        values=AttributeValue(),
        required=True,
        metadata={"description": "The category's typed attributes (free text is never public)"},
    )
    routing = ComputedNested(RoutingSchema, method="_routing", required=True)
    support_count = ma.fields.Integer(required=True)
    identification = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={
            "description": (
                "A sighting's species as the nature directorate reviewed it: confirmed, corrected (the "
                "attributes show the right one) or unverifiable; null until reviewed, and for other reports"
            )
        },
    )
    media = ComputedList(ma.fields.Nested(MediaViewSchema), method="_media", required=True)
    timeline = ComputedList(ma.fields.Nested(TimelineEventSchema), method="_timeline", required=True)

    def _media(self, report: Any) -> list[dict[str, Any]]:
        return [media_view(m, sensitive=report.sensitive) for m in report.media]

    def _location(self, report: Any) -> dict[str, Any]:
        precision = "coarsened" if report.sensitive else "exact"
        return {
            "lat": report.public_lat,
            "lon": report.public_lon,
            "precision": precision,
            "uncertainty_m": report.public_uncertainty_m,
        }

    def _public_attributes(self, report: Any) -> dict[str, Any]:
        # Typed values only: free text may hold personal data.
        public = {d["code"] for d in report.category.attributes if d["datatype"] in PUBLIC_ATTRIBUTE_TYPES}
        return {code: value for code, value in report.attributes.items() if code in public}

    def _routing(self, report: Any) -> dict[str, Any]:
        # The decision as recorded at intake (names included): never recomputed.
        return report.routing

    def _timeline(self, report: Any) -> list[dict[str, Any]]:
        events = []
        for event in report.events:
            if not event.public:
                continue
            entry = {"kind": event.kind, "at": event.at}
            entry.update({k: event.data[k] for k in PUBLIC_EVENT_FIELDS if event.data.get(k) is not None})
            events.append(entry)
        return events


class SimilarReportSchema(ResponseSchema):
    reference = ma.fields.String(required=True)
    distance_m = ma.fields.Float(required=True)
    status = ma.fields.String(required=True)


class ReporterOutSchema(ResponseSchema):
    name = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    consent_contact = ma.fields.Boolean()


class SubmittedSchema(ResponseSchema):
    """What the reporter sent: shown to the holder of the reporter token only."""

    location = ComputedNested(ExactLocationSchema, method="_exact_location")
    observed_at = ma.fields.DateTime(allow_none=True)
    description = ma.fields.String()
    attributes = ma.fields.Dict(keys=ma.fields.String(), values=AttributeValue())
    reporter = ma.fields.Nested(ReporterOutSchema, allow_none=True)
    client_id = ma.fields.String(allow_none=True)

    def _exact_location(self, report: Any) -> dict[str, Any]:
        return {"lat": report.lat, "lon": report.lon, "accuracy_m": report.accuracy_m}


class Seen:
    """A report with what one answer adds to its own fields (the reporter token, the similar
    reports, an agent's allowed moves…): the schema reads both as one object."""

    def __init__(self, report: Any, **extra: Any):
        self._report = report
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._report, name)


class ReportReadSchema(ReportPublicSchema):
    """The public view; with ``Authorization: Reporter <token>``, also what the reporter sent.
    Dumps a :class:`backend.reports.services.ReportRead`."""

    submitted = ma.fields.Nested(
        SubmittedSchema, allow_none=True, metadata={"description": "Only for the holder of the reporter token"}
    )

    @ma.pre_dump
    def _seen(self, read: Any, **kwargs: Any) -> Seen:
        return Seen(read.report, submitted=read.report if read.private else None)


def media_view(media: Any, *, sensitive: bool) -> dict[str, Any]:
    """A medium as the public sees it: its derivatives once made. A video, and a photo of a
    sensitive sighting (``sensitive``: its report's), are listed, never served, until an agent
    publishes them."""
    view: dict[str, Any] = {"id": media.id, "kind": media.kind, "status": media.status, "urls": {}}
    if media_services.is_public(media, sensitive=sensitive):
        view["urls"] = {name: f"/api/v1/media/{media.id}/{name}" for name in sorted(media.derivatives)}
    return view


class ReportCreatedSchema(ReportPublicSchema):
    """The answer to a submission: the public view, similar reports, the reporter token. Dumps a
    :class:`backend.reports.intake.Submission`."""

    similar_reports = ma.fields.List(ma.fields.Nested(SimilarReportSchema), required=True)
    reporter_token = ma.fields.String(
        required=True,
        metadata={"description": "Shown once: lets this reporter follow the report (Authorization: Reporter …)"},
    )
    me_too = ma.fields.Boolean(
        required=True,
        metadata={
            "description": (
                "True when this sighting was counted on this device's earlier sighting of the same species, "
                "in the same zone, the same day (the report answered is that one)"
            )
        },
    )

    @ma.pre_dump
    def _seen(self, submission: Any, **kwargs: Any) -> Seen:
        return Seen(
            submission.report,
            similar_reports=submission.similar_reports,
            reporter_token=submission.reporter_token,
            me_too=submission.me_too,
        )


class ReportListSchema(ResponseSchema):
    items = ma.fields.List(ma.fields.Nested(ReportPublicSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)


class SupportOutSchema(ResponseSchema):
    reference = ma.fields.String(required=True)
    support_count = ma.fields.Integer(required=True)


# Built once: a schema's construction costs more than a report's serialisation.


# A realistic submission, for the document's examples.
REPORT_EXAMPLE = {
    "category": "nid-de-poule",
    "location": {"lat": 48.901, "lon": 2.399, "accuracy_m": 8},
    "attributes": {"taille": "moyen"},
    "description": "Trou profond devant l'arrêt de bus",
    "reporter": {"email": "habitant@example.org", "consent_contact": True},
    "client_id": "0d9f3c1e-5b7a-4c2e-9f61-2f8e4b7d1a30",
}
