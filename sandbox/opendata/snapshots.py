"""Versions of the open datasets: each an immutable folder in the media storage
(``opendata/<dataset>/<version>/``) — data.csv, data.parquet, data.geojson when spatial,
datapackage.json (Frictionless), SHA256SUMS, CHANGELOG.md — published by a database row once
every file is stored (a build that fails half-way leaves nothing visible). Rows stream from the
export seam to the files: a dataset never sits whole in memory.
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.export import scrub
from backend.spreadsheets import SafeWriter, safe_cell_sql
from backend.storage import Storage
from sandbox.models import DatasetVersion
from sandbox.opendata.datasets import Dataset

MEDIA_TYPES = {
    "data.csv": "text/csv",
    "data.parquet": "application/vnd.apache.parquet",
    "data.geojson": "application/geo+json",
    "datapackage.json": "application/json",
    "SHA256SUMS": "text/plain",
    "CHANGELOG.md": "text/markdown",
}
# Explore types → Frictionless Table Schema types, and the Parquet (DuckDB) column read from text.
TABLE_TYPES = {
    "text": "string",
    "int": "integer",
    "double": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "geo_point_2d": "geopoint",
}
PARQUET_TYPES = {"int": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE"}


def storage_key(dataset: str, version: str, name: str) -> str:
    return f"opendata/{dataset}/{version}/{name}"


def latest(session: Session, dataset: str) -> DatasetVersion | None:
    """The newest version of a dataset (None before its first build)."""
    return session.scalar(
        select(DatasetVersion).where(DatasetVersion.dataset == dataset).order_by(DatasetVersion.id.desc()).limit(1)
    )


def build(session: Session, storage: Storage, dataset: Dataset, *, now: datetime) -> DatasetVersion | None:
    """Build a new version of ``dataset`` from the export seam and publish it; None when the data
    did not change since the latest version (no new version). Flushes."""
    with tempfile.TemporaryDirectory(prefix=f"signal93-{dataset.id}-") as folder:
        work = Path(folder)
        rows = (_write_bulk if dataset.bulk else _write_data)(session, dataset, work)
        data_sha256 = _sha256(work / "data.csv")
        previous = latest(session, dataset.id)
        if previous is not None and previous.data_sha256 == data_sha256:
            return None
        if not dataset.bulk:
            _write_parquet(dataset, work)
        changes = _changes(storage, dataset, previous, work)
        version = _next_version(session, dataset.id, now)
        _write_changelog(dataset, version, previous, changes, rows, work)
        _write_datapackage(dataset, version, now, work)
        files = {path.name: _describe(path) for path in sorted(work.iterdir())}
        (work / "SHA256SUMS").write_text("".join(f"{f['sha256']}  {name}\n" for name, f in files.items()))
        files["SHA256SUMS"] = _describe(work / "SHA256SUMS")
        for name in files:  # every file first; the row that publishes them last
            storage.put_file(storage_key(dataset.id, version, name), work / name, MEDIA_TYPES[name])
    row = DatasetVersion(
        dataset=dataset.id,
        version=version,
        created_at=now,
        rows=rows,
        data_sha256=data_sha256,
        files=files,
        changes=changes,
    )
    session.add(row)
    session.flush()
    return row


def _write_data(session: Session, dataset: Dataset, work: Path) -> int:
    """data.csv (and data.geojson when spatial), streamed row by row; how many rows. data.csv is
    written safe for spreadsheets (``backend.spreadsheets``), rows.csv as the values are, for
    the Parquet file (:func:`_write_parquet`)."""
    names = list(dataset.fields)
    count = 0
    with (
        (work / "data.csv").open("w", newline="", encoding="utf-8") as table,
        (work / "rows.csv").open("w", newline="", encoding="utf-8") as plain,
    ):
        writer = SafeWriter(table, lineterminator="\n")
        values = csv.writer(plain, lineterminator="\n")
        writer.writerow(names)
        values.writerow(names)
        geojson = (work / "data.geojson").open("w", encoding="utf-8") if dataset.spatial else None
        try:
            if geojson:
                geojson.write('{"type": "FeatureCollection", "features": [\n')
            for row, geometry in dataset.rows(session):
                cells = [_cell(row[name], dataset.fields[name]) for name in names]
                writer.writerow(cells)
                values.writerow(cells)
                if geojson:
                    point = row.get("geo_point_2d")
                    shape = geometry or {"type": "Point", "coordinates": [point["lon"], point["lat"]]}
                    properties = {name: _json(row[name]) for name in names if dataset.fields[name] != "geo_point_2d"}
                    feature = {"type": "Feature", "geometry": shape, "properties": properties}
                    geojson.write(("" if count == 0 else ",\n") + json.dumps(feature, ensure_ascii=False))
                count += 1
            if geojson:
                geojson.write("\n]}\n")
        finally:
            if geojson:
                geojson.close()
    return count


def _write_bulk(session: Session, dataset: Dataset, work: Path) -> int:
    """data.parquet, data.csv and data.geojson of a large dataset, in DuckDB: its rows come from
    the seam as one CSV stream (PostgreSQL's COPY), are typed and scrubbed into the Parquet file,
    which the CSV and the GeoJSON files are then written from — never a row in Python's memory
    (but a publishable description, scrubbed one at a time)."""
    bulk = dataset.bulk
    assert bulk is not None
    with (work / "raw.csv").open("wb") as raw:
        bulk.write(session, raw)
    with engine(work) as connection:
        connection.create_function(
            "scrub", lambda text, name: scrub(text, (name,)), ["VARCHAR", "VARCHAR"], "VARCHAR", side_effects=False
        )
        columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in bulk.columns.items()) + "}"
        # Times in UTC without a zone, as in every dataset's Parquet file (readers need no tz library).
        utc = {
            name: f"timezone('UTC', {bulk.select[name]})" for name, kind in dataset.fields.items() if kind == "datetime"
        }
        select = ", ".join(f"{utc.get(name, expression)} AS {_quote(name)}" for name, expression in bulk.select.items())
        # The columns and expressions are the dataset's own (no request input); the paths are ours.
        source = f"SELECT {select} FROM read_csv(?, header = true, columns = {columns})"  # noqa: S608
        connection.execute(f"COPY ({source}) TO ? {PARQUET}", [str(work / "raw.csv"), str(work / "data.parquet")])
        (work / "raw.csv").unlink()
        connection.register("published", connection.read_parquet(str(work / "data.parquet")))
        connection.execute("SET threads = 1")  # the text files in one ordered stream: fewer buffers held
        as_text = ", ".join(_as_text(name, kind) for name, kind in dataset.fields.items())
        connection.execute(
            f"COPY (SELECT {as_text} FROM published) TO ? (FORMAT csv, HEADER true)",  # noqa: S608
            [str(work / "data.csv")],
        )
        if dataset.spatial:
            properties = ", ".join(
                f"{_quote(name)} := {_as_json(name, kind)}"
                for name, kind in dataset.fields.items()
                if kind != "geo_point_2d"
            )
            point = next(name for name, kind in dataset.fields.items() if kind == "geo_point_2d")
            connection.execute(
                f"COPY (SELECT 'Feature' AS type, CASE WHEN {_quote(point)} IS NULL THEN NULL ELSE "  # noqa: S608
                f"struct_pack(type := 'Point', coordinates := [{_quote(point)}.lon, {_quote(point)}.lat]) END "
                f"AS geometry, struct_pack({properties}) AS properties FROM published) TO ? (FORMAT json)",
                [str(work / "features.json")],
            )
            _feature_collection(work / "features.json", work / "data.geojson")
        (rows,) = connection.execute("SELECT count(*) FROM published").fetchone()
    return rows


PARQUET = "(FORMAT parquet, ROW_GROUP_SIZE 32768)"  # small row groups: a flat memory when writing
BUILD_MEMORY = "128MB"  # DuckDB spills to the build's folder beyond it: a build's memory stays flat
BUILD_THREADS = 2


def engine(work: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection for a build: bounded memory (spilling to ``work``), times in UTC."""
    connection = duckdb.connect(config={"memory_limit": BUILD_MEMORY, "threads": BUILD_THREADS})
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET preserve_insertion_order = true")
    connection.execute(f"SET temp_directory = '{work / 'spill'}'")  # our own folder
    return connection


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _as_text(name: str, kind: str) -> str:
    """A published field as data.csv writes it (the same text as the rows' path writes)."""
    column = _quote(name)
    if kind == "geo_point_2d":
        return f"CASE WHEN {column} IS NULL THEN NULL ELSE {column}.lon || ', ' || {column}.lat END AS {column}"
    if kind == "datetime":
        return f"strftime({column}, '%Y-%m-%dT%H:%M:%S.%f+00:00') AS {column}"
    if kind == "boolean":
        return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END AS {column}"
    if kind == "text":
        return f"{safe_cell_sql(column)} AS {column}"
    return column


def _as_json(name: str, kind: str) -> str:
    column = _quote(name)
    if kind == "datetime":
        return f"strftime({column}, '%Y-%m-%dT%H:%M:%S.%f+00:00')"
    return column


def _feature_collection(features: Path, target: Path) -> None:
    """A FeatureCollection around DuckDB's one feature per line, a block at a time."""
    with features.open("rb") as lines, target.open("wb") as out:
        out.write(b'{"type": "FeatureCollection", "features": [\n')
        pending = b""
        for block in iter(lambda: lines.read(1 << 20), b""):
            block = pending + block
            cut = block.rfind(b"\n")
            pending, block = block[cut + 1 :], block[: cut + 1]
            out.write(block.replace(b"\n", b",\n"))
        body_end = out.tell()
        if pending:
            out.write(pending + b"\n")
        elif body_end > len(b'{"type": "FeatureCollection", "features": [\n'):
            out.seek(body_end - 2)  # the last feature takes no comma
            out.write(b"\n")
        out.write(b"]}\n")
    features.unlink()


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "geo_point_2d":
        return f"{value['lon']}, {value['lat']}"  # Frictionless geopoint, default format: "lon, lat"
    if kind == "boolean":
        return "true" if value else "false"
    return value.isoformat() if isinstance(value, datetime | date) else value


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def _column(name: str, kind: str) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    if kind == "geo_point_2d":
        return (
            f"CASE WHEN {quoted} = '' THEN NULL ELSE struct_pack("
            f"lon := CAST(trim(split_part({quoted}, ',', 1)) AS DOUBLE), "
            f"lat := CAST(trim(split_part({quoted}, ',', 2)) AS DOUBLE)) END AS {quoted}"
        )
    if kind == "datetime":  # in UTC, without a zone: readers need no time-zone library
        return f"timezone('UTC', CAST(NULLIF({quoted}, '') AS TIMESTAMPTZ)) AS {quoted}"
    if kind in PARQUET_TYPES:
        return f"CAST(NULLIF({quoted}, '') AS {PARQUET_TYPES[kind]}) AS {quoted}"
    return f"NULLIF({quoted}, '') AS {quoted}"


def _write_parquet(dataset: Dataset, work: Path) -> None:
    """data.parquet from rows.csv (the values as they are), typed (DuckDB streams it: constant
    memory); rows.csv is then removed."""
    columns = ", ".join(_column(name, kind) for name, kind in dataset.fields.items())
    with engine(work) as connection:  # a time written without its offset is in UTC
        connection.register("rows", connection.read_csv(str(work / "rows.csv"), header=True, all_varchar=True))
        # Column expressions built from the dataset's own schema (no request input).
        connection.execute(f"COPY (SELECT {columns} FROM rows) TO ? (FORMAT parquet)", [str(work / "data.parquet")])  # noqa: S608
    (work / "rows.csv").unlink()


def _changes(storage: Storage, dataset: Dataset, previous: DatasetVersion | None, work: Path) -> dict[str, int]:
    """Rows added, removed and changed (by the dataset's key) since ``previous``."""
    if previous is None:
        with engine(work) as connection:
            (added,) = connection.execute(
                "SELECT count(*) FROM read_parquet(?)", [str(work / "data.parquet")]
            ).fetchone()
        return {"added": added, "removed": 0, "changed": 0}
    before = work / "previous.parquet"
    storage.get_file(storage_key(dataset.id, previous.version, "data.parquet"), before)
    key = '"' + dataset.key.replace('"', '""') + '"'
    with engine(work) as connection:
        connection.register("old", connection.read_parquet(str(before)))
        connection.register("new", connection.read_parquet(str(work / "data.parquet")))
        added, removed, changed = connection.execute(
            f"SELECT "  # noqa: S608 (the key is the dataset's own)
            f"(SELECT count(*) FROM new WHERE {key} NOT IN (SELECT {key} FROM old)), "
            f"(SELECT count(*) FROM old WHERE {key} NOT IN (SELECT {key} FROM new)), "
            f"(SELECT count(*) FROM new JOIN old USING ({key}) WHERE hash(new) != hash(old))"
        ).fetchone()
    before.unlink()
    return {"added": added, "removed": removed, "changed": changed}


def _next_version(session: Session, dataset: str, now: datetime) -> str:
    day = now.date().isoformat()
    count = session.scalar(
        select(func.count()).where(DatasetVersion.dataset == dataset, DatasetVersion.version.like(f"{day}.%"))
    )
    return f"{day}.{count + 1}"


def _write_changelog(
    dataset: Dataset, version: str, previous: DatasetVersion | None, changes: dict[str, int], rows: int, work: Path
) -> None:
    since = f"depuis la version {previous.version}" if previous else "première version"
    (work / "CHANGELOG.md").write_text(
        f"# {dataset.title} — version {version}\n\n"
        f"{rows} enregistrements ({since}) : {changes['added']} ajoutés, {changes['removed']} retirés, "
        f"{changes['changed']} modifiés (clé : `{dataset.key}`).\n",
        encoding="utf-8",
    )


CSV_NOTE = (
    "Les cellules de texte qui commencent par =, +, -, @, une tabulation ou un retour chariot sont "
    "précédées d'une apostrophe (') : aucun tableur ne les évalue comme des formules. data.parquet "
    "garde les valeurs telles quelles."
)


def _write_datapackage(dataset: Dataset, version: str, now: datetime, work: Path) -> None:
    resources: list[dict[str, Any]] = [
        {
            **_resource(work / "data.csv", "donnees", "csv"),
            "description": CSV_NOTE,
            "type": "table",
            "encoding": "utf-8",
            "dialect": {"delimiter": ",", "header": True},
            "schema": {
                "fields": [{"name": name, "type": TABLE_TYPES[kind]} for name, kind in dataset.fields.items()],
                "primaryKey": [dataset.key],
            },
        },
        _resource(work / "data.parquet", "donnees-parquet", "parquet"),
    ]
    if dataset.spatial:
        resources.append(_resource(work / "data.geojson", "donnees-geojson", "geojson"))
    for resource in resources[1:]:
        resource["type"] = "file"
    package = {
        "name": dataset.id,
        "title": dataset.title,
        "description": dataset.description,
        "version": version,
        "created": now.isoformat(),
        "keywords": list(dataset.keywords),
        "licenses": [dataset.licence],
        "sources": [dataset.source],
        "resources": resources,
    }
    (work / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _resource(path: Path, name: str, format: str) -> dict[str, Any]:
    described = _describe(path)
    return {
        "name": name,
        "path": path.name,
        "format": format,
        "mediatype": MEDIA_TYPES[path.name],
        "bytes": described["bytes"],
        "hash": f"sha256:{described['sha256']}",
    }


def _describe(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path), "media_type": MEDIA_TYPES[path.name]}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prune(session: Session, storage: Storage, dataset: str, *, keep: int) -> list[str]:
    """Remove the oldest versions of ``dataset`` beyond the ``keep`` newest (at least one: the
    latest always stays), their rows first, then their files; the versions removed."""
    versions = list(
        session.scalars(
            select(DatasetVersion).where(DatasetVersion.dataset == dataset).order_by(DatasetVersion.id.desc())
        )
    )
    removed = versions[max(keep, 1) :]
    for version in removed:
        session.delete(version)
    session.flush()  # unpublished before a file goes
    for version in removed:
        for name in version.files:
            storage.delete(storage_key(dataset, version.version, name))
    return [version.version for version in removed]
