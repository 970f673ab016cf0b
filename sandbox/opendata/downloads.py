"""The open datasets as files to download: each dataset, its versions (newest first), and any file
of a version, whole or a byte range, streamed from the media storage. A version never changes, so
its files are served as immutable: their ETag is their SHA-256."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import DomainError, NotFound
from backend.storage import Storage
from sandbox.models import DatasetVersion
from sandbox.opendata import snapshots
from sandbox.opendata.datasets import Dataset, dataset_or_none, published_datasets

LATEST = "latest"
IMMUTABLE = "public, max-age=31536000, immutable"


class DatasetNotFound(NotFound):
    code = "dataset_not_found"
    message = "No published dataset has this id: see /api/v1/datasets (or /api/explore/v2.1/catalog/datasets)."


class VersionNotFound(NotFound):
    code = "version_not_found"
    message = "This dataset has no such version: see /api/v1/datasets/{id}/versions."


class FileNotFound(NotFound):
    code = "file_not_found"
    message = "This version has no such file: see the version's files."


class RangeNotSatisfiable(DomainError):
    status = 416
    code = "range_not_satisfiable"
    message = "The requested range is outside the file."


@dataclass(frozen=True)
class Links:
    """Where the API is served (absolute URLs: a harvester or a script follows them as they are)."""

    api: str  # …/sandbox/api/v1
    explore: str  # …/sandbox/api/explore/v2.1

    def file(self, dataset: str, version: str, name: str) -> str:
        return f"{self.api}/datasets/{dataset}/versions/{version}/{name}"


def describe_version(version: DatasetVersion, links: Links) -> dict[str, Any]:
    return {
        "version": version.version,
        "created_at": version.created_at,
        "rows": version.rows,
        "changes": version.changes,
        "files": [
            {**described, "name": name, "url": links.file(version.dataset, version.version, name)}
            for name, described in sorted(version.files.items())
        ],
    }


def describe_dataset(dataset: Dataset, latest: DatasetVersion, links: Links) -> dict[str, Any]:
    return {
        "id": dataset.id,
        "title": dataset.title,
        "description": dataset.description,
        "keywords": list(dataset.keywords),
        "licence": dataset.licence,
        "source": dataset.source,
        "spatial": dataset.spatial,
        "key": dataset.key,
        "fields": [{"name": name, "type": kind} for name, kind in dataset.fields.items()],
        "latest": describe_version(latest, links),
        "example": dict(dataset.example),
        "links": {
            "versions": f"{links.api}/datasets/{dataset.id}/versions",
            "latest": f"{links.api}/datasets/{dataset.id}/versions/{LATEST}",
            "records": f"{links.explore}/catalog/datasets/{dataset.id}/records",
            "datapackage": links.file(dataset.id, latest.version, "datapackage.json"),
        },
    }


def list_datasets(session: Session, links: Links) -> list[dict[str, Any]]:
    """Every published dataset (one version at least), by id, with its latest version."""
    return [describe_dataset(dataset, version, links) for dataset, version in published_versions(session)]


def published_versions(session: Session) -> list[tuple[Dataset, DatasetVersion]]:
    """Each published dataset and its latest version, by id."""
    published = []
    for dataset in published_datasets():
        version = snapshots.latest(session, dataset.id)
        if version is not None:
            published.append((dataset, version))
    return published


def get_dataset(session: Session, dataset_id: str, links: Links) -> dict[str, Any]:
    dataset = dataset_or_none(dataset_id)
    latest = snapshots.latest(session, dataset_id) if dataset else None
    if dataset is None or latest is None:
        raise DatasetNotFound()
    return describe_dataset(dataset, latest, links)


def list_versions(session: Session, dataset_id: str, links: Links) -> list[dict[str, Any]]:
    """The versions still downloadable, newest first."""
    get_dataset_version(session, dataset_id, LATEST)
    versions = session.scalars(
        select(DatasetVersion).where(DatasetVersion.dataset == dataset_id).order_by(DatasetVersion.id.desc())
    )
    return [describe_version(version, links) for version in versions]


def get_dataset_version(session: Session, dataset_id: str, version: str) -> DatasetVersion:
    """A version of a published dataset (``latest``: the newest); :class:`DatasetNotFound`,
    :class:`VersionNotFound`."""
    dataset = dataset_or_none(dataset_id)
    latest = snapshots.latest(session, dataset_id) if dataset else None
    if latest is None:
        raise DatasetNotFound()
    if version == LATEST:
        return latest
    found = session.scalar(
        select(DatasetVersion).where(DatasetVersion.dataset == dataset_id, DatasetVersion.version == version)
    )
    if found is None:
        raise VersionNotFound(errors={"path": {"version": ["no such version of this dataset"]}})
    return found


@dataclass(frozen=True)
class Download:
    """A file to answer with: ``status`` 200, 206 or 304, its headers, and its body (chunks)."""

    status: int
    headers: dict[str, str]
    content_type: str
    body: Iterator[bytes] = field(default_factory=lambda: iter(()))


def download(
    session: Session,
    storage: Storage,
    dataset_id: str,
    version: str,
    name: str,
    *,
    known_etags: set[str] = frozenset(),  # type: ignore[assignment]
    byte_range: tuple[int | None, int | None] | None = None,
    if_range: str | None = None,
) -> Download:
    """A file of a version: 304 when the client has it (``known_etags``, If-None-Match), 206 for
    a satisfiable ``byte_range`` (``(start, end)`` as the Range header has them, ``end``
    inclusive; ``(None, n)``: the last n bytes) unless ``if_range`` names another ETag, else the
    whole file. Raises the not-found errors,
    and :class:`RangeNotSatisfiable`."""
    found = get_dataset_version(session, dataset_id, version)
    described = found.files.get(name)
    if described is None:
        raise FileNotFound(errors={"path": {"file": [f"one of {', '.join(sorted(found.files))}"]}})
    sha256, size = described["sha256"], described["bytes"]
    headers = {
        "ETag": f'"{sha256}"',
        "Cache-Control": IMMUTABLE,
        "Accept-Ranges": "bytes",
        "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:",
        "Last-Modified": found.created_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Content-Disposition": f'attachment; filename="{dataset_id}-{found.version}-{name}"',
    }
    content_type = described["media_type"] + ("; charset=utf-8" if described["media_type"].startswith("text/") else "")
    if sha256 in known_etags or "*" in known_etags:
        return Download(304, headers, content_type)
    key = snapshots.storage_key(dataset_id, found.version, name)
    start, length, status = 0, size, 200
    if byte_range is not None and if_range in (None, sha256):
        start, length = _satisfiable(byte_range, size)
        status = 206
        headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    headers["Content-Length"] = str(length)
    return Download(status, headers, content_type, storage.read_range(key, start, length))


def _satisfiable(byte_range: tuple[int | None, int | None], size: int) -> tuple[int, int]:
    first, last = byte_range
    if first is None:  # the last n bytes
        if not last:
            raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
        length = min(last, size)
        return size - length, length
    if first >= size:
        raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    end = size - 1 if last is None else min(last, size - 1)
    return first, end - first + 1
