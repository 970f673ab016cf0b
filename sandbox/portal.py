"""The portal, in French, server-rendered and usable without JavaScript."""

from __future__ import annotations

import logging
import shlex
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError

from backend import deps
from backend.http import db_session, private_response, read_only
from sandbox import limits, services
from sandbox.models import Event

log = logging.getLogger(__name__)
blp = Blueprint("portal", __name__, template_folder="templates", static_folder="static", static_url_path="/static")
USAGE_DAYS = 14


def _now() -> datetime:
    return datetime.now(UTC)


def _secret() -> bytes:
    return current_app.extensions["sandbox.secret"]


def _base_url() -> str:
    return deps.core().settings.public_base_url + "/sandbox"


def _current_team():
    """The signed-in team, if the session is still its current one (a sign-out ends them all)."""
    team_id = session.get("team_id")
    if team_id is None:
        return None
    try:
        team = services.find_team(db_session(), team_id)
    except services.UnknownTeam:
        session.clear()
        return None
    if session.get("session_version") != team.session_version:
        session.clear()
        return None
    return team


def _sign_in(team) -> None:
    session.clear()
    session["team_id"] = team.id
    session["session_version"] = team.session_version


@blp.app_errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_template(
        "error.html",
        title="Formulaire expiré",
        message=("Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et recommencez."),
    ), 400


@blp.get("/")
def index() -> str:
    from sandbox.opendata import downloads
    from sandbox.opendata.views import links

    events = services.open_events(db_session(), _now())
    return render_template(
        "index.html",
        events=events,
        base_url=_base_url(),
        trial_limit=limits.TRIAL_LIMIT,
        example=_limits_of(events),
        datasets=downloads.list_datasets(db_session(), links()),
    )


@blp.app_template_filter("octets")
def _octets(size: int) -> str:
    """A file size as French readers write it: 850 octets, 12,3 Ko, 4,1 Mo."""
    for unit, scale in (("Go", 1 << 30), ("Mo", 1 << 20), ("Ko", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".replace(".", ",") + f"\u00a0{unit}"
    return f"{size}\u00a0octets"


@blp.app_template_filter("curl_query")
def _curl_query(example: dict[str, str]) -> str:
    """The query as curl's ``-G --data-urlencode`` options (readable, and encoded by curl)."""
    return " ".join(f"--data-urlencode {_shell_word(f'{name}={value}')}" for name, value in example.items())


def _shell_word(text: str) -> str:
    """``text`` quoted for a shell as a person would quote it ('…', or "…" around ODSQL strings)."""
    if "'" not in text:
        return f"'{text}'"
    if not any(character in text for character in '"$`\\!'):
        return f'"{text}"'
    return shlex.quote(text)


def _limits_of(events: list[Event]) -> dict[str, int]:
    event = events[0] if events else Event(rate_per_second=10, burst=20, daily_quota=10_000)
    return {"rate": event.rate_per_second, "burst": event.burst, "quota": event.daily_quota}


@blp.route("/inscription", methods=["GET", "POST"])
def register() -> tuple[str, int] | str:
    events = services.open_events(db_session(), _now())
    if request.method == "GET":
        return render_template("register.html", events=events, form={}, errors={})
    form = request.form
    try:
        team, row, key = services.register_team(
            db_session(),
            name=form.get("name", ""),
            contact_email=form.get("contact_email", ""),
            event_slug=form.get("event", ""),
            accepted_terms=form.get("accepted_terms") == "yes",
            now=_now(),
            secret=_secret(),
        )
    except services.InvalidRegistration as exc:
        return render_template("register.html", events=events, form=form, errors=exc.errors), 422
    _sign_in(team)
    private_response()  # the page shows the key
    return render_template("key_created.html", team=team, key=key, row=row, base_url=_base_url()), 201


@blp.route("/connexion", methods=["GET", "POST"])
def sign_in() -> str:
    if request.method == "GET":
        return render_template("sign_in.html", sent=False)
    email = request.form.get("contact_email", "")
    links = services.create_sign_in_links(db_session(), email, now=_now())
    mailer = current_app.extensions["sandbox.mailer"]
    for team, token in links:
        # url_for knows where the sandbox is mounted (its script root, /sandbox): only the host is added.
        link = deps.core().settings.public_base_url + url_for("portal.follow_link", token=token)
        mailer.send(
            team.contact_email,
            "Votre lien de connexion au bac à sable Signal93",
            render_template("mail_sign_in.txt", team=team, link=link, minutes=15),
        )
    # The same answer whether or not the address is known: no way to probe who registered.
    return render_template("sign_in.html", sent=True)


def _invalid_link() -> tuple[str, int]:
    return render_template(
        "error.html",
        title="Lien invalide",
        message="Ce lien de connexion a déjà servi ou a expiré (15 minutes). Demandez-en un nouveau.",
    ), 400


@blp.get("/connexion/<token>")
@read_only
def confirm_link(token: str) -> tuple[str, int] | str:
    """The e-mailed link: a page with a button (a mail scanner that follows links uses nothing up)."""
    if services.valid_sign_in_link(db_session(), token, now=_now()) is None:
        return _invalid_link()
    return render_template("sign_in_confirm.html", token=token)


@blp.post("/connexion/<token>")
def follow_link(token: str) -> Response | tuple[str, int]:
    team = services.consume_sign_in_link(db_session(), token, now=_now())
    if team is None:
        return _invalid_link()
    _sign_in(team)
    return redirect(url_for("portal.team_page"))


@blp.get("/equipe")
@read_only
def team_page() -> Response | str:
    team = _current_team()
    if team is None:
        return redirect(url_for("portal.sign_in"))
    # Counts not stored yet are added, not written: a GET changes nothing.
    pending = current_app.extensions["sandbox.usage"].peek()
    today = services.utc_today(_now())
    usage = services.usage_by_day(db_session(), [team.id], USAGE_DAYS, today=today, pending=pending)[team.id]
    return render_template("team.html", team=team, usage=usage, peak=max(usage.values()) or 1, now=_now())


@blp.post("/equipe/cles")
def new_key() -> Response | tuple[str, int]:
    team = _current_team()
    if team is None:
        return redirect(url_for("portal.sign_in"))
    row, key = services.issue_key(db_session(), team, now=_now(), secret=_secret())
    private_response()  # the page shows the key
    return render_template("key_created.html", team=team, key=key, row=row, base_url=_base_url()), 201


@blp.post("/equipe/cles/<prefix>/revocation")
def revoke_key(prefix: str) -> Response:
    team = _current_team()
    if team is None:
        return redirect(url_for("portal.sign_in"))
    services.revoke_key(db_session(), prefix=prefix, now=_now(), team=team)
    return redirect(url_for("portal.team_page"))


@blp.post("/deconnexion")
def sign_out() -> Response:
    """Sign out this browser and every copy of its session cookie."""
    team = _current_team()
    if team is not None:
        services.sign_out_everywhere(db_session(), team)
    session.clear()
    return redirect(url_for("portal.index"))
