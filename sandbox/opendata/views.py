"""The Opendatasoft Explore API v2.1 on the sandbox's open datasets (the subset teams use): the
catalog and the records. Code written against it works on the département's portal, its base URL
changed."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from backend import deps
from backend.fields import QueryList, ResponseSchema
from backend.http import Blueprint, db_session, read_only
from sandbox.opendata import explore, services
from sandbox.opendata.odsql import TYPES

blp = Blueprint("explore", __name__, description="Open datasets, queried as the Opendatasoft Explore API v2.1 answers")
ODSQL = "ODSQL (the Explore API's query language)"


class RecordsQuerySchema(ma.Schema):
    select = ma.fields.String(
        metadata={"description": f"Fields and aggregates, {ODSQL}", "example": "category, count(*) as n"}
    )
    where = ma.fields.String(metadata={"description": f"A condition, {ODSQL}", "example": "status = 'open'"})
    group_by = ma.fields.String(metadata={"description": "Fields or date parts", "example": "category"})
    order_by = ma.fields.String(metadata={"description": "Columns, ASC or DESC", "example": "n desc"})
    limit = ma.fields.Integer(load_default=explore.DEFAULT_LIMIT, metadata={"description": "Up to 100"})
    offset = ma.fields.Integer(load_default=0, metadata={"description": "offset + limit up to 10,000 (20,000 grouped)"})
    refine = QueryList(ma.fields.String(), metadata={"description": "field:value facets to keep"})
    exclude = QueryList(ma.fields.String(), metadata={"description": "field:value facets to leave out"})
    version = ma.fields.String(
        metadata={"description": "A version to pin (default: the latest)", "example": "2026-11-29.1"}
    )


class FieldSchema(ResponseSchema):
    name = ma.fields.String(required=True)
    type = ma.fields.String(required=True, metadata={"enum": list(TYPES)})
    label = ma.fields.String(required=True)


class MetasDefaultSchema(ResponseSchema):
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    records_count = ma.fields.Integer(required=True)
    modified = ma.fields.String(required=True)
    keyword = ma.fields.List(ma.fields.String(), required=True)
    license = ma.fields.String(required=True)
    version = ma.fields.String(required=True)


class MetasSchema(ResponseSchema):
    default = ma.fields.Nested(MetasDefaultSchema, required=True)


class DatasetSchema(ResponseSchema):
    dataset_id = ma.fields.String(required=True, metadata={"example": "signalements"})
    metas = ma.fields.Nested(MetasSchema, required=True)
    fields = ma.fields.List(ma.fields.Nested(FieldSchema), required=True)


class CatalogSchema(ResponseSchema):
    total_count = ma.fields.Integer(required=True)
    results = ma.fields.List(ma.fields.Nested(DatasetSchema), required=True)


class RecordsSchema(ResponseSchema):
    total_count = ma.fields.Integer(required=True)
    results = ma.fields.List(
        ma.fields.Dict(keys=ma.fields.String()),
        required=True,
        metadata={"description": "Flat records: the dataset's fields (or the select's columns); a point is {lon, lat}"},
    )


QUERY_ERRORS = ((400, "odsql_error"), (400, "invalid_limit"), (400, "invalid_offset"))


@blp.route("/catalog/datasets")
class Catalog(MethodView):
    @blp.operation("listExploreDatasets")
    @blp.response(200, CatalogSchema)
    @blp.doc(security=[{"ApikeyHeader": []}, {"ApikeyAuthorization": []}, {}])
    @read_only
    def get(self):
        """The published datasets, with their fields and their latest version"""
        return services.catalog(db_session())


@blp.route("/catalog/datasets/<string:dataset_id>/records")
class Records(MethodView):
    @blp.operation("getExploreRecords", services.DatasetNotFound, services.VersionNotFound, *QUERY_ERRORS)
    @blp.arguments(RecordsQuerySchema, location="query")
    @blp.response(200, RecordsSchema)
    @blp.doc(security=[{"ApikeyHeader": []}, {"ApikeyAuthorization": []}, {}])
    @read_only
    def get(self, args: dict[str, Any], dataset_id: str):
        """A dataset's records: select, where, group_by, order_by, refine, exclude, one page at a time

        As the Explore API v2.1 answers: `{total_count, results}`, `limit` up to 100 (10 by
        default), `offset + limit` up to 10,000 (20,000 with a `group_by`). Pin a `version` so a
        prototype is not moved by the nightly build.
        """
        context = deps.core()
        request = explore.RecordsRequest(
            **{name: args[name] for name in ("select", "where", "group_by", "order_by") if name in args},
            limit=args["limit"],
            offset=args["offset"],
            refine=args.get("refine", []),
            exclude=args.get("exclude", []),
        )
        cache = context.settings.instance_path / "opendata-cache"
        return services.records(db_session(), context.storage, cache, dataset_id, request, version=args.get("version"))
