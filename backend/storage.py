"""Where media files live, behind one small interface: a local folder or S3-compatible storage.

Keys are relative paths (``originals/ab/abcdef….jpg``); originals are content-addressed by
their SHA-256, so storing the same file twice stores it once.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit


@dataclass(frozen=True)
class File:
    """A stored file to answer with, its ETag, and ``data`` None when the client has it already
    (304). A large file's ``data`` is its chunks, read from storage as they are sent, and
    ``size`` its length."""

    data: bytes | Iterator[bytes] | None
    content_type: str
    etag: str
    size: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        """``Content-Length`` when the data is chunks (sent as they are read)."""
        return {"Content-Length": str(self.size)} if self.size is not None and self.data is not None else {}


class Received:
    """A file received with a request, read once as it comes (its size and SHA-256 are known),
    then kept in a spooled temporary file: a large video never sits whole in memory."""

    def __init__(self, stream: IO[bytes]):
        digest, size = hashlib.sha256(), 0
        stream.seek(0)
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        stream.seek(0)
        self.stream, self.size, self.sha256 = stream, size, digest.hexdigest()

    @classmethod
    def of(cls, data: bytes) -> Received:
        """Bytes already in memory, as a received file (tests)."""
        return cls(io.BytesIO(data))

    def head(self, length: int) -> bytes:
        """The first ``length`` bytes (what a file's type is sniffed from)."""
        self.stream.seek(0)
        data = self.stream.read(length)
        self.stream.seek(0)
        return data

    def open(self) -> IO[bytes]:
        """The file, rewound (a stream for storage or a parser)."""
        self.stream.seek(0)
        return self.stream


class StoredFileMissing(LookupError):
    """No file at that key."""


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def put_stream(self, key: str, stream: IO[bytes], content_type: str) -> None:
        """Store what ``stream`` holds from where it is, in chunks (an upload)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at ``path`` without reading it whole (large files)."""
        ...

    def get_file(self, key: str, path: Path) -> None:
        """Copy the stored file to ``path`` without reading it whole."""
        ...

    def read_range(self, key: str, start: int, length: int) -> Iterator[bytes]:
        """``length`` bytes from ``start``, in chunks (a download, a Range request)."""
        ...


CHUNK = 1 << 16


def content_key(folder: str, data: bytes, extension: str) -> str:
    """A content-addressed key: the same bytes always land at the same place."""
    return digest_key(folder, hashlib.sha256(data).hexdigest(), extension)


def digest_key(folder: str, sha256: str, extension: str) -> str:
    """:func:`content_key` of the content whose SHA-256 (hex) is ``sha256``."""
    return f"{folder}/{sha256[:2]}/{sha256}{extension}"


def _checked(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files in a folder (the embedded mode). Writes are atomic: a reader never sees half a file."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._write(key, lambda handle: handle.write(data))

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        def copy(handle) -> None:
            with path.open("rb") as source:
                shutil.copyfileobj(source, handle, CHUNK)

        self._write(key, copy)

    def put_stream(self, key: str, stream: IO[bytes], content_type: str) -> None:
        self._write(key, lambda handle: shutil.copyfileobj(stream, handle, CHUNK))

    def _write(self, key: str, write) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                write(handle)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get_file(self, key: str, path: Path) -> None:
        try:
            shutil.copyfile(self._path(key), path)
        except FileNotFoundError as exc:
            raise StoredFileMissing(key) from exc

    def read_range(self, key: str, start: int, length: int) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise StoredFileMissing(key)
        return _chunks(path, start, length)  # opened once read: an answer never sent leaves no file open

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise StoredFileMissing(key) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """Objects in an S3-compatible bucket (AWS, Scaleway, OVH, MinIO…), under a prefix.

    The endpoint and credentials come from the usual variables (``AWS_ENDPOINT_URL``,
    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``), read by boto3.
    """

    def __init__(self, bucket: str, prefix: str = "", client: Any = None):
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client, self.bucket, self.prefix = client, bucket, prefix.strip("/")

    def _key(self, key: str) -> str:
        key = _checked(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def put_stream(self, key: str, stream: IO[bytes], content_type: str) -> None:
        # boto3's managed transfer reads the stream in parts (multipart above 8 MB)
        self.client.upload_fileobj(stream, self.bucket, self._key(key), ExtraArgs={"ContentType": content_type})

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        # boto3's managed transfer: multipart for large files, never the whole file in memory
        self.client.upload_file(str(path), self.bucket, self._key(key), ExtraArgs={"ContentType": content_type})

    def get_file(self, key: str, path: Path) -> None:
        try:
            self.client.download_file(self.bucket, self._key(key), str(path))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise StoredFileMissing(key) from exc
            raise

    def read_range(self, key: str, start: int, length: int) -> Iterator[bytes]:
        if length <= 0:
            return iter(())
        try:
            body = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{start + length - 1}"
            )["Body"]
        except self.client.exceptions.NoSuchKey as exc:
            raise StoredFileMissing(key) from exc
        return body.iter_chunks(CHUNK)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise StoredFileMissing(key) from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def stored_file(storage: Storage, key: str, size: int, content_type: str, etag: str) -> File:
    """A stored file of ``size`` bytes to answer with, read in chunks as it is sent (a video
    never sits whole in a web worker's memory)."""
    return File(storage.read_range(key, 0, size), content_type, etag, size)


def _chunks(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def make_storage(url: str, client: Any = None) -> Storage:
    """``file:///path`` or ``s3://bucket/prefix`` (the MEDIA_STORAGE_URL setting)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalStorage(Path(parts.path))
    if parts.scheme == "s3":
        return S3Storage(parts.netloc, parts.path, client=client)
    raise ValueError(f"unsupported storage URL {url!r}")
