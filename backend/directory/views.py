"""Public, read-only catalog endpoints: programs, categories, directorates, external bodies."""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView

from backend import deps
from backend.db import utcnow
from backend.directory import admin, agents, schemas, services
from backend.directory.auth import current_admin, current_agent
from backend.errors import NotFound
from backend.http import ID, Blueprint, db_session, json_body, private_response, read_only

blp = Blueprint("catalog", __name__, description="Programs, categories and the directorates that handle them")


@blp.route("/programs")
class Programs(MethodView):
    @blp.operation("listPrograms")
    @blp.response(200, schemas.ProgramListSchema)
    @read_only
    def get(self):
        """List the programs (citizen apps)"""
        return {"items": services.list_programs(db_session())}


@blp.route("/categories")
class Categories(MethodView):
    @blp.operation("listCategories", (422, "unknown_program"))
    @blp.arguments(schemas.CategoryQuerySchema, location="query")
    @blp.response(200, schemas.CategoryListSchema)
    @read_only
    def get(self, args):
        """List the categories a citizen can pick, with their attribute definitions"""
        return {"items": services.list_categories(db_session(), program=args.get("program"))}


@blp.route("/directorates")
class Directorates(MethodView):
    @blp.operation("listDirectorates")
    @blp.response(200, schemas.DirectorateListSchema)
    @read_only
    def get(self):
        """List the directorates and their units"""
        return {"items": services.list_directorates(db_session())}


@blp.route("/external-bodies")
class ExternalBodies(MethodView):
    @blp.operation("listExternalBodies")
    @blp.response(200, schemas.ExternalBodyListSchema)
    @read_only
    def get(self):
        """List the external bodies (communes) that can receive referrals"""
        return {"items": services.list_external_bodies(db_session())}


auth_blp = Blueprint("auth", __name__, description="Agents' sign-in: opaque bearer tokens")


@auth_blp.route("/auth/tokens")
class Tokens(MethodView):
    @auth_blp.operation("createToken", agents.BadCredentials, agents.TooManyAttempts)
    @json_body()
    @auth_blp.arguments(
        schemas.TokenRequestSchema(),
        example={"email": "agent.voirie@seinesaintdenis.fr", "password": "correct horse battery staple"},
    )
    @auth_blp.response(201, schemas.TokenSchema)
    @auth_blp.alt_response(
        429,
        description="Too many failed sign-ins",
        headers={"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}},
    )
    def post(self, data):
        """Sign in: e-mail and password for a bearer token (valid 12 hours)"""
        private_response()
        agent, token, expires_at = agents.issue_token(
            db_session(),
            email=data["email"],
            password=data["password"],
            address=request.remote_addr or "",
            now=utcnow(),
            throttle=deps.current().sign_in_throttle,
        )
        return {"token": token, "expires_at": expires_at, "agent": agent}


@auth_blp.route("/auth/tokens/current")
class CurrentToken(MethodView):
    @auth_blp.operation("revokeCurrentToken")
    @auth_blp.response(204)
    @auth_blp.doc(security=[{"AgentToken": []}])
    def delete(self):
        """Sign out: revoke this token at once"""
        current_agent()
        agents.revoke(db_session(), g.agent_token_id, utcnow())


admin_blp = Blueprint("admin", __name__, description="Admins: agents and categories")


@admin_blp.route("/admin/agents")
class AdminAgents(MethodView):
    @admin_blp.operation("listAgents", agents.AdminsOnly)
    @admin_blp.response(200, schemas.AgentListSchema)
    @admin_blp.doc(security=[{"AgentToken": []}])
    def get(self):
        """List agents"""
        current_admin()
        return {"items": admin.list_agents(db_session())}

    @admin_blp.operation("createAgent", agents.AdminsOnly)
    @json_body()
    @admin_blp.arguments(
        schemas.AgentCreateSchema(),
        example={
            "email": "agent.eau@seinesaintdenis.fr",
            "password": "une phrase de passe longue",
            "directorate": "DEA",
            "unit": "DEA-T6",
            "role": "agent",
        },
    )
    @admin_blp.response(201, schemas.AgentOutSchema)
    @admin_blp.doc(security=[{"AgentToken": []}])
    def post(self, data):
        """Create an agent"""
        current_admin()
        return admin.create_agent(db_session(), data)


@admin_blp.route(f"/admin/agents/<{ID}:agent_id>")
class AdminAgent(MethodView):
    @admin_blp.operation("updateAgent", agents.AdminsOnly, NotFound, admin.LastAdmin)
    @json_body()
    @admin_blp.arguments(schemas.AgentUpdateSchema(), example={"role": "supervisor", "unit": "DVD-T8"})
    @admin_blp.response(200, schemas.AgentOutSchema)
    @admin_blp.doc(security=[{"AgentToken": []}])
    def patch(self, data, agent_id: int):
        """Change an agent's role, unit, or disable them (their tokens stop at once)"""
        current_admin()
        return admin.update_agent(db_session(), agent_id, data)


@admin_blp.route("/admin/categories/<string:code>")
class AdminCategory(MethodView):
    @admin_blp.operation("updateCategory", agents.AdminsOnly, NotFound)
    @json_body()
    @admin_blp.arguments(schemas.CategoryUpdateSchema(), example={"target_days": 10, "similar_radius_m": 40})
    @admin_blp.response(200, schemas.CategorySchema)
    @admin_blp.doc(security=[{"AgentToken": []}])
    def patch(self, data, code: str):
        """Change a category (labels, target time, radius, active): new reports see it at once"""
        current_admin()
        return admin.update_category(db_session(), code, data)
