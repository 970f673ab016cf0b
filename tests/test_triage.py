"""Agents read their directorate's reports and move them along the workflow, traced, never stale."""

from __future__ import annotations

import pytest

from tests.factories import AULNAY, ON_RD932_PANTIN, bearer_for, make_agent, report_payload, submit


@pytest.fixture
def dvd(session):
    return bearer_for(session, make_agent(session, "agent.dvd@seinesaintdenis.fr", directorate="DVD"))


@pytest.fixture
def dvd_supervisor(session):
    return bearer_for(session, make_agent(session, "chef.dvd@seinesaintdenis.fr", directorate="DVD", role="supervisor"))


@pytest.fixture
def dea(session):
    return bearer_for(session, make_agent(session, "agent.dea@seinesaintdenis.fr", directorate="DEA"))


def pothole(client, **fields):
    payload = report_payload(
        reporter={"name": "Awa", "email": "awa@example.org", "phone": "+33 6 11 22 33 44", "consent_contact": True},
        **fields,
    )
    return submit(client, payload).get_json()["reference"]


def move(client, headers, reference, version, **body):
    return client.post(
        f"/api/v1/triage/reports/{reference}/transitions", json=body, headers={**headers, "If-Match": f'"{version}"'}
    )


def test_an_agent_reads_everything_of_a_report_of_their_directorate(client, dvd, dea):
    reference = pothole(client)
    response = client.get(f"/api/v1/triage/reports/{reference}", headers=dvd)
    assert response.status_code == 200
    body = response.get_json()
    assert response.headers["ETag"] == '"1"'
    assert body["reporter"]["email"] == "awa@example.org"
    assert body["location"]["lat"] == ON_RD932_PANTIN[1]
    assert [e["kind"] for e in body["trail"]] == ["submitted", "routed"]
    assert body["allowed_moves"] == ["acknowledged", "referred", "rejected"]
    assert body["nearby_open_reports"] == []
    twin = pothole(client)
    nearby = client.get(f"/api/v1/triage/reports/{reference}", headers=dvd).get_json()["nearby_open_reports"]
    assert [r["reference"] for r in nearby] == [twin]
    other = client.get(f"/api/v1/triage/reports/{reference}", headers=dea)
    assert (other.status_code, other.get_json()["code"]) == (404, "report_not_found")
    assert client.get(f"/api/v1/triage/reports/{reference}").get_json()["code"] == "token_missing"


def test_no_contact_without_consent(client, dvd):
    reference = submit(client, report_payload(reporter={"email": "quiet@example.org"})).get_json()["reference"]
    assert client.get(f"/api/v1/triage/reports/{reference}", headers=dvd).get_json()["reporter"] is None


def test_moves_along_the_workflow_are_traced_and_public_notes_shown(client, dvd):
    reference = pothole(client)
    acknowledged = move(client, dvd, reference, 1, to="acknowledged", note="Équipe prévenue", note_public=True)
    assert acknowledged.status_code == 200, acknowledged.get_json()
    assert acknowledged.headers["ETag"] == '"2"'
    assert move(client, dvd, reference, 2, to="in_progress", note="Enrobé commandé").status_code == 200
    assert move(client, dvd, reference, 3, to="resolved").status_code == 200
    public = client.get(f"/api/v1/reports/{reference}").get_json()
    assert public["status"] == "resolved"
    statuses = [e.get("status") for e in public["timeline"] if e["kind"] == "status"]
    assert statuses == ["acknowledged", "in_progress", "resolved"]
    notes = [e.get("note") for e in public["timeline"] if e.get("note")]
    assert notes == ["Équipe prévenue"]  # the internal note stays internal
    trail = client.get(f"/api/v1/triage/reports/{reference}", headers=dvd).get_json()["trail"]
    moves = [e for e in trail if e["kind"] == "status"]
    assert moves[1]["data"] == {"from": "acknowledged", "status": "in_progress", "internal_note": "Enrobé commandé"}
    assert {e["actor"] for e in moves} == {"agent"}


def test_illegal_moves_missing_notes_and_stale_versions_are_refused(client, dvd):
    reference = pothole(client)
    skip = move(client, dvd, reference, 1, to="resolved")
    assert (skip.status_code, skip.get_json()["code"]) == (409, "invalid_transition")
    no_note = move(client, dvd, reference, 1, to="rejected")
    assert (no_note.status_code, no_note.get_json()["code"]) == (422, "note_required")
    no_version = client.post(
        f"/api/v1/triage/reports/{reference}/transitions", json={"to": "acknowledged"}, headers=dvd
    )
    assert (no_version.status_code, no_version.get_json()["code"]) == (428, "version_required")
    assert move(client, dvd, reference, 1, to="acknowledged").status_code == 200
    stale = move(client, dvd, reference, 1, to="rejected", note="Doublon d'un autre signalement")
    assert (stale.status_code, stale.get_json()["code"]) == (412, "stale_report")
    assert client.get(f"/api/v1/reports/{reference}").get_json()["status"] == "acknowledged"


def test_a_supervisor_marks_a_duplicate_and_its_supports_move_to_the_original(client, dvd, dvd_supervisor):
    original = pothole(client)
    duplicate = pothole(client)
    agent_try = move(client, dvd, duplicate, 1, to="duplicate", duplicate_of=original)
    assert agent_try.get_json()["code"] == "invalid_transition"
    marked = move(client, dvd_supervisor, duplicate, 1, to="duplicate", duplicate_of=original)
    assert marked.status_code == 200, marked.get_json()
    assert client.get(f"/api/v1/reports/{original}").get_json()["support_count"] == 1
    itself = move(client, dvd_supervisor, original, 1, to="duplicate", duplicate_of=original)
    assert itself.get_json()["code"] == "invalid_transition"


def test_an_agent_cannot_act_on_another_directorate_s_report(client, dea):
    reference = submit(client, report_payload(at=AULNAY)).get_json()["reference"]  # a DVD report (referred)
    response = move(client, dea, reference, 1, to="acknowledged")
    assert (response.status_code, response.get_json()["code"]) == (404, "report_not_found")


def queue(client, headers, query=""):
    response = client.get(f"/api/v1/triage/reports?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_queue_holds_the_directorate_s_reports_filtered_paged_and_counted(client, dvd, dea):
    from tests.factories import NOISY_LE_SEC_STREET

    on_road = [pothole(client, description=f"Trou numéro {i}") for i in range(3)]
    referred = submit(client, report_payload(at=NOISY_LE_SEC_STREET)).get_json()["reference"]
    water = submit(client, report_payload("debordement-avaloir", at=AULNAY)).get_json()["reference"]
    everything = queue(client, dvd)
    assert [r["reference"] for r in everything["items"]] == [referred, *on_road[::-1]]
    assert everything["counts"] == {"open": 3, "referred": 1}
    assert water not in [r["reference"] for r in everything["items"]]
    assert [r["reference"] for r in queue(client, dea)["items"]] == [water]

    first = queue(client, dvd, "limit=2&sort=oldest")
    second = queue(client, dvd, f"limit=2&sort=oldest&cursor={first['next_cursor']}")
    assert [r["reference"] for r in first["items"] + second["items"]] == [*on_road, referred]
    assert second["next_cursor"] is None

    only_open = queue(client, dvd, "status=open")
    assert len(only_open["items"]) == 3
    assert only_open["counts"] == {"open": 3, "referred": 1}  # counts ignore the status filter
    assert [r["reference"] for r in queue(client, dvd, "q=num%C3%A9ro%201")["items"]] == [on_road[1]]
    assert [r["reference"] for r in queue(client, dvd, "commune=93053")["items"]] == [referred]
    assert [r["reference"] for r in queue(client, dvd, "unit=DVD-T8")["items"]] == on_road[::-1]
    assert queue(client, dvd, "has_media=true")["items"] == []
    assert queue(client, dvd, "overdue=true")["items"] == []


def test_the_queue_text_search_takes_percent_and_underscore_literally(client, dvd):
    full = pothole(client, description="Regard plein à 100% depuis hier")
    pothole(client, description="Trou de 1000 mm près du regard")
    pothole(client, description="Trou de 1_0 cm")
    assert [r["reference"] for r in queue(client, dvd, "q=0%25")["items"]] == [full]
    assert len(queue(client, dvd, "q=1_0")["items"]) == 1
    assert queue(client, dvd, "q=%25%25")["items"] == []


@pytest.mark.parametrize(
    "query",
    ["status=lost", "sort=random", "unit=DVD-T99", "cursor=garbage", "bbox=1,2", "limit=500", "q=x", "commune=%27--"],
)
@pytest.mark.parametrize("path", ["/api/v1/triage/reports", "/api/v1/triage/reports.csv"])
def test_bad_queue_queries_are_422(client, dvd, path, query):
    """Issue 17, item 14: the export ignored a garbage cursor and a commune no code looks like."""
    response = client.get(f"{path}?{query}", headers=dvd)
    assert response.status_code == 422, query
    assert list(response.get_json()["errors"]["query"]) == [query.partition("=")[0]]


def test_notes_assignment_and_priority_are_traced(app, client, dvd, dvd_supervisor):
    reference = pothole(client)
    base = f"/api/v1/triage/reports/{reference}"
    public = client.post(f"{base}/notes", json={"text": "Intervention prévue lundi", "public": True}, headers=dvd)
    assert public.status_code == 201
    client.post(f"{base}/notes", json={"text": "Voir avec la mairie"}, headers=dvd)
    timeline = client.get(f"/api/v1/reports/{reference}").get_json()["timeline"]
    assert [e.get("note") for e in timeline if e["kind"] == "note"] == ["Intervention prévue lundi"]

    refused = client.put(
        f"{base}/assignment", json={"agent": "agent.dvd@seinesaintdenis.fr", "version": 1}, headers=dvd
    )
    assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden_for_role")
    assigned = client.put(
        f"{base}/assignment",
        json={"agent": "agent.dvd@seinesaintdenis.fr"},
        headers={**dvd_supervisor, "If-Match": '"1"'},
    )
    assert assigned.status_code == 200, assigned.get_json()
    assert assigned.headers["ETag"] == '"2"'
    unknown = client.put(
        f"{base}/assignment", json={"agent": "agent.dea@seinesaintdenis.fr", "version": 2}, headers=dvd_supervisor
    )
    assert (unknown.status_code, unknown.get_json()["code"]) == (422, "unknown_agent")
    urgent = client.put(f"{base}/priority", json={"priority": "urgent", "version": 2}, headers=dvd)
    assert urgent.get_json()["priority"] == "urgent"
    stale = client.put(f"{base}/priority", json={"priority": "low", "version": 2}, headers=dvd)
    assert stale.get_json()["code"] == "stale_report"

    other = pothole(client)
    mine = queue(client, dvd, "assigned=me")
    assert [r["reference"] for r in mine["items"]] == [reference]
    assert [r["reference"] for r in queue(client, dvd, "assigned=nobody")["items"]] == [other]
    assert [r["reference"] for r in queue(client, dvd, "sort=priority")["items"]] == [reference, other]
    trail = client.get(base, headers=dvd).get_json()["trail"]
    assert [e["kind"] for e in trail][-2:] == ["assigned", "priority"]


def test_a_supervisor_hands_a_report_to_another_unit_of_the_directorate(client, dvd, dvd_supervisor):
    reference, other = pothole(client), pothole(client)  # on the RD 932 in Pantin: unit DVD-T8
    base = f"/api/v1/triage/reports/{reference}"
    assert queue(client, dvd, "unit=DVD-T6")["items"] == []
    moved = client.put(f"{base}/assignment", json={"unit": "DVD-T6", "version": 1}, headers=dvd_supervisor)
    assert moved.status_code == 200, moved.get_json()
    assert [r["reference"] for r in queue(client, dvd, "unit=DVD-T6")["items"]] == [reference]
    assert queue(client, dvd, "unit=DVD-T6")["items"][0]["unit"] == "DVD-T6"
    trail = client.get(base, headers=dvd).get_json()["trail"]
    assert trail[-1]["kind"] == "assigned"
    assert trail[-1]["data"] == {"unit": "DVD-T6"}  # the assignee was left as it was

    elsewhere = client.put(f"{base}/assignment", json={"unit": "DEA-T6", "version": 2}, headers=dvd_supervisor)
    assert (elsewhere.status_code, elsewhere.get_json()["code"]) == (422, "unknown_unit")
    assert "unit" in elsewhere.get_json()["errors"]["json"]
    nothing = client.put(f"{base}/assignment", json={"version": 2}, headers=dvd_supervisor)
    assert (nothing.status_code, nothing.get_json()["code"]) == (422, "validation_error")
    by_agent = client.put(f"{base}/assignment", json={"unit": "DVD-T8", "version": 2}, headers=dvd)
    assert (by_agent.status_code, by_agent.get_json()["code"]) == (403, "forbidden_for_role")

    both = client.post(
        "/api/v1/triage/reports/bulk",
        json={"references": [reference, other], "action": "assign", "unit": "DVD-T7", "agent": None},
        headers=dvd_supervisor,
    )
    assert both.status_code == 200, both.get_json()
    assert {r["unit"] for r in both.get_json()["changed"]} == {"DVD-T7"}


def test_versions_no_report_can_have_are_refused_without_touching_the_report(client, dvd):
    reference = pothole(client)
    base = f"/api/v1/triage/reports/{reference}"
    body = client.put(f"{base}/priority", json={"priority": "high", "version": 10**20}, headers=dvd)
    assert (body.status_code, body.get_json()["code"]) == (422, "validation_error")
    assert "version" in body.get_json()["errors"]["json"]
    header = client.put(f"{base}/priority", json={"priority": "high"}, headers={**dvd, "If-Match": f'"{10**20}"'})
    assert (header.status_code, header.get_json()["code"]) == (412, "stale_report")
    empty = client.put(f"{base}/priority", json={"priority": "high"}, headers={**dvd, "If-Match": '""'})
    assert (empty.status_code, empty.get_json()["code"]) == (428, "version_required")
    assert client.get(base, headers=dvd).get_json()["priority"] == "normal"


def test_the_queue_exports_as_csv(client, dvd):
    import csv
    import io

    references = [pothole(client, description=f"Trou, avec une virgule ; n°{i}") for i in range(3)]
    response = client.get("/api/v1/triage/reports.csv?status=open", headers=dvd)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["reference", "status", "program"]
    assert [r[0] for r in rows[1:]] == references[::-1]
    assert rows[1][-1] == "Trou, avec une virgule ; n°2"
    assert "awa@example.org" not in response.get_data(as_text=True)  # no contact in the export


def test_no_cell_of_the_export_is_a_formula_a_spreadsheet_would_run(client, dvd):
    """Issue 17, item 4: OWASP's whole rule (=, +, -, @, tab, carriage return), not half of it."""
    import csv
    import io

    attacks = ["\t=1+1", "-2+3+cmd|' /C calc'!A0", '=HYPERLINK("http://x")', "+1", "@SUM(A1)", "\r=1"]
    for text in attacks:
        pothole(client, description=text)
    pothole(client, description="Trou - profond")
    rows = list(csv.reader(io.StringIO(client.get("/api/v1/triage/reports.csv", headers=dvd).get_data(as_text=True))))
    descriptions = [row[-1] for row in rows[1:]]
    assert sorted(descriptions) == sorted(["'" + text for text in attacks] + ["Trou - profond"])
    latitudes = [float(row[rows[0].index("lat")]) for row in rows[1:]]  # numbers stay numbers
    assert all(48 < lat < 49.1 for lat in latitudes)


def test_a_bad_filter_of_the_export_is_a_422_not_a_broken_download(client, dvd):
    response = client.get("/api/v1/triage/reports.csv?unit=DVD-T99", headers=dvd)
    assert (response.status_code, response.get_json()["code"]) == (422, "unknown_unit")


def test_a_supervisor_reroutes_a_report_to_another_directorate_which_then_has_it(client, dvd, dvd_supervisor, dea):
    reference = pothole(client)
    url = f"/api/v1/triage/reports/{reference}/reroute"
    body = {"unit": "DEA-T8", "note": "C'est un avaloir bouché, pas la chaussée", "version": 1}
    assert client.post(url, json=body, headers=dvd).get_json()["code"] == "forbidden_for_role"
    assert client.post(url, json={**body, "note": ""}, headers=dvd_supervisor).status_code == 422
    assert client.post(url, json={**body, "unit": "DEA-T99"}, headers=dvd_supervisor).get_json()["code"] == (
        "invalid_reroute"
    )
    moved = client.post(url, json=body, headers=dvd_supervisor)
    assert moved.status_code == 200, moved.get_json()
    assert client.get(f"/api/v1/triage/reports/{reference}", headers=dvd).status_code == 404  # left DVD's queue
    at_dea = client.get(f"/api/v1/triage/reports/{reference}", headers=dea).get_json()
    assert at_dea["routing"]["unit"]["code"] == "DEA-T8"
    assert at_dea["routing"]["rule"] == "manual"
    assert at_dea["trail"][-1]["kind"] == "rerouted"
    assert at_dea["trail"][-1]["data"]["internal_note"] == body["note"]
    assert client.get(f"/api/v1/reports/{reference}").get_json()["routing"]["directorate"]["code"] == "DEA"


def test_stats_count_and_measure_the_directorate_s_work(client, dvd):
    first, _still_open = pothole(client), pothole(client)
    move(client, dvd, first, 1, to="acknowledged")
    move(client, dvd, first, 2, to="in_progress")
    move(client, dvd, first, 3, to="resolved")
    response = client.get("/api/v1/triage/stats", headers=dvd)
    assert response.status_code == 200
    figures = response.get_json()
    assert figures["by_status"] == {"open": 1, "resolved": 1}
    assert figures["by_category"] == {"nid-de-poule": 2}
    assert figures["by_unit"] == {"DVD-T8": 2}
    assert 0 <= figures["median_hours_to_acknowledge"] < 1
    assert 0 <= figures["median_hours_to_resolve"] < 1
    assert figures["median_hours_to_resolve"] <= figures["p90_hours_to_resolve"] < 1
    assert figures["by_directorate"] == {"DVD": 2}
    assert figures["overdue"] == 0
    assert len(figures["weeks"]) in (5, 6)  # 30 days: every week listed, empty ones too
    assert sum(week["received"] for week in figures["weeks"]) == 2
    assert sum(week["resolved"] for week in figures["weeks"]) == 1
    assert (
        client.get(
            "/api/v1/triage/stats?since=2030-01-01T00:00:00%2B00:00&until=2029-01-01T00:00:00%2B00:00", headers=dvd
        ).status_code
        == 422
    )


def test_percentiles_interpolate_between_the_nearest_values():
    from backend.triage.stats import percentile

    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.9) == 4.0
    assert percentile([1.0, 2.0, 3.0, 10.0], 0.5) == 2.5
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.1


def test_bulk_actions_are_all_or_nothing(client, dvd, dvd_supervisor, dea):
    mine = [pothole(client) for _ in range(3)]
    water = submit(client, report_payload("debordement-avaloir", at=AULNAY)).get_json()["reference"]
    url = "/api/v1/triage/reports/bulk"
    assert (
        client.post(
            url, json={"references": mine, "action": "transition", "to": "acknowledged"}, headers=dvd
        ).get_json()["code"]
        == "forbidden_for_role"
    )
    move(client, dvd, mine[0], 1, to="acknowledged")
    refused = client.post(
        url, json={"references": [*mine, water], "action": "transition", "to": "acknowledged"}, headers=dvd_supervisor
    )
    assert refused.status_code == 409
    reasons = refused.get_json()["errors"]["json"]["references"]
    assert set(reasons) == {mine[0], water}
    assert [client.get(f"/api/v1/reports/{r}").get_json()["status"] for r in mine] == ["acknowledged", "open", "open"]
    done = client.post(
        url, json={"references": mine[1:], "action": "transition", "to": "acknowledged"}, headers=dvd_supervisor
    )
    assert done.status_code == 200, done.get_json()
    assert [r["status"] for r in done.get_json()["changed"]] == ["acknowledged", "acknowledged"]
    assigned = client.post(
        url,
        json={"references": mine, "action": "assign", "agent": "agent.dvd@seinesaintdenis.fr"},
        headers=dvd_supervisor,
    )
    assert assigned.status_code == 200
    assert len(queue(client, dvd, "assigned=me")["items"]) == 3
    too_many = client.post(
        url,
        json={"references": [f"S93-2026-{i:06d}" for i in range(201)], "action": "assign", "agent": None},
        headers=dvd_supervisor,
    )
    assert too_many.status_code == 422


def test_an_agent_adds_a_photo_from_the_field(client, dvd, dea):
    import io

    from tests.media import files

    reference = pothole(client)
    url = f"/api/v1/triage/reports/{reference}/media"
    data = {"photos": [(io.BytesIO(files.webp()), "terrain.webp")]}
    added = client.post(url, data=data, content_type="multipart/form-data", headers=dvd)
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["media"][0]["kind"] == "photo"
    other = client.post(
        url, data={"photos": [(io.BytesIO(files.webp()), "t.webp")]}, content_type="multipart/form-data", headers=dea
    )
    assert other.status_code == 404
    bad = client.post(
        url,
        data={"photos": [(io.BytesIO(files.text_named_jpg()), "t.jpg")]},
        content_type="multipart/form-data",
        headers=dvd,
    )
    assert (bad.status_code, bad.get_json()["code"]) == (415, "unsupported_media_type")
    trail = client.get(f"/api/v1/triage/reports/{reference}", headers=dvd).get_json()["trail"]
    assert "media_added" in [e["kind"] for e in trail]


def test_scrolling_pages_can_skip_the_counts(client, dvd):
    pothole(client)
    assert queue(client, dvd, "counts=false")["counts"] is None
    assert queue(client, dvd)["counts"] == {"open": 1}


def test_a_bulk_move_to_duplicate_is_refused_report_by_report(client, dvd_supervisor):
    reports = [pothole(client) for _ in range(2)]
    refused = client.post(
        "/api/v1/triage/reports/bulk",
        json={"references": reports, "action": "transition", "to": "duplicate"},
        headers=dvd_supervisor,
    )
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["code"] == "bulk_refused"
    assert set(body["errors"]["json"]["references"]) == set(reports)  # each says why: a duplicate names its original
    assert all(reasons == ["duplicate_of: required"] for reasons in body["errors"]["json"]["references"].values())


def test_every_queue_item_is_what_its_declared_schema_says(client, dvd, session):
    from backend.triage.schemas import QueueItemSchema

    pothole(client)
    items = queue(client, dvd)["items"]
    assert items
    schema = QueueItemSchema()
    for item in items:
        assert schema.validate(item) == {}
        assert set(item) == set(schema.fields)


def test_the_assigned_filter_tells_no_one_who_works_in_another_directorate(client, dvd, dea):
    """Issue 17, item 13: an unknown e-mail and another directorate's agent look the same."""
    foreign = client.get("/api/v1/triage/reports?assigned=agent.dea@seinesaintdenis.fr", headers=dvd)
    unknown = client.get("/api/v1/triage/reports?assigned=personne@seinesaintdenis.fr", headers=dvd)
    assert (foreign.status_code, foreign.get_json()) == (unknown.status_code, unknown.get_json())
    assert foreign.get_json()["code"] == "unknown_agent"
    colleague = client.get("/api/v1/triage/reports?assigned=agent.dvd@seinesaintdenis.fr", headers=dvd)
    assert colleague.status_code == 200


def test_rows_streamed_in_batches_are_closed_however_the_reading_ends(session):
    """``db.stream``: a reader that drops the rows half-way (a download cut short) leaves no cursor
    open — on PostgreSQL a server-side one, which pytest reports as an unraisable ResourceWarning
    when the garbage collector finds it still open."""
    import gc

    from sqlalchemy import select

    from backend.db import stream
    from backend.zones.models import Zone

    statement = select(Zone.code).order_by(Zone.code).execution_options(yield_per=2)
    rows = stream(session, statement)
    assert len([next(rows) for _ in range(3)]) == 3  # two batches read, more left
    del rows
    gc.collect()
    assert len(list(stream(session, statement))) > 3  # the session goes on


def every_status(client, headers, query):
    """The statuses of every report of the queue under ``query``, counted by reading them all."""
    counted, cursor = {}, None
    while True:
        page = queue(client, headers, f"{query}&limit=100&counts=false" + (f"&cursor={cursor}" if cursor else ""))
        for item in page["items"]:
            counted[item["status"]] = counted.get(item["status"], 0) + 1
        cursor = page["next_cursor"]
        if cursor is None:
            return counted


def test_the_queue_counts_follow_every_change_of_a_report(client, dvd, dvd_supervisor):
    """Page 1's counts per status (kept by the database as reports change) agree with the
    reports themselves after intake, moves, a hand-over to another unit, a merge and a reroute."""
    references = [pothole(client) for _ in range(4)]  # unit DVD-T8

    def agree(*queries):
        for query in queries:
            assert queue(client, dvd, query)["counts"] == every_status(client, dvd, query), query

    agree("unit=DVD-T8", "status=open", "category=nid-de-poule&commune=93055", "program=patrouillage&unit=DVD-T6")
    assert queue(client, dvd, "unit=DVD-T8")["counts"] == {"open": 4}
    move(client, dvd, references[0], 1, to="acknowledged")
    move(client, dvd, references[1], 1, to="acknowledged")
    move(client, dvd, references[1], 2, to="in_progress")
    base = f"/api/v1/triage/reports/{references[2]}"
    handed = client.put(f"{base}/assignment", json={"unit": "DVD-T6", "version": 1}, headers=dvd_supervisor)
    assert handed.status_code == 200, handed.get_json()
    merged = move(client, dvd_supervisor, references[3], 1, to="duplicate", duplicate_of=references[0])
    assert merged.status_code == 200, merged.get_json()
    agree("unit=DVD-T8", "unit=DVD-T6", "sort=received", "category=nid-de-poule", "q=trou")
    assert queue(client, dvd, "unit=DVD-T8")["counts"] == {"acknowledged": 1, "in_progress": 1, "duplicate": 1}
    assert queue(client, dvd, "unit=DVD-T6")["counts"] == {"open": 1}
    rerouted = client.post(
        f"{base}/reroute",
        json={"unit": "DEA-T8", "note": "Un avaloir, pas la chaussée", "version": 2},
        headers=dvd_supervisor,
    )
    assert rerouted.status_code == 200, rerouted.get_json()
    agree("unit=DVD-T6", "program=patrouillage")
    assert queue(client, dvd, "unit=DVD-T6")["counts"] == {}
