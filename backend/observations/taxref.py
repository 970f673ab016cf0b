"""Loading a TAXREF extract (the French national taxonomic reference, as the MNHN publishes it:
tab- or comma-separated, with its own column names) into the species list: each valid species
gets its CD_NOM, new ones are added; rows that cannot be used are reported, with their line."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.directory.models import Taxon
from backend.revision import bump_revision

REQUIRED = ("CD_NOM", "CD_REF", "LB_NOM")
RANKS = ("ES", "SSES")  # species and subspecies
# TAXREF's GROUP2_INPN (then GROUP1_INPN) → the list's groups.
GROUPS = {
    "oiseaux": "oiseau",
    "mammifères": "mammifère",
    "amphibiens": "amphibien",
    "reptiles": "reptile",
    "insectes": "insecte",
    "arachnides": "arachnide",
    "poissons": "poisson",
    "mollusques": "mollusque",
    "angiospermes": "plante",
    "gymnospermes": "plante",
    "fougères": "plante",
    "mousses": "plante",
    "champignons": "champignon",
    "lichens": "lichen",
}


@dataclass
class TaxrefImport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[str] = field(default_factory=list)  # "line 12: CD_NOM is not a number"


class TaxrefFileError(ValueError):
    """The file is not a TAXREF extract (its columns say so)."""


def import_taxref(session: Session, path: Path, *, progress=None) -> TaxrefImport:
    """Load the extract at ``path``; flush. :class:`TaxrefFileError` when its columns are not
    TAXREF's."""
    result = TaxrefImport()
    with path.open(newline="", encoding="utf-8-sig") as file:
        sample = file.read(4096)
        file.seek(0)
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ("," if "," in sample else "\t")
        reader = csv.DictReader(file, delimiter=delimiter)
        missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
        if missing:
            raise TaxrefFileError(f"not a TAXREF extract: the columns {', '.join(missing)} are missing")
        known = {taxon.scientific_name: taxon for taxon in session.scalars(select(Taxon))}
        for line, row in enumerate(reader, start=2):
            if progress:
                progress(line)
            reason = _refusal(row)
            if reason:
                result.refused.append(f"line {line}: {reason}")
                continue
            name, cd_nom = row["LB_NOM"].strip(), int(row["CD_NOM"])
            taxon = known.get(name)
            if taxon is None:
                taxon = Taxon(
                    scientific_name=name,
                    french_name=(row.get("NOM_VERN") or "").split(",")[0].strip() or name,
                    group=_group(row),
                    status="",
                    sensitive=False,
                    taxref_cd_nom=cd_nom,
                )
                session.add(taxon)
                known[name] = taxon
                result.created += 1
            elif taxon.taxref_cd_nom != cd_nom:
                taxon.taxref_cd_nom = cd_nom  # the curated French name and sensitivity stay
                result.updated += 1
            else:
                result.unchanged += 1
    session.flush()
    if result.created or result.updated:
        bump_revision(session)  # every process reloads its species list
    return result


def _refusal(row: dict[str, str | None]) -> str | None:
    name = (row.get("LB_NOM") or "").strip()
    if not name:
        return "LB_NOM (the scientific name) is empty"
    if len(name) > 200:
        return "LB_NOM is longer than 200 characters"
    try:
        cd_nom, cd_ref = int(row.get("CD_NOM") or ""), int(row.get("CD_REF") or "")
    except ValueError:
        return "CD_NOM and CD_REF must be numbers"
    if cd_nom != cd_ref:
        return f"{name} is a synonym (CD_REF {cd_ref}): only valid names are loaded"
    rank = (row.get("RANG") or "ES").strip()
    if rank not in RANKS:
        return f"{name} is not a species (RANG {rank})"
    return None


def _group(row: dict[str, str | None]) -> str:
    for column in ("GROUP2_INPN", "GROUP1_INPN"):
        value = (row.get(column) or "").strip().lower()
        if value:
            return GROUPS.get(value, value)[:64]
    return "autre"
