"""The error envelope, request ids, request logs and the probes."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest
from sqlalchemy import create_engine

from backend.app import create_app
from backend.db import Database


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"code", "message", "errors"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_unknown_url_is_a_json_404(client):
    assert_envelope(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_a_405_that_keeps_the_allow_header(client):
    response = client.delete("/api/v1/programs")
    assert_envelope(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_body_over_the_limit_is_refused_with_413_before_it_is_read(settings, database):
    small = create_app(replace(settings, max_request_bytes=2048), database=database)
    response = small.test_client().post("/api/v1/programs", data=b"x" * 4096)
    body = assert_envelope(response, 413, "request_too_large")
    assert "2048" in body["message"]


def test_unexpected_exception_is_a_logged_500_without_traceback(app, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/boom")
    body = assert_envelope(response, 500, "internal_error")
    text = json.dumps(body)
    assert "Traceback" not in text
    assert "hunter2" not in text
    assert "RuntimeError" not in text
    assert any(r.exc_info and "hunter2" in str(r.exc_info[1]) for r in caplog.records)


def test_validation_errors_name_the_fields(client):
    response = client.get("/api/v1/zones?kind=volcano&limit=0")
    body = assert_envelope(response, 422, "validation_error")
    assert set(body["errors"]["query"]) == {"kind", "limit"}


def test_request_id_is_echoed_when_sane_and_generated_otherwise(client):
    echoed = client.get("/healthz", headers={"X-Request-ID": "phone-1234-abcd"})
    assert echoed.headers["X-Request-ID"] == "phone-1234-abcd"
    generated = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert generated.headers["X-Request-ID"] not in ("", "<script>alert(1)</script>")
    assert len(generated.headers["X-Request-ID"]) == 32


def test_one_structured_log_line_per_request_without_query_string(client, caplog):
    with caplog.at_level(logging.INFO, logger="signal93.request"):
        client.get("/api/v1/zones?kind=park&bbox=2.3,48.8,2.6,49.0", headers={"X-Request-ID": "req-abcdef12"})
    lines = [r for r in caplog.records if r.name == "signal93.request"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.path, line.status, line.request_id) == ("GET", "/api/v1/zones", 200, "req-abcdef12")
    assert line.duration_ms >= 0
    assert "bbox" not in line.getMessage()


def test_healthz_answers_while_the_process_lives(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_database_is_unreachable(settings, tmp_path):
    broken = Database(create_engine(f"sqlite:///{tmp_path}/missing-dir/nope.sqlite3"))
    app = create_app(settings, database=broken)
    body = assert_envelope(app.test_client().get("/readyz"), 503, "not_ready")
    assert body["errors"]["checks"]["database"] == ["unreachable"]


def test_readyz_is_503_when_redis_is_configured_but_unreachable(settings, database):
    unreachable = replace(settings, redis_url="redis://127.0.0.1:1/0")
    app = create_app(unreachable, database=database)
    body = assert_envelope(app.test_client().get("/readyz"), 503, "not_ready")
    assert body["errors"]["checks"] == {"redis": ["unreachable"]}


@pytest.mark.redis
def test_readyz_checks_the_real_redis(client, settings):
    assert settings.redis_url
    assert client.get("/readyz").get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_json_responses_keep_iso_datetimes_readable_french_and_flask_s_fallbacks(app):
    from datetime import UTC, datetime
    from decimal import Decimal

    at = datetime(2026, 11, 28, 9, 5, 3, 120, tzinfo=UTC)
    with app.test_request_context():
        response = app.json.response(
            {"at": at, "on_the_hour": at.replace(microsecond=0), "label": "Dépôt sauvage", 3: Decimal("1.50")}
        )
    assert response.mimetype == "application/json"
    assert "Dépôt sauvage".encode() in response.data  # not \u-escaped
    assert json.loads(response.data) == {
        "at": at.isoformat(),
        "on_the_hour": at.replace(microsecond=0).isoformat(),
        "label": "Dépôt sauvage",
        "3": "1.50",
    }


def _nul_requests():
    from tests.factories import report_payload

    described = report_payload(description="Trou\u0000profond")
    contact = report_payload(reporter={"name": "Awa\u0000", "email": "awa@example.org"})
    return [
        ("post", "/api/v1/reports", {"json": described}, {"json": {"description": ["contains a NUL character"]}}),
        ("post", "/api/v1/reports", {"json": contact}, {"json": {"reporter": {"name": ["contains a NUL character"]}}}),
        (
            "post",
            "/api/v1/reports",
            {"data": {"report": json.dumps(described)}, "content_type": "multipart/form-data"},
            {"json": {"description": ["contains a NUL character"]}},
        ),
        (
            "post",
            "/api/v1/auth/tokens",
            {"json": {"email": "a\u0000@seinesaintdenis.fr", "password": "x" * 12}},
            {"json": {"email": ["contains a NUL character"]}},
        ),
        ("get", "/api/v1/zones/commune/93%0066", {}, {"path": ["contains a NUL character"]}),
        (
            "get",
            "/api/v1/zones?kind=commune&limit=5&cursor=a%00b",
            {},
            {"query": {"cursor": ["contains a NUL character"]}},
        ),
        ("get", "/api/v1/reports/S93-2026-%00001", {}, {"path": ["contains a NUL character"]}),
    ]


@pytest.mark.parametrize(("method", "url", "body", "errors"), _nul_requests())
def test_a_nul_character_anywhere_is_a_422_naming_the_field_and_nothing_is_stored(
    client, session, method, url, body, errors
):
    # PostgreSQL cannot store a NUL character: without this, a 500 on the real database only.
    from sqlalchemy import func, select

    from backend.reports.models import Report

    response = getattr(client, method)(url, **body)
    body = assert_envelope(response, 422, "validation_error")
    assert body["errors"] == errors
    assert session.scalar(select(func.count()).select_from(Report)) == 0


def _cursor(*values):
    import base64

    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


HUGE = 10**20  # no integer column holds it: PostgreSQL would fail, SQLite would overflow


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        (f"/api/v1/media/{HUGE}/thumb", 404, "not_found"),
        (f"/api/v1/reports/S93-2026-{HUGE}", 404, "report_not_found"),
        (f"/api/v1/reports?cursor={_cursor('2026-11-28T10:00:00+00:00', HUGE)}", 422, "invalid_cursor"),
        (f"/api/v1/reports?cursor={_cursor('2026-11-28T10:00:00', 5)}", 422, "invalid_cursor"),  # no offset
        (f"/api/v1/zones?kind=commune&cursor={_cursor('commune', 93066)}", 422, "invalid_cursor"),  # not a code
        ("/api/v1/reports?since=0001-01-01T00:00:00%2B14:00", 422, "validation_error"),  # before year 1 in UTC
    ],
)
def test_numbers_and_dates_no_column_can_hold_are_4xx(client, url, status, code):
    assert_envelope(client.get(url), status, code)


@pytest.mark.parametrize("depth", [40, 5000])
@pytest.mark.parametrize("url", ["/api/v1/reports", "/api/v1/auth/tokens"])
def test_json_nested_too_deep_is_a_400_not_a_stack_overflow(client, session, url, depth):
    from sqlalchemy import func, select

    from backend.reports.models import Report

    nested = '{"a":' * depth + "1" + "}" * depth
    body = '{"category": "nid-de-poule", "email": "a@seinesaintdenis.fr", "extra": ' + nested + "}"
    response = client.post(url, data=body, content_type="application/json")
    assert_envelope(response, 400, "invalid_json")
    assert "nested deeper than 32 levels" in response.get_json()["errors"]["json"][0]
    assert session.scalar(select(func.count()).select_from(Report)) == 0


def test_a_lone_surrogate_is_refused_on_its_field_and_a_stored_one_never_breaks_a_read(client, session):
    """Issue 17, item 2: "\\udc00" (a lone UTF-16 surrogate, valid in JSON's escapes, not a character)
    was stored, and every later read of its report was a 500."""
    from sqlalchemy import select

    from backend.reports.models import Report
    from tests.factories import bearer_for, make_agent, report_payload, submit

    raw = json.dumps(report_payload(description="\udc00 trou", reporter={"name": "A\ud800wa"}))
    refused = client.post("/api/v1/reports", data=raw, content_type="application/json")
    body = assert_envelope(refused, 422, "validation_error")
    assert body["errors"] == {
        "json": {
            "description": ["is not valid Unicode (a lone surrogate)"],
            "reporter": {"name": ["is not valid Unicode (a lone surrogate)"]},
        }
    }
    emoji = client.post(
        "/api/v1/reports",
        data=json.dumps(report_payload(description="Trou \U0001f573 profond")),  # a pair, escaped: fine
        content_type="application/json",
    )
    assert emoji.status_code == 201
    agent = bearer_for(session, make_agent(session, "agent.dvd@seinesaintdenis.fr", directorate="DVD"))
    reference = submit(client, report_payload()).get_json()["reference"]
    note = client.post(
        f"/api/v1/triage/reports/{reference}/notes",
        data=json.dumps({"note": "\udc00 note", "public": False, "version": 1}),
        content_type="application/json",
        headers=agent,
    )
    assert note.status_code == 422
    # One stored before this fix (JSON columns keep it, escaped): reads still answer.
    from backend.db import utcnow
    from backend.reports.models import ReportEvent

    report = session.scalar(select(Report).where(Report.id == int(reference[-6:])))
    session.add(
        ReportEvent(
            report_id=report.id, kind="note", at=utcnow(), actor_type="agent", public=True, data={"note": "\udc00 note"}
        )
    )
    session.commit()
    for url, headers in ((f"/api/v1/triage/reports/{reference}", agent), (f"/api/v1/reports/{reference}", {})):
        read = client.get(url, headers=headers)
        assert read.status_code == 200, url
        assert "\udc00 note" in [event.get("note") for event in json.loads(read.data)["timeline"]]


@pytest.mark.parametrize(
    ("moment", "signed"),
    [
        ("0001-01-01T00:00+14:00", False),
        ("9999-12-31T23:59:59-14:00", False),
        ("2026-11-28T10:00+00:00", False),  # a plausible key, but not issued here
        ("0001-01-01T00:00+14:00", True),
        ("9999-12-31T23:59:59-14:00", True),
    ],
)
def test_forged_cursors_are_422s_whatever_they_hold(client, session, moment, signed):
    """Issue 17, item 3: extreme dates in a forged cursor were a 500 (OverflowError). Cursors are
    now signed: one this service did not issue is refused before it is read; and a signed one with
    a date no database holds (a test signs it with the app's key) is refused too."""
    from backend.pagination import encode_cursor
    from tests.factories import bearer_for, make_agent

    agent = bearer_for(session, make_agent(session, "agent.dvd@seinesaintdenis.fr", directorate="DVD"))
    for url, scope in (
        ("/api/v1/reports?", "reports"),
        ("/api/v1/triage/reports?", "triage:received"),
        ("/api/v1/triage/reports?sort=oldest&", "triage:oldest"),
        ("/api/v1/triage/reports?sort=due&", "triage:due"),
    ):
        cursor = encode_cursor([moment, 1], scope) if signed else _cursor(moment, 1)
        assert_envelope(client.get(f"{url}cursor={cursor}", headers=agent), 422, "invalid_cursor")


def test_a_cursor_issued_here_pages_on(client):
    from tests.factories import report_payload, submit

    for _ in range(3):
        submit(client, report_payload())
    first = client.get("/api/v1/reports?limit=2").get_json()
    assert "." in first["next_cursor"]  # signed
    second = client.get(f"/api/v1/reports?limit=2&cursor={first['next_cursor']}").get_json()
    assert len(second["items"]) == 1
    tampered = first["next_cursor"][:-1] + ("A" if first["next_cursor"][-1] != "A" else "B")
    assert_envelope(client.get(f"/api/v1/reports?cursor={tampered}"), 422, "invalid_cursor")


def test_a_cursor_pages_on_only_the_list_and_order_that_issued_it(client, session):
    """Issue 17, item 14: the public list's cursor was taken by the agents' queue (same shape of
    key), and one order's cursor by another: each list and order signs its own."""
    from tests.factories import bearer_for, make_agent, report_payload, submit

    agent = bearer_for(session, make_agent(session, "admin.curseur@seinesaintdenis.fr", role="admin"))
    for _ in range(3):
        submit(client, report_payload())
    public = client.get("/api/v1/reports?limit=1").get_json()["next_cursor"]
    queue = client.get("/api/v1/triage/reports?limit=1", headers=agent).get_json()["next_cursor"]
    assert client.get(f"/api/v1/triage/reports?limit=1&cursor={queue}", headers=agent).status_code == 200
    for url in (
        f"/api/v1/triage/reports?cursor={public}",
        f"/api/v1/triage/reports?sort=oldest&cursor={queue}",
        f"/api/v1/reports?cursor={queue}",
    ):
        assert_envelope(client.get(url, headers=agent), 422, "invalid_cursor")


def test_the_one_csv_rule_covers_every_dangerous_start_and_nothing_else():
    import csv
    import io

    from backend.spreadsheets import SafeWriter, safe_cell

    for text in ("=1", "+1", "-1+1", "@A1", "\t=1", "\r=1"):
        assert safe_cell(text) == "'" + text
    for value in ("Trou", " =1", "1-1", -3, 2.5, None):
        assert safe_cell(value) == value
    buffer = io.StringIO()
    SafeWriter(buffer).writerow(["=cmd", -1, "ok"])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'=cmd", "-1", "ok"]
    # The same rule as SQL, for the CSV files DuckDB writes (the open-data snapshots).
    import duckdb

    from backend.spreadsheets import safe_cell_sql

    texts = ["=1", "+1", "-1+1", "@A1", "\t=1", "\r=1", "Trou", " =1", "1-1", None]
    with duckdb.connect() as connection:
        rendered = connection.execute(
            f"SELECT {safe_cell_sql('t')} FROM unnest(?) WITH ORDINALITY AS u(t, i) ORDER BY i",  # noqa: S608
            [texts],
        ).fetchall()
    assert [value for (value,) in rendered] == [safe_cell(text) for text in texts]


def test_answers_an_authorization_changes_or_that_carry_a_secret_are_never_cached(client, session):
    """Issue 17, item 9: Cache-Control: private, no-store and Vary: Authorization."""
    from tests.factories import make_agent, report_payload, submit

    make_agent(session, "agent.dvd@seinesaintdenis.fr", directorate="DVD")
    signed_in = client.post(
        "/api/v1/auth/tokens",
        json={"email": "agent.dvd@seinesaintdenis.fr", "password": "correct horse battery staple"},
    )
    assert signed_in.status_code == 201
    created = submit(client, report_payload()).get_json()
    mine = client.get(
        f"/api/v1/reports/{created['reference']}", headers={"Authorization": f"Reporter {created['reporter_token']}"}
    )
    queue = client.get("/api/v1/triage/reports", headers={"Authorization": f"Bearer {signed_in.get_json()['token']}"})
    for answer in (signed_in, mine, queue):
        assert answer.headers["Cache-Control"] == "private, no-store"
        assert "Authorization" in answer.headers["Vary"]
    public = client.get(f"/api/v1/reports/{created['reference']}")
    assert "no-store" not in public.headers.get("Cache-Control", "")


def test_the_app_s_own_limits_answer_in_the_envelope_naming_the_limit(client):
    """Issue 17, items 11 and 12: 414, 431 and each 413 naming the limit that applies."""
    long_address = client.get("/api/v1/reports?q=" + "x" * 5000)
    assert "4096 bytes" in assert_envelope(long_address, 414, "uri_too_long")["message"]
    big_headers = client.get("/api/v1/reports", headers={f"X-Filler-{i}": "y" * 1000 for i in range(10)})
    assert "8192 bytes" in assert_envelope(big_headers, 431, "headers_too_large")["message"]
    # A form of about 1.1 MB, all in one text field: the fields' limit, not the body's 128 MiB.
    boundary = "b0undary"  # the body as bytes (the test client spools a dict this large to a file it leaves open)
    data = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="report"\r\n\r\n'.encode()
        + b"x" * (1024 * 1024 + 100)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    form = client.post(
        "/api/v1/reports/with-files", data=data, content_type=f"multipart/form-data; boundary={boundary}"
    )
    body = assert_envelope(form, 413, "request_too_large")
    assert "1048576 bytes" in body["message"]
    assert "fields other than files" in body["message"]
    # A small form of 150 parts (issue 14: a limit on the number of parts too), on the API and a page.
    parts = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="champ{i}"\r\n\r\nx\r\n'.encode() for i in range(150)
        )
        + f"--{boundary}--\r\n".encode()
    )
    many = client.post(
        "/api/v1/reports/with-files", data=parts, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert "more than the 100 parts" in assert_envelope(many, 413, "request_too_large")["message"]
    page = client.post("/signaler/nid-de-poule", data=parts, content_type=f"multipart/form-data; boundary={boundary}")
    assert page.status_code == 413
    assert "Fichier trop volumineux" in page.get_data(as_text=True)


def test_a_chunked_json_body_over_the_limit_is_a_413_not_a_cut_400(tmp_path, fresh_database_url):
    """Issue 17, item 12: sent without a Content-Length (chunked, as phones' HTTP stacks may), a body
    over 64 KiB was cut at the limit and answered 400 invalid_json. Through a real gunicorn."""
    import http.client

    from tests.servers import app_env, flask, gunicorn

    env = app_env(tmp_path / "instance", fresh_database_url, SECRET_KEY="k" * 40)
    assert flask(env, "seed").returncode == 0
    payload = {"category": "nid-de-poule", "description": "x" * 70_000, "location": {"lat": 48.901, "lon": 2.399}}
    data = json.dumps(payload).encode()
    with gunicorn(env, workers=1) as base:
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        chunks = (data[i : i + 8192] for i in range(0, len(data), 8192))
        headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        try:
            connection.request("POST", "/api/v1/reports", body=chunks, headers=headers, encode_chunked=True)
            answer = connection.getresponse()
            body = json.loads(answer.read())
        finally:
            connection.close()
    assert (answer.status, body["code"]) == (413, "request_too_large")
    assert "65536 bytes" in body["message"]
