"""Public derivatives of photos, at stable, cacheable URLs."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView

from backend.errors import DomainError, NotFound
from backend.http import Blueprint, current_agent, db_session
from backend.media.models import Media
from backend.reports.models import Report

blp = Blueprint("media", __name__, description="Photos' public derivatives (no metadata of any kind)")
VARIANTS = ("thumb", "display")


class MediaNotFound(NotFound):
    code = "media_not_found"
    message = "No such photo derivative."


class MediaNotReady(DomainError):
    code = "media_not_ready"
    status = 409
    message = "This photo is still being processed (or could not be): try again later."


@blp.route("/media/<int:media_id>/<string:variant>")
class Derivative(MethodView):
    @blp.response(200, description="The JPEG derivative", content_type="image/jpeg")
    def get(self, media_id: int, variant: str):
        """A photo's derivative: `thumb` (320 px) or `display` (1600 px), immutable once made"""
        media = db_session().get(Media, media_id)
        if media is None or media.kind != "photo" or variant not in VARIANTS:
            raise MediaNotFound()
        if media.status != "ready" or variant not in media.derivatives:
            raise MediaNotReady()
        derivative = media.derivatives[variant]
        etag = derivative["key"].rsplit("/", 1)[-1].split(".")[0]  # the content's SHA-256
        headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=31536000, immutable"}
        if request.if_none_match.contains(etag):
            return Response(status=304, headers=headers)
        data = current_app.extensions["signal93.storage"].get(derivative["key"])
        return Response(data, mimetype=derivative["content_type"], headers=headers)


@blp.route("/triage/media/<int:media_id>/original")
class Original(MethodView):
    @blp.response(200, description="The file as received (private)", content_type="application/octet-stream")
    @blp.doc(security=[{"AgentToken": []}])
    def get(self, media_id: int):
        """The original of a photo or video, as received: agents of the report's directorate only"""
        agent = current_agent()
        session = db_session()
        media = session.get(Media, media_id)
        report = session.get(Report, media.report_id) if media else None
        if report is None or (agent.role != "admin" and report.directorate_id != agent.directorate_id):
            raise MediaNotFound()  # another directorate's file: its existence is not leaked
        data = current_app.extensions["signal93.storage"].get(media.original_key)
        return Response(
            data,
            mimetype=media.content_type,
            headers={"Cache-Control": "private, no-store", "ETag": f'"{media.sha256}"'},
        )
