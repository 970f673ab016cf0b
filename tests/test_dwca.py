"""The sightings as a Darwin Core Archive, downloaded and written by the command, read back by a
standard reader (python-dwca-reader): one occurrence per sighting with its Darwin Core terms, the
published photos in the multimedia extension, a sensitive species at its park's reference point
only, and no reporter anywhere."""

from __future__ import annotations

import io
import json
import zipfile

from dwca.read import DwCAReader

from tests.factories import SAUSSET_MARAIS, report_payload, submit
from tests.media import files
from tests.test_notifications import mailing_app  # noqa: F401 (a fixture)

DWC = "http://rs.tdwg.org/dwc/terms/"
BITTERN = {"espece": "Ixobrychus minutus", "nombre": 1}


def read(path):
    """The archive's metadata, and each occurrence's terms with its extension rows' terms."""
    with DwCAReader(str(path)) as archive:
        return archive.metadata, [(row.data, [ext.data for ext in row.extensions]) for row in archive]


def test_ecologists_read_the_archive_with_a_standard_reader(mailing_app, tmp_path):  # noqa: F811
    app, _ = mailing_app
    client = app.test_client()
    contact = {"name": "Awa Diallo", "email": "awa@example.org", "consent_contact": True}
    heron = report_payload("observation-espece", at=SAUSSET_MARAIS, reporter=contact)
    with_photo = client.post(
        "/api/v1/reports",
        data={"report": json.dumps(heron), "photos": [(io.BytesIO(files.jpeg_from_phone()), "heron.jpg")]},
        content_type="multipart/form-data",
    ).get_json()
    rare = submit(client, report_payload("observation-espece", at=SAUSSET_MARAIS, attributes=BITTERN)).get_json()
    submit(client, report_payload())  # a pothole: not an occurrence

    download = client.get("/api/v1/observations/dwca.zip")
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/zip"
    (tmp_path / "dwca.zip").write_bytes(download.get_data())
    names = set(zipfile.ZipFile(tmp_path / "dwca.zip").namelist())
    assert names == {"meta.xml", "eml.xml", "occurrence.txt", "multimedia.txt"}
    metadata, rows = read(tmp_path / "dwca.zip")
    publisher = metadata.find("dataset/publisher/organizationName")
    assert publisher.text == "Département de la Seine-Saint-Denis"
    assert "Licence Ouverte" in metadata.find("dataset/intellectualRights/para").text
    by_species = {data[DWC + "scientificName"]: (data, media) for data, media in rows}
    assert set(by_species) == {"Ardea cinerea", "Ixobrychus minutus"}

    common = by_species["Ardea cinerea"][0]
    assert common[DWC + "occurrenceID"] == f"http://signal93.test/api/v1/reports/{with_photo['reference']}"
    assert (common[DWC + "basisOfRecord"], common[DWC + "vernacularName"]) == ("HumanObservation", "Héron cendré")
    assert (common[DWC + "kingdom"], common[DWC + "taxonRank"], common[DWC + "individualCount"]) == (
        "Animalia",
        "species",
        "2",
    )
    assert (float(common[DWC + "decimalLongitude"]), float(common[DWC + "decimalLatitude"])) == SAUSSET_MARAIS
    assert (common[DWC + "countryCode"], common[DWC + "county"]) == ("FR", "Seine-Saint-Denis")
    assert common[DWC + "locality"] == "Parc départemental du Sausset"
    assert common[DWC + "locationID"] == "park_zone:sausset-marais"
    assert common[DWC + "municipality"] in ("Aulnay-sous-Bois", "Villepinte")
    assert common[DWC + "taxonID"] == ""  # no TAXREF id known: none invented
    assert common[DWC + "dataGeneralizations"] == ""

    sensitive = by_species["Ixobrychus minutus"][0]
    assert sensitive[DWC + "occurrenceID"].endswith(rare["reference"])
    public = client.get(f"/api/v1/reports/{rare['reference']}").get_json()["location"]
    assert float(sensitive[DWC + "decimalLongitude"]) == round(public["lon"], 6)
    assert float(sensitive[DWC + "decimalLatitude"]) == round(public["lat"], 6)
    assert float(sensitive[DWC + "coordinateUncertaintyInMeters"]) > 700
    assert "généralisées au point de référence du parc" in sensitive[DWC + "dataGeneralizations"]
    assert sensitive[DWC + "informationWithheld"]
    assert sensitive[DWC + "locationID"] == "park:sausset"  # not its nature zone

    (photo,) = by_species["Ardea cinerea"][1]
    assert photo["http://purl.org/dc/terms/identifier"] == (
        f"http://signal93.test/api/v1/media/{with_photo['media'][0]['id']}/display"
    )
    assert by_species["Ixobrychus minutus"][1] == []
    card = client.get("/api/v1/zones/park_zone/sausset-marais").get_json()["properties"]
    media_id = with_photo["media"][0]["id"]
    assert card["photos"] == [
        {"thumb": f"/api/v1/media/{media_id}/thumb", "display": f"/api/v1/media/{media_id}/display"}
    ]
    archive = (tmp_path / "dwca.zip").read_bytes()
    occurrences = zipfile.ZipFile(io.BytesIO(archive)).read("occurrence.txt").decode()
    assert "Awa" not in occurrences
    assert "awa@example.org" not in occurrences
    rare_row = next(line for line in occurrences.splitlines() if rare["reference"] in line)
    assert f"{SAUSSET_MARAIS[0]:.6f}" not in rare_row  # the marsh, where the bittern was, is not said

    result = app.test_cli_runner().invoke(args=["observations", "dwca", str(tmp_path / "cli.zip")])
    assert result.exit_code == 0, result.output
    assert "2 occurrences" in result.output
    assert len(read(tmp_path / "cli.zip")[1]) == 2
