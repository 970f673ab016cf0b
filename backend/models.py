"""Every backend model, imported in one place for Alembic and the seed loader."""

from backend.db import Base
from backend.directory.models import Agent, AgentToken, Category, Directorate, ExternalBody, Program, Unit
from backend.media.models import Media
from backend.observations.models import Taxon
from backend.reports.models import Report, Reporter, ReportEvent, Support
from backend.routing.models import RoutingRule, RoutingState
from backend.zones.models import Zone, ZoneAlias

__all__ = [
    "Agent",
    "AgentToken",
    "Base",
    "Category",
    "Directorate",
    "ExternalBody",
    "Media",
    "Program",
    "Report",
    "ReportEvent",
    "Reporter",
    "RoutingRule",
    "RoutingState",
    "Support",
    "Taxon",
    "Unit",
    "Zone",
    "ZoneAlias",
]
