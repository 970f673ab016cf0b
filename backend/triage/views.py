"""Agents' endpoints: their directorate's queue, a report's moves, notes, assignment, priority,
reroute, bulk actions, figures, and the reports' media."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView

from backend import deps
from backend.db import INT_MAX, utcnow
from backend.directory.auth import current_agent
from backend.http import ID, Blueprint, db_session, json_body, read_only, uploaded_files
from backend.media.services import UPLOAD_ERRORS, MediaNotFound, NotHeld, UnreadableVideo
from backend.openapi import ETAG, IF_MATCH, file_response
from backend.reports.errors import ReportNotFound
from backend.reports.schemas import MEDIA_UPLOAD_BODY, MediaListSchema, MediaViewSchema, media_view
from backend.reports.views import media_intake
from backend.triage import access, errors, identification, moves, schemas, stats
from backend.triage import media as agent_media
from backend.triage import queue as triage_queue

blp = Blueprint("triage", __name__, description="Directorate triage (agents, bearer token)")
PRIVATE = {"Cache-Control": "private, no-store"}


def _version(data: dict[str, Any]) -> int | None:
    """The version the agent changed: the body's ``version``, or else ``If-Match``'s ETag."""
    if data.get("version") is not None:
        return data["version"]
    for tag in request.if_match.as_set():
        if tag and tag.isdigit():  # an empty tag (If-Match: "") is no version
            # A version no report can have is simply not the current one (412), not a database error.
            return int(tag) if len(tag) <= 10 and int(tag) <= INT_MAX else 0
    return None


def _answer(report: Any, status: int = 200) -> tuple[access.AgentReport, int, dict[str, str]]:
    """The report after a change, as the agent sees it, with its new ETag."""
    return access.as_seen_by(current_agent(), report), status, {"ETag": f'"{report.version}"'}


@blp.route("/triage/reports")
class Queue(MethodView):
    @blp.operation(
        "listTriageReports",
        *triage_queue.FILTER_ERRORS,
        (422, "invalid_cursor"),
    )
    @blp.arguments(schemas.QueueQuerySchema(), location="query")
    @blp.doc(security=[{"AgentToken": []}])
    @blp.response(
        200, schemas.QueuePageSchema, description="Reports, next_cursor, counts per status under the same filters"
    )
    @read_only
    def get(self, args):
        """Your directorate's queue: filters, a stable order, keyset pages, counts per status"""
        session = db_session()
        page, counts = triage_queue.queue(
            session,
            current_agent(),
            filters=triage_queue.filters_of(args),
            sort=args["sort"],
            limit=args["limit"],
            cursor=args.get("cursor"),
            now=utcnow(),
            with_counts=args["counts"],
            known_id=deps.current().router.table(session).id_of,
        )
        # Items built by hand (schemas.queue_item): the hot path; their schema is declared above.
        body = {"items": [schemas.queue_item(r) for r in page.items], "next_cursor": page.next_cursor, "counts": counts}
        response = current_app.json.response(body)
        response.headers.update(PRIVATE)
        return response


@blp.route("/triage/reports.csv")
class QueueCsv(MethodView):
    @blp.operation(
        "exportTriageReportsCsv",
        *triage_queue.FILTER_ERRORS,
    )
    @blp.arguments(schemas.QueueFilterSchema(), location="query")
    @blp.doc(responses={"200": file_response("UTF-8 CSV with a header row, streamed", "text/csv")})
    @blp.doc(security=[{"AgentToken": []}])
    @read_only
    def get(self, args):
        """The filtered queue as CSV (UTF-8, header row), in the queue's order, streamed in constant memory"""
        chunks = triage_queue.queue_csv(
            db_session(),
            deps.current().database,
            current_agent(),
            filters=triage_queue.filters_of(args),
            sort=args["sort"],
            now=utcnow(),
        )
        headers = {"Content-Disposition": 'attachment; filename="signalements.csv"', **PRIVATE}
        return Response(stream_with_context(chunks), mimetype="text/csv", headers=headers)


@blp.route("/triage/reports/bulk")
class Bulk(MethodView):
    @blp.operation("bulkUpdateTriageReports", errors.SupervisorsOnly, errors.BulkRefused)
    @json_body()
    @blp.arguments(
        schemas.BulkSchema(),
        example={"references": ["S93-2026-000123", "S93-2026-000124"], "action": "transition", "to": "acknowledged"},
    )
    @blp.response(200, schemas.BulkResultSchema, description="The reports changed (all, or none: 409 with the reasons)")
    @blp.doc(security=[{"AgentToken": []}])
    def post(self, data):
        """One move, assignment or priority on up to 200 reports, all or nothing (supervisors)"""
        changed = moves.bulk(
            db_session(),
            current_agent(),
            data["references"],
            action=data["action"],
            now=utcnow(),
            queue=deps.current().queue,
            to=data.get("to"),
            note=data.get("note"),
            note_public=data["note_public"],
            assignee_email=data.get("agent", moves.KEEP_ASSIGNEE),
            unit_code=data.get("unit"),
            priority=data.get("priority"),
        )
        entries = triage_queue.queue_entries(db_session(), [report.id for report in changed])
        return {"changed": [schemas.queue_item(row) for row in entries]}


@blp.route("/triage/reports/<string:reference>")
class TriageReport(MethodView):
    @blp.operation("getTriageReport", ReportNotFound)
    @blp.response(200, schemas.TriageReportDetailSchema, headers=ETAG)
    @blp.doc(security=[{"AgentToken": []}])
    @read_only
    def get(self, reference: str):
        """Read a report of your directorate (ETag: its version)"""
        read = access.read_report(db_session(), current_agent(), reference, now=utcnow())
        return read, 200, {"ETag": f'"{read.report.version}"', **PRIVATE}


@blp.route("/triage/reports/<string:reference>/transitions")
class Transitions(MethodView):
    @blp.operation(
        "transitionReport",
        *errors.CHANGE_ERRORS,
        errors.InvalidTransition,
        errors.NoteRequired,
    )
    @json_body()
    @blp.arguments(
        schemas.TransitionSchema(),
        example={
            "to": "acknowledged",
            "note": "Équipe prévenue, intervention sous 7 jours",
            "note_public": True,
            "version": 1,
        },
    )
    @blp.response(200, schemas.TriageReportSchema, description="The report after the move", headers=ETAG)
    @blp.doc(security=[{"AgentToken": []}])
    @blp.doc(parameters=[IF_MATCH])
    def post(self, data, reference: str):
        """Move a report along the workflow (If-Match: its ETag, or a version field); traced"""
        report = moves.transition(
            db_session(),
            current_agent(),
            reference,
            to=data["to"],
            version=_version(data),
            now=utcnow(),
            queue=deps.current().queue,
            note=data.get("note"),
            note_public=data.get("note_public", False),
            duplicate_of=data.get("duplicate_of"),
        )
        return _answer(report)


@blp.route("/triage/reports/<string:reference>/notes")
class Notes(MethodView):
    @blp.operation("addReportNote", ReportNotFound)
    @json_body()
    @blp.arguments(schemas.NoteSchema(), example={"text": "Passage prévu jeudi matin", "public": False})
    @blp.response(201, schemas.TriageReportSchema, description="The report with the note on its trail", headers=ETAG)
    @blp.doc(security=[{"AgentToken": []}])
    def post(self, data, reference: str):
        """Add a note: public (on the public timeline) or internal (agents only)"""
        report = moves.add_note(
            db_session(), current_agent(), reference, text=data["text"], public=data["public"], now=utcnow()
        )
        return _answer(report, 201)


@blp.route("/triage/reports/<string:reference>/assignment")
class Assignment(MethodView):
    @blp.operation(
        "assignReport",
        *errors.CHANGE_ERRORS,
        errors.SupervisorsOnly,
        errors.UnknownAgent,
        errors.UnknownUnit,
    )
    @json_body()
    @blp.arguments(
        schemas.AssignmentSchema(), example={"agent": "agent.voirie@seinesaintdenis.fr", "unit": "DVD-T8", "version": 2}
    )
    @blp.response(200, schemas.TriageReportSchema, description="The report, assigned", headers=ETAG)
    @blp.doc(security=[{"AgentToken": []}])
    @blp.doc(parameters=[IF_MATCH])
    def put(self, data, reference: str):
        """Assign the report to an agent of its directorate (or to nobody), and/or to a unit of it (supervisors)"""
        report = moves.assign(
            db_session(),
            current_agent(),
            reference,
            assignee_email=data.get("agent", moves.KEEP_ASSIGNEE),
            unit_code=data.get("unit"),
            version=_version(data),
            now=utcnow(),
            queue=deps.current().queue,
        )
        return _answer(report)


@blp.route("/triage/reports/<string:reference>/priority")
class Priority(MethodView):
    @blp.operation(
        "setReportPriority",
        *errors.CHANGE_ERRORS,
    )
    @json_body()
    @blp.arguments(schemas.PrioritySchema(), example={"priority": "high", "version": 2})
    @blp.response(200, schemas.TriageReportSchema, description="The report with its new priority", headers=ETAG)
    @blp.doc(security=[{"AgentToken": []}])
    @blp.doc(parameters=[IF_MATCH])
    def put(self, data, reference: str):
        """Set the report's priority: low, normal, high, urgent"""
        report = moves.set_priority(
            db_session(), current_agent(), reference, priority=data["priority"], version=_version(data), now=utcnow()
        )
        return _answer(report)


@blp.route("/triage/reports/<string:reference>/description-publication")
class DescriptionPublication(MethodView):
    @blp.operation("setReportDescriptionPublication", *errors.CHANGE_ERRORS)
    @json_body()
    @blp.arguments(schemas.DescriptionPublicationSchema(), example={"publishable": True, "version": 2})
    @blp.response(
        200, schemas.TriageReportSchema, description="The report, its description published or not", headers=ETAG
    )
    @blp.doc(security=[{"AgentToken": []}])
    @blp.doc(parameters=[IF_MATCH])
    def put(self, data, reference: str):
        """Publish the report's description in the open data, or not (scrubbed of contacts and links)"""
        report = moves.set_description_publication(
            db_session(),
            current_agent(),
            reference,
            publishable=data["publishable"],
            version=_version(data),
            now=utcnow(),
        )
        return _answer(report)


@blp.route("/triage/reports/<string:reference>/identification")
class IdentificationReview(MethodView):
    @blp.operation(
        "reviewReportIdentification", *errors.CHANGE_ERRORS, identification.NotASighting, identification.InvalidReview
    )
    @json_body()
    @blp.arguments(
        schemas.IdentificationReviewSchema(),
        example={
            "verdict": "corrected",
            "species": "Ixobrychus minutus",
            "note": "Trop petit pour un héron cendré",
            "version": 2,
        },
    )
    @blp.response(200, schemas.TriageReportSchema, description="The sighting, its species reviewed", headers=ETAG)
    @blp.doc(security=[{"AgentToken": []}])
    @blp.doc(parameters=[IF_MATCH])
    def put(self, data, reference: str):
        """Review a sighting's species: confirm it, correct it to another, or mark it unverifiable

        A correction keeps both species in the trail; every public output (the report, the zone
        cards, the open data, the Darwin Core Archive) shows the corrected one. A correction to or
        from a sensitive species moves the public point at once.
        """
        context = deps.current()
        report = identification.review_identification(
            db_session(),
            current_agent(),
            reference,
            verdict=data["verdict"],
            species=data.get("species"),
            note=data["note"],
            version=_version(data),
            now=utcnow(),
            router=context.router,
            queue=context.queue,
        )
        return _answer(report)


@blp.route("/triage/reports/<string:reference>/reroute")
class Reroute(MethodView):
    @blp.operation(
        "rerouteReport",
        *errors.CHANGE_ERRORS,
        errors.SupervisorsOnly,
        errors.NoteRequired,
        errors.RerouteRefused,
    )
    @json_body()
    @blp.arguments(
        schemas.RerouteSchema(), example={"unit": "DEA-T8", "note": "Avaloir bouché : assainissement", "version": 1}
    )
    @blp.response(200, schemas.TriageReportSchema, description="The report, now in another queue", headers=ETAG)
    @blp.doc(security=[{"AgentToken": []}])
    @blp.doc(parameters=[IF_MATCH])
    def post(self, data, reference: str):
        """Reroute a report to another unit or directorate, saying why (supervisors)"""
        report = moves.reroute(
            db_session(),
            current_agent(),
            reference,
            unit_code=data["unit"],
            note=data["note"],
            version=_version(data),
            now=utcnow(),
            queue=deps.current().queue,
        )
        return _answer(report)


@blp.route("/triage/stats")
class Stats(MethodView):
    @blp.operation("getTriageStats")
    @blp.arguments(schemas.StatsQuerySchema(), location="query")
    @blp.response(
        200,
        schemas.StatsSchema,
        description="Counts by status, directorate, category, unit; median and 90th percentile hours; per week",
    )
    @blp.doc(security=[{"AgentToken": []}])
    @read_only
    def get(self, args):
        """Your directorate's figures over a window of received dates (default: the last 30 days)"""
        return stats.stats(
            db_session(), current_agent(), since=args.get("since"), until=args.get("until"), now=utcnow()
        )


@blp.route("/triage/reports/<string:reference>/media")
class AgentMedia(MethodView):
    @blp.operation(
        "addTriageReportMedia",
        ReportNotFound,
        *UPLOAD_ERRORS,
    )
    @blp.doc(
        requestBody={"required": True, "content": {"multipart/form-data": MEDIA_UPLOAD_BODY}},
        security=[{"AgentToken": []}],
    )
    @blp.response(201, MediaListSchema, description="The media added")
    def post(self, reference: str):
        """Add photos (or a video) to a report of your directorate"""
        files = uploaded_files()
        return agent_media.add_media(
            db_session(), current_agent(), reference, files, media=media_intake(), now=utcnow()
        )


@blp.route(f"/triage/media/<{ID}:media_id>/original")
class Original(MethodView):
    @blp.operation("getMediaOriginal", MediaNotFound)
    @blp.doc(
        responses={
            "200": file_response(
                "The file as received (private: never cache it)",
                "image/jpeg",
                "image/png",
                "image/webp",
                "image/heic",
                "video/mp4",
                "video/quicktime",
                headers={"ETag": {"description": "The file's SHA-256", "schema": {"type": "string"}}},
            )
        }
    )
    @blp.doc(security=[{"AgentToken": []}])
    @read_only
    def get(self, media_id: int):
        """The original of a photo or video, as received: agents of the report's directorate only"""
        found = agent_media.original_file(db_session(), deps.current().storage, current_agent(), media_id)
        headers = {**PRIVATE, "ETag": f'"{found.etag}"', **found.headers}
        return Response(found.data, mimetype=found.content_type, headers=headers)


@blp.route(f"/triage/media/<{ID}:media_id>/publication")
class Publication(MethodView):
    @blp.operation("publishMedia", MediaNotFound, NotHeld, UnreadableVideo)
    @blp.response(200, MediaViewSchema, description="The medium as the public now sees it")
    @blp.doc(security=[{"AgentToken": []}])
    def post(self, media_id: int):
        """Publish a held medium: a video (a copy with its metadata boxes blanked) or a photo of a
        sensitive sighting. Agents of the report's directorate"""
        media, report = agent_media.publish_media(
            db_session(), current_agent(), media_id, storage=deps.current().storage, now=utcnow()
        )
        return media_view(media, sensitive=report.sensitive)

    @blp.operation("unpublishMedia", MediaNotFound, NotHeld)
    @blp.response(200, MediaViewSchema, description="The medium as the public now sees it")
    @blp.doc(security=[{"AgentToken": []}])
    def delete(self, media_id: int):
        """Withdraw a published video, or a published photo of a sensitive sighting, from the public"""
        media, report = agent_media.unpublish_media(db_session(), current_agent(), media_id, now=utcnow())
        return media_view(media, sensitive=report.sensitive)
