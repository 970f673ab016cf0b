"""The open datasets: what each publishes (its fields, its key, whether it is spatial) and where
its rows come from — ``backend.export``, the anonymised seam, never the tables — and the extra
datasets dropped in ``seeds/opendata/<id>/`` (a CSV or a GeoJSON file and a ``dataset.toml``),
published without a line of code."""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
from shapely.geometry import shape
from sqlalchemy.orm import Session

from backend import export

log = logging.getLogger(__name__)
# A row, and its GeoJSON geometry when the dataset has one of its own (else its point is used).
Row = tuple[dict[str, Any], dict[str, Any] | None]
LICENCE = {
    "name": "etalab-2.0",
    "title": "Licence Ouverte / Open Licence 2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}
SOURCE = {"title": "Département de la Seine-Saint-Denis — Signal93"}
EXTRA_DIR = Path(__file__).resolve().parents[2] / "seeds" / "opendata"
BOOLEANS = {"true": True, "false": False, "yes": True, "no": False, "oui": True, "non": False, "1": True, "0": False}
TYPES = ("text", "int", "double", "boolean", "date", "datetime", "geo_point_2d")


@dataclass(frozen=True)
class Bulk:
    """A dataset too large for rows through Python: ``write`` puts its rows as CSV, in the raw
    layout ``columns`` (name: DuckDB type), into a file; ``select`` turns a raw row into the
    published fields (DuckDB expressions by field; ``scrub(text, name)`` is at hand)."""

    write: Callable[[Session, Any], None]
    columns: dict[str, str]
    select: dict[str, str]


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
    # The ready query the portal shows (Explore records parameters).
    example: dict[str, str] = field(default_factory=lambda: {"limit": "5"})
    bulk: Bulk | None = None
    licence: dict[str, str] = field(default_factory=lambda: dict(LICENCE))
    source: dict[str, str] = field(default_factory=lambda: dict(SOURCE))


def _reports(session: Session) -> Iterator[Row]:
    for row in export.public_reports(session):
        yield row, None


def _zones(kind: str) -> Callable[[Session], Iterator[Row]]:
    def rows(session: Session) -> Iterator[Row]:
        yield from export.zone_rows(session, kind)

    return rows


def _plain(rows: Callable[[Session], Iterator[dict[str, Any]]]) -> Callable[[Session], Iterator[Row]]:
    def with_no_geometry(session: Session) -> Iterator[Row]:
        for row in rows(session):
            yield row, None

    return with_no_geometry


DELAY_FIELDS = {
    "id": "text",
    "month": "text",
    "directorate": "text",
    "category": "text",
    "category_name": "text",
    "received": "int",
    "acknowledged": "int",
    "resolved": "int",
    "acknowledge_median_hours": "double",
    "acknowledge_p90_hours": "double",
    "resolve_median_hours": "double",
    "resolve_p90_hours": "double",
}


def _delays(session: Session) -> Iterator[Row]:
    """Per month (of reception, Paris time), directorate and category: how many reports were
    received, acknowledged and resolved, and the median and 90th percentile of the time to each
    (hours). The published reports stream to a scratch file, DuckDB aggregates it."""
    with tempfile.TemporaryDirectory(prefix="signal93-delays-") as folder:
        path = Path(folder) / "reports.csv"
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["received", "acknowledged", "resolved", "directorate", "category", "category_name"])
            for report in export.public_reports(session):
                times = [_utc(report[name]) for name in ("received_at", "acknowledged_at", "resolved_at")]
                writer.writerow([*times, report["directorate"], report["category"], report["category_name"]])
        with duckdb.connect() as connection:
            connection.execute("SET TimeZone = 'UTC'")
            hours = "epoch({0} - received) / 3600.0"
            cursor = connection.execute(
                f"""
                SELECT strftime(timezone('Europe/Paris', received), '%Y-%m') AS month, directorate, category,
                       any_value(category_name), count(*), count(acknowledged), count(resolved),
                       round(quantile_cont({hours.format("acknowledged")}, 0.5), 1),
                       round(quantile_cont({hours.format("acknowledged")}, 0.9), 1),
                       round(quantile_cont({hours.format("resolved")}, 0.5), 1),
                       round(quantile_cont({hours.format("resolved")}, 0.9), 1)
                FROM read_csv(?, header = true, columns = {{
                    'received': 'TIMESTAMPTZ', 'acknowledged': 'TIMESTAMPTZ', 'resolved': 'TIMESTAMPTZ',
                    'directorate': 'VARCHAR', 'category': 'VARCHAR', 'category_name': 'VARCHAR'}})
                GROUP BY month, directorate, category
                ORDER BY month, directorate, category
                """,  # noqa: S608 (no input: the fragments are ours)
                [str(path)],
            )
            names = list(DELAY_FIELDS)[1:]
            while batch := cursor.fetchmany(1000):
                for values in batch:
                    row = dict(zip(names, values, strict=True))
                    row["id"] = f"{row['month']}/{row['directorate']}/{row['category']}"
                    yield row, None


def _utc(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.isoformat() + ("+00:00" if value.tzinfo is None else "")


BUILT_IN: dict[str, Dataset] = {
    dataset.id: dataset
    for dataset in (
        Dataset(
            id="signalements",
            title="Signalements des citoyens",
            description=(
                "Un enregistrement par signalement public (voirie, eau et assainissement, biodiversité) : "
                "catégorie, statut, position publique (généralisée à 1 km pour les espèces sensibles), commune, "
                "territoire, direction et unité destinataires, dates de réception, de prise en compte et de "
                "résolution, nombre de soutiens. Aucune donnée personnelle ; la description seulement quand un "
                "agent l'a jugée publiable, et alors sans adresse électronique, numéro de téléphone ni lien."
            ),
            keywords=("signalement", "voirie", "assainissement", "biodiversité", "participation citoyenne"),
            fields=export.REPORT_FIELDS,
            key="reference",
            rows=_reports,
            bulk=Bulk(
                write=export.copy_public_reports,
                columns=export.RAW_REPORT_COLUMNS,
                select={
                    **{name: f'"{name}"' for name in export.REPORT_FIELDS},
                    "geo_point_2d": "CASE WHEN lon IS NULL THEN NULL ELSE struct_pack(lon := lon, lat := lat) END",
                    "description": (
                        "CASE WHEN description IS NULL THEN NULL "
                        "ELSE scrub(description, coalesce(reporter_name, '')) END"
                    ),
                },
            ),
            example={
                "select": "commune_name, count(*) as signalements",
                "where": "program = 'patrouillage' and received_at >= date'2026-01-01'",
                "group_by": "commune_name",
                "order_by": "signalements desc",
                "limit": "5",
            },
        ),
        Dataset(
            id="delais-traitement",
            title="Délais de traitement des signalements",
            description=(
                "Par mois de réception (heure de Paris), direction et catégorie : signalements reçus, pris en "
                "compte et résolus, médiane et 90e centile du délai de prise en compte et de résolution, en heures."
            ),
            keywords=("signalement", "délai", "qualité de service", "indicateur"),
            fields=DELAY_FIELDS,
            key="id",
            rows=_delays,
            spatial=False,
            example={"where": "directorate = 'DVD'", "order_by": "month desc", "limit": "5"},
        ),
        Dataset(
            id="observations-biodiversite",
            title="Observations de biodiversité dans les parcs",
            description=(
                "Les observations d'espèces partagées par les promeneurs des parcs départementaux : espèce, "
                "nombre d'individus, date, parc, position publique, vérification de l'identification par les "
                "écologues du Département (unverified, confirmed, corrected, unverifiable). La position des espèces "
                "sensibles (oiseaux Natura 2000 du site FR1112013) est celle du point de référence du parc (ou de la "
                "commune), avec son rayon comme incertitude, comme dans l'API publique."
            ),
            keywords=("biodiversité", "espèce", "parc", "Natura 2000", "sciences participatives"),
            fields=export.SIGHTING_FIELDS,
            key="reference",
            rows=_plain(export.sightings),
            example={
                "select": "species_name, sum(count) as individus",
                "where": "park = 'sausset'",
                "group_by": "species_name",
                "order_by": "individus desc",
                "limit": "5",
            },
        ),
        Dataset(
            id="communes",
            title="Communes de la Seine-Saint-Denis",
            description="Les communes du département (code INSEE, nom, territoire) et leur contour.",
            keywords=("commune", "référentiel"),
            fields=export.ZONE_FIELDS,
            key="code",
            rows=_zones("commune"),
            example={"select": "code, name, parent_name", "where": 'search(name, "saint")', "limit": "5"},
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
        Dataset(
            id="categories",
            title="Catégories de signalement",
            description=(
                "Les catégories que les applications proposent, par programme (Patrouillage, Vigies de l'Eau, "
                "Balades Observ'acteurs), avec la direction destinataire, le délai cible et les précisions "
                "demandées (attributs, en JSON)."
            ),
            keywords=("catégorie", "référentiel", "Open311"),
            fields=export.CATEGORY_FIELDS,
            key="code",
            rows=_plain(export.category_rows),
            spatial=False,
        ),
        Dataset(
            id="directions",
            title="Directions destinataires des signalements",
            description=(
                "Les directions du Département qui traitent les signalements, leurs programmes et leurs unités."
            ),
            keywords=("direction", "référentiel"),
            fields=export.DIRECTORATE_FIELDS,
            key="code",
            rows=_plain(export.directorate_rows),
            spatial=False,
        ),
    )
}


# --- extra datasets: seeds/opendata/<id>/ --------------------------------------------------------


class ExtraDatasetError(ValueError):
    """A dataset of ``seeds/opendata`` that cannot be published as it is: the file and why."""


def _extra(folder: Path) -> Dataset:
    """The dataset of ``folder`` (``dataset.toml`` and ``data.csv`` or ``data.geojson``)."""
    identifier = folder.name
    where = f"seeds/opendata/{identifier}/dataset.toml"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", identifier):
        raise ExtraDatasetError(f"{where}: the folder's name is the dataset's id: lowercase letters, digits, dashes")
    try:
        meta = tomllib.loads((folder / "dataset.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ExtraDatasetError(f"{where}: {exc}") from None
    for name in ("title", "description", "key", "fields"):
        if name not in meta:
            raise ExtraDatasetError(f"{where}: `{name}` is required")
    fields = dict(meta["fields"])
    unknown = {name: kind for name, kind in fields.items() if kind not in TYPES}
    if unknown:
        raise ExtraDatasetError(f"{where}: unknown column types {unknown}; one of {', '.join(TYPES)}")
    geojson, table = folder / "data.geojson", folder / "data.csv"
    if geojson.exists():
        fields.setdefault("geo_point_2d", "geo_point_2d")
        rows = _geojson_rows(geojson, fields, where)
    elif table.exists():
        rows = _csv_rows(table, fields, meta.get("point"), where)
        if meta.get("point"):
            fields.setdefault("geo_point_2d", "geo_point_2d")
    else:
        raise ExtraDatasetError(f"{where}: put the data beside it, in data.csv or data.geojson")
    if meta["key"] not in fields:
        raise ExtraDatasetError(f"{where}: the key {meta['key']!r} is not one of the fields")
    licence = meta.get("licence", LICENCE)
    if isinstance(licence, str):
        licence = LICENCE if licence == LICENCE["name"] else {"name": licence, "title": licence, "path": ""}
    return Dataset(
        id=identifier,
        title=str(meta["title"]),
        description=str(meta["description"]),
        keywords=tuple(str(keyword) for keyword in meta.get("keywords", ())),
        fields=fields,
        key=str(meta["key"]),
        rows=rows,
        spatial="geo_point_2d" in fields.values(),
        licence=dict(licence),
        source=dict(meta.get("source", SOURCE)),
    )


def _csv_rows(path: Path, fields: dict[str, str], point: dict[str, str] | None, where: str):
    def rows(session: Session) -> Iterator[Row]:
        with path.open(newline="", encoding="utf-8-sig") as file:
            for line, record in enumerate(csv.DictReader(file), start=2):
                row = {
                    name: _typed(record.get(name), kind, f"{path.name} line {line}, {name}")
                    for name, kind in fields.items()
                    if name != "geo_point_2d" or not point
                }
                if point:
                    lon = _typed(record.get(point["lon"]), "double", f"{path.name} line {line}, {point['lon']}")
                    lat = _typed(record.get(point["lat"]), "double", f"{path.name} line {line}, {point['lat']}")
                    row["geo_point_2d"] = {"lon": lon, "lat": lat} if lon is not None and lat is not None else None
                yield row, None

    return rows


def _geojson_rows(path: Path, fields: dict[str, str], where: str):
    def rows(session: Session) -> Iterator[Row]:
        document = json.loads(path.read_text(encoding="utf-8"))
        features = [document] if document.get("type") == "Feature" else document.get("features", [])
        for number, feature in enumerate(features, start=1):
            properties = feature.get("properties") or {}
            geometry = feature.get("geometry")
            row = {
                name: _typed(properties.get(name), kind, f"{path.name} feature {number}, {name}")
                for name, kind in fields.items()
                if kind != "geo_point_2d"
            }
            centre = shape(geometry).representative_point() if geometry else None
            row["geo_point_2d"] = {"lon": centre.x, "lat": centre.y} if centre else None
            yield row, geometry

    return rows


def _typed(value: Any, kind: str, where: str) -> Any:
    """A cell of an extra dataset as its declared type (``ExtraDatasetError`` naming the cell)."""
    if value is None or value == "":
        return None
    try:
        if kind == "int":
            return int(value)
        if kind == "double":
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            return {
                "true": True,
                "false": False,
                "yes": True,
                "no": False,
                "oui": True,
                "non": False,
                "1": True,
                "0": False,
            }[str(value).lower()]
        if kind == "date":
            return date.fromisoformat(str(value))
        if kind == "datetime":
            return datetime.fromisoformat(str(value))
        if kind == "geo_point_2d":  # "lat, lon", as the portal writes a point
            lat, lon = (float(part) for part in str(value).split(","))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError
            return {"lon": lon, "lat": lat}
    except (ValueError, KeyError):
        raise ExtraDatasetError(f"{where}: {value!r} is not a {kind}") from None
    return str(value) if not isinstance(value, dict | list) else json.dumps(value, ensure_ascii=False)


@lru_cache(maxsize=4)
def _registry(extra_dir: Path) -> tuple[dict[str, Dataset], tuple[str, ...]]:
    """Every dataset (the built-in ones, then the extra ones) and the extra ones refused, why."""
    datasets, refused = dict(BUILT_IN), []
    folders = sorted(path for path in extra_dir.iterdir() if path.is_dir()) if extra_dir.is_dir() else []
    for folder in folders:
        if folder.name in datasets:
            refused.append(f"seeds/opendata/{folder.name}: a built-in dataset has this id")
            continue
        try:
            datasets[folder.name] = _extra(folder)
        except ExtraDatasetError as exc:
            log.warning("extra dataset refused", extra={"reason": str(exc)})
            refused.append(str(exc))
    return datasets, tuple(refused)


def refused_extras() -> tuple[str, ...]:
    """Why each extra dataset that cannot be published is refused."""
    return _registry(EXTRA_DIR)[1]


def published_datasets() -> list[Dataset]:
    """Every dataset Signal93 can publish, by id."""
    datasets = _registry(EXTRA_DIR)[0]
    return [datasets[name] for name in sorted(datasets)]


def dataset_or_none(dataset_id: str) -> Dataset | None:
    return _registry(EXTRA_DIR)[0].get(dataset_id)
