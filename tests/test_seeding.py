"""Seeding loads the reference data, is a no-op the second time, and follows edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.directory.models import Category, Directorate, ExternalBody, Taxon, Unit
from backend.routing.models import RoutingRule
from backend.seeding import DEFAULT_SEEDS_DIR, SeedError, load_seeds
from backend.zones.models import Zone, ZoneAlias


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(DEFAULT_SEEDS_DIR, target)
    return target


def counts(session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in (Zone, ZoneAlias, Directorate, Unit, ExternalBody, Category, Taxon, RoutingRule)
    }


def test_seeded_reference_data(session):
    zones = dict(session.execute(select(Zone.kind, func.count()).group_by(Zone.kind)).all())
    assert zones["commune"] == 39
    assert zones["park"] == 9
    assert zones["territory"] == 4
    assert zones["departement"] == 1
    assert zones["road"] >= 3
    assert session.scalar(select(func.count()).select_from(Directorate)) == 3
    assert session.scalar(select(func.count()).select_from(Category)) >= 14
    rules = list(session.scalars(select(RoutingRule).order_by(RoutingRule.position)))
    assert [r.position for r in rules] == list(range(1, len(rules) + 1))
    assert session.scalar(select(Taxon).where(Taxon.scientific_name == "Botaurus stellaris")).sensitive
    assert session.scalar(select(Taxon.taxref_cd_nom).where(Taxon.taxref_cd_nom.is_not(None))) is None


def test_seeding_twice_changes_nothing(session):
    before = counts(session)
    report = load_seeds(session)
    assert report.changed == 0
    assert counts(session) == before


def test_editing_a_seed_file_updates_the_rows(session, seeds_copy):
    toml = seeds_copy / "categories.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('name = "Nid-de-poule"', 'name = "Nid-de-poule ou ornière"'), encoding="utf-8")
    before = counts(session)
    report = load_seeds(session, seeds_copy)
    assert report.tables["categories"].updated == 1
    assert report.changed == 1
    assert session.scalar(select(Category.name).where(Category.code == "nid-de-poule")) == "Nid-de-poule ou ornière"
    assert counts(session) == before


def test_a_category_removed_from_the_seeds_is_deactivated_not_deleted(session, seeds_copy, client):
    toml = seeds_copy / "categories.toml"
    text = toml.read_text(encoding="utf-8")
    start = text.index('code = "rejet-suspect"')
    block_start = text.rindex("[[programs.categories]]", 0, start)
    block_end = text.index("[[programs]]", start)
    toml.write_text(text[:block_start] + text[block_end:], encoding="utf-8")
    report = load_seeds(session, seeds_copy)
    session.commit()
    assert report.deactivated["categories"] == 1
    assert session.scalar(select(Category.active).where(Category.code == "rejet-suspect")) is False
    codes = {c["code"] for c in client.get("/api/v1/categories").get_json()["items"]}
    assert "rejet-suspect" not in codes


def test_an_inconsistent_seed_file_is_refused_with_its_reason(session, seeds_copy):
    routing = seeds_copy / "routing.toml"
    routing.write_text(routing.read_text(encoding="utf-8").replace('unit = "DNPB-ODBU"', 'unit = "DNPB-NOPE"'))
    with pytest.raises(SeedError, match="unknown unit 'DNPB-NOPE'"):
        load_seeds(session, seeds_copy)


def test_seed_command_is_all_or_nothing(app, session, seeds_copy):
    toml = seeds_copy / "categories.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('name = "Nid-de-poule"', 'name = "Changé"'))
    routing = seeds_copy / "routing.toml"
    routing.write_text(routing.read_text(encoding="utf-8").replace('directorate = "DEA"', 'directorate = "DXX"'))
    result = app.test_cli_runner().invoke(args=["seed", "--seeds-dir", str(seeds_copy)])
    assert result.exit_code != 0
    assert "nothing was changed" in result.output
    assert "DXX" in result.output
    assert session.scalar(select(Category.name).where(Category.code == "nid-de-poule")) == "Nid-de-poule"


def test_seed_command_twice_reports_up_to_date(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "Seed data up to date." in second.output


def test_the_communes_are_named_as_french_writes_them(session):
    from backend.seeding import of_place

    names = set(session.scalars(select(ExternalBody.name).where(ExternalBody.kind == "commune")))
    for expected in (
        "Commune d'Aubervilliers",
        "Commune d'Épinay-sur-Seine",
        "Commune du Blanc-Mesnil",
        "Commune des Lilas",
        "Commune de La Courneuve",
        "Commune de L'Île-Saint-Denis",
        "Commune de Montreuil",
    ):
        assert expected in names
    assert not [name for name in names if " de Le " in name or " de Les " in name or " de A" in name]
    assert of_place("Noisy-le-Grand") == "de Noisy-le-Grand"
