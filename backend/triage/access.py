"""Who sees what: an agent sees the reports (and their media) of their directorate, an admin all;
what is not theirs is answered as not found, so it is not revealed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.directory.models import Agent
from backend.media.models import Media
from backend.media.services import MediaNotFound
from backend.reports import services as reports
from backend.reports.errors import ReportNotFound
from backend.reports.models import Report
from backend.reports.nearby import similar_reports
from backend.triage import workflow
from backend.triage.errors import SupervisorsOnly


def visible_report(session: Session, agent: Agent, reference: str) -> Report:
    """The report, if the agent sees its directorate; :class:`ReportNotFound` otherwise."""
    report = reports.get_report(session, reference)
    if not agent.sees_directorate(report.directorate_id):
        raise ReportNotFound()
    return report


def visible_media(session: Session, agent: Agent, media_id: int) -> tuple[Media, Report]:
    """A medium and its report, if the agent sees the report's directorate;
    :class:`MediaNotFound` otherwise."""
    found = session.get(Media, media_id)
    report = session.get(Report, found.report_id) if found else None
    if report is None or not agent.sees_directorate(report.directorate_id):
        raise MediaNotFound()
    return found, report


def require_supervisor(agent: Agent) -> None:
    """:class:`SupervisorsOnly` unless the agent's role supervises."""
    if not agent.powers.supervises:
        raise SupervisorsOnly()


@dataclass(frozen=True)
class AgentReport:
    """A report as an agent reads it: with the moves their role allows from its status."""

    report: Report
    allowed_moves: list[str]


@dataclass(frozen=True)
class AgentReportDetail(AgentReport):
    """… and, when read on its own, the open reports of its category nearby."""

    nearby_open_reports: list[dict[str, Any]]


def as_seen_by(agent: Agent, report: Report) -> AgentReport:
    return AgentReport(report, workflow.targets(agent.role, report.status))


def read_report(session: Session, agent: Agent, reference: str, *, now: datetime) -> AgentReportDetail:
    """The report, if the agent sees it, with its allowed moves and the open reports nearby."""
    report = visible_report(session, agent, reference)
    return AgentReportDetail(report, workflow.targets(agent.role, report.status), similar_reports(session, report, now))
