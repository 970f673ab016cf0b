"""The sightings as a Darwin Core Archive, for ecologists and GBIF-style portals: occurrence.txt
(one occurrence per sighting), a multimedia extension for the published photos, meta.xml and
eml.xml. Public data only: a sensitive species is given at its park's (or commune's) reference
point, with the radius as its uncertainty, said in dataGeneralizations and informationWithheld.
Rows are read in batches and written to the zip as they come: the archive is never whole in
memory."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db import stream
from backend.directory.models import Category, Program, Taxon
from backend.media import services as media_services
from backend.media.models import Media
from backend.observations.services import sighting_species
from backend.reports.models import Report, ReportEvent, format_reference
from backend.zones.models import Zone

DWC = "http://rs.tdwg.org/dwc/terms/"
DC = "http://purl.org/dc/terms/"
OCCURRENCE_TERMS = [
    ("occurrenceID", DWC),
    ("basisOfRecord", DWC),
    ("eventDate", DWC),
    ("scientificName", DWC),
    ("vernacularName", DWC),
    ("taxonRank", DWC),
    ("kingdom", DWC),
    ("taxonID", DWC),
    ("decimalLatitude", DWC),
    ("decimalLongitude", DWC),
    ("geodeticDatum", DWC),
    ("coordinateUncertaintyInMeters", DWC),
    ("countryCode", DWC),
    ("county", DWC),
    ("municipality", DWC),
    ("locationID", DWC),
    ("locality", DWC),
    ("individualCount", DWC),
    ("occurrenceStatus", DWC),
    ("identificationVerificationStatus", DWC),
    ("previousIdentifications", DWC),
    ("informationWithheld", DWC),
    ("dataGeneralizations", DWC),
    ("license", DC),
    ("rightsHolder", DC),
]
MULTIMEDIA_TERMS = [("type", DC), ("format", DC), ("identifier", DC), ("references", DC), ("license", DC)]
KINGDOMS = {"plante": "Plantae", "champignon": "Fungi", "lichen": "Fungi"}
LICENCE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
PUBLISHER = "Département de la Seine-Saint-Denis"
BATCH = 1000
# The nature directorate's review of a sighting's species (reports.identification), in DwC words.
VERIFICATION = {"confirmed": "verified", "corrected": "verified", "unverifiable": "unverifiable"}


def write_archive(session: Session, target: Path, *, public_base_url: str, now: datetime) -> int:
    """Write the archive to ``target``; how many occurrences it holds."""
    taxa = {taxon.scientific_name: taxon for taxon in session.scalars(select(Taxon))}
    count = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with (
            archive.open("occurrence.txt", "w") as occurrences,
            io.TextIOWrapper(occurrences, encoding="utf-8", newline="") as text,
        ):
            writer = csv.writer(text, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
            writer.writerow([term for term, _ in OCCURRENCE_TERMS])
            for row in _occurrences(session, taxa, public_base_url):
                writer.writerow([_clean(row.get(term)) for term, _ in OCCURRENCE_TERMS])
                count += 1
        with (
            archive.open("multimedia.txt", "w") as media,
            io.TextIOWrapper(media, encoding="utf-8", newline="") as text,
        ):
            writer = csv.writer(text, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
            writer.writerow(["occurrenceID"] + [term for term, _ in MULTIMEDIA_TERMS])
            for row in _multimedia(session, public_base_url):
                writer.writerow([_clean(row.get(term)) for term in ["occurrenceID"] + [t for t, _ in MULTIMEDIA_TERMS]])
        archive.writestr("meta.xml", _meta())
        archive.writestr("eml.xml", _eml(public_base_url, now))
    return count


def _statement() -> Any:
    return (
        select(Report, Category)
        .join(Category, Category.id == Report.category_id)
        .join(Program, Program.id == Report.program_id)
        .where(Program.code == "observacteurs", Report.status.not_in(("rejected", "duplicate")))
        .order_by(Report.id)
        .execution_options(yield_per=BATCH)
    )


def occurrence_id(public_base_url: str, reference: str) -> str:
    return f"{public_base_url}/api/v1/reports/{reference}"


def _previous_identifications(session: Session, taxa: dict[str, Taxon]) -> dict[int, str]:
    """The species a corrected sighting was named before, oldest first ("|" between them), by
    report id; never a sensitive one (it would name it at the point the public sees)."""
    previous: dict[int, list[str]] = {}
    reviews = session.execute(
        select(ReportEvent.report_id, ReportEvent.data)
        .where(ReportEvent.kind == "identification_reviewed")
        .order_by(ReportEvent.id)
    )
    for report_id, data in reviews:
        before = (data or {}).get("species_before")
        if (data or {}).get("verdict") == "corrected" and before and not getattr(taxa.get(before), "sensitive", True):
            previous.setdefault(report_id, []).append(before)
    return {report_id: " | ".join(names) for report_id, names in previous.items()}


def _occurrences(session: Session, taxa: dict[str, Taxon], public_base_url: str):
    zone_codes = dict(session.execute(select(Zone.id, Zone.code).where(Zone.kind == "park_zone")).all())
    previous = _previous_identifications(session, taxa)
    for report, category in stream(session, _statement()):
        name = sighting_species(report.attributes, category.attributes)
        if name is None:
            continue  # an unknown species awaits its identification: not an occurrence yet
        taxon = taxa.get(name)
        zones = {zone["kind"]: zone for zone in reversed((report.routing or {}).get("zones", []))}
        park, commune = zones.get("park"), zones.get("commune")
        count = (report.attributes or {}).get("nombre")
        row = {
            "occurrenceID": occurrence_id(public_base_url, report.reference),
            "basisOfRecord": "HumanObservation",
            "eventDate": (report.observed_at or report.received_at).isoformat(timespec="seconds"),
            "scientificName": name,
            "vernacularName": taxon.french_name if taxon else None,
            "taxonRank": "species",
            "kingdom": KINGDOMS.get(taxon.group, "Animalia") if taxon else None,
            "taxonID": f"https://taxref.mnhn.fr/taxon/{taxon.taxref_cd_nom}" if taxon and taxon.taxref_cd_nom else None,
            "decimalLatitude": f"{report.public_lat:.6f}",
            "decimalLongitude": f"{report.public_lon:.6f}",
            "geodeticDatum": "EPSG:4326",
            "countryCode": "FR",
            "county": "Seine-Saint-Denis",
            "municipality": commune["name"] if commune else None,
            "locationID": _location_id(report, zone_codes, park, commune),
            "locality": park["name"] if park else None,
            "individualCount": int(count) if isinstance(count, int | float) and 0 < count < 2**31 else None,
            "occurrenceStatus": "present",
            "identificationVerificationStatus": VERIFICATION.get(report.identification or "", "unverified"),
            "previousIdentifications": previous.get(report.id),
            "license": LICENCE,
            "rightsHolder": PUBLISHER,
        }
        if report.sensitive:
            area = "du parc" if park else "de la commune"
            row["coordinateUncertaintyInMeters"] = (
                f"{report.public_uncertainty_m:.0f}" if report.public_uncertainty_m else "1000"
            )
            row["dataGeneralizations"] = (
                f"Espèce sensible : coordonnées généralisées au point de référence {area}, "
                "incertitude égale au rayon de la zone."
            )
            row["informationWithheld"] = "Position précise et zone d'observation retenues (espèce sensible)."
        else:
            row["coordinateUncertaintyInMeters"] = f"{report.accuracy_m:.0f}" if report.accuracy_m else None
        yield row


def _location_id(report: Report, zone_codes: dict[int, str], park: Any, commune: Any) -> str | None:
    """The nature zone (never for a sensitive species), else the park, else the commune."""
    if report.zone_id and not report.sensitive and report.zone_id in zone_codes:
        return f"park_zone:{zone_codes[report.zone_id]}"
    if park:
        return f"park:{park['code']}"
    return f"commune:{commune['code']}" if commune else None


def _multimedia(session: Session, public_base_url: str):
    statement = (
        select(Media, Report.received_at, Report.id, Report.sensitive)
        .join(Report, Report.id == Media.report_id)
        .join(Program, Program.id == Report.program_id)
        .where(Program.code == "observacteurs", Report.status.not_in(("rejected", "duplicate")))
        .order_by(Media.id)
        .execution_options(yield_per=BATCH)
    )
    for media, received_at, report_id, sensitive in stream(session, statement):
        if media.kind != "photo" or not media_services.is_public(media, sensitive=sensitive):
            continue
        reference = format_reference(received_at, report_id)
        url = f"{public_base_url}/api/v1/media/{media.id}/display"
        yield {
            "occurrenceID": occurrence_id(public_base_url, reference),
            "type": "StillImage",
            "format": "image/jpeg",
            "identifier": url,
            "references": occurrence_id(public_base_url, reference),
            "license": LICENCE,
        }


def _clean(value: Any) -> str:
    """A cell: tabs and line breaks would break the row."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def _meta() -> str:
    core = "\n".join(
        f'    <field index="{index}" term="{namespace}{term}"/>'
        for index, (term, namespace) in enumerate(OCCURRENCE_TERMS)
    )
    extension = "\n".join(
        f'    <field index="{index}" term="{namespace}{term}"/>'
        for index, (term, namespace) in enumerate(MULTIMEDIA_TERMS, start=1)
    )
    attributes = (
        'encoding="UTF-8" fieldsTerminatedBy="\\t" linesTerminatedBy="\\n" fieldsEnclosedBy="" ignoreHeaderLines="1"'
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<archive xmlns="http://rs.tdwg.org/dwc/text/" metadata="eml.xml">
  <core {attributes} rowType="http://rs.tdwg.org/dwc/terms/Occurrence">
    <files><location>occurrence.txt</location></files>
    <id index="0"/>
{core}
  </core>
  <extension {attributes} rowType="http://rs.gbif.org/terms/1.0/Multimedia">
    <files><location>multimedia.txt</location></files>
    <coreid index="0"/>
{extension}
  </extension>
</archive>
"""


def _eml(public_base_url: str, now: datetime) -> str:
    title = "Observations de biodiversité des Balades Observ'acteurs (Seine-Saint-Denis)"
    abstract = (
        "Les espèces observées par les promeneurs dans les parcs départementaux de la Seine-Saint-Denis, "
        "transmises à la direction de la nature, des paysages et de la biodiversité (DNPB) et à l'Observatoire "
        "départemental de la biodiversité urbaine (ODBU). Les espèces sensibles sont localisées au point de "
        "référence de leur parc."
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<eml:eml xmlns:eml="https://eml.ecoinformatics.org/eml-2.2.0"
  packageId="{escape(public_base_url)}/api/v1/observations/dwca.zip" system="signal93" xml:lang="fr">
  <dataset>
    <title xml:lang="fr">{escape(title)}</title>
    <creator><organizationName>{escape(PUBLISHER)}</organizationName></creator>
    <metadataProvider><organizationName>{escape(PUBLISHER)}</organizationName></metadataProvider>
    <publisher><organizationName>{escape(PUBLISHER)}</organizationName></publisher>
    <pubDate>{now.date().isoformat()}</pubDate>
    <language>fr</language>
    <abstract><para>{escape(abstract)}</para></abstract>
    <intellectualRights><para>Licence Ouverte / Open Licence 2.0 (Etalab) : {LICENCE}</para></intellectualRights>
    <coverage>
      <geographicCoverage>
        <geographicDescription>Parcs départementaux de la Seine-Saint-Denis, France</geographicDescription>
        <boundingCoordinates>
          <westBoundingCoordinate>2.28</westBoundingCoordinate><eastBoundingCoordinate>2.61</eastBoundingCoordinate>
          <northBoundingCoordinate>49.02</northBoundingCoordinate><southBoundingCoordinate>48.80</southBoundingCoordinate>
        </boundingCoordinates>
      </geographicCoverage>
    </coverage>
    <contact><organizationName>{escape(PUBLISHER)}</organizationName></contact>
  </dataset>
</eml:eml>
"""
