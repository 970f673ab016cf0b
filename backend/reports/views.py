"""Citizen endpoints: submit a report, read it, list reports, support one."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import marshmallow as ma
from flask import current_app, jsonify, request, url_for
from flask.views import MethodView

from backend.db import utcnow
from backend.errors import DomainError, InvalidFields
from backend.http import (
    Blueprint,
    InvalidJson,
    UnsupportedMediaType,
    authorization,
    check_json_request,
    db_session,
    json_body,
    load_json,
    read_only,
)
from backend.media.views import media_intake
from backend.reports import schemas, services

blp = Blueprint("reports", __name__, description="Citizen reports: submit, follow, support")

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 200


_CREATE = schemas.ReportCreateSchema()


class InvalidIdempotencyKey(DomainError):
    code = "invalid_idempotency_key"
    status = 400
    message = "The Idempotency-Key header must be 1 to 200 printable ASCII characters."


def _settings():
    return current_app.extensions["signal93.settings"]


def _idempotency_key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not (0 < len(key) <= MAX_IDEMPOTENCY_KEY) or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKey(errors={"headers": {IDEMPOTENCY_HEADER: [InvalidIdempotencyKey.message]}})
    return key


def _fingerprint(payload: Any, files: dict[str, list[bytes]]) -> str:
    """The request, canonicalised: a retry with the same JSON (whatever its spacing) and the
    same files matches."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode())
    for field in sorted(files):
        for data in files[field]:
            digest.update(f"|{field}:".encode() + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _report_body() -> tuple[Any, dict[str, list[bytes]]]:
    """The report's JSON and its files: from a JSON body, or from a multipart body whose
    ``report`` field holds the JSON. Size caps apply before the body is read."""
    if request.mimetype == "multipart/form-data":
        raw = request.form.get("report")
        if raw is None:
            raise InvalidFields(errors={"form": {"report": ["the report's JSON is required"]}})
        try:
            payload = load_json(raw)
        except ValueError as exc:
            raise InvalidJson(errors={"form": {"report": [f"invalid JSON: {exc}"]}}) from exc
        unknown = set(request.files) - {"photos", "video"}
        if unknown:
            raise InvalidFields(errors={"files": {name: ["unknown file field"] for name in sorted(unknown)}})
        files = {name: [f.read() for f in request.files.getlist(name)] for name in ("photos", "video")}
        return payload, {name: items for name, items in files.items() if items}
    check_json_request(accepted="application/json or multipart/form-data")
    try:
        return load_json(request.get_data()), {}
    except ValueError as exc:  # includes bytes that are not UTF-8
        raise InvalidJson(errors={"json": [f"invalid JSON: {exc}"]}) from exc


@blp.route("/reports")
class Reports(MethodView):
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "application/json": {"schema": schemas.ReportCreateSchema},
                "multipart/form-data": {"schema": schemas.ReportMultipartSchema},
            },
        }
    )
    @blp.response(201, schemas.ReportCreatedSchema)
    @blp.alt_response(409, description="Idempotency key reused with a different body")
    def post(self):
        """Submit a report, as JSON or as multipart with photos (and a video for Vigies de l'Eau)

        The report is validated, checked to be in Seine-Saint-Denis, routed to the directorate
        responsible for it, and stored. Send an `Idempotency-Key` header (or a `client_id`) to retry
        safely: the same request returns the same report. With multipart, the report's JSON goes in
        the `report` field, photos in `photos` (up to 5), a video in `video`; a report without a
        location takes the first photo's GPS position.
        """
        payload, files = _report_body()
        try:
            data = _CREATE.load(payload)
        except ma.ValidationError as exc:
            raise InvalidFields(errors={"json": exc.messages}) from exc
        submission = services.submit_report(
            db_session(),
            data,
            router=current_app.extensions["signal93.router"],
            secret_key=_settings().secret_key,
            now=utcnow(),
            idempotency_key=_idempotency_key(),
            fingerprint=_fingerprint(payload, files),
            files=files,
            media=media_intake(),
        )
        report = submission.report
        body = schemas.created_view(report, submission.similar_reports, submission.reporter_token)
        location = url_for("reports.ReportDetail", reference=report.reference)
        return jsonify(body), 201, {"Location": location}

    @blp.arguments(schemas.ReportQuerySchema(), location="query")
    @blp.response(200, schemas.ReportListSchema)
    @read_only
    def get(self, args):
        """List reports, newest first, one page at a time"""
        page = services.list_reports(
            db_session(),
            limit=args["limit"],
            cursor=args.get("cursor"),
            bbox=args.get("bbox"),
            category=args.get("category"),
            program=args.get("program"),
            statuses=args.get("status"),
            since=args.get("since"),
        )
        return {"items": page.items, "next_cursor": page.next_cursor}


@blp.route("/reports/<string:reference>")
class ReportDetail(MethodView):
    @blp.response(200, schemas.ReportReadSchema)
    @blp.doc(security=[{"ReporterToken": []}, {}])
    def get(self, reference: str):
        """Read a report

        With `Authorization: Reporter <token>` (the `reporter_token` given at submission), the
        answer also holds what this reporter submitted, their contact included.
        """
        session = db_session()
        report = services.get_report(session, reference)
        token = authorization("Reporter")
        if token is not None:
            services.verify_reporter_token(report, token)
        return jsonify(schemas.read_view(report, private=token is not None)), 200


@blp.route("/reports/<string:reference>/media")
class ReportMedia(MethodView):
    @blp.doc(
        requestBody={"required": True, "content": {"multipart/form-data": {"schema": schemas.MediaUploadSchema}}},
        security=[{"ReporterToken": []}],
    )
    @blp.response(201, schemas.MediaListSchema)
    def post(self, reference: str):
        """Add photos (or a video) to a report, with its reporter token"""
        if request.mimetype != "multipart/form-data":
            raise UnsupportedMediaType(errors={"headers": {"Content-Type": ["must be multipart/form-data"]}})
        unknown = set(request.files) - {"photos", "video"}
        if unknown:
            raise InvalidFields(errors={"files": {name: ["unknown file field"] for name in sorted(unknown)}})
        files = {name: [f.read() for f in request.files.getlist(name)] for name in ("photos", "video")}
        report, rows = services.add_media(
            db_session(), reference, authorization("Reporter"), files, media=media_intake()
        )
        return {"media": [schemas.media_view(m, sensitive=report.sensitive) for m in rows]}, 201


@blp.route("/reports/<string:reference>/opt-out")
class OptOut(MethodView):
    @blp.response(200, description="No more e-mails about this report")
    def get(self, reference: str):
        """Stop e-mails about a report (the link in each e-mail; no account needed)"""
        from backend.triage import notifications

        session = db_session()
        report = services.get_report(session, reference)
        if not notifications.opt_out(session, report, request.args.get("token", ""), _settings().secret_key):
            raise services.InvalidReporterToken("This opt-out link is not valid.")
        return {
            "reference": report.reference,
            "message": "Vous ne recevrez plus de message à propos de ce signalement.",
        }


@blp.route("/reports/<string:reference>/supports")
class Supports(MethodView):
    @json_body(max_bytes=4 * 1024)
    @blp.arguments(schemas.SupportInSchema())
    @blp.response(201, schemas.SupportOutSchema)
    @blp.alt_response(200, schema=schemas.SupportOutSchema, description="This phone already supported it")
    def post(self, data, reference: str):
        """Support a report ("me too"): one support per phone (`client_id`), idempotent"""
        report, created = services.add_support(db_session(), reference, str(data["client_id"]), utcnow())
        return {"reference": report.reference, "support_count": report.support_count}, 201 if created else 200
