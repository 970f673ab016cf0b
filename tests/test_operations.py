"""What operators use: /metrics (Prometheus text, not public), the request id on every log line of
a request and of the jobs it caused, and ``flask --app wsgi doctor`` finding what is wrong."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.app import create_app, inline_queue
from tests.conftest import TEST_REDIS_URL
from tests.factories import bearer_for, make_agent, report_payload, submit, use_queue


def samples(body: bytes) -> dict[tuple[str, tuple], float]:
    """The exposition, parsed by the Prometheus client's own parser: {(name, labels): value}."""
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_requests_reports_and_states_for_the_scraper_only(wsgi_client, settings):
    before = samples(wsgi_client.get("/metrics").data)
    reports_key = ("signal93_reports_received_total", (("channel", "api"), ("program", "patrouillage")))
    submit(wsgi_client, report_payload())
    submit(wsgi_client, report_payload(), **{"Idempotency-Key": "retry-0001"})
    submit(wsgi_client, report_payload(), **{"Idempotency-Key": "retry-0001"})  # a retry: one report
    wsgi_client.get("/api/v1/categories")
    wsgi_client.get("/nulle-part")
    response = wsgi_client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    after = samples(response.data)
    assert after[reports_key] - before.get(reports_key, 0) == 2
    requests_key = (
        "signal93_http_requests_total",
        (("endpoint", "catalog.Categories"), ("method", "GET"), ("status", "200")),
    )
    assert after[requests_key] - before.get(requests_key, 0) == 1
    unmatched = ("signal93_http_requests_total", (("endpoint", "unmatched"), ("method", "GET"), ("status", "404")))
    assert after[unmatched] >= 1  # one series for every unknown URL, not one per URL
    assert (
        "signal93_http_request_duration_seconds_bucket",
        (("endpoint", "catalog.Categories"), ("le", "0.25")),
    ) in after
    assert after[("signal93_media_pending_stale", ())] == 0

    # Not public: another address gets a 404 (nothing says the page exists), a scraper's token passes.
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert wsgi_client.get("/metrics", environ_base=outside).status_code == 404


def test_a_token_or_a_network_lets_a_scraper_in(settings, database):
    token = "t" * 32
    app = create_app(replace(settings, metrics_allow=("10.0.0.0/8",), metrics_token=token), database=database)
    client = app.test_client()
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is not in 10.0.0.0/8
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.3.4"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer not-it"}).status_code == 404


def test_every_log_line_of_a_request_and_of_its_jobs_carries_its_request_id(settings, database, session, caplog):
    app = create_app(replace(settings, smtp_url=None), database=database)
    use_queue(app, inline_queue(app))  # the reporter's e-mail is sent by a job, here in-process
    client = app.test_client()
    contact = {"email": "awa@example.org", "consent_contact": True}
    reference = submit(client, report_payload(reporter=contact)).get_json()["reference"]
    agent = bearer_for(session, make_agent(session, "agent.logs@seinesaintdenis.fr"))
    caplog.set_level(logging.INFO)
    moved = client.post(
        f"/api/v1/triage/reports/{reference}/transitions",
        json={"to": "acknowledged", "note": "vu", "note_public": True, "version": 1},
        headers={**agent, "X-Request-ID": "suivi-demande-0042"},
    )
    assert moved.status_code == 200
    mailed = [record for record in caplog.records if record.getMessage() == "mail written to the outbox"]
    assert mailed
    assert {getattr(record, "request_id", None) for record in mailed} == {"suivi-demande-0042"}
    outside = [r for r in caplog.records if r.name == "signal93.request"]
    assert outside[-1].request_id == "suivi-demande-0042"


@pytest.mark.redis
def test_a_job_sent_to_the_workers_logs_with_the_request_id_that_sent_it(app, caplog):
    """On Redis: the id travels with the job (its meta), and the worker sets it while the job runs."""
    import redis
    from rq import Queue

    from backend.logs import REQUEST_ID
    from backend.queue import RqQueue, worker_class

    connection = redis.Redis.from_url(TEST_REDIS_URL)
    connection.flushdb()
    token = REQUEST_ID.set("envoi-travail-0007")
    try:
        RqQueue(connection, name="signal93-test-logs").enqueue("tests.test_operations.logging_job", "bonjour")
    finally:
        REQUEST_ID.reset(token)
    queue = Queue("signal93-test-logs", connection=connection)
    (job,) = queue.jobs
    assert job.meta["request_id"] == "envoi-travail-0007"
    caplog.set_level(logging.INFO)
    worker = worker_class(forking=False)([queue], connection=connection)  # the job runs in this process
    with app.app_context():
        worker.work(burst=True)
    ran = [record for record in caplog.records if record.getMessage() == "job says bonjour"]
    assert [getattr(record, "request_id", None) for record in ran] == ["envoi-travail-0007"]
    assert REQUEST_ID.get() is None  # nothing left behind for the next job


def logging_job(word: str) -> None:
    logging.getLogger("tests.job").info("job says %s", word)


def test_doctor_says_all_is_well_then_finds_a_planted_storage_misconfiguration(wsgi_app, settings, database, tmp_path):
    if TEST_REDIS_URL:  # jobs on rq: the doctor wants a live worker, and says so
        import redis
        from rq import Queue, Worker

        from backend.queue import QUEUE_NAME

        connection = redis.Redis.from_url(TEST_REDIS_URL)
        connection.flushdb()
        missing = wsgi_app.test_cli_runner().invoke(args=["doctor"])
        assert missing.exit_code == 1
        assert "ERREUR  travaux et workers / jobs and workers : aucun worker vivant" in missing.output
        worker = Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
        worker.register_birth()
        worker.heartbeat()
    healthy = wsgi_app.test_cli_runner().invoke(args=["doctor"])
    assert healthy.exit_code == 0, healthy.output
    assert "OK      base de données / database : révision" in healthy.output
    assert "OK      bac à sable / sandbox : révision" in healthy.output
    assert "Tout va bien / All good." in healthy.output

    blocked = tmp_path / "pas-un-dossier"
    blocked.write_text("un fichier là où les médias devraient aller")
    broken = create_app(replace(settings, media_storage_url=f"file://{blocked}/media"), database=database)
    found = broken.test_cli_runner().invoke(args=["doctor"])
    assert found.exit_code == 1
    assert "ERREUR  stockage des médias / media storage" in found.output
    assert "OK      base de données / database" in found.output  # only what is wrong is said wrong


@pytest.mark.postgresql
@pytest.mark.redis
def test_an_operator_following_the_guide_finds_the_bucket_they_misspelt(
    s3_endpoint, smtp_server, fresh_database_url, tmp_path
):
    """The production guide's settings, a bucket name misspelt in MEDIA_STORAGE_URL: the doctor,
    run as the guide says (``flask --app wsgi doctor``, a process of its own), names the bucket
    and the variable, in French and English, exits 1; with the right name, storage is OK."""
    import boto3

    s3 = boto3.client(
        "s3", endpoint_url=s3_endpoint, aws_access_key_id="k", aws_secret_access_key="s", region_name="eu-west-3"
    )
    s3.create_bucket(Bucket="signal93-medias", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    root = Path(__file__).resolve().parent.parent
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SIGNAL93_", "AWS_"))}
    env.update(
        SIGNAL93_ENV="production",
        SIGNAL93_INSTANCE_PATH=str(tmp_path / "instance"),
        DATABASE_URL=fresh_database_url,
        REDIS_URL=TEST_REDIS_URL,
        SECRET_KEY="an operator's secret key of 40 characters",
        PUBLIC_BASE_URL="https://signalements.seinesaintdenis.fr",
        SMTP_URL=smtp_server[0],
        MEDIA_STORAGE_URL="s3://signal93-media/prod",  # planted: the bucket is signal93-medias
        AWS_ENDPOINT_URL=s3_endpoint,
        AWS_ACCESS_KEY_ID="k",
        AWS_SECRET_ACCESS_KEY="s",
        AWS_REGION="eu-west-3",
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    seeded = subprocess.run([*flask, "seed"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert seeded.returncode == 0, seeded.stderr

    wrong = subprocess.run([*flask, "doctor"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 1
    storage_line = next(line for line in wrong.stdout.splitlines() if "stockage des médias" in line)
    assert storage_line.startswith("ERREUR")
    assert "le compartiment « signal93-media » n'existe pas" in storage_line
    assert "the bucket « signal93-media » does not exist: check MEDIA_STORAGE_URL=s3://signal93-media/prod" in (
        storage_line
    )
    assert "OK      base de données / database" in wrong.stdout
    assert "Found credentials" not in wrong.stderr  # boto3's chatter stays out of the operator's way

    env["MEDIA_STORAGE_URL"] = "s3://signal93-medias/prod"
    fixed = subprocess.run([*flask, "doctor"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert "OK      stockage des médias / media storage : écriture, lecture et suppression réussies" in fixed.stdout
    assert "OK      messagerie / mail" in fixed.stdout
