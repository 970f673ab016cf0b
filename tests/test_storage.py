"""Media storage: the same behaviour on a local folder and on a real S3-protocol server."""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid

import pytest

from backend.storage import Received, StoredFileMissing, content_key, digest_key, make_storage


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return make_storage(f"file://{tmp_path / 'media'}")
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=request.getfixturevalue("s3_endpoint"),
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="eu-west-3",
    )
    bucket = f"signal93-{uuid.uuid4().hex[:12]}"  # one bucket per test: nothing carries over
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return make_storage(f"s3://{bucket}/prod", client=client)


def test_a_file_goes_in_comes_back_and_goes_away(storage):
    data = b"\xff\xd8\xff" + b"photo" * 1000
    key = content_key("originals", data, ".jpg")
    assert not storage.exists(key)
    storage.put(key, data, "image/jpeg")
    assert storage.exists(key)
    assert storage.get(key) == data
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(StoredFileMissing):
        storage.get(key)


def test_keys_are_content_addressed():
    assert content_key("originals", b"same", ".jpg") == content_key("originals", b"same", ".jpg")
    assert content_key("originals", b"same", ".jpg") != content_key("originals", b"other", ".jpg")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/./b", ""])
def test_keys_cannot_escape_the_storage(storage, key):
    with pytest.raises(ValueError, match="not a storage key"):
        storage.put(key, b"x", "text/plain")


def test_large_files_go_in_and_out_in_pieces(storage, tmp_path):
    data = bytes(range(256)) * 1000  # 256 kB: several chunks
    source = tmp_path / "data.parquet"
    source.write_bytes(data)
    storage.put_file("opendata/x/1/data.parquet", source, "application/vnd.apache.parquet")
    copy = tmp_path / "copy"
    storage.get_file("opendata/x/1/data.parquet", copy)
    assert copy.read_bytes() == data
    assert b"".join(storage.read_range("opendata/x/1/data.parquet", 0, len(data))) == data
    assert b"".join(storage.read_range("opendata/x/1/data.parquet", 1000, 70_000)) == data[1000:71_000]
    assert b"".join(storage.read_range("opendata/x/1/data.parquet", len(data) - 5, 5)) == data[-5:]
    with pytest.raises(StoredFileMissing):
        storage.get_file("opendata/x/1/none", tmp_path / "none")
    with pytest.raises(StoredFileMissing):
        list(storage.read_range("opendata/x/1/none", 0, 10))


def test_an_upload_is_stored_from_its_spooled_file_under_its_digest(storage):
    """A received file (a 9 MB video, past S3's multipart threshold) goes to storage from its
    temporary file, in chunks; its key is the content's SHA-256 known from the single read."""
    data = os.urandom(1 << 16) * 144  # 9 MB
    with tempfile.SpooledTemporaryFile(max_size=500 * 1024) as spooled:
        spooled.write(data)
        received = Received(spooled)
        assert (received.size, received.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert received.head(8) == data[:8]
        key = digest_key("originals", received.sha256, ".mp4")
        assert key == content_key("originals", data, ".mp4")
        storage.put_stream(key, received.open(), "video/mp4")
    assert storage.get(key) == data
