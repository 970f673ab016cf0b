"""Load the reference data of ``seeds/`` into the database, idempotently.

Every row is keyed on a natural code: re-running changes nothing, editing a seed file and
re-running updates the rows, and an entry removed from a file is deactivated (never deleted:
reports may point at it).
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.config import PROJECT_ROOT
from backend.db import upsert
from backend.directory.models import Category, Directorate, ExternalBody, Program, Taxon, Unit
from backend.revision import bump_revision
from backend.routing.models import CONDITIONS, TARGETS, RoutingRule
from backend.routing.rules import check_message
from backend.zones import geometry as geo
from backend.zones.models import ZONE_KINDS, Zone, ZoneAlias
from backend.zones.services import ImportResult, ZoneInput, read_features, store_zone

DEFAULT_SEEDS_DIR = PROJECT_ROOT / "seeds"
ATTRIBUTE_DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")


class SeedError(Exception):
    """A seed file is malformed or inconsistent; nothing was loaded."""


@dataclass
class SeedReport:
    """What a seed run did, per table."""

    tables: dict[str, ImportResult] = field(default_factory=lambda: defaultdict(ImportResult))
    deactivated: dict[str, int] = field(default_factory=dict)

    def count(self, table: str, status: str) -> None:
        self.tables[table].count(status)

    @property
    def changed(self) -> int:
        return sum(r.created + r.updated for r in self.tables.values()) + sum(self.deactivated.values())

    def lines(self) -> list[str]:
        out = [
            f"{table}: {r.created} created, {r.updated} updated, {r.unchanged} unchanged"
            for table, r in self.tables.items()
        ]
        out += [f"{table}: {n} deactivated" for table, n in self.deactivated.items() if n]
        return out


def load_seeds(session: Session, seeds_dir: Path = DEFAULT_SEEDS_DIR) -> SeedReport:
    """Load every seed file; flush. Raises :class:`SeedError` on a bad file."""
    report = SeedReport()
    zones = _load_zones(session, seeds_dir, report)
    _load_balades(session, seeds_dir, zones, report)
    _load_directorates(session, seeds_dir, zones, report)
    _load_external_bodies(session, zones, report)
    taxa = _load_taxa(session, seeds_dir, report)
    _load_zone_species(session, seeds_dir, zones, taxa, report)
    _load_programs(session, seeds_dir, taxa, report)
    _load_rules(session, seeds_dir, report)
    if report.changed:
        bump_revision(session)
    return report


# --- zones -----------------------------------------------------------------------------------


def _load_zones(session: Session, seeds_dir: Path, report: SeedReport) -> dict[str, Zone]:
    """Département, communes as they are today, territories, parks and roads; keyed "kind:code"."""
    zones: dict[str, Zone] = {}

    def store(zone: ZoneInput) -> Zone:
        row, status = store_zone(session, zone)
        report.count("zones", status)
        zones[f"{zone.kind}:{zone.code}"] = row
        return row

    departement = _read_json(seeds_dir / "geo/departement-93-seine-saint-denis.geojson")
    if departement.get("type") == "Feature":
        departement = {"type": "FeatureCollection", "features": [departement]}
    for zone in read_features(departement, kind="departement", name_property="nom"):
        store(zone)

    # Communes: the outline file predates the 2025 merger; fold former communes into the new one.
    outlines = {
        z.code: z
        for z in read_features(
            _read_json(seeds_dir / "geo/communes-93-seine-saint-denis.geojson"), kind="commune", name_property="nom"
        )
    }
    changes = _read_csv(seeds_dir / "commune-changes.csv")
    former = {row["former_code"]: row for row in changes}
    territories: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    for row in _read_csv(seeds_dir / "territories.csv"):
        if row["insee_code"] in former:
            continue
        territory = territories.setdefault(row["ept_code"], {"name": row["ept_name"], "communes": []})
        territory["communes"].append(row["insee_code"])
        names[row["insee_code"]] = row["commune"]
    missing = sorted(set(names) - set(outlines))
    if missing:
        raise SeedError(f"territories.csv names communes with no outline: {', '.join(missing)}")

    commune_shapes: dict[str, Any] = {}
    for code in names:
        parts = [outlines[code].geometry] + [
            outlines[old].geometry for old, row in former.items() if row["current_code"] == code and old in outlines
        ]
        commune_shapes[code] = geo.round_coordinates(shapely.union_all(parts).buffer(0))

    for t_code, territory in sorted(territories.items()):
        shape = geo.round_coordinates(shapely.union_all([commune_shapes[c] for c in territory["communes"]]).buffer(0))
        parent = store(
            ZoneInput(
                kind="territory",
                code=t_code,
                name=territory["name"],
                geometry=shape,
                properties={"communes": sorted(territory["communes"])},
            )
        )
        for code in sorted(territory["communes"]):
            merged = sorted(old for old, row in former.items() if row["current_code"] == code)
            store(
                ZoneInput(
                    kind="commune",
                    code=code,
                    name=names[code],
                    geometry=commune_shapes[code],
                    parent=parent,
                    properties={"insee_code": code, "former_codes": merged} if merged else {"insee_code": code},
                )
            )

    for old, row in sorted(former.items()):
        target = zones.get(f"commune:{row['current_code']}")
        if target is None:
            raise SeedError(f"commune-changes.csv: {old} merges into unknown commune {row['current_code']}")
        _, status = upsert(
            session,
            ZoneAlias,
            {"kind": "commune", "code": old},
            {
                "zone_id": target.id,
                "name": row["former_name"],
                "since": date.fromisoformat(row["since"]),
                "reason": row["reason"],
            },
        )
        report.count("zone_aliases", status)

    for row in _read_csv(seeds_dir / "parks.csv"):
        store(
            ZoneInput(
                kind="park",
                code=row["slug"],
                name=row["name"],
                geometry=geo.approximate_disc(float(row["lon"]), float(row["lat"]), float(row["area_ha"])),
                approximate=True,
                properties={
                    "communes": row["communes"].split(";"),
                    "area_ha": float(row["area_ha"]),
                    "precision": row["precision"],
                },
            )
        )

    for zone in read_features(_read_json(seeds_dir / "geo/routes-departementales-demo.geojson"), kind="road"):
        store(zone)

    species = {row["scientific_name"] for row in _read_csv(seeds_dir / "species.csv")}
    for entry in _read_toml(seeds_dir / "park_zones.toml").get("parks", []):
        park = zones.get(f"park:{entry['park']}")
        if park is None:
            raise SeedError(f"park_zones.toml: unknown park {entry['park']!r} (see parks.csv)")
        for item in entry.get("zones", []):
            unknown = sorted(set(item.get("species", [])) - species)
            if unknown:
                raise SeedError(f"park_zones.toml: {item['slug']} lists species not in species.csv: {unknown}")
            radius = float(item["radius_m"])
            _rename_zone(session, "park_zone", item.get("former_slugs", []), item["slug"])
            zone = store(
                ZoneInput(
                    kind="park_zone",
                    code=item["slug"],
                    name=item["name"],
                    geometry=geo.approximate_disc(item["lon"], item["lat"], math.pi * radius**2 / 10_000),
                    approximate=True,
                    parent=park,
                    properties={
                        "habitat": item["habitat"],
                        "description": item["description"],
                        "look_for": item["look_for"],
                        "season": item["season"],
                        "centre": [item["lon"], item["lat"]],
                        "radius_m": radius,
                    },
                )
            )
            for former in item.get("former_slugs", []):
                _, status = upsert(
                    session,
                    ZoneAlias,
                    {"kind": "park_zone", "code": former},
                    {"zone_id": zone.id, "name": item["name"], "since": None, "reason": "slug renamed"},
                )
                report.count("zone_aliases", status)
    return zones


def _rename_zone(session: Session, kind: str, former: list[str], code: str) -> None:
    """A zone renamed in a seed file keeps its row (its walk, its reports): its code changes, and
    the former one becomes an alias (stored with the zone)."""
    for old in former:
        zone = session.scalar(select(Zone).where(Zone.kind == kind, Zone.code == old))
        if zone is None:
            continue
        if session.scalar(select(Zone.id).where(Zone.kind == kind, Zone.code == code)) is not None:
            raise SeedError(f"{kind} {old!r} and {code!r} both exist: merge them by hand before listing the former")
        zone.code = code
        session.flush()


def _load_zone_species(
    session: Session, seeds_dir: Path, zones: dict[str, Zone], taxa: list[Taxon], report: SeedReport
) -> None:
    """The species commonly seen in each nature zone (kept apart from the zone's public properties:
    a sensitive one must never be placed in a zone by a public output)."""
    from backend.observations.services import set_zone_species

    by_name = {taxon.scientific_name: taxon for taxon in taxa}
    for entry in _read_toml(seeds_dir / "park_zones.toml").get("parks", []):
        for item in entry.get("zones", []):
            zone = zones[f"park_zone:{item['slug']}"]
            if set_zone_species(session, zone, [by_name[name] for name in item.get("species", [])]):
                report.count("zone_species", "updated")


def _load_balades(session: Session, seeds_dir: Path, zones: dict[str, Zone], report: SeedReport) -> None:
    """A walk per park of park_zones.toml, through its zones in the order written."""
    from backend.observations.services import save_balade

    for entry in _read_toml(seeds_dir / "park_zones.toml").get("parks", []):
        stations = [zones[f"park_zone:{item['slug']}"] for item in entry.get("zones", [])]
        if not stations:
            continue
        status = save_balade(
            session,
            zones[f"park:{entry['park']}"],
            title=entry["balade_title"],
            description=entry.get("balade_description", ""),
            stations=stations,
        )
        report.count("balades", status)


# --- directorates, units, external bodies -----------------------------------------------------


def _load_directorates(session: Session, seeds_dir: Path, zones: dict[str, Zone], report: SeedReport) -> None:
    data = _read_toml(seeds_dir / "directorates.toml")
    unit_codes: set[str] = set()
    for entry in data.get("directorates", []):
        directorate, status = upsert(
            session,
            Directorate,
            {"code": entry["code"]},
            {"name": entry["name"], "description": entry.get("description", "")},
        )
        report.count("directorates", status)
        for unit in entry.get("units", []):
            zone = None
            if unit.get("zone"):
                zone = zones.get(unit["zone"])
                if zone is None:
                    raise SeedError(f"directorates.toml: unit {unit['code']} names unknown zone {unit['zone']!r}")
            _, status = upsert(
                session,
                Unit,
                {"code": unit["code"]},
                {
                    "directorate_id": directorate.id,
                    "kind": unit["kind"],
                    "name": unit["name"],
                    "zone_id": zone.id if zone else None,
                    "active": True,
                    "notify_method": unit.get("notify", "none"),
                    "notify_target": unit.get("notify_target"),
                },
            )
            if unit.get("notify", "none") not in ("none", "email", "webhook") or (
                unit.get("notify", "none") != "none" and not unit.get("notify_target")
            ):
                raise SeedError(f"directorates.toml: unit {unit['code']}: notify is email|webhook|none, with a target")
            report.count("units", status)
            unit_codes.add(unit["code"])
    _deactivate(session, Unit, unit_codes, report, "units")


def of_place(name: str) -> str:
    """« de » before a place's name, as French writes it: d'Aubervilliers, du Blanc-Mesnil, des
    Lilas, de La Courneuve, de L'Île-Saint-Denis, de Montreuil."""
    if name.startswith("Le "):
        return "du " + name[3:]
    if name.startswith("Les "):
        return "des " + name[4:]
    if name[:1].upper() in "AEIOUYÉÈÊÎÔÂ" and not name.startswith(("La ", "L'")):
        return "d'" + name
    return "de " + name


def _load_external_bodies(session: Session, zones: dict[str, Zone], report: SeedReport) -> None:
    """Every commune can receive referrals for the streets it manages."""
    codes = set()
    for _key, zone in sorted(zones.items()):
        if zone.kind != "commune":
            continue
        code = f"COMMUNE-{zone.code}"
        _, status = upsert(
            session,
            ExternalBody,
            {"code": code},
            {"kind": "commune", "name": f"Commune {of_place(zone.name)}", "zone_id": zone.id, "active": True},
        )
        report.count("external_bodies", status)
        codes.add(code)
    _deactivate(session, ExternalBody, codes, report, "external_bodies")


# --- species, programs, categories -------------------------------------------------------------


def _load_taxa(session: Session, seeds_dir: Path, report: SeedReport) -> list[Taxon]:
    taxa = []
    for row in _read_csv(seeds_dir / "species.csv"):
        if row["sensitive"] not in ("yes", "no"):
            raise SeedError(f"species.csv: {row['scientific_name']}: sensitive must be yes or no")
        taxon, status = upsert(
            session,
            Taxon,
            {"scientific_name": row["scientific_name"]},
            {
                "french_name": row["french_name"],
                "group": row["group"],
                "status": row["status"],
                "sensitive": row["sensitive"] == "yes",
            },
        )
        report.count("taxa", status)
        taxa.append(taxon)
    return taxa


def _load_programs(session: Session, seeds_dir: Path, taxa: list[Taxon], report: SeedReport) -> None:
    data = _read_toml(seeds_dir / "categories.toml")
    directorates = {d.code: d for d in session.scalars(select(Directorate))}
    taxon_values = [
        {"key": t.scientific_name, "name": t.french_name} for t in sorted(taxa, key=lambda t: t.french_name)
    ]
    program_codes, category_codes = set(), set()
    for p_pos, entry in enumerate(data.get("programs", [])):
        if entry.get("directorate") not in directorates:
            raise SeedError(f"categories.toml: program {entry.get('code')} names unknown directorate")
        program, status = upsert(
            session,
            Program,
            {"code": entry["code"]},
            {
                "name": entry["name"],
                "description": entry.get("description", ""),
                "directorate_id": directorates[entry["directorate"]].id,
                "position": p_pos,
                "active": True,
            },
        )
        report.count("programs", status)
        program_codes.add(entry["code"])
        for c_pos, cat in enumerate(entry.get("categories", [])):
            _, status = upsert(
                session,
                Category,
                {"code": cat["code"]},
                {
                    "program_id": program.id,
                    "name": cat["name"],
                    "description": cat.get("description", ""),
                    "keywords": list(cat.get("keywords", [])),
                    "target_days": int(cat["target_days"]),
                    "similar_radius_m": int(cat.get("similar_radius_m", 50)),
                    "attributes": _attributes(cat, taxon_values),
                    "position": c_pos,
                    "active": True,
                },
            )
            report.count("categories", status)
            category_codes.add(cat["code"])
    _deactivate(session, Program, program_codes, report, "programs")
    _deactivate(session, Category, category_codes, report, "categories")


def _attributes(category: dict[str, Any], taxon_values: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Attribute definitions in the Open311 shape, checked."""
    out, seen = [], set()
    for order, attr in enumerate(category.get("attributes", []), start=1):
        where = f"categories.toml: {category['code']}.{attr.get('code')}"
        if not attr.get("code") or attr["code"] in seen:
            raise SeedError(f"{where}: missing or duplicate attribute code")
        seen.add(attr["code"])
        datatype = attr.get("datatype")
        if datatype not in ATTRIBUTE_DATATYPES:
            raise SeedError(f"{where}: datatype must be one of {', '.join(ATTRIBUTE_DATATYPES)}")
        values = taxon_values if attr.get("values_from") == "taxa" else attr.get("values", [])
        if datatype in LIST_DATATYPES and not values:
            raise SeedError(f"{where}: a {datatype} needs values")
        if datatype not in LIST_DATATYPES and values:
            raise SeedError(f"{where}: only list datatypes take values")
        definition = {
            "code": attr["code"],
            "datatype": datatype,
            "required": bool(attr.get("required", False)),
            "description": attr.get("description", ""),
            "order": order,
            "values": [{"key": str(v["key"]), "name": v["name"]} for v in values],
        }
        if attr.get("values_from"):
            definition["values_from"] = attr["values_from"]  # intake checks sensitive species
        for bound in ("min", "max"):
            if bound in attr:
                if datatype != "number" or isinstance(attr[bound], bool) or not isinstance(attr[bound], int | float):
                    raise SeedError(f"{where}: {bound} is a number, for a number attribute")
                definition[bound] = attr[bound]
        if attr.get("integer"):
            definition["integer"] = True
        if attr.get("photo_may_replace"):
            definition["photo_may_replace"] = True  # a photo stands for it (an unknown species)
        out.append(definition)
    return out


# --- routing rules ---------------------------------------------------------------------------


def _load_rules(session: Session, seeds_dir: Path, report: SeedReport) -> None:
    data = _read_toml(seeds_dir / "routing.toml")
    programs = set(session.scalars(select(Program.code)))
    categories = set(session.scalars(select(Category.code)))
    units = set(session.scalars(select(Unit.code)))
    directorates = set(session.scalars(select(Directorate.code)))
    codes = set()
    for position, rule in enumerate(data.get("rules", []), start=1):
        where = f"routing.toml: rule {rule.get('code')!r}"
        problems = []
        if rule.get("condition") not in CONDITIONS:
            problems.append(f"condition must be one of {', '.join(CONDITIONS)}")
        if rule.get("condition") in ("inside", "corridor") and rule.get("zone_kind") not in ZONE_KINDS:
            problems.append("zone_kind must name a zone kind")
        if rule.get("target") not in TARGETS:
            problems.append(f"target must be one of {', '.join(TARGETS)}")
        if set(rule.get("programs", [])) - programs:
            problems.append("names an unknown program")
        if set(rule.get("categories", [])) - categories:
            problems.append("names an unknown category")
        if rule.get("unit") and rule["unit"] not in units:
            problems.append(f"unknown unit {rule['unit']!r}")
        if rule.get("directorate") and rule["directorate"] not in directorates:
            problems.append(f"unknown directorate {rule['directorate']!r}")
        if (
            rule.get("target") == "unit"
            and not rule.get("unit")
            and not (rule.get("directorate") and rule.get("unit_of"))
        ):
            problems.append("a unit target needs `unit`, or `directorate` and `unit_of`")
        if rule.get("target") == "referral" and rule.get("unit_of") not in ZONE_KINDS:
            problems.append("a referral needs `unit_of` (the zone kind whose body receives it)")
        if not rule.get("message"):
            problems.append("message is required")
        elif unknown := check_message(rule["message"]):
            problems.append(f"message names unknown fields {', '.join(unknown)}")
        if problems:
            raise SeedError(f"{where}: {'; '.join(problems)}")
        _, status = upsert(
            session,
            RoutingRule,
            {"code": rule["code"]},
            {
                "position": position,
                "programs": list(rule.get("programs", [])),
                "categories": list(rule.get("categories", [])),
                "condition": rule["condition"],
                "zone_kind": rule.get("zone_kind"),
                "target": rule["target"],
                "directorate_code": rule.get("directorate"),
                "unit_code": rule.get("unit"),
                "unit_of": rule.get("unit_of"),
                "public_message": rule["message"],
                "active": True,
            },
        )
        report.count("routing_rules", status)
        codes.add(rule["code"])
    _deactivate(session, RoutingRule, codes, report, "routing_rules")


# --- helpers -----------------------------------------------------------------------------------


def _deactivate(session: Session, model: Any, keep: set[str], report: SeedReport, table: str) -> None:
    result = session.execute(update(model).where(model.code.not_in(keep), model.active.is_(True)).values(active=False))
    report.deactivated[table] = result.rowcount or 0


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SeedError(f"{path.name}: {exc}") from exc


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SeedError(f"{path.name}: {exc}") from exc


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise SeedError(f"{path.name}: {exc}") from exc
