"""Media intake and processing: originals stored at once, derivatives made by a job, a sweep
for whatever a lost job left pending."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import DomainError, NotFound
from backend.media import images, videos
from backend.media.models import Media
from backend.queue import JobQueue, after_commit
from backend.storage import Received, Storage, content_key, digest_key

log = logging.getLogger(__name__)

PROCESS_JOB = "backend.media.jobs.process_media"
MAX_ATTEMPTS = 4  # the first run and rq's retries
STALE_AFTER = timedelta(minutes=5)
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
}


@dataclass(frozen=True)
class MediaIntake:
    """What intake needs to keep media: where originals go, where jobs go, the limits."""

    storage: Storage
    queue: JobQueue
    max_photo_bytes: int
    max_video_bytes: int
    max_pixels: int

    def check(self, files: dict[str, list[Received]], program: str) -> list[Upload]:
        """:func:`check_uploads` with these limits."""
        return check_uploads(
            files,
            program=program,
            max_photo_bytes=self.max_photo_bytes,
            max_video_bytes=self.max_video_bytes,
            max_pixels=self.max_pixels,
        )

    def attach(self, session: Session, report_id: int, uploads: list[Upload]) -> list[Media]:
        """:func:`attach` to this storage and queue."""
        return attach(session, report_id, uploads, storage=self.storage, queue=self.queue)


@dataclass(frozen=True)
class Upload:
    file: Received
    content_type: str  # decided from the content by :func:`check_upload`


MAX_PHOTOS = 5
MAX_VIDEOS = 1
VIDEO_PROGRAMS = ("vigies-eau",)
STATUS_BY_CODE = {"unsupported_media_type": 415, "media_too_large": 413}
# What refusing a file answers with (status, code), for the API's document.
UPLOAD_ERRORS = (
    (413, "media_too_large"),
    (415, "unsupported_media_type"),
    (422, "too_many_files"),
    (422, "video_not_allowed"),
    (422, "invalid_media"),
    (422, "image_too_large"),
)


class UploadRefused(DomainError):
    """A file of the request cannot be accepted; nothing of the request was stored."""

    status = 422

    def __init__(self, field: str, code: str, reason: str):
        super().__init__(f"{field}: {reason}", errors={"files": {field: [reason]}})
        self.code, self.status = code, STATUS_BY_CODE.get(code, 422)


def check_uploads(
    files: dict[str, list[Received]], *, program: str, max_photo_bytes: int, max_video_bytes: int, max_pixels: int
) -> list[Upload]:
    """Check every file of a request (``photos``, ``video``) before anything is stored; raise
    :class:`UploadRefused` for the first one that cannot be accepted."""
    photos, videos = files.get("photos", []), files.get("video", [])
    if len(photos) > MAX_PHOTOS:
        raise UploadRefused("photos", "too_many_files", f"at most {MAX_PHOTOS} photos")
    if len(videos) > MAX_VIDEOS:
        raise UploadRefused("video", "too_many_files", f"at most {MAX_VIDEOS} video")
    if videos and program not in VIDEO_PROGRAMS:
        raise UploadRefused("video", "video_not_allowed", "videos are taken for Vigies de l'Eau reports only")
    checked = []
    for field, items, expected in (("photos", photos, images.PHOTO_TYPES), ("video", videos, images.VIDEO_TYPES)):
        for index, received in enumerate(items):
            where = f"{field}[{index}]"
            try:
                upload = check_upload(
                    received, max_photo_bytes=max_photo_bytes, max_video_bytes=max_video_bytes, max_pixels=max_pixels
                )
            except images.MediaError as exc:
                raise UploadRefused(where, exc.code, str(exc)) from exc
            if upload.content_type not in expected:
                raise UploadRefused(where, "unsupported_media_type", f"a {upload.content_type} is not a {field} file")
            checked.append(upload)
    return checked


def check_upload(received: Received, *, max_photo_bytes: int, max_video_bytes: int, max_pixels: int) -> Upload:
    """Decide what a file is from its first bytes and refuse what cannot be used, before anything
    is stored. Raises ``images.MediaError`` (``code`` gives the answer). A video is checked by
    its box headers, never read whole."""
    content_type = images.sniff(received.head(32))
    if content_type is None:
        raise images.UnsupportedMedia("accepted: JPEG, PNG, WebP, HEIC photos; MP4, QuickTime videos")
    limit = max_video_bytes if content_type in images.VIDEO_TYPES else max_photo_bytes
    if received.size > limit:
        raise MediaTooLarge(f"{received.size} bytes, more than the {limit} allowed")
    if content_type in images.PHOTO_TYPES:
        images.check_decodable(received.open(), max_pixels)
    else:
        try:
            videos.metadata_boxes(received.open())  # a broken box structure is refused now, not at publication
        except videos.InvalidVideo as exc:
            raise images.MediaError(f"not a readable video: {exc}") from exc
    return Upload(received, content_type)


class MediaTooLarge(images.MediaError):
    code = "media_too_large"


def attach(
    session: Session, report_id: int, uploads: list[Upload], *, storage: Storage, queue: JobQueue
) -> list[Media]:
    """Store the originals (private, content-addressed) and record each medium as ``pending``;
    its processing job is sent once the transaction commits. Flushes."""
    rows = []
    for upload in uploads:
        received = upload.file
        key = digest_key("originals", received.sha256, EXTENSIONS[upload.content_type])
        if not storage.exists(key):
            storage.put_stream(key, received.open(), upload.content_type)
        kind = "video" if upload.content_type in images.VIDEO_TYPES else "photo"
        media = Media(
            report_id=report_id,
            kind=kind,
            content_type=upload.content_type,
            size=received.size,
            sha256=received.sha256,
            original_key=key,
            # A video is kept as it is: nothing to make, nothing pending.
            status="pending" if kind == "photo" else "ready",
        )
        session.add(media)
        rows.append(media)
    session.flush()
    for media in rows:
        if media.status == "pending":
            after_commit(session, queue, PROCESS_JOB, media.id)
    return rows


def process(session: Session, media_id: int, *, storage: Storage, max_pixels: int, now: datetime) -> Media | None:
    """Make and store the derivatives of a pending photo, then mark it ``ready``. Safe to run
    twice (a ready medium is left alone). Raises on failure after recording the attempt;
    after ``MAX_ATTEMPTS`` the medium is ``failed`` with the reason."""
    media = session.get(Media, media_id, with_for_update=True)
    if media is None or media.status != "pending":
        return media
    media.attempts += 1
    try:
        made = images.derivatives(storage.get(media.original_key), max_pixels=max_pixels)
        derivatives = {}
        for derivative in made:
            key = content_key("derivatives", derivative.data, ".jpg")
            if not storage.exists(key):
                storage.put(key, derivative.data, derivative.content_type)
            derivatives[derivative.name] = {
                "key": key,
                "content_type": derivative.content_type,
                "width": derivative.width,
                "height": derivative.height,
            }
    except Exception as exc:
        media.updated_at = now
        log.warning("media processing failed", extra={"media_id": media.id, "attempt": media.attempts})
        if media.attempts >= MAX_ATTEMPTS or isinstance(exc, images.MediaError):
            # The last attempt, or a file no retry will mend: agents read why.
            media.status, media.failure_reason = "failed", f"{type(exc).__name__}: {exc}"[:500]
            session.flush()
            return media
        session.flush()
        raise
    media.derivatives = derivatives
    media.status = "ready"
    media.failure_reason = None
    media.updated_at = now
    session.flush()
    return media


def sweep(session: Session, *, queue: JobQueue, now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
    """Send again the jobs of media still ``pending`` after ``stale_after`` (a Redis outage, a
    killed worker); returns how many. The jobs leave after this transaction commits."""
    stale = list(
        session.scalars(
            select(Media.id).where(Media.status == "pending", Media.updated_at < now - stale_after).limit(1000)
        )
    )
    for media_id in stale:
        after_commit(session, queue, PROCESS_JOB, media_id)
    return len(stale)


def stale_pending(session: Session, *, now: datetime, older_than: timedelta = timedelta(minutes=5)) -> int:
    """How many media are still ``pending`` after ``older_than`` (what operators watch)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Media)
            .where(Media.status == "pending", Media.updated_at < now - older_than)
        )
        or 0
    )


def is_held(media: Media, *, sensitive: bool) -> bool:
    """Whether a medium waits for an agent to publish it: a video (its cleaned copy is made then),
    and a photo of a sensitive sighting (a rare species: the picture may show where it is)."""
    return not media.published and (media.kind == "video" or sensitive)


def is_public(media: Media, *, sensitive: bool) -> bool:
    """Whether the public may see a medium: not held, and its derivatives made."""
    return not is_held(media, sensitive=sensitive) and media.status == "ready" and bool(media.derivatives)


class MediaNotFound(NotFound):
    code = "media_not_found"
    message = "No such photo derivative."


class MediaNotReady(DomainError):
    code = "media_not_ready"
    status = 409
    message = "This photo is still being processed (or could not be): try again later."


VARIANTS = ("thumb", "display", "video")


class NotHeld(DomainError):
    code = "not_held"
    status = 409
    message = (
        "Only videos and photos of sensitive sightings are published by hand: "
        "other photos are public once their derivatives are made."
    )


class UnreadableVideo(DomainError):
    code = "invalid_media"
    status = 422
    message = "This video's structure is broken: it cannot be cleaned, so it is not published."


def publish(session: Session, media: Media, *, sensitive: bool, storage: Storage, now: datetime) -> Media:
    """Make a held medium public: a video (a copy with its metadata boxes blanked, made now), or a
    photo of a sensitive sighting (its derivatives, already clean, are then served)."""
    if media.kind == "video":
        _clean_video_copy(media, storage)
    elif not sensitive:
        raise NotHeld()
    return _set_published(session, media, True, now)


def unpublish(session: Session, media: Media, *, sensitive: bool, now: datetime) -> Media:
    """Withdraw a published video, or a published photo of a sensitive sighting."""
    if media.kind != "video" and not sensitive:
        raise NotHeld()
    return _set_published(session, media, False, now)


def _clean_video_copy(media: Media, storage: Storage) -> None:
    """Store a copy of the video with its metadata boxes blanked, as its derivative (made in a
    temporary file: the video is never read whole into memory)."""
    with tempfile.TemporaryDirectory(prefix="signal93-video-") as work:
        path = Path(work) / "video"
        storage.get_file(media.original_key, path)
        with path.open("r+b") as handle:
            try:
                videos.scrub_in_place(handle)
            except videos.InvalidVideo as exc:
                raise UnreadableVideo(errors={"media": [str(exc)]}) from exc
            clean = Received(handle)
            key = digest_key("derivatives", clean.sha256, EXTENSIONS[media.content_type])
            if not storage.exists(key):
                storage.put_stream(key, clean.open(), media.content_type)
    media.derivatives = {"video": {"key": key, "content_type": media.content_type}}


def _set_published(session: Session, media: Media, published: bool, now: datetime) -> Media:
    media.published = published
    media.updated_at = now
    session.flush()
    return media
