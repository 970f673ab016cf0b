"""Public, read-only zone endpoints (GeoJSON)."""

from __future__ import annotations

from flask.views import MethodView

from backend.http import Blueprint, db_session, read_only
from backend.zones import schemas, services

blp = Blueprint("zones", __name__, description="Zones: département, communes, territories, parks, roads")


@blp.route("/zones")
class Zones(MethodView):
    @blp.operation("listZones", (422, "unknown_zone_kind"), (422, "invalid_cursor"))
    @blp.arguments(schemas.ZoneQuerySchema, location="query")
    @blp.response(200, schemas.ZoneCollectionSchema)
    @read_only
    def get(self, args):
        """List zones as a GeoJSON FeatureCollection, by kind and bounding box, one page at a time"""
        page = services.list_zones(
            db_session(), kind=args.get("kind"), bbox=args.get("bbox"), limit=args["limit"], cursor=args.get("cursor")
        )
        return {
            "type": "FeatureCollection",
            "features": [schemas.zone_feature(zone) for zone in page.items],
            "next_cursor": page.next_cursor,
        }


@blp.route("/zones/<string:kind>/<string:code>")
class ZoneDetail(MethodView):
    @blp.operation("getZone", services.ZoneNotFound)
    @blp.response(200, schemas.ZoneFeatureSchema)
    @read_only
    def get(self, kind: str, code: str):
        """One zone as a GeoJSON Feature; a former code (a merged commune) resolves to today's zone"""
        return schemas.zone_feature(services.get_zone(db_session(), kind, code))
