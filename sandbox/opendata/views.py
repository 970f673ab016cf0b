"""The sandbox's open datasets over HTTP: the Opendatasoft Explore API v2.1 (the subset teams use:
the catalog and the records; code written against it works on the département's portal, its base
URL changed), the downloads of their immutable versions, and their DCAT catalog."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from backend import deps
from backend.fields import QueryList, ResponseSchema
from backend.http import Blueprint, db_session, read_only
from backend.openapi import file_response
from sandbox.opendata import dcat, downloads, explore, services, snapshots
from sandbox.opendata.odsql import TYPES
from sandbox.schemas import OPTIONAL_KEY_SECURITY

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


TEXT = {"schema": {"type": "string"}}
QUERY_ERRORS = ((400, "odsql_error"), (400, "invalid_limit"), (400, "invalid_offset"))


@blp.route("/catalog/datasets")
class Catalog(MethodView):
    @blp.operation("listExploreDatasets")
    @blp.response(200, CatalogSchema)
    @blp.doc(security=OPTIONAL_KEY_SECURITY)
    @read_only
    def get(self):
        """The published datasets, with their fields and their latest version"""
        return services.catalog(db_session())


@blp.route("/catalog/datasets/<string:dataset_id>/records")
class Records(MethodView):
    @blp.operation("getExploreRecords", services.DatasetNotFound, services.VersionNotFound, *QUERY_ERRORS)
    @blp.arguments(RecordsQuerySchema, location="query")
    @blp.response(200, RecordsSchema)
    @blp.doc(security=OPTIONAL_KEY_SECURITY)
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


class ExportQuerySchema(ma.Schema):
    select = RecordsQuerySchema._declared_fields["select"]
    where = RecordsQuerySchema._declared_fields["where"]
    group_by = RecordsQuerySchema._declared_fields["group_by"]
    order_by = RecordsQuerySchema._declared_fields["order_by"]
    limit = ma.fields.Integer(
        load_default=-1,
        validate=ma.validate.Range(min=-1, max=2**53),
        metadata={"description": "How many rows (-1, the default: every row)"},
    )
    refine = RecordsQuerySchema._declared_fields["refine"]
    exclude = RecordsQuerySchema._declared_fields["exclude"]
    version = RecordsQuerySchema._declared_fields["version"]
    delimiter = ma.fields.String(
        load_default=";",
        validate=ma.validate.OneOf(explore.DELIMITERS),
        metadata={"description": "CSV: the field separator (`;` as on the portal, `,`, `|` or a tab)"},
    )
    with_bom = ma.fields.Boolean(
        load_default=True,
        metadata={"description": "CSV: start with a UTF-8 byte order mark (spreadsheets read the accents)"},
    )


@blp.route("/catalog/datasets/<string:dataset_id>/exports/<any(csv,json,jsonl,geojson,parquet):format>")
class Export(MethodView):
    @blp.operation("exportExploreRecords", services.DatasetNotFound, services.VersionNotFound, *QUERY_ERRORS)
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.doc(
        security=OPTIONAL_KEY_SECURITY,
        responses={
            "200": file_response(
                "Every matching record, streamed",
                *sorted({kind.split(";")[0] for kind in explore.EXPORT_TYPES.values()}),
                headers={"Content-Disposition": TEXT},
            )
        },
    )
    @read_only
    def get(self, args: dict[str, Any], dataset_id: str, format: str):
        """A dataset's records, all of them, in CSV, JSON, JSON Lines, GeoJSON or Parquet

        The same `select`, `where`, `group_by`, `order_by`, `refine` and `exclude` as the records,
        without their page bounds: the whole answer, streamed as it is read.
        """
        context = deps.core()
        request = explore.ExportRequest(
            **{name: args[name] for name in ("select", "where", "group_by", "order_by") if name in args},
            limit=args["limit"],
            refine=args.get("refine", []),
            exclude=args.get("exclude", []),
            delimiter=args["delimiter"],
            with_bom=args["with_bom"],
        )
        cache = context.settings.instance_path / "opendata-cache"
        stream = services.export(
            db_session(), context.storage, cache, dataset_id, request, format, version=args.get("version")
        )
        headers = {"Content-Disposition": f'attachment; filename="{dataset_id}.{format}"'}
        return Response(stream, content_type=explore.EXPORT_TYPES[format], headers=headers)


# --- downloads: /api/v1/datasets ------------------------------------------------------------------

datasets_blp = Blueprint(
    "datasets",
    __name__,
    description="Open datasets to download: immutable versions, checksums, byte ranges, a Frictionless package each",
)
VERSION_PATH = {
    "in": "path",
    "name": "version",
    "required": True,
    "description": "A version id (`2026-11-29.1`), or `latest` (redirected to the current version)",
    "schema": {"type": "string", "pattern": r"^(latest|\d{4}-\d{2}-\d{2}\.\d+)$"},
}
FILE_HEADERS = {
    "ETag": {"description": "The file's SHA-256, strong", **TEXT},
    "Repr-Digest": {"description": "`sha-256=:<base64>:` (RFC 9530)", **TEXT},
    "Cache-Control": {"description": "`public, max-age=31536000, immutable`: a version never changes", **TEXT},
    "Content-Length": {"schema": {"type": "integer"}},
    "Accept-Ranges": {"description": "`bytes`", **TEXT},
    "Last-Modified": TEXT,
    "Content-Disposition": TEXT,
}
LATEST_REDIRECT = {
    "description": "`latest`: the current version's URL (temporary, it moves with each build)",
    "headers": {"Location": {"description": "The same path at the current version", **TEXT}},
}


def links() -> downloads.Links:
    from sandbox.app import API_PREFIX, EXPLORE_PREFIX, MOUNT

    base = deps.core().settings.public_base_url + MOUNT
    return downloads.Links(api=base + API_PREFIX, explore=base + EXPLORE_PREFIX)


class ChangesSchema(ResponseSchema):
    added = ma.fields.Integer(required=True)
    removed = ma.fields.Integer(required=True)
    changed = ma.fields.Integer(required=True)


class DatasetFileSchema(ResponseSchema):
    name = ma.fields.String(required=True, metadata={"example": "data.csv"})
    bytes = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)
    media_type = ma.fields.String(required=True, metadata={"example": "text/csv"})
    url = ma.fields.String(required=True)


class DatasetVersionSchema(ResponseSchema):
    version = ma.fields.String(required=True, metadata={"example": "2026-11-29.1"})
    created_at = ma.fields.DateTime(required=True)
    rows = ma.fields.Integer(required=True)
    changes = ma.fields.Nested(ChangesSchema, required=True, metadata={"description": "Since the previous version"})
    files = ma.fields.List(ma.fields.Nested(DatasetFileSchema), required=True)


class DatasetVersionListSchema(ResponseSchema):
    items = ma.fields.List(ma.fields.Nested(DatasetVersionSchema), required=True)


class LicenceSchema(ResponseSchema):
    name = ma.fields.String(required=True, metadata={"example": "etalab-2.0"})
    title = ma.fields.String(required=True)
    path = ma.fields.String(required=True)


class SourceSchema(ResponseSchema):
    title = ma.fields.String(required=True)
    path = ma.fields.String()


class OpenDatasetFieldSchema(ResponseSchema):
    name = ma.fields.String(required=True)
    type = ma.fields.String(required=True, metadata={"enum": list(TYPES)})


class OpenDatasetLinksSchema(ResponseSchema):
    versions = ma.fields.String(required=True)
    latest = ma.fields.String(required=True)
    records = ma.fields.String(required=True, metadata={"description": "The Explore v2.1 records"})
    datapackage = ma.fields.String(required=True, metadata={"description": "The latest Frictionless Data Package"})


class OpenDatasetSchema(ResponseSchema):
    id = ma.fields.String(required=True, metadata={"example": "signalements"})
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    keywords = ma.fields.List(ma.fields.String(), required=True)
    licence = ma.fields.Nested(LicenceSchema, required=True)
    source = ma.fields.Nested(SourceSchema, required=True)
    spatial = ma.fields.Boolean(required=True)
    key = ma.fields.String(required=True, metadata={"description": "The field that identifies a row"})
    fields = ma.fields.List(ma.fields.Nested(OpenDatasetFieldSchema), required=True)
    latest = ma.fields.Nested(DatasetVersionSchema, required=True)
    example = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={"description": "A ready query: parameters of the Explore records"},
    )
    links = ma.fields.Nested(OpenDatasetLinksSchema, required=True)


class OpenDatasetListSchema(ResponseSchema):
    items = ma.fields.List(ma.fields.Nested(OpenDatasetSchema), required=True)


_FILE_TYPES = sorted(set(snapshots.MEDIA_TYPES.values()))
PUBLIC = OPTIONAL_KEY_SECURITY


@datasets_blp.route("/datasets")
class OpenDatasets(MethodView):
    @datasets_blp.operation("listOpenDatasets")
    @datasets_blp.response(200, OpenDatasetListSchema)
    @datasets_blp.doc(security=PUBLIC)
    @read_only
    def get(self):
        """The published datasets, each with its latest version and its files"""
        return {"items": downloads.list_datasets(db_session(), links())}


@datasets_blp.route("/datasets/<string:dataset_id>")
class OpenDataset(MethodView):
    @datasets_blp.operation("getOpenDataset", downloads.DatasetNotFound)
    @datasets_blp.response(200, OpenDatasetSchema)
    @datasets_blp.doc(security=PUBLIC)
    @read_only
    def get(self, dataset_id: str):
        """A dataset: its fields, its licence, its latest version and files"""
        return downloads.get_dataset(db_session(), dataset_id, links())


@datasets_blp.route("/datasets/<string:dataset_id>/versions")
class OpenDatasetVersions(MethodView):
    @datasets_blp.operation("listOpenDatasetVersions", downloads.DatasetNotFound)
    @datasets_blp.response(200, DatasetVersionListSchema)
    @datasets_blp.doc(security=PUBLIC)
    @read_only
    def get(self, dataset_id: str):
        """A dataset's versions still downloadable, newest first, with what changed in each"""
        return {"items": downloads.list_versions(db_session(), dataset_id, links())}


@datasets_blp.route("/datasets/<string:dataset_id>/versions/<string:version>")
class OpenDatasetVersion(MethodView):
    @datasets_blp.operation("getOpenDatasetVersion", downloads.DatasetNotFound, downloads.VersionNotFound)
    @datasets_blp.response(200, DatasetVersionSchema)
    @datasets_blp.doc(security=PUBLIC, parameters=[VERSION_PATH], responses={"302": LATEST_REDIRECT})
    @read_only
    def get(self, dataset_id: str, version: str):
        """A version and its files (`latest`: redirected to the current one)"""
        found = downloads.get_dataset_version(db_session(), dataset_id, version)
        if version == downloads.LATEST:
            return _to_latest(found.version)
        return downloads.describe_version(found, links())


@datasets_blp.route("/datasets/<string:dataset_id>/versions/<string:version>/<string:file>")
class OpenDatasetFile(MethodView):
    @datasets_blp.operation(
        "downloadOpenDatasetFile",
        downloads.DatasetNotFound,
        downloads.VersionNotFound,
        downloads.FileNotFound,
        downloads.RangeNotSatisfiable,
    )
    @datasets_blp.doc(
        security=PUBLIC,
        parameters=[
            VERSION_PATH,
            {
                "in": "path",
                "name": "file",
                "required": True,
                "description": "One of the version's files",
                "schema": {"type": "string", "enum": list(snapshots.MEDIA_TYPES)},
            },
            {"in": "header", "name": "Range", "description": "One byte range: `bytes=0-1023`", **TEXT},
            {"in": "header", "name": "If-None-Match", "description": "The ETag you have: 304 if unchanged", **TEXT},
        ],
        responses={
            "200": file_response("The whole file (immutable: cache it)", *_FILE_TYPES, headers=FILE_HEADERS),
            "206": file_response(
                "The range asked for",
                *_FILE_TYPES,
                headers={**FILE_HEADERS, "Content-Range": {"description": "`bytes 0-1023/4096`", **TEXT}},
            ),
            "302": LATEST_REDIRECT,
            "304": {"description": "Not modified (If-None-Match)", "headers": {"ETag": FILE_HEADERS["ETag"]}},
        },
    )
    @read_only
    def get(self, dataset_id: str, version: str, file: str):
        """A file of a version, whole or a byte range (`latest`: redirected to the current version)

        Each version is immutable: its files carry their SHA-256 as a strong `ETag` and in
        `Repr-Digest`, and may be cached for a year. Check a download against the version's
        `SHA256SUMS` (`sha256sum -c SHA256SUMS`); resume one with `Range`.
        """
        if version == downloads.LATEST:
            found = downloads.get_dataset_version(db_session(), dataset_id, version)
            return _to_latest(found.version)
        byte_range = None
        asked = request.range
        if asked is not None and asked.units == "bytes" and len(asked.ranges) == 1 and request.if_range.date is None:
            byte_range = _inclusive(asked.ranges[0])  # several ranges: the whole file (RFC 9110)
        answer = downloads.download(
            db_session(),
            deps.core().storage,
            dataset_id,
            version,
            file,
            known_etags=request.if_none_match.as_set(),
            byte_range=byte_range,
            if_range=request.if_range.etag,
        )
        if answer.status == 304:
            return Response(status=304, headers=answer.headers)
        return Response(answer.body, status=answer.status, headers=answer.headers, content_type=answer.content_type)


def _inclusive(byte_range: tuple[int, int | None]) -> tuple[int | None, int | None]:
    """werkzeug's (start, stop exclusive) or (-n, None) as (start, end inclusive) or (None, n)."""
    start, stop = byte_range
    if start < 0:
        return None, -start
    return start, None if stop is None else stop - 1


def _to_latest(version: str) -> Response:
    path = request.path.replace(f"/versions/{downloads.LATEST}", f"/versions/{version}", 1)
    location = request.script_root + path
    return Response(status=302, headers={"Location": location, "Cache-Control": "no-cache"})


# --- the DCAT catalog: /catalog.jsonld, /catalog.ttl -----------------------------------------------

dcat_blp = Blueprint(
    "dcat", __name__, description="The open datasets as a DCAT catalog (DCAT-AP), for data.gouv.fr and other harvesters"
)
CATALOG_CACHE = "public, max-age=300"


def _dcat_document() -> dict[str, Any]:
    from sandbox.app import MOUNT

    home = deps.core().settings.public_base_url + MOUNT + "/"
    return dcat.catalog(db_session(), links(), home=home)


@dcat_blp.route("/catalog.jsonld")
class DcatJsonLd(MethodView):
    @dcat_blp.operation("getDcatCatalogJsonLd")
    @dcat_blp.doc(
        responses={
            "200": {
                "description": "A dcat:Catalog, its @context inline: a dcat:Dataset per dataset, a "
                "dcat:Distribution per file of its latest version",
                "content": {"application/ld+json": {"schema": {"type": "object"}}},
            }
        }
    )
    @read_only
    def get(self):
        """The DCAT catalog in JSON-LD"""
        body = json.dumps(_dcat_document())
        return Response(body, content_type="application/ld+json", headers={"Cache-Control": CATALOG_CACHE})


@dcat_blp.route("/catalog.ttl")
class DcatTurtle(MethodView):
    @dcat_blp.operation("getDcatCatalogTurtle")
    @dcat_blp.doc(responses={"200": file_response("The same DCAT catalog in Turtle", "text/turtle")})
    @read_only
    def get(self):
        """The DCAT catalog in Turtle"""
        body = dcat.turtle(_dcat_document())
        return Response(body, content_type="text/turtle; charset=utf-8", headers={"Cache-Control": CATALOG_CACHE})
