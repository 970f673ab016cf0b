"""The review of a sighting's species by the nature directorate's agents: confirm it, correct it
to another species (the trail keeps both, every public output shows the corrected one), or mark it
unverifiable. A correction that makes a sighting sensitive, or no longer sensitive, moves its
public point at once (and a newly sensitive one alerts the park's team and the observatory)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.directory.models import Agent, Taxon
from backend.errors import DomainError
from backend.queue import JobQueue, after_commit
from backend.reports.intake import ALERT_URGENT_JOB
from backend.reports.models import PRIORITIES, Report, public_cell
from backend.routing.services import Router
from backend.triage.access import visible_report
from backend.triage.moves import _change

VERDICTS = ("confirmed", "corrected", "unverifiable")


class NotASighting(DomainError):
    code = "not_a_sighting"
    status = 409
    message = "This report names no species: there is no identification to review."


class InvalidReview(DomainError):
    code = "invalid_identification_review"
    status = 422
    message = "This review cannot be recorded."


def species_attribute(report: Report) -> str | None:
    """The code of the report's species attribute (its category's first drawn from the species
    list), None when its category has none."""
    return next((d["code"] for d in report.category.attributes if d.get("values_from") == "taxa"), None)


def review_identification(
    session: Session,
    agent: Agent,
    reference: str,
    *,
    verdict: str,
    species: str | None,
    note: str,
    version: int | None,
    now: datetime,
    router: Router,
    queue: JobQueue,
) -> Report:
    """Record the agent's ``verdict`` on the sighting's species (``species``: the right one, for
    ``corrected`` only); traced with the species before and after, compare-and-set on ``version``."""
    report = visible_report(session, agent, reference)
    code = species_attribute(report)
    if code is None:
        raise NotASighting()
    named = report.attributes.get(code)
    named = named[0] if isinstance(named, list) and named else named
    taxon: Taxon | None = None
    if verdict == "corrected":
        if not species:
            raise InvalidReview(errors={"json": {"species": ["the right species is required to correct it"]}})
        taxon = session.scalar(select(Taxon).where(Taxon.scientific_name == species))
        if taxon is None:
            raise InvalidReview(errors={"json": {"species": ["not in the species list (GET /api/v1/species)"]}})
        if species == named:
            raise InvalidReview(errors={"json": {"species": ["is already the species named: confirm it instead"]}})
    elif species:
        raise InvalidReview(errors={"json": {"species": ["only a correction names a species"]}})
    elif verdict == "confirmed" and not named:
        reason = "an unknown species cannot be confirmed: correct it, or mark it unverifiable"
        raise InvalidReview(errors={"json": {"verdict": [reason]}})
    values: dict[str, Any] = {"identification": verdict}
    if taxon is not None:
        values["attributes"] = {**report.attributes, code: taxon.scientific_name}
        if taxon.sensitive != report.sensitive:
            values.update(_public_place(session, report, router, sensitive=taxon.sensitive))
    data = {"verdict": verdict, "species_before": named, "species_after": taxon.scientific_name if taxon else named}
    if note.strip():
        data["note"] = note.strip()
    newly_sensitive = values.get("sensitive") is True
    report, _ = _change(session, agent, report, version, now, values, "identification_reviewed", data)
    if newly_sensitive:  # owed from now on, as at intake: the sweep finds it if the job is lost
        after_commit(session, queue, ALERT_URGENT_JOB, report.id)
    return report


def _public_place(session: Session, report: Report, router: Router, *, sensitive: bool) -> dict[str, Any]:
    """Where the public may see the sighting once its species is (or is no longer) sensitive:
    its park's (or commune's) reference point with that area's radius, or its own point."""
    if not sensitive:
        return {
            "sensitive": False,
            "public_lon": report.lon,
            "public_lat": report.lat,
            "public_cell": public_cell(report.lon, report.lat),
            "public_uncertainty_m": None,
        }
    table = router.table(session)
    generalised = table.generalised(table.locate(report.lon, report.lat))
    lon, lat, radius = generalised if generalised else (round(report.lon, 2), round(report.lat, 2), 1000.0)
    return {
        "sensitive": True,
        "public_lon": lon,
        "public_lat": lat,
        "public_cell": public_cell(lon, lat),
        "public_uncertainty_m": radius,
        "priority": max(report.priority, PRIORITIES["high"]),
    }
