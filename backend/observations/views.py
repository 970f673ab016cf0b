"""The parks, their walks and their nature zones for the apps, and the zones' QR codes."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from backend import deps
from backend.db import utcnow
from backend.directory.agents import AdminsOnly
from backend.directory.auth import current_agent
from backend.http import Blueprint, db_session, json_body, read_only
from backend.observations import dwca, qr, schemas, services
from backend.openapi import file_response

blp = Blueprint("observations", __name__, description="Balades Observ'acteurs: parks, walks, nature zones, QR codes")
QR_CACHE = "public, max-age=86400"


def _public_base_url() -> str:
    return deps.current().settings.public_base_url


class QrSizeSchema(ma.Schema):
    size = ma.fields.Integer(
        load_default=qr.DEFAULT_SIZE,
        validate=ma.validate.Range(qr.MIN_SIZE, qr.MAX_SIZE),
        metadata={"description": f"Width in pixels, {qr.MIN_SIZE} to {qr.MAX_SIZE} (whole modules: at least this)"},
    )


@blp.route("/parks/<string:slug>")
class Park(MethodView):
    @blp.operation("getPark", services.ParkNotFound)
    @blp.response(200, schemas.ParkSchema)
    @read_only
    def get(self, slug: str):
        """A departmental park: its outline, communes, area, its walk and its nature zones"""
        return schemas.park_view(services.park_card(db_session(), slug))


@blp.route("/parks/<string:slug>/biodiversity")
class ParkBiodiversity(MethodView):
    @blp.operation("getParkBiodiversity", services.ParkNotFound)
    @blp.response(200, schemas.BiodiversitySchema)
    @read_only
    def get(self, slug: str):
        """A park's last 12 months: species richness, sightings per month, the most seen species, its stations"""
        return services.park_biodiversity(db_session(), slug, now=utcnow())


@blp.route("/parks/<string:slug>/balade")
class ParkBalade(MethodView):
    @blp.operation("getParkBalade", services.ParkNotFound, services.BaladeNotFound)
    @blp.response(200, schemas.BaladeSchema)
    @read_only
    def get(self, slug: str):
        """A park's walk: its stations (nature zones) in walking order, its route and length"""
        session = db_session()
        balade = services.get_balade(session, services.get_park(session, slug))
        return schemas.balade_view(balade, _public_base_url())


@blp.route("/species")
class Species(MethodView):
    @blp.operation("listSpecies", services.ParkNotFound)
    @blp.arguments(schemas.SpeciesQuerySchema, location="query")
    @blp.response(200, schemas.SpeciesListSchema)
    @read_only
    def get(self, args):
        """Species autocompletion: French or scientific names, accents ignored, names starting with it first"""
        found = services.search_species(
            db_session(), args.get("q"), group=args.get("group"), park=args.get("park"), limit=args["limit"]
        )
        return {"items": found}


@blp.route("/admin/parks/<string:slug>/balade")
class AdminParkBalade(MethodView):
    @blp.operation(
        "updateParkBalade", AdminsOnly, services.NatureAdminsOnly, services.ParkNotFound, services.InvalidBalade
    )
    @json_body()
    @blp.arguments(
        schemas.BaladeUpdateSchema(),
        example={"title": "La balade du Sausset", "stations": ["sausset-marais", "sausset-bocage"]},
    )
    @blp.response(200, schemas.BaladeSchema)
    @blp.doc(security=[{"AgentToken": []}])
    def put(self, data, slug: str):
        """Replace a park's walk: its title, description and stations in order (DNPB admins)"""
        balade = services.update_balade(
            db_session(),
            current_agent(),
            slug,
            title=data["title"],
            description=data["description"],
            stations=data["stations"],
        )
        return schemas.balade_view(balade, _public_base_url())


@blp.route("/zones/park_zone/<string:slug>")
class ParkZone(MethodView):
    @blp.operation("getParkZone", services.ParkZoneNotFound)
    @blp.response(200, schemas.ParkZoneCardSchema)
    @read_only
    def get(self, slug: str):
        """A nature zone's card: description, habitat, what to look for, its station on the walk, its species

        A GeoJSON Feature, as `getZone` answers for every zone, with the card in its properties.
        A slug the zone answered to before (renamed, merged) still resolves to it.
        """
        return schemas.park_zone_card(services.zone_card(db_session(), slug, now=utcnow()), _public_base_url())


def _image(data: bytes, content_type: str) -> Response:
    etag = hashlib.sha256(data).hexdigest()[:32]
    if etag in request.if_none_match:
        return Response(status=304, headers={"ETag": f'"{etag}"', "Cache-Control": QR_CACHE})
    return Response(data, content_type=content_type, headers={"ETag": f'"{etag}"', "Cache-Control": QR_CACHE})


QR_HEADERS = {
    "ETag": {"description": "The image's digest, for If-None-Match", "schema": {"type": "string"}},
    "Cache-Control": {"description": "Cacheable for a day", "schema": {"type": "string"}},
}
NOT_MODIFIED = {"304": {"description": "Not modified (If-None-Match)"}}


@blp.route("/zones/park_zone/<string:slug>/qr.svg")
class ParkZoneQrSvg(MethodView):
    @blp.operation("getParkZoneQrSvg", services.ParkZoneNotFound)
    @blp.doc(
        responses={
            "200": file_response(
                "The QR code (SVG), holding the zone page's address", "image/svg+xml", headers=QR_HEADERS
            ),
            **NOT_MODIFIED,
        }
    )
    @read_only
    def get(self, slug: str):
        """The QR code of a nature zone's post, as SVG (error correction Q: readable a quarter hidden)"""
        zone = services.get_park_zone(db_session(), slug)
        url = qr.zone_url(_public_base_url(), zone.code)
        return _image(qr.svg(url, title=f"{zone.name} — {url}"), "image/svg+xml")


@blp.route("/zones/park_zone/<string:slug>/qr.png")
class ParkZoneQrPng(MethodView):
    @blp.operation("getParkZoneQrPng", services.ParkZoneNotFound)
    @blp.arguments(QrSizeSchema, location="query")
    @blp.doc(
        responses={
            "200": file_response("The QR code (PNG), holding the zone page's address", "image/png", headers=QR_HEADERS),
            **NOT_MODIFIED,
        }
    )
    @read_only
    def get(self, args, slug: str):
        """The QR code of a nature zone's post, as PNG of the width asked for"""
        zone = services.get_park_zone(db_session(), slug)
        return _image(qr.png(qr.zone_url(_public_base_url(), zone.code), size=args["size"]), "image/png")


class _Archive:
    """The archive's file, streamed, then removed (the WSGI server closes it, even half-read)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __iter__(self):
        try:
            with (self.folder / "dwca.zip").open("rb") as file:
                while chunk := file.read(1 << 16):
                    yield chunk
        finally:
            self.close()

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@blp.route("/observations/dwca.zip")
class DarwinCoreArchive(MethodView):
    @blp.operation("getObservationsDwca")
    @blp.doc(
        responses={
            "200": file_response(
                "A Darwin Core Archive: occurrence.txt, multimedia.txt, meta.xml, eml.xml",
                "application/zip",
                headers={"Content-Disposition": {"schema": {"type": "string"}}},
            )
        }
    )
    def get(self):  # not read_only: streaming the rows (yield_per) needs a transaction on PostgreSQL
        """Every public sighting as a Darwin Core Archive (sensitive species at their park's reference point)"""
        folder = Path(tempfile.mkdtemp(prefix="signal93-dwca-"))
        try:
            dwca.write_archive(db_session(), folder / "dwca.zip", public_base_url=_public_base_url(), now=utcnow())
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        headers = {
            "Content-Disposition": 'attachment; filename="signal93-observations-dwca.zip"',
            "Content-Length": str((folder / "dwca.zip").stat().st_size),
        }
        return Response(_Archive(folder), content_type="application/zip", headers=headers)
