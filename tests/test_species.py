"""Species autocompletion as the sighting form uses it (accents and case ignored, names that start
with what was typed first), and a TAXREF extract loaded with the command, its unusable rows listed."""

from __future__ import annotations

from sqlalchemy import select

from backend.directory.models import Taxon

API = "/api/v1/species"
TAXREF_COLUMNS = "REGNE\tCLASSE\tGROUP1_INPN\tGROUP2_INPN\tCD_NOM\tCD_REF\tRANG\tLB_NOM\tLB_AUTEUR\tNOM_VERN"


def names(client, **query):
    answer = client.get(API, query_string=query)
    assert answer.status_code == 200, answer.get_json()
    return [item["french_name"] for item in answer.get_json()["items"]]


def test_autocompletion_ignores_accents_and_case_and_puts_prefixes_first(client):
    assert names(client, q="blong") == ["Blongios nain"]
    assert names(client, q="MARTIN PECH") == ["Martin-pêcheur d'Europe"]
    assert names(client, q="ecureuil") == ["Écureuil roux"]
    assert names(client, q="ixobr") == ["Blongios nain"]  # the scientific name too
    herons = names(client, q="he")
    assert herons[:2] == ["Hérisson d'Europe", "Héron cendré"]  # names starting with "he" first…
    assert "Perruche à collier" in herons  # …then those containing it (perruc-he)
    (bittern,) = client.get(API, query_string={"q": "blongios"}).get_json()["items"]
    assert bittern == {
        "scientific_name": "Ixobrychus minutus",
        "french_name": "Blongios nain",
        "group": "oiseau",
        "status": "Natura 2000 site FR1112013 (annexe I directive Oiseaux)",
        "sensitive": True,
        "taxref_cd_nom": None,  # never invented: none until a TAXREF extract gives it
    }
    assert set(names(client, group="amphibien")) == {"Crapaud commun", "Grenouille rieuse", "Triton palmé"}
    poudrerie = set(names(client, park="poudrerie", limit=50))
    assert "Crapaud commun" in poudrerie
    assert "Hérisson d'Europe" not in poudrerie  # not among its zones' species
    assert names(client, q="zzz") == []
    assert client.get(API, query_string={"park": "nope"}).get_json()["code"] == "park_not_found"
    for bad in ({"limit": "0"}, {"limit": "51"}, {"q": "x" * 101}):
        assert client.get(API, query_string=bad).status_code == 422
    assert names(client, q="%") == []  # a LIKE wildcard is a character like any other


def test_a_taxref_extract_gives_its_ids_and_adds_species(app, session, tmp_path):
    extract = tmp_path / "TAXREFv18_extrait.txt"
    rows = [
        TAXREF_COLUMNS,
        "Animalia\tAves\tChordés\tOiseaux\t900001\t900001\tES\tArdea cinerea\tLinnaeus, 1758\tHéron cendré",
        "Animalia\tAves\tChordés\tOiseaux\t900002\t900002\tES\tEgretta garzetta\t(Linnaeus, 1766)\tAigrette garzette",
        "Animalia\tAves\tChordés\tOiseaux\t900003\t900001\tES\tArdea cinerea cinerea\tLinnaeus, 1758\t",
        "Animalia\tAves\tChordés\tOiseaux\t900004\t900004\tGN\tArdea\tLinnaeus, 1758\t",
        "Animalia\tAves\tChordés\tOiseaux\tdouze\t900005\tES\tNomen nudum\t\t",
    ]
    extract.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["species", "import", str(extract)])
    assert result.exit_code == 0, result.output
    assert "species: 1 created, 1 updated, 0 unchanged." in result.output
    assert "3 rows not used:" in result.output
    assert "line 4: Ardea cinerea cinerea is a synonym (CD_REF 900001)" in result.output
    assert "line 5: Ardea is not a species (RANG GN)" in result.output
    assert "line 6: CD_NOM and CD_REF must be numbers" in result.output
    session.expire_all()
    heron = session.scalar(select(Taxon).where(Taxon.scientific_name == "Ardea cinerea"))
    assert (heron.taxref_cd_nom, heron.french_name) == (900001, "Héron cendré")
    egret = session.scalar(select(Taxon).where(Taxon.scientific_name == "Egretta garzetta"))
    assert (egret.french_name, egret.group, egret.sensitive) == ("Aigrette garzette", "oiseau", False)
    again = app.test_cli_runner().invoke(args=["species", "import", str(extract)])
    assert "species: 0 created, 0 updated, 2 unchanged." in again.output

    client = app.test_client()
    assert client.get(API, query_string={"q": "aigrette"}).get_json()["items"][0]["taxref_cd_nom"] == 900002
    not_taxref = tmp_path / "especes.csv"
    not_taxref.write_text("nom,groupe\nHéron,oiseau\n", encoding="utf-8")
    refused = app.test_cli_runner().invoke(args=["species", "import", str(not_taxref)])
    assert refused.exit_code != 0
    assert "not a TAXREF extract: the columns CD_NOM, CD_REF, LB_NOM are missing" in refused.output
