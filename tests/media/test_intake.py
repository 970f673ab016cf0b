"""Photos through the API: multipart reports, photos added later, derivatives served clean."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from PIL import Image
from sqlalchemy import func, select

from backend.app import inline_queue
from backend.media.models import Media
from backend.reports.models import Report
from tests.factories import report_payload, use_queue
from tests.media import files


@pytest.fixture
def client(app):
    # Jobs in-process whatever the run: these tests follow a photo to its derivatives.
    use_queue(app, inline_queue(app))
    return app.test_client()


def post_multipart(client, payload, photos=(), video=None, headers=None, path="/api/v1/reports/with-files"):
    data = {"report": json.dumps(payload)}
    if photos:
        data["photos"] = [(io.BytesIO(content), name) for name, content in photos]
    if video is not None:
        data["video"] = (io.BytesIO(video), "clip.mp4")
    return client.post(path, data=data, content_type="multipart/form-data", headers=headers or {})


def counts(session):
    return (
        session.scalar(select(func.count()).select_from(Report)),
        session.scalar(select(func.count()).select_from(Media)),
    )


def test_a_phone_photo_without_location_places_the_report_and_comes_out_clean(client, session):
    payload = report_payload()
    del payload["location"]
    response = post_multipart(client, payload, photos=[("IMG_0042.HEIC.jpg", files.jpeg_from_phone())])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    report = session.scalar(select(Report))
    assert report.location_source == "exif"
    assert abs(report.lat - files.GPS_LAT) < 1e-4
    assert body["routing"]["zones"][-1]["name"] == "Saint-Denis"
    assert [m["status"] for m in body["media"]] == ["pending"]  # answered before the job runs
    (media,) = client.get(f"/api/v1/reports/{body['reference']}").get_json()["media"]
    assert media["status"] == "ready"  # the in-process job ran right after commit
    thumb = client.get(media["urls"]["thumb"])
    assert thumb.status_code == 200
    assert thumb.mimetype == "image/jpeg"
    assert thumb.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    assert b"Exif" not in thumb.data
    assert b"GPS" not in thumb.data
    assert Image.open(io.BytesIO(thumb.data)).size == (160, 320)  # oriented, longest side 320
    again = client.get(media["urls"]["thumb"], headers={"If-None-Match": thumb.headers["ETag"]})
    assert again.status_code == 304
    public = client.get(f"/api/v1/reports/{body['reference']}").get_data(as_text=True)
    assert "originals/" not in public
    assert "Fairphone" not in public


@pytest.mark.parametrize(
    ("photos", "video", "status", "code"),
    [
        ([("photo.jpg", files.text_named_jpg())], None, 415, "unsupported_media_type"),
        ([("photo.jpg", files.truncated_jpeg())], None, 422, "invalid_media"),
        ([("bomb.png", files.png_bomb())], None, 422, "image_too_large"),
        ([("p.jpg", files.cmyk_jpeg())] * 6, None, 422, "too_many_files"),
        ([("movie.jpg", files.mp4_header_only())], None, 415, "unsupported_media_type"),
        ([], files.mp4_header_only(), 422, "video_not_allowed"),
    ],
)
def test_refused_files_get_their_4xx_and_nothing_is_stored(client, session, photos, video, status, code):
    response = post_multipart(client, report_payload(), photos=photos, video=video)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["code"] == code
    assert counts(session) == (0, 0)


def test_a_broken_video_is_refused_at_intake(client, session):
    broken = files.mp4_header_only() + b"\x00\x00\x10\x00moov"  # a box longer than the file
    response = post_multipart(client, report_payload("debordement-avaloir"), video=broken)
    assert (response.status_code, response.get_json()["code"]) == (422, "invalid_media")
    assert counts(session) == (0, 0)


def test_a_photo_over_the_size_limit_is_413(settings, database, session):
    from backend.app import create_app

    small = create_app(replace(settings, max_photo_bytes=2048), database=database)
    response = post_multipart(small.test_client(), report_payload(), photos=[("p.jpg", files.jpeg_from_phone())])
    assert response.status_code == 413
    assert response.get_json()["code"] == "media_too_large"
    assert counts(session) == (0, 0)


def test_vigies_de_l_eau_reports_take_a_video_kept_unpublished(client, session):
    response = post_multipart(
        client, report_payload("debordement-avaloir"), photos=[("a.webp", files.webp())], video=files.mp4_header_only()
    )
    assert response.status_code == 201, response.get_json()
    reference = response.get_json()["reference"]
    kinds = {m["kind"]: m for m in client.get(f"/api/v1/reports/{reference}").get_json()["media"]}
    assert kinds["video"]["urls"] == {}
    assert set(kinds["photo"]["urls"]) == {"thumb", "display"}


def test_photos_added_later_with_the_reporter_token(client, session):
    created = client.post("/api/v1/reports", json=report_payload()).get_json()
    url = f"/api/v1/reports/{created['reference']}/media"
    upload = {"photos": [(io.BytesIO(files.png_with_transparency()), "p.png")]}
    no_token = client.post(url, data=dict(upload), content_type="multipart/form-data")
    assert (no_token.status_code, no_token.get_json()["code"]) == (401, "reporter_token_missing")
    wrong = client.post(
        url,
        data={"photos": [(io.BytesIO(files.webp()), "w.webp")]},
        content_type="multipart/form-data",
        headers={"Authorization": "Reporter rt_nope"},
    )
    assert (wrong.status_code, wrong.get_json()["code"]) == (401, "invalid_reporter_token")
    headers = {"Authorization": f"Reporter {created['reporter_token']}"}
    added = client.post(
        url,
        data={"photos": [(io.BytesIO(files.webp()), "w.webp")]},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["media"][0]["status"] == "pending"
    five_more = client.post(
        url,
        data={"photos": [(io.BytesIO(files.cmyk_jpeg()), f"{i}.jpg") for i in range(5)]},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert (five_more.status_code, five_more.get_json()["code"]) == (422, "too_many_files")
    assert len(client.get(f"/api/v1/reports/{created['reference']}").get_json()["media"]) == 1


def test_a_multipart_retry_returns_the_same_report_without_new_media(client, session):
    payload = report_payload()
    photos = [("p.jpg", files.jpeg_from_phone())]
    headers = {"Idempotency-Key": "multipart-retry-0001"}
    first = post_multipart(client, payload, photos=photos, headers=headers).get_json()
    again = post_multipart(client, payload, photos=photos, headers=headers).get_json()
    assert again["reference"] == first["reference"]
    assert counts(session) == (1, 1)


def test_a_multipart_body_without_the_report_field_is_422(client, session):
    response = client.post(
        "/api/v1/reports", data={"photos": [(io.BytesIO(files.webp()), "w.webp")]}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "report" in response.get_json()["errors"]["form"]
    assert counts(session) == (0, 0)


def test_derivatives_of_unknown_or_unready_media(client, session):
    assert client.get("/api/v1/media/999/thumb").get_json()["code"] == "media_not_found"
    assert client.get("/api/v1/media/1/original").status_code == 404


def test_clients_written_before_with_files_still_send_multipart_to_reports(client):
    photos = [("IMG_0042.jpg", files.jpeg_from_phone())]
    response = post_multipart(client, report_payload(), photos=photos, path="/api/v1/reports")
    assert response.status_code == 201, response.get_json()
    assert len(response.get_json()["media"]) == 1
    as_json = client.post("/api/v1/reports/with-files", json=report_payload())
    assert (as_json.status_code, as_json.get_json()["code"]) == (415, "unsupported_media_type")
