"""A backup that restores (issue 14): the database dumped with pg_dump as the production guide
says, restored with psql into a database of its own, and Signal93 served from the restored copy
finds every report, its trail and its media (the media storage is backed up apart: bucket
versioning), and reads them as before."""

from __future__ import annotations

import gc
import io
import json
import shutil
import subprocess
import uuid
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from backend import deps
from backend.app import create_app, inline_queue
from backend.db import Database, make_engine, migrate
from backend.seeding import load_seeds
from tests.factories import report_payload, use_queue
from tests.media.files import jpeg_from_phone


@pytest.mark.postgresql
def test_a_pg_dump_restored_into_a_new_database_serves_every_report_and_its_media(settings, fresh_database_url):
    engine = make_engine(fresh_database_url)
    migrate(engine)
    with Database(engine).transaction() as session:
        load_seeds(session)
    app = create_app(replace(settings, database_url=fresh_database_url))
    use_queue(app, inline_queue(app))
    client = app.test_client()
    references = []
    for index in range(3):
        sent = client.post(
            "/api/v1/reports/with-files",
            data={"report": json.dumps(report_payload()), "photos": [(io.BytesIO(jpeg_from_phone()), f"{index}.jpg")]},
            content_type="multipart/form-data",
        )
        assert sent.status_code == 201
        references.append(sent.get_json()["reference"])
    before = {ref: client.get(f"/api/v1/reports/{ref}").get_json() for ref in references}
    assert all(report["media"][0]["urls"] for report in before.values())  # processed, public
    engine.dispose()
    deps.current(app).database.engine.dispose()  # its pooled connections closed, not left to the collector

    url = urlsplit(fresh_database_url.replace("postgresql+psycopg://", "postgresql://"))
    schema = url.query.split("search_path%3D")[-1]
    server = f"postgresql://{url.username or 'postgres'}@{url.hostname}:{url.port or 5432}"
    dump = subprocess.run(
        [shutil.which("pg_dump") or "pg_dump", "--no-owner", "--schema", schema, f"{server}{url.path}"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    restored = f"restore_{uuid.uuid4().hex[:10]}"
    admin = make_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{restored}"'))
    try:
        subprocess.run(
            [shutil.which("psql") or "psql", "--quiet", "--set", "ON_ERROR_STOP=1", f"{server}/{restored}"],
            input=dump,
            capture_output=True,
            check=True,
            timeout=120,
        )
        copy_url = f"{server}/{restored}?options=-csearch_path%3D{schema}"
        copy = create_app(replace(settings, database_url=copy_url))
        reader = copy.test_client()
        for reference in references:
            after = reader.get(f"/api/v1/reports/{reference}").get_json()
            assert after == before[reference]  # the same report, the same trail, the same media
            thumb = reader.get(after["media"][0]["urls"]["thumb"])
            assert (thumb.status_code, thumb.mimetype) == (200, "image/jpeg")
        assert reader.get("/readyz").status_code == 200
        deps.current(copy).database.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{restored}" WITH (FORCE)'))
        admin.dispose()
        gc.collect()  # anything left is found here, in this test, not in the next one
