"""Background work that loses nothing: pending first, derivatives by a job, a sweep for the rest."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from backend import deps
from backend.app import inline_queue
from backend.db import utcnow
from backend.media import images, services
from backend.media.models import Media
from backend.queue import InlineQueue, RqQueue
from backend.reports.models import Report
from backend.storage import Received
from tests.conftest import TEST_REDIS_URL
from tests.factories import submit
from tests.media import files

LIMITS = {"max_photo_bytes": 15 * 1024 * 1024, "max_video_bytes": 50 * 1024 * 1024, "max_pixels": 40_000_000}


class RecordingQueue:
    def __init__(self):
        self.sent = []

    def enqueue(self, job, *args):
        self.sent.append((job, args))


@pytest.fixture
def report_id(client, session):
    submit(client)
    return session.scalar(select(Report.id))


def uploads(*makers):
    return [services.check_upload(Received.of(maker()), **LIMITS) for maker in makers]


def test_the_job_is_sent_after_commit_and_never_on_rollback(app, session, report_id):
    queue = RecordingQueue()
    storage = deps.current(app).storage
    services.attach(session, report_id, uploads(files.jpeg_from_phone), storage=storage, queue=queue)
    assert queue.sent == []
    session.rollback()
    assert queue.sent == []
    rows = services.attach(session, report_id, uploads(files.jpeg_from_phone), storage=storage, queue=queue)
    session.commit()
    assert queue.sent == [(services.PROCESS_JOB, (rows[0].id,))]


def test_in_process_jobs_make_clean_derivatives_and_keep_the_original(app, session, report_id):
    storage = deps.current(app).storage
    original = files.jpeg_from_phone()
    inline = inline_queue(app)  # the embedded mode's queue
    rows = services.attach(session, report_id, uploads(lambda: original), storage=storage, queue=inline)
    session.commit()
    media = session.get(Media, rows[0].id)
    session.refresh(media)
    assert media.status == "ready"
    assert storage.get(media.original_key) == original  # kept as received, private
    for name in ("thumb", "display"):
        data = storage.get(media.derivatives[name]["key"])
        assert b"Exif" not in data
        assert b"GPS" not in data
        assert max(Image.open(io.BytesIO(data)).size) <= images.DERIVATIVES[name]


def test_processing_twice_changes_nothing(app, session, report_id):
    storage = deps.current(app).storage
    (media,) = services.attach(session, report_id, uploads(files.webp), storage=storage, queue=RecordingQueue())
    first = services.process(session, media.id, storage=storage, max_pixels=40_000_000, now=utcnow())
    derivatives = dict(first.derivatives)
    again = services.process(session, media.id, storage=storage, max_pixels=40_000_000, now=utcnow())
    assert again.status == "ready"
    assert again.derivatives == derivatives
    assert again.attempts == 1


def test_an_original_that_cannot_be_processed_fails_with_a_reason(app, session, report_id):
    storage = deps.current(app).storage
    (media,) = services.attach(
        session, report_id, uploads(files.png_with_transparency), storage=storage, queue=RecordingQueue()
    )
    storage.put(media.original_key, files.truncated_jpeg(), "image/jpeg")  # damaged in storage
    result = services.process(session, media.id, storage=storage, max_pixels=40_000_000, now=utcnow())
    assert result.status == "failed"
    assert "readable" in result.failure_reason


def test_a_passing_failure_is_retried_until_the_last_attempt(app, session, report_id):
    storage = deps.current(app).storage
    (media,) = services.attach(session, report_id, uploads(files.cmyk_jpeg), storage=storage, queue=RecordingQueue())
    storage.delete(media.original_key)  # say, the object store was unreachable
    for attempt in range(1, services.MAX_ATTEMPTS):
        with pytest.raises(LookupError):
            services.process(session, media.id, storage=storage, max_pixels=40_000_000, now=utcnow())
        assert (media.status, media.attempts) == ("pending", attempt)
    final = services.process(session, media.id, storage=storage, max_pixels=40_000_000, now=utcnow())
    assert final.status == "failed"
    assert "StoredFileMissing" in final.failure_reason


def test_refused_uploads_say_why_before_anything_is_stored():
    cases = [
        (files.text_named_jpg, "unsupported_media_type"),
        (files.truncated_jpeg, "invalid_media"),
        (files.png_bomb, "image_too_large"),
    ]
    for maker, code in cases:
        with pytest.raises(images.MediaError) as refused:
            services.check_upload(Received.of(maker()), **LIMITS)
        assert refused.value.code == code
    with pytest.raises(images.MediaError) as too_big:
        services.check_upload(Received.of(files.jpeg_from_phone()), **{**LIMITS, "max_photo_bytes": 1024})
    assert too_big.value.code == "media_too_large"
    video = services.check_upload(Received.of(files.mp4_header_only()), **LIMITS)
    assert video.content_type == "video/mp4"


def test_the_sweep_sends_again_what_stayed_pending(app, session, report_id):
    storage = deps.current(app).storage
    lost = RecordingQueue()
    (media,) = services.attach(session, report_id, uploads(files.webp), storage=storage, queue=lost)
    session.commit()
    assert services.sweep(session, queue=RecordingQueue(), now=utcnow()) == 0  # not stale yet
    queue = RecordingQueue()
    assert services.sweep(session, queue=queue, now=utcnow() + timedelta(minutes=6)) == 1
    session.commit()
    assert queue.sent == [(services.PROCESS_JOB, (media.id,))]


@pytest.mark.redis
def test_redis_down_then_back_and_a_killed_worker_lose_nothing(app, session, report_id):
    import redis
    from rq import Queue, SimpleWorker

    storage = deps.current(app).storage
    unreachable = RqQueue(redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2))
    (media,) = services.attach(session, report_id, uploads(files.heic_from_phone), storage=storage, queue=unreachable)
    session.commit()  # Redis is down: the job is not sent, the report and its media are stored
    assert session.get(Media, media.id).status == "pending"

    connection = redis.Redis.from_url(TEST_REDIS_URL)
    queue = RqQueue(connection)
    assert services.sweep(session, queue=queue, now=utcnow() + timedelta(minutes=6)) == 1
    session.commit()
    with app.app_context():
        SimpleWorker([Queue("signal93", connection=connection)], connection=connection).work(burst=True)
    session.expire_all()
    assert session.get(Media, media.id).status == "ready"

    # A worker killed mid-job: the job is gone, the medium is still pending; the sweep finds it.
    (second,) = services.attach(
        session, report_id, uploads(files.jpeg_from_phone), storage=storage, queue=RecordingQueue()
    )
    session.commit()
    assert services.sweep(session, queue=queue, now=utcnow() + timedelta(minutes=6)) == 1
    session.commit()
    with app.app_context():
        SimpleWorker([Queue("signal93", connection=connection)], connection=connection).work(burst=True)
    session.expire_all()
    assert session.get(Media, second.id).status == "ready"


def test_inline_queue_failures_are_logged_not_raised_into_the_request(caplog):
    with caplog.at_level(logging.ERROR, logger="backend.queue"):
        InlineQueue().enqueue("tests.media.test_processing.always_fails", 1)
    assert [r.job for r in caplog.records if r.name == "backend.queue"] == ["tests.media.test_processing.always_fails"]


def always_fails(_media_id: int) -> None:
    raise RuntimeError("boom")


def test_the_sweep_command_finishes_what_was_left_pending(app, session, report_id):
    storage = deps.current(app).storage
    (media,) = services.attach(session, report_id, uploads(files.webp), storage=storage, queue=RecordingQueue())
    media.updated_at = utcnow() - timedelta(minutes=10)  # its job was lost ten minutes ago
    session.commit()
    result = app.test_cli_runner().invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "1 lost jobs sent again." in result.output
    if not TEST_REDIS_URL:  # in-process: done already; with Redis, a worker does it
        session.expire_all()
        assert session.get(Media, media.id).status == "ready"


@pytest.mark.redis
def test_the_worker_command_runs_the_jobs(app, session, report_id):
    storage = deps.current(app).storage
    (media,) = services.attach(
        session, report_id, uploads(files.jpeg_from_phone), storage=storage, queue=deps.current(app).queue
    )
    session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.get(Media, media.id).status == "ready"
