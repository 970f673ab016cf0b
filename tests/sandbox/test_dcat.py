"""The DCAT catalog as a harvester reads it: parsed by rdflib, offline (the JSON-LD's @context is
inline), a dcat:Dataset per published dataset and a dcat:Distribution per file of its latest
version, with what data.gouv.fr's harvester reads — download URL, media type, size, checksum,
licence, modified date, keywords, spatial coverage."""

from __future__ import annotations

import socket
from contextlib import contextmanager

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, XSD

from tests.factories import report_payload, submit
from tests.sandbox.test_downloads import path_of
from tests.sandbox.test_explore_api import build

SPDX = Namespace("http://spdx.org/rdf/terms#")


@contextmanager
def offline():
    """No network: a parser that tried to fetch a remote @context would fail here."""

    def refuse(*args, **kwargs):
        raise OSError("no network in this test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "create_connection", refuse)
        patch.setattr(socket.socket, "connect", refuse)
        yield


def graphs(client) -> tuple[Graph, Graph]:
    """The catalog in both syntaxes, as served, parsed by rdflib with the network cut."""
    jsonld = client.get("/sandbox/catalog.jsonld")
    assert jsonld.status_code == 200
    assert jsonld.headers["Content-Type"] == "application/ld+json"
    ttl = client.get("/sandbox/catalog.ttl")
    assert ttl.status_code == 200
    assert ttl.headers["Content-Type"] == "text/turtle; charset=utf-8"
    with offline():
        return (
            Graph().parse(data=jsonld.get_data(as_text=True), format="json-ld"),
            Graph().parse(data=ttl.get_data(as_text=True), format="turtle"),
        )


def test_a_harvester_reads_every_dataset_and_file_of_the_catalog(wsgi_app):
    client = wsgi_app.test_client()
    submit(client, report_payload())
    build(wsgi_app, "--all")
    from_jsonld, from_turtle = graphs(client)
    assert len(from_jsonld) == len(from_turtle) > 0
    assert from_jsonld.isomorphic(from_turtle)

    (catalog,) = from_jsonld.subjects(RDF.type, DCAT.Catalog)
    datasets = {
        str(from_jsonld.value(item, DCTERMS.identifier)): item for item in from_jsonld.subjects(RDF.type, DCAT.Dataset)
    }
    assert set(from_jsonld.objects(catalog, DCAT.dataset)) == set(datasets.values())
    api = client.get("/sandbox/api/v1/datasets").get_json()["items"]
    assert set(datasets) == {item["id"] for item in api}

    reports = datasets["signalements"]
    described = next(item for item in api if item["id"] == "signalements")
    assert from_jsonld.value(reports, DCTERMS.title) == Literal(described["title"], lang="fr")
    assert Literal("voirie", lang="fr") in set(from_jsonld.objects(reports, DCAT.keyword))
    assert from_jsonld.value(reports, DCTERMS.license) == URIRef(
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    )
    assert from_jsonld.value(reports, DCTERMS.modified).datatype == XSD.dateTime
    spatial = from_jsonld.value(reports, DCTERMS.spatial)
    assert "POLYGON((2." in str(from_jsonld.value(spatial, DCAT.bbox))

    distributions = list(from_jsonld.objects(reports, DCAT.distribution))
    assert len(distributions) == len(described["latest"]["files"]) == 6
    for file in described["latest"]["files"]:
        distribution = URIRef(file["url"])
        assert distribution in distributions
        assert from_jsonld.value(distribution, DCAT.downloadURL) == distribution
        assert str(from_jsonld.value(distribution, DCAT.mediaType)).endswith("/" + file["media_type"])
        assert from_jsonld.value(distribution, DCAT.byteSize).toPython() == file["bytes"]
        checksum = from_jsonld.value(distribution, SPDX.checksum)
        assert str(from_jsonld.value(checksum, SPDX.checksumValue)) == file["sha256"]
        assert from_jsonld.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert from_jsonld.value(distribution, DCTERMS.license) is not None
        # The URL the harvester would follow serves that very file.
        assert client.get(path_of(file["url"])).status_code == 200


def test_an_empty_catalog_is_still_a_catalog(wsgi_app):
    from_jsonld, from_turtle = graphs(wsgi_app.test_client())
    assert len(list(from_jsonld.subjects(RDF.type, DCAT.Catalog))) == 1
    assert list(from_jsonld.subjects(RDF.type, DCAT.Dataset)) == []
    assert from_jsonld.isomorphic(from_turtle)
