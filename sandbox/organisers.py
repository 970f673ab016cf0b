"""The organisers' pages (/sandbox/organisation/), in French: the hackathon's events and teams —
create an event, suspend or reinstate a team, set its own limits — for the Département's admins,
recognised by their staff-console session (``backend.export.console_admin``: the same cookie,
the same token checks); anyone else is sent to the console's sign-in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from backend import export
from backend.http import db_session, read_only
from sandbox import services

blp = Blueprint("organisers", __name__, url_prefix="/organisation", template_folder="templates")
NOTICE = "organiser_notice"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}\Z")
USAGE_DAYS = 7


def _now() -> datetime:
    return datetime.now(UTC)


@blp.before_request
def _admin_only() -> Response | None:
    """An admin signed in to the console, or the console's sign-in (back here after)."""
    raw = request.cookies.get(export.CONSOLE_COOKIE)
    payload = None
    if raw:
        serializer = SecureCookieSessionInterface().get_signing_serializer(current_app)
        try:
            payload = serializer.loads(raw) if serializer is not None else None
        except BadSignature:
            payload = None
    email = export.console_admin(db_session(), payload, now=_now())
    if email is None:
        return redirect(f"/console/connexion?suivant={url_for('organisers.index')}", 303)
    g.organiser = email
    return None


@blp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(problem: str | None = None) -> str:
    """Every event and team, with each team's requests over the last 7 days and its forms."""
    teams = services.list_teams(db_session())
    usage = services.usage_by_day(db_session(), [t.id for t in teams], USAGE_DAYS, today=services.utc_today(_now()))
    return render_template(
        "organisers.html",
        events=services.list_events(db_session()),
        teams=teams,
        usage={team.id: sum(usage[team.id].values()) for team in teams},
        organiser=g.organiser,
        notice=None if problem else session.pop(NOTICE, None),
        problem=problem,
    )


@blp.get("/")
@read_only
def index() -> str:
    """The organisers' page."""
    return _page()


def _done(message: str) -> Response:
    session[NOTICE] = message
    return redirect(url_for("organisers.index"), 303)


def _refused(message: str) -> tuple[str, int]:
    """The page again, saying what to correct (nothing was changed)."""
    return _page(problem=message), 422


def _number(name: str) -> int | None:
    text = request.form.get(name, "").strip()
    return int(text) if text.isdigit() and len(text) <= 9 else None


@blp.post("/equipes/<int:team_id>/statut")
def team_status(team_id: int) -> Response | tuple[str, int]:
    """Suspend a team (its keys are refused at once, 403 team_suspended) or reinstate it."""
    status = request.form.get("statut", "")
    if status not in ("active", "suspended"):
        return _refused("Choisissez « active » ou « suspendue ».")
    team = services.find_team(db_session(), team_id)
    services.set_team_status(db_session(), team, status)
    return _done(f"Équipe {team.name} : {'réactivée' if status == 'active' else 'suspendue'}.")


@blp.post("/equipes/<int:team_id>/limites")
def team_limits(team_id: int) -> Response | tuple[str, int]:
    """Set a team's own limits; a field left empty follows its event's."""
    values = {name: _number(name) for name in ("rate", "burst", "quota")}
    given = {name: request.form.get(name, "").strip() for name in values}
    if any(text and values[name] in (None, 0) for name, text in given.items()):
        return _refused("Les limites sont des nombres entiers positifs (laissez vide pour celles de l'événement).")
    team = services.find_team(db_session(), team_id)
    services.set_team_limits(
        db_session(), team, rate_per_second=values["rate"], burst=values["burst"], daily_quota=values["quota"]
    )
    return _done(f"Équipe {team.name} : limites enregistrées.")


@blp.post("/evenements")
def create_event() -> Response | tuple[str, int]:
    """A new event: its dates (its keys expire at its end) and its default limits."""
    form = {name: request.form.get(name, "").strip() for name in ("slug", "name", "starts", "ends")}
    numbers = {name: _number(name) for name in ("rate", "burst", "quota")}
    try:
        starts, ends = (datetime.fromisoformat(form[name]) for name in ("starts", "ends"))
    except ValueError:
        return _refused("Indiquez le début et la fin au format AAAA-MM-JJTHH:MM.")
    if not SLUG.match(form["slug"]) or not form["name"] or None in numbers.values() or 0 in numbers.values():
        return _refused(
            "Indiquez l'identifiant (minuscules, chiffres, tirets), le nom et des limites entières positives."
        )
    if any(event.slug == form["slug"] for event in services.list_events(db_session())):
        return _refused(f"Un événement a déjà l'identifiant {form['slug']}.")
    starts = starts if starts.tzinfo else starts.replace(tzinfo=UTC)
    ends = ends if ends.tzinfo else ends.replace(tzinfo=UTC)
    try:
        services.create_event(
            db_session(),
            slug=form["slug"][:64],
            name=form["name"][:200],
            starts_at=starts,
            ends_at=ends,
            rate_per_second=numbers["rate"],
            burst=numbers["burst"],
            daily_quota=numbers["quota"],
        )
    except services.DomainError:
        db_session().rollback()
        return _refused("L'événement doit finir après son début.")
    return _done(f"Événement {form['name']} créé.")
