"""Versions of the open datasets, built from the export seam with the organisers' command, as
immutable folders in the media storage: typed CSV and Parquet, GeoJSON, a Frictionless data
package that the real validator accepts, checksums, a changelog; no new version when nothing
changed; old versions kept until pruned; nothing personal in any file."""

from __future__ import annotations

import json
import re

import duckdb
import frictionless

from backend import deps
from sandbox.models import DatasetVersion
from sandbox.opendata.explore import RecordsRequest, records
from sandbox.opendata.snapshots import storage_key
from tests.factories import report_payload, submit


def build(app, *args):
    result = app.test_cli_runner().invoke(args=["sandbox", "snapshot", "build", *args])
    assert result.exit_code == 0, result.output
    return result.output


def download(app, version, folder):
    """A version's files, as a reuser gets them."""
    storage = deps.current(app).storage
    folder.mkdir()
    for name in version.files:
        (folder / name).write_bytes(storage.get(storage_key(version.dataset, version.version, name)))
    return folder


def test_a_version_of_each_dataset_then_none_until_the_data_changes(wsgi_app, session, tmp_path):
    client = wsgi_app.test_client()
    contact = {"email": "habitant@example.org", "phone": "+33 6 11 22 33 44", "consent_contact": True}
    for _ in range(2):
        submit(client, report_payload(reporter=contact, description="Appelez-moi au 06 11 22 33 44"))
    output = build(wsgi_app, "--all")
    assert re.search(r"^signalements: \d{4}-\d\d-\d\d\.1 \(2 rows\)$", output, re.MULTILINE), output
    assert re.search(r"^communes: \d{4}-\d\d-\d\d\.1 \(39 rows\)$", output, re.MULTILINE), output
    assert "signalements: unchanged" in build(wsgi_app, "--dataset", "signalements")

    submit(client, report_payload())
    assert ".2 (3 rows)" in build(wsgi_app, "--dataset", "signalements")
    first, second = session.query(DatasetVersion).filter_by(dataset="signalements").order_by(DatasetVersion.id)
    assert second.changes == {"added": 1, "removed": 0, "changed": 0}
    files = download(wsgi_app, second, tmp_path / "v2")
    assert "1 ajoutés, 0 retirés, 0 modifiés" in (files / "CHANGELOG.md").read_text()
    assert (files / "data.csv").read_text().count("\n") == 4  # the header and three reports

    # The real validator: the package, its table schema, each file's bytes and sha256.
    assert frictionless.validate(str(files / "datapackage.json")).valid
    sums = dict(line.split("  ")[::-1] for line in (files / "SHA256SUMS").read_text().splitlines())
    assert sums["data.parquet"] == second.files["data.parquet"]["sha256"]
    (files / "data.csv").write_text((files / "data.csv").read_text().replace("open", "opex", 1))
    assert not frictionless.validate(str(files / "datapackage.json")).valid  # a changed byte is caught

    # The older version stays downloadable, unchanged.
    old = download(wsgi_app, first, tmp_path / "v1")
    assert (old / "data.csv").read_text().count("\n") == 3


def test_the_parquet_file_answers_explore_queries_and_nothing_personal_leaves(wsgi_app, session, tmp_path):
    client = wsgi_app.test_client()
    contact = {"name": "Awa Diallo", "email": "awa@example.org", "consent_contact": True}
    submit(client, report_payload(reporter=contact, description="Appelez Awa"))
    submit(client, report_payload("debordement-avaloir", attributes={"pluie": "oui"}))
    build(wsgi_app, "--dataset", "signalements")
    (version,) = session.query(DatasetVersion).filter_by(dataset="signalements").all()
    files = download(wsgi_app, version, tmp_path / "v")
    fields = {
        field["name"]: field["type"]
        for field in json.loads((files / "datapackage.json").read_text())["resources"][0]["schema"]["fields"]
    }
    assert fields["geo_point_2d"] == "geopoint"
    from backend.export import REPORT_FIELDS

    with duckdb.connect() as connection:
        answer = records(
            connection,
            files / "data.parquet",
            REPORT_FIELDS,
            RecordsRequest(select="program, count(*) as n", group_by="program", order_by="program"),
        )
    assert answer == {
        "total_count": 2,
        "results": [{"program": "patrouillage", "n": 1}, {"program": "vigies-eau", "n": 1}],
    }
    for name in ("data.csv", "data.geojson", "data.parquet", "datapackage.json"):
        content = (files / name).read_bytes()
        for personal in (b"Awa", b"awa@example.org", b"Appelez"):
            assert personal not in content, (name, personal)


def test_prune_keeps_the_newest_versions_and_their_files(wsgi_app, session):
    client = wsgi_app.test_client()
    for _ in range(3):
        submit(client, report_payload())
        build(wsgi_app, "--dataset", "signalements")
    result = wsgi_app.test_cli_runner().invoke(
        args=["sandbox", "snapshot", "prune", "--dataset", "signalements", "--keep", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "signalements: 2 removed" in result.output
    (kept,) = session.query(DatasetVersion).filter_by(dataset="signalements").all()
    assert kept.version.endswith(".3")
    storage = deps.current(wsgi_app).storage
    assert storage.exists(storage_key("signalements", kept.version, "data.csv"))
    assert not storage.exists(storage_key("signalements", kept.version[:-1] + "1", "data.csv"))


def test_the_command_says_what_it_needs(wsgi_app):
    runner = wsgi_app.test_cli_runner()
    assert runner.invoke(args=["sandbox", "snapshot", "build"]).exit_code != 0
    unknown = runner.invoke(args=["sandbox", "snapshot", "build", "--dataset", "nope"])
    assert unknown.exit_code != 0
    assert "unknown dataset" in unknown.output


def test_data_csv_is_safe_in_a_spreadsheet_and_the_parquet_file_keeps_the_values(wsgi_app, session, tmp_path):
    """Issue 17, item 4: OWASP's rule in the snapshots' data.csv too, on both ways a version is
    built (the reports' large dataset in DuckDB, the categories' row by row), while data.parquet,
    which the Explore API and programs read, keeps each value as it was written."""
    from tests.factories import bearer_for, make_agent

    client = wsgi_app.test_client()
    admin = bearer_for(session, make_agent(session, "admin.tableur@seinesaintdenis.fr", role="admin"))
    descriptions = ["=1+1", "-2+3+cmd", "@SUM(A1)", "Trou - profond"]  # (intake trims a leading tab)
    for text in descriptions:
        reference = submit(client, report_payload(description=text)).get_json()["reference"]
        published = client.put(
            f"/api/v1/triage/reports/{reference}/description-publication",
            json={"publishable": True, "version": 1},
            headers=admin,
        )
        assert published.status_code == 200, published.get_json()
    renamed = client.patch("/api/v1/admin/categories/nid-de-poule", json={"name": "+Nid-de-poule"}, headers=admin)
    assert renamed.status_code == 200, renamed.get_json()
    build(wsgi_app, "--dataset", "signalements")
    build(wsgi_app, "--dataset", "categories")

    import csv
    import io

    def table(dataset: str, column: str) -> tuple[list[str], list[str]]:
        (version,) = session.query(DatasetVersion).filter_by(dataset=dataset).all()
        files = download(wsgi_app, version, tmp_path / dataset)
        assert frictionless.validate(str(files / "datapackage.json")).valid
        in_csv = [row[column] for row in csv.DictReader(io.StringIO((files / "data.csv").read_text()))]
        with duckdb.connect() as connection:
            query = f'SELECT "{column}" FROM read_parquet(?)'  # noqa: S608 (a test's own column)
            in_parquet = [value for (value,) in connection.execute(query, [str(files / "data.parquet")]).fetchall()]
        return in_csv, in_parquet

    in_csv, in_parquet = table("signalements", "description")
    assert sorted(in_parquet) == sorted(descriptions)
    assert sorted(in_csv) == sorted(["'=1+1", "'-2+3+cmd", "'@SUM(A1)", "Trou - profond"])
    in_csv, in_parquet = table("categories", "name")
    assert "+Nid-de-poule" in in_parquet
    assert [name for name in in_csv if name.startswith("'")] == ["'+Nid-de-poule"]  # the others as they are
