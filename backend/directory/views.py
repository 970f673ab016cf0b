"""Public, read-only catalog endpoints: programs, categories, directorates, external bodies."""

from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView

from backend.db import utcnow
from backend.directory import agents, schemas, services
from backend.http import Blueprint, current_agent, db_session, json_body

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


auth_blp = Blueprint("auth", __name__, description="Agents' sign-in: opaque bearer tokens")


@auth_blp.route("/auth/tokens")
class Tokens(MethodView):
    @json_body()
    @auth_blp.arguments(schemas.TokenRequestSchema())
    @auth_blp.response(201, schemas.TokenSchema)
    @auth_blp.alt_response(429, description="Too many failed sign-ins (Retry-After)")
    def post(self, data):
        """Sign in: e-mail and password for a bearer token (valid 12 hours)"""
        agent, token, expires_at = agents.issue_token(
            db_session(),
            email=data["email"],
            password=data["password"],
            address=request.remote_addr or "",
            now=utcnow(),
            throttle=current_app.extensions["signal93.sign_in_throttle"],
        )
        return {
            "token": token,
            "expires_at": expires_at,
            "agent": {
                "email": agent.email,
                "role": agent.role,
                "directorate": agent.directorate.code,
                "unit": agent.unit.code if agent.unit else None,
            },
        }


@auth_blp.route("/auth/tokens/current")
class CurrentToken(MethodView):
    @auth_blp.response(204)
    @auth_blp.doc(security=[{"AgentToken": []}])
    def delete(self):
        """Sign out: revoke this token at once"""
        current_agent()
        agents.revoke(db_session(), g.agent_token, utcnow())
