"""Admins' endpoints over the routing rules."""

from __future__ import annotations

from flask.views import MethodView

from backend.directory.agents import AdminsOnly
from backend.directory.auth import current_admin
from backend.errors import NotFound
from backend.http import Blueprint, db_session, json_body
from backend.routing import admin, schemas

blp = Blueprint("routing_admin", __name__, description="Admins: the routing rules (who receives which report)")


@blp.route("/admin/routing-rules")
class AdminRules(MethodView):
    @blp.operation("listRoutingRules", AdminsOnly)
    @blp.response(200, schemas.RuleListSchema)
    @blp.doc(security=[{"AgentToken": []}])
    def get(self):
        """The routing rules, in order"""
        current_admin()
        return {"items": admin.list_rules(db_session())}


@blp.route("/admin/routing-rules/<string:code>")
class AdminRule(MethodView):
    @blp.operation("updateRoutingRule", AdminsOnly, NotFound)
    @json_body()
    @blp.arguments(schemas.RuleUpdateSchema(), example={"active": True, "position": 20})
    @blp.response(200, schemas.RuleSchema)
    @blp.doc(security=[{"AgentToken": []}])
    def patch(self, data, code: str):
        """Change a rule (active, position, public message): it applies to new reports only"""
        current_admin()
        return admin.update_rule(db_session(), code, data)
