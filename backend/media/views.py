"""Public derivatives of photos, at stable, cacheable URLs."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView

from backend.db import utcnow
from backend.http import ID, Blueprint, current_agent, db_session, read_only
from backend.media import services
from backend.reports.schemas import media_view
from backend.triage import services as triage

blp = Blueprint("media", __name__, description="Photos' public derivatives (no metadata of any kind)")


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


@blp.route(f"/media/<{ID}:media_id>/<string:variant>")
class Derivative(MethodView):
    @blp.response(200, description="The JPEG derivative", content_type="image/jpeg")
    @read_only
    def get(self, media_id: int, variant: str):
        """A photo's derivative (`thumb` 320 px, `display` 1600 px) or a published `video`, without metadata"""
        derivative = services.public_derivative(db_session(), media_id, variant)
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
        media, _ = triage.agent_media(db_session(), current_agent(), media_id)  # another directorate's: 404
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
        media, report = triage.publish_media(
            db_session(), current_agent(), media_id, storage=current_app.extensions["signal93.storage"], now=utcnow()
        )
        return media_view(media, sensitive=report.sensitive)

    @blp.response(200, description="The medium as the public now sees it")
    @blp.doc(security=[{"AgentToken": []}])
    def delete(self, media_id: int):
        """Withdraw a published video, or a published photo of a sensitive sighting, from the public"""
        media, report = triage.unpublish_media(db_session(), current_agent(), media_id, now=utcnow())
        return media_view(media, sensitive=report.sensitive)
