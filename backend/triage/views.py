"""Agents' endpoints: read a report of their directorate, move it along the workflow."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Response, current_app, jsonify, request, stream_with_context
from flask.views import MethodView

from backend.db import INT_MAX, utcnow
from backend.errors import InvalidQuery
from backend.http import Blueprint, UnsupportedMediaType, current_agent, db_session, json_body, read_only
from backend.media.views import media_intake
from backend.reports.schemas import MediaUploadSchema, media_view
from backend.triage import schemas, services

blp = Blueprint("triage", __name__, description="Directorate triage (agents, bearer token)")


def _etag(report) -> str:
    return f'"{report.version}"'


def _if_match_version() -> int | None:
    for tag in request.if_match.as_set():
        if tag.isdigit():
            # A version no report can have is simply not the current one (412), not a database error.
            return int(tag) if len(tag) <= 10 and int(tag) <= INT_MAX else 0
    return None


@blp.route("/triage/reports")
class Queue(MethodView):
    @blp.arguments(schemas.QueueQuerySchema(), location="query")
    @blp.response(200, description="items, next_cursor, counts per status under the same filters")
    @blp.doc(security=[{"AgentToken": []}])
    @read_only
    def get(self, args):
        """Your directorate's queue: filters, a stable order, keyset pages, counts per status"""
        filters = {k: v for k, v in args.items() if k not in ("sort", "limit", "cursor", "counts")}
        page, counts = services.queue(
            db_session(),
            current_agent(),
            filters=filters,
            sort=args["sort"],
            limit=args["limit"],
            cursor=args.get("cursor"),
            now=utcnow(),
            with_counts=args["counts"],
            known_id=current_app.extensions["signal93.router"].table(db_session()).id_of,
        )
        response = jsonify(
            {"items": [schemas.queue_item(r) for r in page.items], "next_cursor": page.next_cursor, "counts": counts}
        )
        response.headers["Cache-Control"] = "private, no-store"
        return response, 200


@blp.route("/triage/reports.csv")
class QueueCsv(MethodView):
    @blp.arguments(schemas.QueueQuerySchema(), location="query")
    @blp.response(200, description="UTF-8 CSV with a header row, streamed", content_type="text/csv")
    @blp.doc(security=[{"AgentToken": []}])
    def get(self, args):
        """The filtered queue as CSV (UTF-8, header row), streamed in constant memory"""
        filters = {k: v for k, v in args.items() if k not in ("sort", "limit", "cursor", "counts")}
        query = services.queue_csv_query(db_session(), current_agent(), filters=filters, now=utcnow())
        database = current_app.extensions["signal93.db"]

        def lines():
            # Its own session: the request's is committed and closed before the body streams.
            session = database.session()
            try:
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                writer.writerow(services.CSV_COLUMNS)
                for row in session.execute(query):
                    writer.writerow(services.csv_values(row))
                    if buffer.tell() > 64 * 1024:
                        yield buffer.getvalue()
                        buffer.seek(0)
                        buffer.truncate()
                yield buffer.getvalue()
            finally:
                session.close()

        headers = {
            "Content-Disposition": 'attachment; filename="signalements.csv"',
            "Cache-Control": "private, no-store",
        }
        return Response(stream_with_context(lines()), mimetype="text/csv", headers=headers)


@blp.route("/triage/reports/bulk")
class Bulk(MethodView):
    @json_body()
    @blp.arguments(schemas.BulkSchema())
    @blp.response(200, description="The reports changed (all of them, or none: 409 with the reasons)")
    @blp.doc(security=[{"AgentToken": []}])
    def post(self, data):
        """One move or assignment on up to 200 reports, all or nothing (supervisors)"""
        agent = current_agent()
        reports = services.bulk(
            db_session(),
            agent,
            data["references"],
            action=data["action"],
            now=utcnow(),
            to=data.get("to"),
            note=data.get("note"),
            note_public=data["note_public"],
            assignee_email=data.get("agent", services.KEEP_ASSIGNEE),
            unit_code=data.get("unit"),
            queue=current_app.extensions["signal93.queue"],
        )
        entries = services.queue_entries(db_session(), [report.id for report in reports])
        return {"changed": [schemas.queue_item(row) for row in entries]}


@blp.route("/triage/reports/<string:reference>")
class TriageReport(MethodView):
    @blp.response(200, description="The whole report: contact (with consent), originals, trail, allowed moves")
    @blp.doc(security=[{"AgentToken": []}])
    @read_only
    def get(self, reference: str):
        """Read a report of your directorate (ETag: its version)"""
        agent = current_agent()
        session = db_session()
        report = services.visible_report(session, agent, reference)
        body = schemas.agent_view(report, agent)
        body["nearby_open_reports"] = services.nearby_open_reports(session, report, utcnow())
        response = jsonify(body)
        response.headers["ETag"] = _etag(report)
        response.headers["Cache-Control"] = "private, no-store"
        return response, 200


@blp.route("/triage/reports/<string:reference>/transitions")
class Transitions(MethodView):
    @json_body()
    @blp.arguments(schemas.TransitionSchema())
    @blp.response(200, description="The report after the move")
    @blp.doc(security=[{"AgentToken": []}])
    def post(self, data, reference: str):
        """Move a report along the workflow (If-Match: its ETag, or a version field); traced"""
        agent = current_agent()
        report = services.transition(
            db_session(),
            agent,
            reference,
            to=data["to"],
            version=_version(data),
            now=utcnow(),
            note=data.get("note"),
            note_public=data.get("note_public", False),
            duplicate_of=data.get("duplicate_of"),
            queue=current_app.extensions["signal93.queue"],
        )
        return _answer(report, agent)


def _answer(report, agent, status: int = 200):
    response = jsonify(schemas.agent_view(report, agent))
    response.headers["ETag"] = _etag(report)
    return response, status


def _version(data) -> int | None:
    return data["version"] if data.get("version") is not None else _if_match_version()


@blp.route("/triage/reports/<string:reference>/notes")
class Notes(MethodView):
    @json_body()
    @blp.arguments(schemas.NoteSchema())
    @blp.response(201, description="The report with the note on its trail")
    @blp.doc(security=[{"AgentToken": []}])
    def post(self, data, reference: str):
        """Add a note: public (on the public timeline) or internal (agents only)"""
        agent = current_agent()
        report = services.add_note(
            db_session(), agent, reference, text=data["text"].strip(), public=data["public"], now=utcnow()
        )
        return _answer(report, agent, 201)


@blp.route("/triage/reports/<string:reference>/assignment")
class Assignment(MethodView):
    @json_body()
    @blp.arguments(schemas.AssignmentSchema())
    @blp.response(200, description="The report, assigned")
    @blp.doc(security=[{"AgentToken": []}])
    def put(self, data, reference: str):
        """Assign the report to an agent of its directorate (or to nobody), and/or to a unit of it (supervisors)"""
        agent = current_agent()
        report = services.assign(
            db_session(),
            agent,
            reference,
            assignee_email=data.get("agent", services.KEEP_ASSIGNEE),
            unit_code=data.get("unit"),
            version=_version(data),
            now=utcnow(),
            queue=current_app.extensions["signal93.queue"],
        )
        return _answer(report, agent)


@blp.route("/triage/reports/<string:reference>/priority")
class Priority(MethodView):
    @json_body()
    @blp.arguments(schemas.PrioritySchema())
    @blp.response(200, description="The report with its new priority")
    @blp.doc(security=[{"AgentToken": []}])
    def put(self, data, reference: str):
        """Set the report's priority: low, normal, high, urgent"""
        agent = current_agent()
        report = services.set_priority(
            db_session(), agent, reference, priority=data["priority"], version=_version(data), now=utcnow()
        )
        return _answer(report, agent)


@blp.route("/triage/reports/<string:reference>/reroute")
class Reroute(MethodView):
    @json_body()
    @blp.arguments(schemas.RerouteSchema())
    @blp.response(200, description="The report, now in another queue")
    @blp.doc(security=[{"AgentToken": []}])
    def post(self, data, reference: str):
        """Reroute a report to another unit or directorate, saying why (supervisors)"""
        agent = current_agent()
        report = services.reroute(
            db_session(),
            agent,
            reference,
            unit_code=data["unit"],
            note=data["note"].strip(),
            version=_version(data),
            now=utcnow(),
            queue=current_app.extensions["signal93.queue"],
        )
        return _answer(report, agent)


@blp.route("/triage/stats")
class Stats(MethodView):
    @blp.arguments(schemas.StatsQuerySchema(), location="query")
    @blp.response(200, description="Counts by status, category, unit; median hours to acknowledge and resolve")
    @blp.doc(security=[{"AgentToken": []}])
    def get(self, args):
        """Your directorate's figures over a window of received dates"""
        now = utcnow()
        until = args.get("until") or now
        since = args.get("since") or until - timedelta(days=30)
        if since >= until:
            raise InvalidQuery("since", "must be before until")
        return services.stats(db_session(), current_agent(), since=since, until=until)


@blp.route("/triage/reports/<string:reference>/media")
class AgentMedia(MethodView):
    @blp.doc(
        requestBody={"required": True, "content": {"multipart/form-data": {"schema": MediaUploadSchema}}},
        security=[{"AgentToken": []}],
    )
    @blp.response(201, description="The media added")
    def post(self, reference: str):
        """Add photos (or a video) to a report of your directorate"""
        if request.mimetype != "multipart/form-data":
            raise UnsupportedMediaType(errors={"headers": {"Content-Type": ["must be multipart/form-data"]}})
        files = {name: [f.read() for f in request.files.getlist(name)] for name in ("photos", "video")}
        report, rows = services.add_media(
            db_session(), current_agent(), reference, files, media=media_intake(), now=utcnow()
        )
        return {"media": [media_view(m, sensitive=report.sensitive) for m in rows]}, 201
