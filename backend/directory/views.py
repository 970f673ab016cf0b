"""Public, read-only catalog endpoints: programs, categories, directorates, external bodies."""

from __future__ import annotations

from flask.views import MethodView

from backend.directory import schemas, services
from backend.http import Blueprint, db_session

blp = Blueprint("catalog", __name__, description="Programs, categories and the directorates that handle them")


@blp.route("/programs")
class Programs(MethodView):
    @blp.response(200, schemas.ProgramListSchema)
    def get(self):
        """List the programs (citizen apps)"""
        return {"items": services.list_programs(db_session())}


@blp.route("/categories")
class Categories(MethodView):
    @blp.arguments(schemas.CategoryQuerySchema, location="query")
    @blp.response(200, schemas.CategoryListSchema)
    def get(self, args):
        """List the categories a citizen can pick, with their attribute definitions"""
        return {"items": services.list_categories(db_session(), program=args.get("program"))}


@blp.route("/directorates")
class Directorates(MethodView):
    @blp.response(200, schemas.DirectorateListSchema)
    def get(self):
        """List the directorates and their units"""
        return {"items": services.list_directorates(db_session())}


@blp.route("/external-bodies")
class ExternalBodies(MethodView):
    @blp.response(200, schemas.ExternalBodyListSchema)
    def get(self):
        """List the external bodies (communes) that can receive referrals"""
        return {"items": services.list_external_bodies(db_session())}
