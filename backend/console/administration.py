"""The console's pages for admins: agents (create, role, unit, disable), categories, routing rules
(a public message naming only known placeholders), units' notification settings and webhook
secrets — through the services the admin API uses. Every other agent gets a 403 page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, redirect, request, session, url_for

from backend import deps, web
from backend.console.pages import blp, signed_in_agent
from backend.directory import admin, agents
from backend.directory.models import ROLES
from backend.errors import DomainError
from backend.http import db_session, read_only
from backend.notifications.units import webhook_secret
from backend.routing import admin as routing_admin

SECTIONS = {
    "agents": "Agents",
    "categories": "Catégories",
    "regles": "Règles d'acheminement",
    "unites": "Unités",
}
ROLE_LABELS = {"agent": "Agent", "supervisor": "Superviseur", "admin": "Administrateur"}
NOTIFY_LABELS = {"none": "Aucune", "email": "Récapitulatif par e-mail", "webhook": "Webhook signé"}
FIELD_LABELS = {
    "email": "adresse e-mail",
    "password": "mot de passe",
    "directorate": "direction",
    "unit": "unité",
    "role": "rôle",
    "active": "actif",
    "public_message": "message public",
    "notify_target": "destination",
    "notify_method": "notification",
}


def _admin_page(section: str, *, status: int = 200, notice: str | None = None, problem: str | None = None) -> Response:
    agent = signed_in_agent()
    agents.require_admin(agent)
    context: dict[str, Any] = {}
    if section == "agents":
        context["agents"] = admin.list_agents(db_session())
    elif section == "categories":
        context["categories"] = admin.list_categories(db_session())
    elif section == "regles":
        context["rules"] = routing_admin.list_rules(db_session())
    else:
        secret = deps.current().settings.secret_key
        units = admin.list_units(db_session())
        context["units"] = units
        context["secrets"] = {unit.code: webhook_secret(secret, unit.code) for unit in units}
    return web.page(
        "console/admin.html",
        status,
        title=SECTIONS[section],
        agent=agent,
        section=section,
        sections=SECTIONS,
        roles=ROLES,
        role_labels=ROLE_LABELS,
        notify_labels=NOTIFY_LABELS,
        notice=notice or session.pop("console_notice", None),
        problem=problem,
        **context,
    )


def _change(section: str, done: str, action: Callable[[], Any]) -> Response:
    """Run an admin's change; back to the section, saying what happened or what is wrong (in French)."""
    agents.require_admin(signed_in_agent())
    try:
        action()
    except DomainError as refused:
        if refused.status == 404 or refused.status == 403:
            raise
        db_session().rollback()
        names = [
            name
            for key, value in refused.errors.items()
            for name in (value if isinstance(value, dict) else [key])  # {"json": {field: …}} or {field: …}
        ]
        fields = [FIELD_LABELS.get(name, name) for name in names]
        if refused.code == "last_admin":
            problem = "C'est le dernier administrateur actif : nommez d'abord un autre administrateur."
        elif fields:
            problem = "À corriger : " + ", ".join(fields) + "."
        else:
            problem = "La modification n'a pas pu être enregistrée."
        return _admin_page(section, status=refused.status, problem=problem)
    session["console_notice"] = done
    return redirect(url_for("console.administration", section=section), 303)


@blp.get("/admin/<any(agents, categories, regles, unites):section>")
@read_only
def administration(section: str) -> Response:
    """An admin's list of agents, categories, routing rules or units, each with its form."""
    return _admin_page(section)


def _form(name: str, limit: int = 500) -> str:
    return request.form.get(name, "").strip()[:limit]


def _number(name: str) -> int | None:
    text = _form(name, 9)
    return int(text) if text.isdigit() else None


@blp.post("/admin/agents")
def create_agent() -> Response:
    data = {
        "email": _form("email", 254),
        "password": request.form.get("password", "")[:1024],
        "directorate": _form("directorate", 16),
        "unit": _form("unit", 64) or None,
        "role": _form("role", 16),
    }
    return _change("agents", f"Agent {data['email']} créé.", lambda: admin.create_agent(db_session(), data))


@blp.post("/admin/agents/<int:agent_id>")
def update_agent(agent_id: int) -> Response:
    changes: dict[str, Any] = {"role": _form("role", 16), "active": request.form.get("active") == "oui"}
    changes["unit"] = _form("unit", 64) or None
    return _change("agents", "Agent modifié.", lambda: admin.update_agent(db_session(), agent_id, changes))


@blp.post("/admin/categories/<string:code>")
def update_category(code: str) -> Response:
    changes: dict[str, Any] = {"name": _form("name", 200), "active": request.form.get("active") == "oui"}
    for name in ("target_days", "similar_radius_m"):
        value = _number(name)
        if value is None or not (1 <= value <= (365 if name == "target_days" else 5000)):
            return _admin_page("categories", status=422, problem=f"À corriger : {name} (un nombre dans les bornes).")
        changes[name] = value
    if not changes["name"]:
        return _admin_page("categories", status=422, problem="À corriger : le nom de la catégorie.")
    return _change("categories", "Catégorie modifiée.", lambda: admin.update_category(db_session(), code, changes))


@blp.post("/admin/regles/<string:code>")
def update_rule(code: str) -> Response:
    position = _number("position")
    if position is None or position > 100_000:
        return _admin_page("regles", status=422, problem="À corriger : la position (un nombre).")
    changes = {
        "active": request.form.get("active") == "oui",
        "position": position,
        "public_message": _form("public_message", 2000),
    }
    return _change("regles", "Règle modifiée.", lambda: routing_admin.update_rule(db_session(), code, changes))


@blp.post("/admin/unites/<string:code>")
def update_unit(code: str) -> Response:
    changes = {
        "notify_method": _form("notify_method", 16),
        "notify_target": _form("notify_target", 500),
        "active": request.form.get("active") == "oui",
    }
    return _change("unites", "Unité modifiée.", lambda: admin.update_unit(db_session(), code, changes))
