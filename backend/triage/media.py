"""Agents and the media of their directorate's reports: add, read the original, publish, withdraw."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from backend.directory.models import Agent
from backend.media import services as media_services
from backend.media.models import Media
from backend.media.services import MediaIntake
from backend.reports.errors import InvalidReport
from backend.reports.models import Report
from backend.reports.services import AddedMedia
from backend.storage import File, Received, Storage, stored_file
from backend.triage.access import visible_media, visible_report
from backend.triage.moves import trace


def add_media(
    session: Session,
    agent: Agent,
    reference: str,
    files: dict[str, list[Received]],
    *,
    media: MediaIntake,
    now: datetime,
) -> AddedMedia:
    """Photos or a video added by an agent (a site visit, say), same checks as the reporter's:
    the report and the new media; traced."""
    report = visible_report(session, agent, reference)
    if not any(files.values()):
        raise InvalidReport({"photos": ["send at least one file"]}, "No file was sent.")
    uploads = media.check(files, report.program.code)
    rows = media.attach(session, report.id, uploads)
    trace(session, agent, report, "media_added", {"media_ids": [m.id for m in rows]}, now=now)
    return AddedMedia(report, rows)


def original_file(session: Session, storage: Storage, agent: Agent, media_id: int) -> File:
    """The original of a photo or video, as received: agents who see its report only
    (``MediaNotFound`` otherwise)."""
    found, _ = visible_media(session, agent, media_id)
    return stored_file(storage, found.original_key, found.size, found.content_type, found.sha256)


def publish_media(
    session: Session, agent: Agent, media_id: int, *, storage: Storage, now: datetime
) -> tuple[Media, Report]:
    """Publish a held medium (a video, a photo of a sensitive sighting) of a report the agent
    sees; traced."""
    found, report = visible_media(session, agent, media_id)
    media_services.publish(session, found, sensitive=report.sensitive, storage=storage, now=now)
    trace(session, agent, report, "media_published", {"media_id": found.id}, now=now)
    return found, report


def unpublish_media(session: Session, agent: Agent, media_id: int, *, now: datetime) -> tuple[Media, Report]:
    """Withdraw a published medium from the public; traced."""
    found, report = visible_media(session, agent, media_id)
    media_services.unpublish(session, found, sensitive=report.sensitive, now=now)
    trace(session, agent, report, "media_unpublished", {"media_id": found.id}, now=now)
    return found, report
