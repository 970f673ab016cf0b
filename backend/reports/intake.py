"""Report intake: validate, route, store once (idempotently), with the reporter's token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from backend.directory.models import Taxon
from backend.errors import DomainError
from backend.media import images
from backend.media.services import MAX_PHOTOS, MediaIntake, Upload
from backend.queue import JobQueue, after_commit
from backend.reports import statements
from backend.reports.attributes import MAX_AGE, MAX_CLOCK_SKEW, validate_attributes
from backend.reports.errors import (
    IdempotencyConflict,
    InvalidIdempotencyKey,
    InvalidReport,
    InvalidReporterToken,
    UnknownCategory,
)
from backend.reports.models import PRIORITIES, Report, Reporter, ReportEvent, public_cell, public_point
from backend.reports.nearby import similar_reports
from backend.routing.geometry import Place
from backend.routing.services import Router, RoutingTable
from backend.storage import Received
from backend.zones.models import Zone
from backend.zones.services import ZoneNotFound, get_zone

MAX_OBSERVATION_AGE = MAX_AGE
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 200
# The job that tells a webhook unit of a new report (notifications sit above reports: named, not imported).
NOTIFY_UNIT_JOB = "backend.notifications.jobs.notify_unit"
# …and the one that alerts the park's team and the observatory of a sensitive species, at once.
ALERT_URGENT_JOB = "backend.notifications.jobs.alert_urgent"
SIGHTINGS = "observacteurs"
# A sighting's day is the walker's: midnight in Paris.
LOCAL_TIME = ZoneInfo("Europe/Paris")


@dataclass
class Submission:
    """The outcome of a submit (a new report, or the replay of an earlier identical request):
    the report, its reporter token, the similar reports."""

    report: Report
    reporter_token: str
    similar_reports: list[dict[str, Any]] = field(default_factory=list)
    # A sighting counted on the same device's earlier one (same species, zone and day).
    me_too: bool = False
    # The answer to a retry of a request already stored (nothing new was stored).
    replayed: bool = False


def reporter_token(secret_key: str, seed: str) -> str:
    """The reporter's secret. Derived from the idempotency key with the server secret, so a retry
    of the same request gets the same token back, although only its hash is stored."""
    digest = hmac.new(secret_key.encode(), b"signal93-reporter-token\0" + seed.encode(), hashlib.sha256).digest()
    return "rt_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def verify_reporter_token(report: Report, token: str) -> None:
    """Raise :class:`InvalidReporterToken` unless ``token`` is this report's (constant time)."""
    if not hmac.compare_digest(token_hash(token), report.reporter_token_hash):
        raise InvalidReporterToken()


def checked_idempotency_key(key: str | None) -> str | None:
    """The ``Idempotency-Key`` header as given, if it is one; :class:`InvalidIdempotencyKey`
    otherwise."""
    if key is None:
        return None
    if not (0 < len(key) <= MAX_IDEMPOTENCY_KEY) or not key.isascii() or not key.isprintable():
        raise InvalidIdempotencyKey(errors={"headers": {IDEMPOTENCY_HEADER: [InvalidIdempotencyKey.message]}})
    return key


def fingerprint(payload: Any, files: dict[str, list[Received]]) -> str:
    """The request, canonicalised: a retry with the same JSON (whatever its spacing) and the
    same files matches."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode())
    for name in sorted(files):
        for received in files[name]:
            digest.update(f"|{name}:".encode() + bytes.fromhex(received.sha256))
    return digest.hexdigest()


def submit_report(
    session: Session,
    data: dict[str, Any],
    *,
    payload: Any,
    files: dict[str, list[Received]],
    idempotency_key: str | None,
    router: Router,
    media: MediaIntake,
    queue: JobQueue,
    secret_key: str,
    now: datetime,
    channel: dict[str, Any] | None = None,
) -> Submission:
    """Validate, route and store a report (``data``, loaded from ``payload`` as the client sent
    it) with its first two trail events.

    A request carrying an ``idempotency_key`` (the header, checked here, or else the
    ``client_id``) that was already stored returns that report when the request
    is the same (:func:`fingerprint` of ``payload`` and ``files``), and raises
    :class:`IdempotencyConflict` otherwise. Raises :class:`InvalidReport`,
    :class:`UnknownCategory`, ``OutsideTerritory`` or ``NoRoute`` for bad input, having
    stored nothing.

    ``channel`` says, in the (internal) data of the ``submitted`` event, how the report came in
    when not by the apps (an Open311 client's name…).

    ``files`` (``photos``, ``video``) are checked before anything is stored, then kept with the
    report through ``media``. A unit told by webhook hears of the new report through ``queue``
    once the transaction commits.

    The report is inserted first and the key checked by the database (``ON CONFLICT DO
    NOTHING``): a new report costs no look-up, and two retries racing on two processes
    resolve to one row without an error.
    """
    request_fingerprint = fingerprint(payload, files)
    client_id = str(data["client_id"]) if data.get("client_id") else None
    key = checked_idempotency_key(idempotency_key) or (f"client_id:{client_id}" if client_id else None)
    try:
        uploads, data, location_source = _uploads_and_location(session, data, files, router, media)
        has_photo = any(upload.content_type in images.PHOTO_TYPES for upload in uploads)
        report = prepare_report(session, data, router=router, now=now, has_photo=has_photo)
        if report.location_source == "device":  # not replaced by the zone's point
            report.location_source = location_source
        notify_method = _notify_method(router.table(session), report)
    except DomainError:
        # A retry of a report accepted earlier gets it back even if it would not pass today
        # (30 days later, or after its category was retired).
        existing = _by_key(session, key) if key else None
        if existing is None:
            raise
        return _replay(session, existing, key, request_fingerprint, secret_key, now)

    report.sighting_key = sighting_key(secret_key, report, data.get("device_id"))
    if channel:
        report.events[0].data = dict(channel)
    token = reporter_token(secret_key, report.sighting_key or key or secrets.token_hex(16))
    report.client_id = client_id
    report.idempotency_key = key
    report.request_fingerprint = request_fingerprint
    report.reporter_token_hash = token_hash(token)
    connection = session.connection()  # plain Core statements: no unit of work to consult
    similar = None
    if connection.dialect.name == "postgresql":
        report.id, similar = statements.store_with_similar(connection, report, now)
    else:
        report.id = statements.insert_report(session, report)
    if report.id is None:  # the key is taken: a retry (possibly racing its twin), or a "me too"
        existing = _by_key(session, key) if key else None
        if existing is not None:
            return _replay(session, existing, key, request_fingerprint, secret_key, now)
        first = _by_sighting_key(session, report.sighting_key)
        return _seen_again(session, first, report, request_fingerprint, uploads, media, secret_key, now)
    for event in report.events:
        event.report_id = report.id
    if similar is None:
        connection.execute(statements.INSERT_EVENT, [statements.columns(event, ReportEvent) for event in report.events])
        similar = similar_reports(session, report, now)
    if report.reporter is not None:
        report.reporter.report_id = report.id
        connection.execute(statements.INSERT_REPORTER, statements.columns(report.reporter, Reporter))
    if notify_method == "webhook":  # owed from now on: its routed event is committed with it (swept if lost)
        after_commit(session, queue, NOTIFY_UNIT_JOB, report.id)
    if report.sensitive:  # owed from now on too: the report is on record as sensitive (swept if lost)
        after_commit(session, queue, ALERT_URGENT_JOB, report.id)
    rows = media.attach(session, report.id, uploads) if uploads else []
    set_committed_value(report, "media", rows)
    return Submission(report, token, similar)


def _notify_method(table: RoutingTable, report: Report) -> str:
    """How the report's unit hears of new reports (from the routing table: no query)."""
    unit = report.routing.get("unit")
    recipient = table.directory.units.get(unit["code"]) if unit else None
    return recipient.notify_method if recipient else "none"


def _uploads_and_location(
    session: Session, data: dict[str, Any], files: dict[str, list[Received]], router: Router, media: MediaIntake
) -> tuple[list[Upload], dict[str, Any], str]:
    """Check the files (before anything is stored) and take the location from the first photo's
    EXIF GPS when the report has none. Returns the uploads, the data and the location source."""
    uploads: list[Upload] = []
    if any(files.values()):
        category = router.table(session).categories.get(data["category"])
        if category is None:
            raise UnknownCategory()
        uploads = media.check(files, category.program.code)
    if data.get("location") is not None:
        return uploads, data, "device"
    for upload in uploads:
        if upload.content_type in images.PHOTO_TYPES and (found := images.gps_location(upload.file.open())):
            lon, lat = found
            return uploads, {**data, "location": {"lon": lon, "lat": lat}}, "exif"
    return uploads, data, "device"  # no location at all: prepare_report says so


def prepare_report(
    session: Session, data: dict[str, Any], *, router: Router, now: datetime, has_photo: bool = False
) -> Report:
    """Validate and route, storing nothing: a transient report (with its routing decision and
    first events), or a DomainError. Intake stores what this returns; the sandbox does not.
    ``has_photo``: the report comes with a photo (which may stand for an unknown species)."""
    table = router.table(session)
    category = table.categories.get(data["category"])
    if category is None:
        raise UnknownCategory()
    errors: dict[str, Any] = {}
    zone = _named_zone(session, table, data.get("zone"), category.program.code, errors)
    observed_at = data.get("observed_at")
    if observed_at is not None:
        if observed_at > now + MAX_CLOCK_SKEW:
            errors["observed_at"] = ["is in the future"]
        elif observed_at < now - MAX_OBSERVATION_AGE:
            errors["observed_at"] = ["is more than 30 days old"]
    attributes, attribute_errors = validate_attributes(
        category.attributes, data.get("attributes") or {}, has_photo=has_photo, now=now
    )
    if attribute_errors:
        errors["attributes"] = attribute_errors
    if data.get("location") is None and zone is None:
        errors["location"] = ["Missing data for required field (or send a photo with GPS data)."]
    if errors:
        raise InvalidReport(errors)

    location, location_source = data.get("location"), "device"
    if zone is not None and not _in_park_of(table, zone, location):
        lon, lat, radius = zone.point
        location, location_source = {"lon": lon, "lat": lat, "accuracy_m": radius}, "zone"
    assert location is not None
    decision = table.route(location["lon"], location["lat"], category.program.code, category.code)
    status = "referred" if decision.referred else "open"
    sensitive = _is_sensitive(session, category.attributes, attributes)
    public_lon, public_lat = public_point(location["lon"], location["lat"], sensitive)
    uncertainty = None
    # Where the point falls among the zones, asked once for what Observ'acteurs needs of it.
    place = (
        table.locate(location["lon"], location["lat"])
        if sensitive or category.program.code == "observacteurs"
        else None
    )
    if sensitive:  # never the point itself, nor a grid cell of it: the park's (or commune's) reference point
        generalised = table.generalised(place)
        if generalised:
            public_lon, public_lat, uncertainty = generalised
    report = Report(
        program_id=category.program_id,
        category_id=category.id,
        status=status,
        lon=location["lon"],
        lat=location["lat"],
        accuracy_m=location.get("accuracy_m"),
        location_source=location_source,
        sensitive=sensitive,
        public_lon=public_lon,
        public_lat=public_lat,
        public_cell=public_cell(public_lon, public_lat),
        public_uncertainty_m=uncertainty,
        priority=PRIORITIES["high"] if sensitive else PRIORITIES["normal"],
        observed_at=observed_at,
        received_at=now,
        description=data.get("description") or "",
        attributes=attributes,
        directorate_id=decision.directorate_id,
        unit_id=decision.unit.id if decision.unit else None,
        referred_to_id=decision.referred_to.id if decision.referred_to else None,
        routing=decision.record(table.revision),
        commune_code=next((z["code"] for z in decision.zones if z["kind"] == "commune"), None),
        zone_id=zone.id if zone is not None else _nature_zone(place, category.program.code),
        due_at=now + timedelta(days=category.target_days),
        support_count=0,
        version=1,
        updated_at=now,
    )
    # Relationships for the response (from the routing table's catalog), set without attaching
    # the report to the session: it is written with plain INSERT statements.
    set_committed_value(report, "category", category)
    set_committed_value(report, "program", category.program)
    contact = data.get("reporter")
    reporter = None
    if contact and any(contact.get(f) for f in ("name", "email", "phone")):
        reporter = Reporter(
            name=contact.get("name"),
            email=contact.get("email"),
            phone=contact.get("phone"),
            consent_contact=bool(contact.get("consent_contact", False)),
        )
    set_committed_value(report, "reporter", reporter)
    events = [
        ReportEvent(kind="submitted", at=now, actor_type="citizen", actor_id=None, public=True, data={}),
        ReportEvent(
            kind="routed",
            at=now,
            actor_type="system",
            actor_id=None,
            public=True,
            data={
                "rule": decision.rule,
                "directorate": decision.directorate_code,
                "unit": decision.unit.code if decision.unit else None,
                "referred_to": decision.referred_to.code if decision.referred_to else None,
                "status": status,
                "message": decision.message,
                "zones": list(decision.zones),
            },
        ),
    ]
    set_committed_value(report, "events", events)
    return report


@dataclass(frozen=True)
class NamedZone:
    """The nature zone a sighting names: its id, park and point (lon, lat, radius in metres)."""

    id: int
    park_id: int | None
    point: tuple[float, float, float | None]


def _named_zone(
    session: Session, table: RoutingTable, slug: str | None, program: str, errors: dict[str, Any]
) -> NamedZone | None:
    """The nature zone ``slug`` names (a former slug too), or None with the reason in ``errors``."""
    if not slug:
        return None
    if program != SIGHTINGS:
        errors["zone"] = ["only Observ'acteurs sightings name a nature zone"]
        return None
    try:
        zone: Zone = get_zone(session, "park_zone", slug)
    except ZoneNotFound:
        errors["zone"] = ["no nature zone has this slug"]
        return None
    lon, lat = zone.centre
    radius = (zone.properties or {}).get("radius_m")
    if radius is None and zone.id in table.index.by_id:
        radius = table.index.reference_point(zone.id)[2]
    return NamedZone(zone.id, zone.parent_id, (lon, lat, float(radius) if radius is not None else None))


def _in_park_of(table: RoutingTable, zone: NamedZone, location: dict[str, Any] | None) -> bool:
    """Whether a location was given, inside the park of the zone named (else the zone's is used)."""
    if location is None:
        return False
    park = table.locate(location["lon"], location["lat"]).first("park")
    return park is not None and park.id == zone.park_id


def sighting_key(secret_key: str, report: Report, device_id: Any) -> str | None:
    """What makes a sighting the same as an earlier one from the same device: the species, the
    zone and the (Paris) day, with the device's id, hashed with the server secret (the id itself is
    never stored). None for anything else than a named species in a known zone from a device."""
    if device_id is None or report.zone_id is None or report.program.code != SIGHTINGS:
        return None
    species = next(
        (
            report.attributes.get(d["code"])
            for d in report.category.attributes
            if d.get("values_from") == "taxa" and isinstance(report.attributes.get(d["code"]), str)
        ),
        None,
    )
    if not species:
        return None
    day = (report.observed_at or report.received_at).astimezone(LOCAL_TIME).date().isoformat()
    message = "\0".join(("signal93-sighting", str(device_id), species, str(report.zone_id), day))
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def _nature_zone(place: Place | None, program: str) -> int | None:
    """The nature zone (park_zone) a sighting's point falls in, for Observ'acteurs only."""
    if program != "observacteurs" or place is None:
        return None
    zone = place.first("park_zone")
    return zone.id if zone else None


def _is_sensitive(session: Session, definitions: list[dict[str, Any]], values: dict[str, Any]) -> bool:
    """A report naming a sensitive species must never show its precise location in public."""
    names: list[str] = []
    for definition in definitions:
        if definition.get("values_from") == "taxa" and definition["code"] in values:
            value = values[definition["code"]]
            names += value if isinstance(value, list) else [value]
    if not names:
        return False
    return bool(session.scalar(select(Taxon.id).where(Taxon.scientific_name.in_(names), Taxon.sensitive.is_(True))))


def _by_key(session: Session, key: str) -> Report | None:
    report_id = session.scalar(select(Report.id).where(Report.idempotency_key == key))
    return session.get(Report, report_id) if report_id is not None else None


def _by_sighting_key(session: Session, key: str | None) -> Report | None:
    report_id = session.scalar(select(Report.id).where(Report.sighting_key == key)) if key else None
    return session.get(Report, report_id) if report_id is not None else None


def _replay(
    session: Session, report: Report, key: str, fingerprint: str | None, secret_key: str, now: datetime
) -> Submission:
    if fingerprint is None or report.request_fingerprint != fingerprint:
        raise IdempotencyConflict()
    token = reporter_token(secret_key, report.sighting_key or key)
    return Submission(report, token, similar_reports(session, report, now), replayed=True)


def _seen_again(
    session: Session,
    first: Report | None,
    sighting: Report,
    fingerprint: str,
    uploads: list[Upload],
    media: MediaIntake,
    secret_key: str,
    now: datetime,
) -> Submission:
    """A device's second sighting of one species in one zone on one day: a "me too" on its first
    (a ``seen_again`` event with the count, its photos added while there is room), once per
    request: its retry finds its event and changes nothing."""
    if first is None:  # the conflicting row is gone (deleted since): nothing to count on
        raise IdempotencyConflict()
    if not any(e.kind == "seen_again" and e.data.get("fingerprint") == fingerprint for e in first.events):
        count = sighting.attributes.get("nombre")
        session.add(
            ReportEvent(
                report_id=first.id,
                kind="seen_again",
                at=now,
                actor_type="citizen",
                actor_id=None,
                public=True,
                data={"fingerprint": fingerprint, "count": count},
            )
        )
        room = MAX_PHOTOS - sum(1 for m in first.media if m.kind == "photo")
        photos = [u for u in uploads if u.content_type in images.PHOTO_TYPES][: max(room, 0)]
        if photos:
            media.attach(session, first.id, photos)
        session.flush()
        session.expire(first, ["events", "media"])
    token = reporter_token(secret_key, first.sighting_key or "")
    return Submission(first, token, similar_reports(session, first, now), me_too=True)
