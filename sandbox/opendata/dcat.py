"""The open datasets as a DCAT catalog (DCAT-AP, as data.gouv.fr's harvester and the European
portal read it): a ``dcat:Dataset`` per published dataset, a ``dcat:Distribution`` per file of its
latest version. Written once as JSON-LD with its ``@context`` inline (a harvester may have no
network); the Turtle is the same graph, serialised by rdflib."""

from __future__ import annotations

import json
import warnings
from typing import Any

from rdflib import Graph
from sqlalchemy.orm import Session

from backend import export
from sandbox.opendata.downloads import Links, published_versions

# rdflib's own JSON-LD parser builds a ConjunctiveGraph, which rdflib 7 deprecates: not ours to fix.
warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning, "rdflib")
PUBLISHER = "Département de la Seine-Saint-Denis"
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "locn": "http://www.w3.org/ns/locn#",
    "gsp": "http://www.opengis.net/ont/geosparql#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
# The EU's file-type vocabulary (DCAT-AP's dct:format), by file.
FORMATS = {
    "data.csv": "CSV",
    "data.parquet": "PARQUET",
    "data.geojson": "GEOJSON",
    "datapackage.json": "JSON",
    "SHA256SUMS": "TXT",
    "CHANGELOG.md": "TXT",
}
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
MEDIA_TYPE = "https://www.iana.org/assignments/media-types/"
FRENCH = {"@id": "http://publications.europa.eu/resource/authority/language/FRA"}
DEPARTMENT = "https://geo.api.gouv.fr/departements/93"


def catalog(session: Session, links: Links, *, home: str) -> dict[str, Any]:
    """The catalog as a JSON-LD document (``home``: the portal's page)."""
    publisher = {"@id": f"{home}#publisher", "@type": "foaf:Organization", "foaf:name": PUBLISHER}
    spatial = _spatial(export.department_bbox(session))
    datasets = []
    for dataset, version in published_versions(session):
        modified = _datetime(version.created_at)
        licence = {
            "@id": dataset.licence["path"],
            "@type": "dct:LicenseDocument",
            "dct:title": dataset.licence["title"],
        }
        distributions = [
            {
                "@id": links.file(dataset.id, version.version, name),
                "@type": "dcat:Distribution",
                "dct:title": f"{dataset.title} — {name}",
                "dcat:accessURL": {"@id": links.file(dataset.id, version.version, name)},
                "dcat:downloadURL": {"@id": links.file(dataset.id, version.version, name)},
                "dcat:mediaType": {"@id": MEDIA_TYPE + described["media_type"]},
                "dct:format": {"@id": FILE_TYPE + FORMATS[name]},
                "dcat:byteSize": {"@value": described["bytes"], "@type": "xsd:nonNegativeInteger"},
                "spdx:checksum": {
                    "@type": "spdx:Checksum",
                    "spdx:algorithm": {"@id": "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"},
                    "spdx:checksumValue": {"@value": described["sha256"], "@type": "xsd:hexBinary"},
                },
                "dct:license": licence,
                "dct:modified": modified,
            }
            for name, described in sorted(version.files.items())
        ]
        datasets.append(
            {
                "@id": f"{links.api}/datasets/{dataset.id}",
                "@type": "dcat:Dataset",
                "dct:identifier": dataset.id,
                "dct:title": {"@value": dataset.title, "@language": "fr"},
                "dct:description": {"@value": dataset.description, "@language": "fr"},
                "dcat:keyword": [{"@value": keyword, "@language": "fr"} for keyword in dataset.keywords],
                "dct:modified": modified,
                "owl:versionInfo": version.version,
                "dct:license": licence,
                "dct:publisher": publisher,
                "dct:language": FRENCH,
                "dct:source": dataset.source["title"],
                "dcat:landingPage": {"@id": home},
                **({"dct:spatial": spatial} if spatial else {}),
                "dcat:distribution": distributions,
            }
        )
    return {
        "@context": CONTEXT,
        "@id": f"{home}#catalog",
        "@type": "dcat:Catalog",
        "dct:title": {"@value": "Données ouvertes de Signal93", "@language": "fr"},
        "dct:description": {
            "@value": (
                "Les jeux de données ouverts de Signal93, la plateforme de signalement citoyen de la "
                "Seine-Saint-Denis : signalements anonymisés, délais de traitement, observations de "
                "biodiversité et référentiels. Chaque version est immuable et téléchargeable."
            ),
            "@language": "fr",
        },
        "dct:publisher": publisher,
        "dct:language": FRENCH,
        "foaf:homepage": {"@id": home},
        "dcat:dataset": datasets,
    }


def turtle(document: dict[str, Any]) -> str:
    """The same catalog in Turtle (the graph the JSON-LD says, serialised by rdflib)."""
    graph = Graph()
    graph.parse(data=json.dumps(document), format="json-ld")
    for prefix, namespace in CONTEXT.items():
        graph.bind(prefix, namespace)
    return graph.serialize(format="turtle")


def _datetime(value: Any) -> dict[str, str]:
    text = value.isoformat() + ("Z" if value.tzinfo is None else "")
    return {"@value": text, "@type": "xsd:dateTime"}


def _spatial(bbox: tuple[float, float, float, float] | None) -> dict[str, Any] | None:
    if bbox is None:
        return None
    west, south, east, north = bbox
    polygon = f"POLYGON(({west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south}))"
    return {
        "@id": DEPARTMENT,
        "@type": "dct:Location",
        "locn:geographicName": {"@value": "Seine-Saint-Denis", "@language": "fr"},
        "dcat:bbox": {"@value": polygon, "@type": "gsp:wktLiteral"},
    }
