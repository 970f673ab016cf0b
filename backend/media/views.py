"""Public derivatives of photos, at stable, cacheable URLs."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView
from sqlalchemy import bindparam, select

from backend.db import utcnow
from backend.errors import DomainError, NotFound
from backend.http import ID, Blueprint, current_agent, db_session
from backend.media import services
from backend.media.models import Media
from backend.reports.models import Report, ReportEvent
from backend.reports.schemas import media_view

blp = Blueprint("media", __name__, description="Photos' public derivatives (no metadata of any kind)")
VARIANTS = ("thumb", "display", "video")
_SENSITIVE = select(Report.sensitive).where(Report.id == bindparam("report_id"))


def media_intake() -> services.MediaIntake:
    """This app's media limits and storage, for every view that takes files."""
    settings = current_app.extensions["signal93.settings"]
    return services.MediaIntake(
        storage=current_app.extensions["signal93.storage"],
        queue=current_app.extensions["signal93.queue"],
        max_photo_bytes=settings.max_photo_bytes,
        max_video_bytes=settings.max_video_bytes,
        max_pixels=settings.max_photo_pixels,
    )


class MediaNotFound(NotFound):
    code = "media_not_found"
    message = "No such photo derivative."


class MediaNotReady(DomainError):
    code = "media_not_ready"
    status = 409
    message = "This photo is still being processed (or could not be): try again later."


@blp.route(f"/media/<{ID}:media_id>/<string:variant>")
class Derivative(MethodView):
    @blp.response(200, description="The JPEG derivative", content_type="image/jpeg")
    def get(self, media_id: int, variant: str):
        """A photo's derivative (`thumb` 320 px, `display` 1600 px) or a published `video`, without metadata"""
        session = db_session()
        media = session.get(Media, media_id)
        if media is None or variant not in VARIANTS or (variant == "video") != (media.kind == "video"):
            raise MediaNotFound()
        if services.is_held(media, sensitive=session.scalar(_SENSITIVE, {"report_id": media.report_id})):
            raise MediaNotFound()  # listed, never served, until an agent publishes it
        if media.status != "ready" or variant not in media.derivatives:
            raise MediaNotReady()
        derivative = media.derivatives[variant]
        etag = derivative["key"].rsplit("/", 1)[-1].split(".")[0]  # the content's SHA-256
        headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=31536000, immutable"}
        if request.if_none_match.contains(etag):
            return Response(status=304, headers=headers)
        data = current_app.extensions["signal93.storage"].get(derivative["key"])
        return Response(data, mimetype=derivative["content_type"], headers=headers)


@blp.route(f"/triage/media/<{ID}:media_id>/original")
class Original(MethodView):
    @blp.response(200, description="The file as received (private)", content_type="application/octet-stream")
    @blp.doc(security=[{"AgentToken": []}])
    def get(self, media_id: int):
        """The original of a photo or video, as received: agents of the report's directorate only"""
        media, _ = _agent_media(db_session(), media_id)  # another directorate's: 404, not revealed
        data = current_app.extensions["signal93.storage"].get(media.original_key)
        return Response(
            data,
            mimetype=media.content_type,
            headers={"Cache-Control": "private, no-store", "ETag": f'"{media.sha256}"'},
        )


@blp.route(f"/triage/media/<{ID}:media_id>/publication")
class Publication(MethodView):
    @blp.response(200, description="The medium as the public now sees it")
    @blp.doc(security=[{"AgentToken": []}])
    def post(self, media_id: int):
        """Publish a held medium: a video (a copy with its metadata boxes blanked) or a photo of a
        sensitive sighting. Agents of the report's directorate"""
        session = db_session()
        media, report = _agent_media(session, media_id)
        storage = current_app.extensions["signal93.storage"]
        services.publish(session, media, sensitive=report.sensitive, storage=storage, now=utcnow())
        _trace(session, report, "media_published", media)
        return media_view(media, sensitive=report.sensitive)

    @blp.response(200, description="The medium as the public now sees it")
    @blp.doc(security=[{"AgentToken": []}])
    def delete(self, media_id: int):
        """Withdraw a published video, or a published photo of a sensitive sighting, from the public"""
        session = db_session()
        media, report = _agent_media(session, media_id)
        services.unpublish(session, media, sensitive=report.sensitive, now=utcnow())
        _trace(session, report, "media_unpublished", media)
        return media_view(media, sensitive=report.sensitive)


def _agent_media(session, media_id: int):
    """The medium and its report, if the current agent may act on them; 404 otherwise."""
    agent = current_agent()
    media = session.get(Media, media_id)
    report = session.get(Report, media.report_id) if media else None
    if report is None or (agent.role != "admin" and report.directorate_id != agent.directorate_id):
        raise MediaNotFound()
    return media, report


def _trace(session, report, kind: str, media) -> None:
    session.add(
        ReportEvent(
            report_id=report.id,
            kind=kind,
            at=utcnow(),
            actor_type="agent",
            actor_id=current_agent().id,
            public=False,
            data={"media_id": media.id},
        )
    )
    session.flush()
