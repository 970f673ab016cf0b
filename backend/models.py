"""Every backend model, imported in one place for Alembic and the seed loader."""

from backend.db import Base
from backend.directory.models import Agent, AgentToken, Category, Directorate, ExternalBody, Program, Taxon, Unit
from backend.media.models import Media
from backend.observations.models import Balade, BaladeStation, ZoneSpecies
from backend.open311.models import Open311Client
from backend.reports.models import Report, ReportCount, Reporter, ReportEvent, Support
from backend.revision import RoutingState
from backend.routing.models import RoutingRule
from backend.zones.models import Zone, ZoneAlias

__all__ = [
    "Agent",
    "AgentToken",
    "Balade",
    "BaladeStation",
    "Base",
    "Category",
    "Directorate",
    "ExternalBody",
    "Media",
    "Open311Client",
    "Program",
    "Report",
    "ReportCount",
    "ReportEvent",
    "Reporter",
    "RoutingRule",
    "RoutingState",
    "Support",
    "Taxon",
    "Unit",
    "Zone",
    "ZoneAlias",
    "ZoneSpecies",
]
