"""The open datasets: what each publishes (its fields, its key, whether it is spatial) and where
its rows come from — always ``backend.export``, the anonymised seam, never the tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from backend import export

# A row, and its GeoJSON geometry when the dataset has one of its own (else its point is used).
Row = tuple[dict[str, Any], dict[str, Any] | None]
LICENCE = {
    "name": "etalab-2.0",
    "title": "Licence Ouverte / Open Licence 2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}
SOURCE = {"title": "Département de la Seine-Saint-Denis — Signal93"}


@dataclass(frozen=True)
class Dataset:
    id: str
    title: str
    description: str
    keywords: tuple[str, ...]
    fields: dict[str, str]
    key: str
    rows: Callable[[Session], Iterator[Row]]
    spatial: bool = True
    licence: dict[str, str] = field(default_factory=lambda: dict(LICENCE))
    source: dict[str, str] = field(default_factory=lambda: dict(SOURCE))


def _reports(session: Session) -> Iterator[Row]:
    for row in export.public_reports(session):
        yield row, None


def _zones(kind: str) -> Callable[[Session], Iterator[Row]]:
    def rows(session: Session) -> Iterator[Row]:
        yield from export.zone_rows(session, kind)

    return rows


DATASETS: dict[str, Dataset] = {
    dataset.id: dataset
    for dataset in (
        Dataset(
            id="signalements",
            title="Signalements des citoyens",
            description=(
                "Un enregistrement par signalement public (voirie, eau et assainissement, biodiversité) : "
                "catégorie, statut, position publique (généralisée à 1 km pour les espèces sensibles), commune, "
                "territoire, direction et unité destinataires, dates de réception, de prise en compte et de "
                "résolution. Aucune donnée personnelle, aucun texte libre."
            ),
            keywords=("signalement", "voirie", "assainissement", "biodiversité", "participation citoyenne"),
            fields=export.REPORT_FIELDS,
            key="reference",
            rows=_reports,
        ),
        Dataset(
            id="communes",
            title="Communes de la Seine-Saint-Denis",
            description="Les communes du département (code INSEE, nom, territoire) et leur contour.",
            keywords=("commune", "référentiel"),
            fields=export.ZONE_FIELDS,
            key="code",
            rows=_zones("commune"),
        ),
        Dataset(
            id="territoires",
            title="Établissements publics territoriaux",
            description="Les quatre territoires (EPT) de la Seine-Saint-Denis et leur contour.",
            keywords=("territoire", "EPT", "référentiel"),
            fields=export.ZONE_FIELDS,
            key="code",
            rows=_zones("territory"),
        ),
        Dataset(
            id="parcs",
            title="Parcs départementaux",
            description="Les parcs départementaux et leur emprise (approchée quand le contour exact manque).",
            keywords=("parc", "nature", "référentiel"),
            fields=export.ZONE_FIELDS,
            key="code",
            rows=_zones("park"),
        ),
        Dataset(
            id="routes-departementales",
            title="Routes départementales",
            description="Les routes départementales et leur tracé.",
            keywords=("voirie", "route départementale", "référentiel"),
            fields=export.ZONE_FIELDS,
            key="code",
            rows=_zones("road"),
        ),
    )
}


def published_datasets() -> list[Dataset]:
    """Every dataset Signal93 can publish, by id."""
    return [DATASETS[name] for name in sorted(DATASETS)]


def dataset_or_none(dataset_id: str) -> Dataset | None:
    return DATASETS.get(dataset_id)
