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
