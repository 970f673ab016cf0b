"""The open datasets as the Explore API v2.1 serves them: the catalog of published datasets, and
the records of a version (the latest, or one a team pinned), queried by DuckDB on its Parquet
file, fetched once from the media storage into a local cache (versions never change)."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import DomainError
from backend.storage import Storage
from sandbox.models import DatasetVersion
from sandbox.opendata import downloads, explore, snapshots
from sandbox.opendata.datasets import Dataset, dataset_or_none

DatasetNotFound, VersionNotFound = downloads.DatasetNotFound, downloads.VersionNotFound


class QueryRefused(DomainError):
    """A query the Explore API refuses (400): its code (``odsql_error``, ``invalid_limit``,
    ``invalid_offset``), the parameter at fault and what is wrong (with the position)."""

    status = 400

    def __init__(self, refusal: explore.ExploreError):
        super().__init__(refusal.message, errors={"query": {refusal.parameter: [refusal.message]}})
        self.code = refusal.code


def catalog(session: Session) -> dict[str, Any]:
    """The published datasets (those with at least one version), as ``catalog/datasets`` lists them."""
    results = [_describe(dataset, version) for dataset, version in downloads.published_versions(session)]
    return {"total_count": len(results), "results": results}


def _describe(dataset: Dataset, version: DatasetVersion) -> dict[str, Any]:
    return {
        "dataset_id": dataset.id,
        "metas": {
            "default": {
                "title": dataset.title,
                "description": dataset.description,
                "records_count": version.rows,
                "modified": version.created_at.isoformat(),
                "keyword": list(dataset.keywords),
                "license": dataset.licence["title"],
                "version": version.version,
            }
        },
        "fields": [{"name": name, "type": kind, "label": name} for name, kind in dataset.fields.items()],
    }


def records(
    session: Session,
    storage: Storage,
    cache: Path,
    dataset_id: str,
    request: explore.RecordsRequest,
    *,
    version: str | None = None,
) -> dict[str, Any]:
    """The records of the dataset's latest version (or of ``version``): :class:`DatasetNotFound`,
    :class:`VersionNotFound`, or :class:`QueryRefused` for a query the API refuses."""
    dataset, database = _version_database(session, storage, cache, dataset_id, version)
    with database.cursor() as connection:
        try:
            return explore.records(connection, None, dataset.fields, request)
        except explore.ExploreError as refusal:
            raise QueryRefused(refusal) from None


def export(
    session: Session,
    storage: Storage,
    cache: Path,
    dataset_id: str,
    request: explore.ExportRequest,
    format: str,
    *,
    version: str | None = None,
) -> Stream:
    """The whole answer to ``request`` in ``format``, to stream; the query has run (a refusal is
    raised here, as for :func:`records`)."""
    dataset, database = _version_database(session, storage, cache, dataset_id, version)
    work = Path(tempfile.mkdtemp(prefix="signal93-export-"))
    connection = database.cursor()
    stream = Stream(connection, work)
    try:
        stream.chunks = explore.export(connection, None, dataset.fields, request, format, work)
    except explore.ExploreError as refusal:
        stream.close()
        raise QueryRefused(refusal) from None
    except BaseException:
        stream.close()
        raise
    return stream


class Stream:
    """An export's chunks, and what they hold until the answer is sent (the DuckDB connection, the
    scratch folder), released by :meth:`close` — which the WSGI server calls, even when the client
    left half-way or asked only for the headers."""

    def __init__(self, connection: Any, work: Path):
        self.connection, self.work = connection, work
        self.chunks: Iterator[bytes] = iter(())

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.chunks
        finally:
            self.close()  # at once, the last chunk read

    def close(self) -> None:
        if self.connection is None:
            return
        close = getattr(self.chunks, "close", None)
        if close:
            close()
        self.connection.close()
        self.connection = None
        shutil.rmtree(self.work, ignore_errors=True)


def _version_database(
    session: Session, storage: Storage, cache: Path, dataset_id: str, version: str | None
) -> tuple[Dataset, duckdb.DuckDBPyConnection]:
    """The dataset and its latest version (or ``version``) as a DuckDB database holding its rows
    in the table ``data``, opened read-only (ask it for a cursor per query)."""
    dataset = dataset_or_none(dataset_id)
    if dataset is None:
        raise DatasetNotFound()
    query = select(DatasetVersion).where(DatasetVersion.dataset == dataset_id)
    if version is None:
        found = session.scalar(query.order_by(DatasetVersion.id.desc()).limit(1))
        if found is None:
            raise DatasetNotFound()
    else:
        found = session.scalar(query.where(DatasetVersion.version == version))
        if found is None:
            raise VersionNotFound(errors={"query": {"version": ["no such version of this dataset"]}})
    return dataset, _open(_cached(storage, cache, dataset_id, found.version))


# Versions' databases this process has open (read-only: every process may open the same file).
_OPEN: OrderedDict[Path, duckdb.DuckDBPyConnection] = OrderedDict()
_OPEN_LOCK = threading.Lock()
OPEN_VERSIONS = 16
QUERY_MEMORY = "256MB"


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    with _OPEN_LOCK:
        database = _OPEN.get(path)
        if database is None:
            database = duckdb.connect(str(path), read_only=True, config={"memory_limit": QUERY_MEMORY})
            _OPEN[path] = database
            while len(_OPEN) > OPEN_VERSIONS:
                _OPEN.popitem(last=False)[1].close()
        _OPEN.move_to_end(path)
        return database


def _cached(storage: Storage, cache: Path, dataset_id: str, version: str) -> Path:
    """The version as a DuckDB database on the local disk, made once from its Parquet file (a
    version never changes): DuckDB's own storage, with the statistics that let a filter skip
    most of the rows, where the Parquet file would be read and decompressed at every query."""
    path = cache / dataset_id / f"{version}.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".building-") as folder:
            parquet, partial = Path(folder) / "data.parquet", Path(folder) / "data.duckdb"
            storage.get_file(snapshots.storage_key(dataset_id, version, "data.parquet"), parquet)
            with duckdb.connect(str(partial), config={"memory_limit": QUERY_MEMORY}) as connection:
                connection.execute("CREATE TABLE data AS SELECT * FROM read_parquet(?)", [str(parquet)])
            os.replace(partial, path)  # whole or absent, even with two processes racing
    return path
