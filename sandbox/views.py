"""The sandbox API: the catalog (keyless trial tier too) and a team's private test reports."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g, request
from flask.views import MethodView
from flask_limiter import Limiter

from backend import export
from backend.http import Blueprint, db_session, json_body
from sandbox import limits, schemas, services

catalog_blp = Blueprint(
    "sandbox_catalog", __name__, description="The public catalog (keyless: a trial limit per address)"
)
reports_blp = Blueprint(
    "sandbox_reports", __name__, description="Your team's test reports: routed like real ones, seen by no one else"
)
KEY_REQUIRED = {"sandbox_reports"}


def apply_limits(limiter: Limiter) -> None:
    """Decorate the blueprints with the keyed limits, and the public ones (Signal93's catalog, the
    open datasets and their downloads) with the trial limit too."""
    from sandbox.opendata.views import blp as explore_blp
    from sandbox.opendata.views import datasets_blp

    for decorator in (*limits.key_limits(limiter), limits.trial_limit(limiter)):
        for blueprint in (catalog_blp, explore_blp, datasets_blp):
            decorator(blueprint)
    for decorator in limits.key_limits(limiter):
        decorator(reports_blp)


@catalog_blp.route("/categories")
class Categories(MethodView):
    @catalog_blp.operation("listSandboxCategories")
    @catalog_blp.response(200, schemas.CategoriesSchema)
    @catalog_blp.doc(security=schemas.OPTIONAL_KEY_SECURITY)
    def get(self):
        """Categories and their attribute definitions"""
        return {"items": export.categories(db_session())}


@catalog_blp.route("/zones")
class Zones(MethodView):
    @catalog_blp.operation("listSandboxZones")
    @catalog_blp.arguments(schemas.ZoneKindQuerySchema, location="query")
    @catalog_blp.response(200, schemas.FeatureCollectionSchema)
    @catalog_blp.doc(security=schemas.OPTIONAL_KEY_SECURITY)
    def get(self, args):
        """Zones of one kind (GeoJSON)"""
        return export.zones_of_kind(db_session(), args["kind"])


@reports_blp.route("/reports")
class TestReports(MethodView):
    @reports_blp.operation(
        "createTestReport",
        export.ReportRejected,
        (422, "unknown_category"),
        (422, "outside_territory"),
        (422, "no_route"),
    )
    @json_body()
    @reports_blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": export.ReportPayloadShape, "example": export.REPORT_EXAMPLE}},
        }
    )
    @reports_blp.response(201, schemas.TestReportSchema)
    @reports_blp.doc(security=schemas.KEY_SECURITY)
    def post(self):
        """Submit a test report: same body, validation and routing as POST /api/v1/reports"""
        now = datetime.now(UTC)
        session = db_session()
        result = export.preview_report(session, request.get_json(), now=now)
        return services.add_test_report(session, g.caller.team_id, result, now=now)

    @reports_blp.operation("listTestReports")
    @reports_blp.response(200, schemas.TestReportListSchema)
    @reports_blp.doc(security=schemas.KEY_SECURITY)
    def get(self):
        """Your team's test reports, newest first, with their routing decisions"""
        return {"items": services.list_test_reports(db_session(), g.caller.team_id)}

    @reports_blp.operation("resetTestReports")
    @reports_blp.response(200, schemas.ResetSchema)
    @reports_blp.doc(security=schemas.KEY_SECURITY)
    def delete(self):
        """Reset your team's space: delete its test reports"""
        return {"deleted": services.reset_test_reports(db_session(), g.caller.team_id)}
