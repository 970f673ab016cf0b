"""Citizen endpoints: submit a report, read it, list reports, support one, add media, fetch media."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import marshmallow as ma
from flask import Response, request, url_for
from flask.views import MethodView

from backend import deps, metrics, ratelimits
from backend.db import utcnow
from backend.errors import InvalidFields
from backend.http import (
    ID,
    Blueprint,
    InvalidJson,
    UnsupportedMediaType,
    authorization,
    body,
    check_json_request,
    db_session,
    json_body,
    load_json,
    read_only,
    uploaded_files,
)
from backend.media.services import UPLOAD_ERRORS, MediaIntake, MediaNotFound, MediaNotReady
from backend.openapi import IDEMPOTENCY_KEY, LOCATION, file_response
from backend.reports import errors, intake, schemas, services
from backend.routing.services import NoRoute, OutsideTerritory
from backend.storage import Received

blp = Blueprint("reports", __name__, description="Citizen reports: submit, follow, support")
media_blp = Blueprint("media", __name__, description="Photos' public derivatives (no metadata of any kind)")

_CREATE = schemas.ReportCreateSchema()


def media_intake() -> MediaIntake:
    """This app's media limits, storage and queue, for every view that takes files."""
    context = deps.current()
    settings = context.settings
    return MediaIntake(
        storage=context.storage,
        queue=context.queue,
        max_photo_bytes=settings.max_photo_bytes,
        max_video_bytes=settings.max_video_bytes,
        max_pixels=settings.max_photo_pixels,
    )


def submit(
    data: dict[str, Any],
    *,
    payload: Any,
    files: dict[str, list[Received]],
    idempotency_key: str | None,
    channel: dict[str, Any] | None = None,
) -> intake.Submission:
    """The intake with this app's collaborators (routing, media, queue, secret, clock): what every
    front that takes a report calls — the API, the zone pages, the citizens' site, Open311."""
    context = deps.current()
    submission = intake.submit_report(
        db_session(),
        data,
        payload=payload,
        files=files,
        idempotency_key=idempotency_key,
        router=context.router,
        media=media_intake(),
        queue=context.queue,
        secret_key=context.settings.secret_key,
        now=utcnow(),
        channel=channel,
    )
    if not submission.replayed:
        metrics.REPORTS.labels(submission.report.program.code, (channel or {}).get("channel", "api")).inc()
    return submission


def _report_body() -> tuple[Any, dict[str, list[Received]]]:
    """The report's JSON as sent, and its files: from a JSON body, or from a multipart body whose
    ``report`` field holds the JSON. Size caps apply before the body is read."""
    if request.mimetype == "multipart/form-data":
        files = uploaded_files()
        raw = request.form.get("report")
        if raw is None:
            raise InvalidFields(errors={"form": {"report": ["the report's JSON is required"]}})
        try:
            return load_json(raw), files
        except ValueError as exc:
            raise InvalidJson(errors={"form": {"report": [f"invalid JSON: {exc}"]}}) from exc
    check_json_request(accepted="application/json or multipart/form-data")
    try:
        return load_json(body()), {}
    except ValueError as exc:  # includes bytes that are not UTF-8
        raise InvalidJson(errors={"json": [f"invalid JSON: {exc}"]}) from exc


CREATE_ERRORS = (
    errors.InvalidIdempotencyKey,
    errors.IdempotencyConflict,
    errors.UnknownCategory,
    OutsideTerritory,
    NoRoute,
)


def _submit() -> tuple[Any, int, dict[str, str]]:
    """Parse the submission (JSON, or multipart with files), submit it, answer 201 and its Location."""
    payload, files = _report_body()
    try:
        data = _CREATE.load(payload)
    except ma.ValidationError as exc:
        raise InvalidFields(errors={"json": exc.messages}) from exc
    submission = submit(
        data, payload=payload, files=files, idempotency_key=request.headers.get(intake.IDEMPOTENCY_HEADER)
    )
    location = url_for("reports.ReportDetail", reference=submission.report.reference)
    return submission, 201, {"Location": location}


@blp.route("/reports")
class Reports(MethodView):
    @blp.operation("createReport", *CREATE_ERRORS, (429, "rate_limited"))
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": schemas.ReportCreateSchema, "example": schemas.REPORT_EXAMPLE}},
        }
    )
    @blp.response(201, schemas.ReportCreatedSchema, headers=LOCATION)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    @ratelimits.intake()
    def post(self):
        """Submit a report (JSON)

        The report is validated, checked to be in Seine-Saint-Denis, routed to the directorate
        responsible for it, and stored. Send an `Idempotency-Key` header (or a `client_id`) to retry
        safely: the same request returns the same report. To send photos (or a video) with it, use
        `createReportWithFiles` (`POST /reports/with-files`); this path takes the same multipart body
        too, for clients written before that operation existed. Limited per address (429
        `rate_limited`, with `X-RateLimit-*` and `Retry-After`), in one budget with the web forms.
        """
        return _submit()

    @blp.operation("listReports", (422, "unknown_category"), (422, "unknown_program"), (422, "invalid_cursor"))
    @blp.arguments(schemas.ReportQuerySchema(), location="query")
    @blp.response(200, schemas.ReportListSchema)
    @read_only
    def get(self, args):
        """List reports, newest first, one page at a time"""
        return services.list_reports(
            db_session(),
            limit=args["limit"],
            cursor=args.get("cursor"),
            bbox=args.get("bbox"),
            category=args.get("category"),
            program=args.get("program"),
            statuses=args.get("status"),
            since=args.get("since"),
        )


@blp.route("/reports/with-files")
class ReportsWithFiles(MethodView):
    @blp.operation("createReportWithFiles", *CREATE_ERRORS, *UPLOAD_ERRORS, (429, "rate_limited"))
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": schemas.ReportMultipartSchema,
                    "example": {"report": json.dumps(schemas.REPORT_EXAMPLE, ensure_ascii=False)},
                    "encoding": {"photos": {"contentType": "image/jpeg, image/png, image/webp, image/heic"}},
                }
            },
        }
    )
    @blp.response(201, schemas.ReportCreatedSchema, headers=LOCATION)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    @ratelimits.intake()
    def post(self):
        """Submit a report with photos (and a video for Vigies de l'Eau), as multipart

        The same submission as `createReport`, its JSON in the `report` field, up to 5 `photos`
        (JPEG, PNG, WebP, HEIC) and one `video` (MP4, QuickTime; Vigies de l'Eau). A report without
        a location takes the first photo's GPS position. The same `Idempotency-Key` rules apply:
        a retry with the same JSON and the same files gets the same report.
        """
        if request.mimetype != "multipart/form-data":
            raise UnsupportedMediaType(errors={"headers": {"Content-Type": ["must be multipart/form-data"]}})
        return _submit()


@blp.route("/reports/<string:reference>")
class ReportDetail(MethodView):
    @blp.operation("getReport", errors.ReportNotFound)
    @blp.response(200, schemas.ReportReadSchema)
    @blp.doc(security=[{"ReporterToken": []}, {}])
    @read_only
    def get(self, reference: str):
        """Read a report

        With `Authorization: Reporter <token>` (the `reporter_token` given at submission), the
        answer also holds what this reporter submitted, their contact included.
        """
        return services.read_report(db_session(), reference, authorization("Reporter"))


@blp.route("/reports/<string:reference>/media")
class ReportMedia(MethodView):
    @blp.operation(
        "addReportMedia",
        errors.ReportNotFound,
        *UPLOAD_ERRORS,
    )
    @blp.doc(
        requestBody={"required": True, "content": {"multipart/form-data": schemas.MEDIA_UPLOAD_BODY}},
        security=[{"ReporterToken": []}],
    )
    @blp.response(201, schemas.MediaListSchema)
    def post(self, reference: str):
        """Add photos (or a video) to a report, with its reporter token"""
        files = uploaded_files()
        return services.add_media(db_session(), reference, authorization("Reporter"), files, media=media_intake())


@blp.route("/reports/<string:reference>/supports")
class Supports(MethodView):
    @blp.operation("supportReport", errors.ReportNotFound, errors.ReportClosed, (429, "rate_limited"))
    @json_body(max_bytes=4 * 1024)
    @blp.arguments(schemas.SupportInSchema(), example={"client_id": "3f2b8c1e-6d4a-4c7e-9b21-0e5d7a9c4f10"})
    @blp.response(201, schemas.SupportOutSchema)
    @blp.alt_response(200, schema=schemas.SupportOutSchema, description="This phone already supported it")
    @ratelimits.supports()
    def post(self, data, reference: str):
        """Support a report ("me too"): one support per phone (`client_id`), idempotent

        Limited per address and per phone (429 `rate_limited`); at most 3 supports from one
        address count on one report (more are kept, not counted), so a burst from one place cannot
        lift a report in the agents' queue.
        """
        address = hmac.new(
            deps.current().settings.secret_key.encode(), (request.remote_addr or "").encode(), hashlib.sha256
        ).hexdigest()
        report, created = services.add_support(db_session(), reference, str(data["client_id"]), utcnow(), address)
        return report, 201 if created else 200


@media_blp.route(f"/media/<{ID}:media_id>/<string:variant>")
class Derivative(MethodView):
    @media_blp.operation("getMediaFile", MediaNotFound, MediaNotReady)
    @media_blp.doc(
        parameters=[
            {
                "in": "path",
                "name": "variant",
                "required": True,
                "description": "`thumb` (320 px) or `display` (1600 px) of a photo, `video` of a published video",
                "schema": {"$ref": "#/components/schemas/MediaVariant"},
            }
        ],
        responses={
            "200": file_response(
                "The derivative, without metadata of any kind (immutable: cache it)",
                "image/jpeg",
                "video/mp4",
                "video/quicktime",
                headers={"ETag": {"description": "The content's SHA-256", "schema": {"type": "string"}}},
            ),
            "304": {"description": "Not modified (If-None-Match)"},
        },
    )
    @read_only
    def get(self, media_id: int, variant: str):
        """A photo's derivative (`thumb` 320 px, `display` 1600 px) or a published `video`, without metadata"""
        found = services.public_media_file(
            db_session(), deps.current().storage, media_id, variant, known_etags=request.if_none_match.as_set()
        )
        headers = {"ETag": f'"{found.etag}"', "Cache-Control": "public, max-age=31536000, immutable"}
        if found.data is None:
            return Response(status=304, headers=headers)
        return Response(found.data, mimetype=found.content_type, headers={**headers, **found.headers})
