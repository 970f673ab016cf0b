"""The open datasets downloaded as a team downloads them (through the wsgi mount, following the
URLs the API gives): the catalog, the versions, each file whole or resumed with Range, checked
against SHA256SUMS, cached with its ETag, and `latest` redirected to the current version."""

from __future__ import annotations

import base64
import csv
import hashlib
import io

from tests.factories import report_payload, submit
from tests.sandbox.test_explore_api import build

API = "/sandbox/api/v1"


def path_of(url: str) -> str:
    """The path of an absolute URL the API gave (the test client needs no host)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_a_team_downloads_a_version_and_checks_it_against_its_checksums(wsgi_app):
    client = wsgi_app.test_client()
    for _ in range(3):
        submit(client, report_payload())
    build(wsgi_app, "--all")

    listing = client.get(f"{API}/datasets")
    assert listing.status_code == 200
    ids = [item["id"] for item in listing.get_json()["items"]]
    assert {"signalements", "communes"} <= set(ids)
    dataset = client.get(f"{API}/datasets/signalements").get_json()
    assert dataset["licence"]["name"] == "etalab-2.0"
    assert dataset["latest"]["rows"] == 3
    files = {item["name"]: item for item in dataset["latest"]["files"]}
    assert set(files) == {"data.csv", "data.parquet", "data.geojson", "datapackage.json", "SHA256SUMS", "CHANGELOG.md"}

    sums = client.get(path_of(files["SHA256SUMS"]["url"]))
    assert sums.status_code == 200
    for line in sums.get_data(as_text=True).splitlines():
        digest, name = line.split("  ")
        download = client.get(path_of(files[name]["url"]))
        assert download.status_code == 200, name
        body = download.get_data()
        assert hashlib.sha256(body).hexdigest() == digest == files[name]["sha256"]
        assert int(download.headers["Content-Length"]) == len(body) == files[name]["bytes"]
        assert download.headers["ETag"] == f'"{digest}"'
        assert download.headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
        assert download.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    table = client.get(path_of(files["data.csv"]["url"]))
    assert table.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert len(list(csv.DictReader(io.StringIO(table.get_data(as_text=True))))) == 3
    assert client.get(path_of(files["data.parquet"]["url"])).headers["Content-Type"] == "application/vnd.apache.parquet"


def test_a_download_is_cached_and_resumed(wsgi_app):
    client = wsgi_app.test_client()
    submit(client, report_payload())
    build(wsgi_app, "--dataset", "signalements")
    (version,) = client.get(f"{API}/datasets/signalements/versions").get_json()["items"]
    url = f"{API}/datasets/signalements/versions/{version['version']}/data.csv"
    whole = client.get(url)
    data, etag = whole.get_data(), whole.headers["ETag"]

    cached = client.get(url, headers={"If-None-Match": etag})
    assert (cached.status_code, cached.get_data(), cached.headers["ETag"]) == (304, b"", etag)
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200

    head = client.get(url, headers={"Range": "bytes=0-99"})
    assert head.status_code == 206
    assert head.get_data() == data[:100]
    assert head.headers["Content-Range"] == f"bytes 0-99/{len(data)}"
    assert head.headers["Content-Length"] == "100"
    rest = client.get(url, headers={"Range": "bytes=100-"})
    assert (rest.status_code, head.get_data() + rest.get_data()) == (206, data)
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert tail.get_data() == data[-10:]
    past_the_end = client.get(url, headers={"Range": "bytes=0-999999999"})
    assert (past_the_end.status_code, past_the_end.get_data()) == (206, data)

    beyond = client.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.get_json()["code"] == "range_not_satisfiable"
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    # A range of another version of the file (If-Range): the whole, current file.
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"0000"'})
    assert (stale.status_code, stale.get_data()) == (200, data)
    assert client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206
    # A Range header that is not one (or several ranges): ignored, the whole file (RFC 9110).
    assert client.get(url, headers={"Range": "lines=1-2"}).get_data() == data
    assert client.get(url, headers={"Range": "bytes=0-1,5-6"}).get_data() == data


def test_latest_redirects_to_the_current_version(wsgi_app):
    client = wsgi_app.test_client()
    submit(client, report_payload())
    build(wsgi_app, "--dataset", "signalements")
    submit(client, report_payload())
    build(wsgi_app, "--dataset", "signalements")
    versions = client.get(f"{API}/datasets/signalements/versions").get_json()["items"]
    assert [item["rows"] for item in versions] == [2, 1]  # newest first
    assert versions[0]["changes"] == {"added": 1, "removed": 0, "changed": 0}

    moved = client.get(f"{API}/datasets/signalements/versions/latest/data.csv")
    assert moved.status_code == 302
    assert moved.headers["Location"] == f"{API}/datasets/signalements/versions/{versions[0]['version']}/data.csv"
    assert moved.headers["Cache-Control"] == "no-cache"
    followed = client.get(f"{API}/datasets/signalements/versions/latest/data.csv", follow_redirects=True)
    assert followed.status_code == 200
    assert len(followed.get_data(as_text=True).splitlines()) == 3
    described = client.get(f"{API}/datasets/signalements/versions/latest", follow_redirects=True)
    assert described.get_json()["version"] == versions[0]["version"]
    old = client.get(f"{API}/datasets/signalements/versions/{versions[1]['version']}/data.csv")
    assert len(old.get_data(as_text=True).splitlines()) == 2  # old versions stay downloadable


def test_unknown_datasets_versions_and_files_are_404s(wsgi_app):
    client = wsgi_app.test_client()
    submit(client, report_payload())
    build(wsgi_app, "--dataset", "signalements")
    version = client.get(f"{API}/datasets/signalements").get_json()["latest"]["version"]
    for url, code in (
        (f"{API}/datasets/nope", "dataset_not_found"),
        (f"{API}/datasets/communes/versions", "dataset_not_found"),  # never built: not published
        (f"{API}/datasets/nope/versions/latest/data.csv", "dataset_not_found"),
        (f"{API}/datasets/signalements/versions/1999-01-01.1", "version_not_found"),
        (f"{API}/datasets/signalements/versions/1999-01-01.1/data.csv", "version_not_found"),
        (f"{API}/datasets/signalements/versions/{version}/secret.txt", "file_not_found"),
    ):
        answer = client.get(url)
        assert (answer.status_code, answer.get_json()["code"]) == (404, code), url
    escape = client.get(f"{API}/datasets/signalements/versions/{version}/..%2F..%2F..%2Fdatasets")
    assert escape.status_code == 404


def test_downloads_are_public_under_the_trial_limit_and_counted_for_a_key(wsgi_app):
    client = wsgi_app.test_client()
    submit(client, report_payload())
    build(wsgi_app, "--dataset", "signalements")
    answer = client.get(f"{API}/datasets")
    assert answer.status_code == 200
    assert "X-RateLimit-Limit" in answer.headers
    refused = client.get(f"{API}/datasets", headers={"X-API-Key": "s93_not_a_key"})
    assert refused.status_code == 401
