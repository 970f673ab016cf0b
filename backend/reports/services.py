"""Reading reports (one, or a page), adding media and supports to one, and serving its media."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from backend.directory.models import Category, Program
from backend.errors import InvalidQuery
from backend.media import services as media_services
from backend.media.models import Media
from backend.media.services import MediaIntake, MediaNotFound, MediaNotReady
from backend.pagination import DATETIME, Page, decode_cursor, paginate
from backend.reports.errors import InvalidReport, ReportClosed, ReporterTokenMissing, ReportNotFound
from backend.reports.intake import verify_reporter_token
from backend.reports.models import CELL_ROW, OPEN_STATUSES, Report, Support, parse_reference, public_cell
from backend.storage import File, Received, Storage, stored_file


@dataclass(frozen=True)
class ReportRead:
    """A report as ``GET /reports/{ref}`` shows it: with what was submitted (contact included)
    for the holder of its reporter token only."""

    report: Report
    private: bool


def read_report(session: Session, reference: str, token: str | None) -> ReportRead:
    """The report; with ``token`` (``Authorization: Reporter``), also what its reporter sent.
    :class:`ReportNotFound`; ``InvalidReporterToken`` for another report's token."""
    report = get_report(session, reference)
    if token is not None:
        verify_reporter_token(report, token)
    return ReportRead(report, private=token is not None)


@dataclass(frozen=True)
class AddedMedia:
    """Media just added to a report."""

    report: Report
    media: list[Media]


def add_media(
    session: Session, reference: str, token: str | None, files: dict[str, list[Received]], *, media: MediaIntake
) -> AddedMedia:
    """Photos (and a video) sent after the report, by its reporter (slow networks send the report
    first): the report and the new media. Counts include what the report already has; nothing is
    stored if one file is refused."""
    report = get_report(session, reference)
    if token is None:
        raise ReporterTokenMissing()
    verify_reporter_token(report, token)
    if not any(files.values()):
        raise InvalidReport({"photos": ["send at least one file"]}, "No file was sent.")
    photos = sum(1 for m in report.media if m.kind == "photo")
    videos = sum(1 for m in report.media if m.kind == "video")
    if photos + len(files.get("photos", [])) > media_services.MAX_PHOTOS:
        raise media_services.UploadRefused(
            "photos", "too_many_files", f"at most {media_services.MAX_PHOTOS} photos per report"
        )
    if videos + len(files.get("video", [])) > media_services.MAX_VIDEOS:
        raise media_services.UploadRefused("video", "too_many_files", "at most one video per report")
    uploads = media.check(files, report.program.code)
    return AddedMedia(report, media.attach(session, report.id, uploads))


MAX_COUNTED_PER_ADDRESS = 3


def add_support(
    session: Session, reference: str, client_id: str, now: datetime, address_hash: str | None = None
) -> tuple[Report, bool]:
    """Count one "me too" per phone; returns the report and whether this support is new. At most
    :data:`MAX_COUNTED_PER_ADDRESS` supports from one address (``address_hash``) count on a report:
    the others are kept, not counted, so a burst from one place cannot lift it in the queue."""
    report = get_report(session, reference)
    if report.status not in OPEN_STATUSES:
        raise ReportClosed()
    counted = True
    if address_hash is not None:
        same_place = session.scalar(
            select(func.count())
            .select_from(Support)
            .where(Support.report_id == report.id, Support.address_hash == address_hash, Support.counted.is_(True))
        )
        counted = same_place < MAX_COUNTED_PER_ADDRESS
    savepoint = session.begin_nested()
    try:
        session.add(
            Support(
                report_id=report.id, client_id=client_id, created_at=now, address_hash=address_hash, counted=counted
            )
        )
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        return report, False
    savepoint.commit()
    if counted:
        # Counted in SQL, so concurrent supports on two processes add up.
        session.execute(
            update(Report)
            .where(Report.id == report.id)
            .values(support_count=Report.support_count + 1)
            .execution_options(synchronize_session=False)
        )
        session.refresh(report, ["support_count"])
    return report, True


def get_report(session: Session, reference: str) -> Report:
    """The report with this public reference; :class:`ReportNotFound` otherwise."""
    parsed = parse_reference(reference)
    if parsed is None:
        raise ReportNotFound()
    year, report_id = parsed
    report = session.scalar(
        select(Report)
        .where(Report.id == report_id)
        .options(
            joinedload(Report.category),
            joinedload(Report.program),
            selectinload(Report.events),
            selectinload(Report.media),
        )
    )
    if report is None or report.received_at.year != year:
        raise ReportNotFound()
    return report


def list_reports(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    category: str | None = None,
    program: str | None = None,
    statuses: list[str] | None = None,
    since: datetime | None = None,
) -> Page[Report]:
    """Reports, newest first (received time, then number: a stable order), one page at a time.

    A bounding box of a few square kilometres is read one grid cell at a time (each cell's
    newest first, from the ``(public_cell, received_at, id)`` index, then merged): the same cost
    after ten years of reports as after one."""
    conditions = []
    if category is not None:
        category_id = session.scalar(select(Category.id).where(Category.code == category))
        if category_id is None:
            raise InvalidQuery("category", "unknown category", code="unknown_category")
        conditions.append(Report.category_id == category_id)
    if program is not None:
        program_id = session.scalar(select(Program.id).where(Program.code == program))
        if program_id is None:
            raise InvalidQuery("program", "unknown program", code="unknown_program")
        conditions.append(Report.program_id == program_id)
    if statuses:
        conditions.append(Report.status.in_(statuses))
    if since is not None:
        conditions.append(Report.received_at >= since)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        # On the public location: a small box cannot pin a sensitive species down.
        conditions += [Report.public_lon.between(min_lon, max_lon), Report.public_lat.between(min_lat, max_lat)]
    if cursor is not None:
        received_at, last_id = decode_cursor(cursor, (DATETIME, int), "reports")
        conditions.append(
            or_(
                Report.received_at < received_at,
                and_(Report.received_at == received_at, Report.id < last_id),
            )
        )
    newest_first = (Report.received_at.desc(), Report.id.desc())
    query = (
        select(Report)
        .options(
            joinedload(Report.category),
            joinedload(Report.program),
            selectinload(Report.events),
            selectinload(Report.media),
        )
        .order_by(*newest_first)
        .limit(limit + 1)
    )
    cells = grid_cells(bbox) if bbox is not None else None
    if cells is not None:
        per_cell = [
            select(Report.id, Report.received_at)
            .where(Report.public_cell == cell, *conditions)
            .order_by(*newest_first)
            .limit(limit + 1)
            .subquery()
            for cell in cells
        ]
        merged = union_all(*(select(part.c.id, part.c.received_at) for part in per_cell)).subquery()
        ids = select(merged.c.id).order_by(merged.c.received_at.desc(), merged.c.id.desc()).limit(limit + 1)
        query = query.where(Report.id.in_(list(session.scalars(ids))))
    else:
        query = query.where(*conditions)
    rows = list(session.scalars(query))
    return paginate(rows, limit, lambda r: [r.received_at.isoformat(), r.id], "reports")


MAX_CELLS = 24  # about 20 km²: past that, the newest reports of the box are found by time first


def grid_cells(bbox: tuple[float, float, float, float]) -> list[int] | None:
    """The :func:`public_cell` values a bounding box overlaps, or None when it spans more than
    :data:`MAX_CELLS` (a large box: its newest reports are quickly found newest first)."""
    min_lon, min_lat, max_lon, max_lat = bbox
    first, last = public_cell(min_lon, min_lat), public_cell(max_lon, max_lat)
    rows = range(first // CELL_ROW, last // CELL_ROW + 1)
    columns = range(first % CELL_ROW, last % CELL_ROW + 1)
    if len(rows) * len(columns) > MAX_CELLS:
        return None
    return [row * CELL_ROW + column for row in rows for column in columns]


_SENSITIVE = select(Report.sensitive).where(Report.id == bindparam("report_id"))


def public_media_file(
    session: Session, storage: Storage, media_id: int, variant: str, *, known_etags: Collection[str] = ()
) -> File:
    """A derivative the public may fetch (``thumb``, ``display``, a published ``video``), its
    ETag the content's SHA-256. :class:`MediaNotFound` for an unknown or held medium (not
    revealed: a video, or a photo of a sensitive sighting, until an agent publishes it);
    :class:`MediaNotReady` while it is processed."""
    media = session.get(Media, media_id)
    if media is None or variant not in media_services.VARIANTS or (variant == "video") != (media.kind == "video"):
        raise MediaNotFound()
    if media_services.is_held(media, sensitive=session.scalar(_SENSITIVE, {"report_id": media.report_id})):
        raise MediaNotFound()  # listed, never served, until an agent publishes it
    if media.status != "ready" or variant not in media.derivatives:
        raise MediaNotReady()
    derivative = media.derivatives[variant]
    etag = derivative["key"].rsplit("/", 1)[-1].split(".")[0]
    if etag in known_etags:
        return File(None, derivative["content_type"], etag)
    if variant == "video":  # the clean copy has the original's size: its boxes were blanked in place
        return stored_file(storage, derivative["key"], media.size, derivative["content_type"], etag)
    return File(storage.get(derivative["key"]), derivative["content_type"], etag)
