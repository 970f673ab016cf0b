"""The floor for bench/intake.py: parse a JSON body, insert one row, commit. Nothing else.

Same server (gunicorn), same database and driver as Signal93, so the ratio measures what
Signal93 adds: validation, routing, idempotency, the trail, similar reports.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert

from backend.config import normalize_database_url
from backend.db import make_engine

metadata = MetaData()
floor_rows = Table("bench_floor", metadata, Column("id", Integer, primary_key=True), Column("payload", JSON))

engine = make_engine(normalize_database_url(os.environ["DATABASE_URL"]))
app = Flask(__name__)


@app.post("/floor")
def floor():
    payload = request.get_json()
    with engine.begin() as connection:
        row_id = connection.execute(insert(floor_rows).values(payload=payload).returning(floor_rows.c.id)).scalar_one()
    return jsonify(id=row_id), 201


@app.post("/floor/upload")
def floor_upload():
    """The floor for bench/uploads.py: werkzeug's multipart parser (files spooled to temporary
    files) and each file copied to a folder, nothing else."""
    folder = os.path.join(os.environ["SIGNAL93_INSTANCE_PATH"], "floor")
    os.makedirs(folder, exist_ok=True)
    sizes = []
    for index, upload in enumerate(request.files.getlist("video")):
        path = os.path.join(folder, f"{os.getpid()}-{id(upload)}-{index}")
        upload.save(path)
        sizes.append(os.path.getsize(path))
        os.unlink(path)
    return jsonify(sizes=sizes, report=len(request.form.get("report", ""))), 201
