"""Citizen endpoints: submit a report, read it, list reports, support one."""

from __future__ import annotations

import hashlib
import json

from flask import current_app, jsonify, request, url_for
from flask.views import MethodView

from backend.db import utcnow
from backend.errors import DomainError
from backend.http import Blueprint, db_session, json_body
from backend.reports import schemas, services

blp = Blueprint("reports", __name__, description="Citizen reports: submit, follow, support")

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 200


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


def _fingerprint() -> str:
    """The request body, canonicalised: a retry with the same JSON matches whatever its spacing."""
    canonical = json.dumps(request.get_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _reporter_token_header() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "reporter" and token.strip() else None


@blp.route("/reports")
class Reports(MethodView):
    @json_body()
    @blp.arguments(schemas.ReportCreateSchema())
    @blp.response(201, schemas.ReportCreatedSchema)
    @blp.alt_response(409, description="Idempotency key reused with a different body")
    def post(self, data):
        """Submit a report

        The report is validated, checked to be in Seine-Saint-Denis, routed to the directorate
        responsible for it, and stored. Send an `Idempotency-Key` header (or a `client_id`) to retry
        safely: the same request returns the same report.
        """
        submission = services.submit_report(
            db_session(),
            data,
            router=current_app.extensions["signal93.router"],
            secret_key=_settings().secret_key,
            now=utcnow(),
            idempotency_key=_idempotency_key(),
            fingerprint=_fingerprint(),
        )
        report = submission.report
        body = schemas.created_view(report, submission.similar_reports, submission.reporter_token)
        location = url_for("reports.ReportDetail", reference=report.reference)
        return jsonify(body), 201, {"Location": location}

    @blp.arguments(schemas.ReportQuerySchema(), location="query")
    @blp.response(200, schemas.ReportListSchema)
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
        token = _reporter_token_header()
        if token is not None:
            services.verify_reporter_token(report, token)
        return jsonify(schemas.read_view(report, private=token is not None)), 200


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
