"""Datasets added without code (a folder in seeds/opendata), and the builds: one at a time per
dataset, a failure reported without stopping the others, and the periodic build the workers keep
scheduled (real Redis, a real rq worker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from backend import deps
from sandbox.opendata import datasets, jobs
from tests.conftest import TEST_REDIS_URL
from tests.factories import report_payload, submit

BASE = "/sandbox/api/explore/v2.1/catalog/datasets"


@pytest.fixture
def extra_dir(tmp_path, monkeypatch):
    folder = tmp_path / "opendata"
    folder.mkdir()
    monkeypatch.setattr(datasets, "EXTRA_DIR", folder)
    datasets._registry.cache_clear()
    yield folder
    datasets._registry.cache_clear()


def add(folder, name, toml, data_name, data):
    (folder / name).mkdir()
    (folder / name / "dataset.toml").write_text(toml, encoding="utf-8")
    (folder / name / data_name).write_text(data, encoding="utf-8")


TREES = """
title = "Arbres d'alignement des routes départementales"
description = "Les arbres plantés le long des routes départementales."
keywords = ["arbre", "voirie"]
key = "id"
point = { lon = "longitude", lat = "latitude" }
source = { title = "DVD", path = "https://seinesaintdenis.fr" }

[fields]
id = "text"
espece = "text"
hauteur_m = "double"
plante_le = "date"
remarquable = "boolean"
"""
TREES_CSV = (
    "id,espece,hauteur_m,plante_le,remarquable,longitude,latitude\n"
    "A1,Platane,21.5,1998-03-01,oui,2.4012,48.9020\n"
    "A2,Tilleul,8,2015-11-20,non,2.4810,48.9350\n"
    "A3,Érable,,,,2.4500,48.9100\n"
)
BASINS = """
title = "Bassins de rétention"
description = "Les bassins de rétention des eaux pluviales."
key = "code"

[fields]
code = "text"
volume_m3 = "int"
"""
BASINS_GEOJSON = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "B1", "volume_m3": 12000, "gestionnaire": "Jean Dupont"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[2.45, 48.91], [2.46, 48.91], [2.46, 48.92], [2.45, 48.92], [2.45, 48.91]]],
                },
            }
        ],
    }
)


def test_a_csv_or_a_geojson_dropped_in_seeds_is_published_typed(wsgi_app, extra_dir):
    add(extra_dir, "arbres", TREES, "data.csv", TREES_CSV)
    add(extra_dir, "bassins", BASINS, "data.geojson", BASINS_GEOJSON)
    result = wsgi_app.test_cli_runner().invoke(args=["sandbox", "snapshot", "build", "--all"])
    assert result.exit_code == 0, result.output
    assert "arbres: " in result.output
    assert "(3 rows)" in result.output

    client = wsgi_app.test_client()
    catalog = {item["dataset_id"]: item for item in client.get(f"{BASE}").get_json()["results"]}
    assert catalog["arbres"]["metas"]["default"]["title"] == "Arbres d'alignement des routes départementales"
    fields = {field["name"]: field["type"] for field in catalog["arbres"]["fields"]}
    assert fields == {
        "id": "text",
        "espece": "text",
        "hauteur_m": "double",
        "plante_le": "date",
        "remarquable": "boolean",
        "geo_point_2d": "geo_point_2d",
    }
    remarkable = {"where": "hauteur_m > 10 and remarquable = true"}
    tall = client.get(f"{BASE}/arbres/records", query_string=remarkable).get_json()
    assert tall["total_count"] == 1
    (platane,) = tall["results"]
    assert platane["geo_point_2d"] == {"lon": 2.4012, "lat": 48.902}
    assert platane["plante_le"] == "1998-03-01"
    since = client.get(f"{BASE}/arbres/records", query_string={"where": "plante_le >= date'2010-01-01'"})
    assert [row["id"] for row in since.get_json()["results"]] == ["A2"]
    near = {"where": "within_distance(geo_point_2d, geom'POINT(2.4012 48.9020)', 100m)", "select": "id"}
    assert client.get(f"{BASE}/arbres/records", query_string=near).get_json()["results"] == [{"id": "A1"}]

    basins = client.get("/sandbox/api/v1/datasets/bassins").get_json()
    geojson_url = next(file["url"] for file in basins["latest"]["files"] if file["name"] == "data.geojson")
    shapes = client.get("/" + geojson_url.split("://", 1)[1].split("/", 1)[1]).get_json()
    (feature,) = shapes["features"]
    assert feature["geometry"]["type"] == "Polygon"  # the outline as it is, not only its point
    assert feature["properties"] == {"code": "B1", "volume_m3": 12000}  # only the declared columns
    assert basins["source"]["title"] == "Département de la Seine-Saint-Denis — Signal93"


def test_a_dataset_that_cannot_be_published_says_why_and_the_others_are_built(wsgi_app, extra_dir):
    add(extra_dir, "arbres", TREES, "data.csv", TREES_CSV.replace("21.5", "grand"))
    add(extra_dir, "sans-cle", BASINS.replace('key = "code"', 'key = "nope"'), "data.geojson", BASINS_GEOJSON)
    add(extra_dir, "Mal Nomme", BASINS, "data.geojson", BASINS_GEOJSON)
    add(extra_dir, "types", BASINS.replace('"int"', '"entier"'), "data.geojson", BASINS_GEOJSON)
    add(extra_dir, "communes", BASINS, "data.geojson", BASINS_GEOJSON)
    result = wsgi_app.test_cli_runner().invoke(args=["sandbox", "snapshot", "build", "--all"])
    assert result.exit_code == 1
    assert "arbres: FAILED — data.csv line 2, hauteur_m: 'grand' is not a double" in result.output
    assert "refused: seeds/opendata/sans-cle/dataset.toml: the key 'nope' is not one of the fields" in result.output
    assert "refused: seeds/opendata/Mal Nomme/dataset.toml: the folder's name is the dataset's id" in result.output
    assert "refused: seeds/opendata/types/dataset.toml: unknown column types {'volume_m3': 'entier'}" in result.output
    assert "refused: seeds/opendata/communes: a built-in dataset has this id" in result.output
    assert "signalements: " in result.output  # the others were built
    client = wsgi_app.test_client()
    ids = {item["dataset_id"] for item in client.get(BASE).get_json()["results"]}
    assert "arbres" not in ids  # nothing half-built is visible
    assert "communes" in ids


def test_one_build_at_a_time_per_dataset(wsgi_app):
    context = deps.current(wsgi_app)
    with wsgi_app.app_context(), jobs._lock(context, "signalements") as held:
        assert held
        results = jobs.build_datasets(context, ["signalements", "communes"], now=datetime.now(UTC))
    assert results[0].line() == "signalements: another build of it is running, skipped"
    assert results[1].version is not None
    with wsgi_app.app_context():
        (again,) = jobs.build_datasets(context, ["signalements"], now=datetime.now(UTC))
    assert again.version is not None  # the lock was released


@pytest.mark.redis
def test_the_workers_keep_a_periodic_build_scheduled(wsgi_app):
    import redis
    from rq import Queue, SimpleWorker
    from rq.registry import ScheduledJobRegistry

    from backend.queue import QUEUE_NAME

    connection = redis.Redis.from_url(TEST_REDIS_URL)
    scheduled = ScheduledJobRegistry(QUEUE_NAME, connection=connection)
    with wsgi_app.app_context():
        for schedule in wsgi_app.extensions["signal93.schedules"]:
            schedule(connection)
            schedule(connection)  # a second worker starting: still one build scheduled
    (job_id,) = scheduled.get_job_ids()
    job = Queue(QUEUE_NAME, connection=connection).fetch_job(job_id)
    assert job.func_name == "sandbox.opendata.jobs.periodic_build"
    assert 23 * 3600 < connection.ttl(jobs.SCHEDULE_KEY) <= 24 * 3600

    submit(wsgi_app.test_client(), report_payload())
    # The scheduled time has come: the job runs on a real worker, then schedules the next run.
    scheduled.remove(job)
    Queue(QUEUE_NAME, connection=connection).enqueue_job(job)
    with wsgi_app.app_context():
        SimpleWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection).work(burst=True)
    client = wsgi_app.test_client()
    assert client.get("/sandbox/api/v1/datasets/signalements").get_json()["latest"]["rows"] == 1
    (next_run,) = scheduled.get_job_ids()
    assert next_run != job_id
