"""The console's pages: sign in and out, the queue (every filter of the triage API, in the URL),
a report with every action, the CSV of what is shown, the originals of photos and videos.

A console session is an agent token, the API's own: issued by the same sign-in (same passwords,
same throttling), kept in the signed session cookie (HttpOnly, SameSite=Lax, Secure in
production), checked on every request (a disabled account or a revoked token is out at once),
revoked when the agent signs out, and left after 30 minutes without a request."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import marshmallow as ma
from flask import Response, current_app, g, redirect, request, session, stream_with_context, url_for

from backend import deps, http, web
from backend.db import utcnow
from backend.directory import agents
from backend.directory.models import Agent
from backend.errors import DomainError
from backend.http import db_session, read_only
from backend.media.services import MediaNotFound
from backend.reports.models import PRIORITIES, PRIORITY_LABELS, STATUS_LABELS, STATUSES, format_reference
from backend.triage import access, identification, moves, stats
from backend.triage import media as agent_media
from backend.triage import queue as triage_queue
from backend.triage.errors import StaleReport
from backend.triage.schemas import QueueQuerySchema, TriageReportDetailSchema, queue_item
from backend.web import sessions as console_session

blp = web.pages_blueprint("console", __name__, url_prefix="/console", template_folder="templates")

TOKEN, SEEN = console_session.TOKEN, console_session.SEEN
PUBLIC_ENDPOINTS = ("console.sign_in", "console.sign_in_form")
_QUEUE = QueueQuerySchema()
_DETAIL = TriageReportDetailSchema()
SORT_LABELS = {
    "received": "Les plus récents",
    "oldest": "Les plus anciens",
    "due": "Échéance la plus proche",
    "supports": "Les plus soutenus",
    "priority": "Priorité",
}
# Why a form was refused, as an agent reads it.
REFUSALS = {
    "invalid_transition": "Ce changement de statut n'est pas permis depuis le statut actuel pour votre rôle.",
    "note_required": "Pour rejeter ou transmettre un signalement, écrivez pourquoi dans la note.",
    "forbidden_for_role": "Seul un superviseur (ou un administrateur) peut faire cela.",
    "unknown_agent": "Aucun agent actif de la direction n'a cette adresse e-mail.",
    "unknown_unit": "Aucune unité active de la direction n'a ce code.",
    "invalid_reroute": "Le signalement ne peut pas être réacheminé vers cette unité : il faut une unité active "
    "d'une autre direction.",
    "invalid_identification_review": "Cette identification ne peut pas être enregistrée : "
    "l'espèce doit être de la liste.",
    "not_held": "Seuls les vidéos et les photos d'espèces sensibles se publient à la main.",
    "invalid_media": "Cette vidéo est illisible : elle ne peut pas être nettoyée, donc pas publiée.",
    "validation_error": "Le formulaire est incomplet ou contient une valeur non reconnue.",
}


@blp.app_template_filter("status_label")
def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "")


@blp.app_template_filter("priority_label")
def priority_label(priority: str | None) -> str:
    return PRIORITY_LABELS.get(priority or "", priority or "")


# The trail as agents read it, by event kind.
EVENT_TEXTS = {
    "submitted": "Signalement reçu",
    "routed": "Acheminé",
    "note": "Note",
    "assigned": "Affectation",
    "priority": "Priorité changée",
    "description_publication": "Publication de la description",
    "rerouted": "Réacheminé vers une autre direction",
    "media_added": "Photo ou vidéo ajoutée",
    "media_published": "Photo ou vidéo publiée",
    "media_unpublished": "Photo ou vidéo retirée",
    "seen_again": "Observé de nouveau",
    "identification_reviewed": "Identification revue",
    "reporter_notified": "Auteur prévenu par e-mail",
    "unit_notified": "Unité prévenue",
    "urgent_alerted": "Alerte urgente envoyée",
}


@blp.app_template_filter("trail_text")
def trail_text(event: dict[str, Any]) -> str:
    """One event of a report's trail, in French, with its note when it has one."""
    data = event.get("data") or {}
    if event.get("kind") == "status":
        text = f"Statut : {status_label(data.get('to') or data.get('status'))}"
    else:
        text = EVENT_TEXTS.get(event.get("kind", ""), event.get("kind", ""))
    if data.get("priority"):
        text += f" : {priority_label(data['priority'])}"
    note = data.get("note") or data.get("internal_note")
    return f"{text} — « {note} »" if note else text


@blp.before_request
def _signed_in() -> Response | None:
    """Every page but the sign-in's needs a live session: else to the sign-in, back here after."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = console_session.live_token(dict(session), time.time())
    seen = session.get(SEEN)
    if token:
        try:
            g.agent, g.agent_token_id = agents.authenticate(db_session(), token, now=utcnow())
        except DomainError:  # revoked, expired, or the account disabled
            token = None
        else:
            session[SEEN] = int(time.time())
            return None
    reason = "expiree" if token or seen else None
    session.pop(TOKEN, None)
    session.pop(SEEN, None)
    arguments = {"suivant": request.full_path if request.method == "GET" else url_for("console.queue_page")}
    if reason:
        arguments["raison"] = reason
    return redirect(url_for("console.sign_in_form", **arguments), 303)


def signed_in_agent() -> Agent:
    return g.agent


def _next_page(target: str | None) -> str:
    """Where to go after signing in: a page of the console (or the sandbox's organiser pages,
    which recognise an admin's console session), never elsewhere."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith(("/console/", "/sandbox/organisation/")):
        return url_for("console.queue_page")
    return parts.path + (f"?{parts.query}" if parts.query else "")


@blp.get("/connexion")
@read_only
def sign_in_form() -> Response:
    """The sign-in page (the agents' e-mail and password)."""
    message = "Votre session a expiré : reconnectez-vous." if request.args.get("raison") == "expiree" else None
    return web.page(
        "console/sign_in.html", title="Connexion", message=message, next=_next_page(request.args.get("suivant"))
    )


@blp.post("/connexion")
def sign_in() -> Response:
    """Exchange e-mail and password for a console session (the same throttling as the API)."""
    email = request.form.get("email", "")[:254]
    target = _next_page(request.form.get("suivant"))
    try:
        _, token, _ = agents.issue_token(
            db_session(),
            email=email,
            password=request.form.get("password", "")[:1024],
            address=request.remote_addr or "",
            now=utcnow(),
            throttle=deps.current().sign_in_throttle,
        )
    except agents.TooManyAttempts as refused:
        response = web.page(
            "console/sign_in.html",
            429,
            title="Connexion",
            error="Trop d'essais infructueux depuis cet appareil : patientez quelques minutes avant de réessayer.",
            email=email,
            next=target,
        )
        response.headers.update(refused.headers)
        return response
    except agents.BadCredentials:
        return web.page(
            "console/sign_in.html",
            401,
            title="Connexion",
            error="Adresse e-mail ou mot de passe incorrect, ou compte désactivé.",
            email=email,
            next=target,
        )
    session.clear()
    session[TOKEN] = token
    session[SEEN] = int(time.time())
    session.permanent = False
    return redirect(target, 303)


@blp.post("/deconnexion")
def sign_out() -> Response:
    """End the session: its token is revoked (a copy of the cookie opens nothing after)."""
    agents.revoke(db_session(), g.agent_token_id, utcnow())
    session.clear()
    return redirect(url_for("console.sign_in_form"), 303)


def _queue_args(source: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The queue's filters from the URL (the triage API's own names and rules); empty fields of
    the filter form are no filter. Returns the parsed arguments and the errors, in French."""
    raw: dict[str, Any] = {}
    for name, value in source.items(multi=True):
        if not value.strip():
            continue
        if name in _QUEUE.fields:
            raw.setdefault(name, []).append(value)
    flat = {name: values if name == "status" else values[0] for name, values in raw.items()}
    try:
        return _QUEUE.load(flat), {}
    except ma.ValidationError as invalid:
        fields = invalid.messages if isinstance(invalid.messages, dict) else {}
        return _QUEUE.load({}), {name: "valeur non reconnue" for name in fields}


def _bad_filters() -> Response:
    return web.error_page(422, "Filtres à corriger", "Un des filtres n'est pas reconnu : corrigez-le sur la file.")


@blp.get("/")
@read_only
def queue_page() -> Response:
    """The queue of the agent's directorate (admins: all), filtered as the URL says."""
    args, errors = _queue_args(request.args)
    agent = signed_in_agent()
    page, counts, error = None, None, None
    if not errors:
        try:
            page, counts = triage_queue.queue(
                db_session(),
                agent,
                filters=triage_queue.filters_of(args),
                sort=args["sort"],
                limit=args["limit"],
                cursor=args.get("cursor"),
                now=utcnow(),
                with_counts=True,
                known_id=deps.current().router.table(db_session()).id_of,
            )
        except DomainError as refused:
            errors = {name: "valeur non reconnue" for name in (refused.errors.get("query") or {"filtres": 1})}
            error = refused
    kept = [(name, value) for name, value in request.args.items(multi=True) if name != "cursor" and value.strip()]
    query = f"?{urlencode(kept)}" if kept else ""  # the page's filters, for the CSV, the map and bulk actions
    return web.page(
        "console/queue.html",
        422 if errors else 200,
        title="File des signalements",
        agent=agent,
        items=[queue_item(row) for row in page.items] if page else [],
        counts=counts or {},
        total=sum((counts or {}).values()),
        next_url=f"?{urlencode([*kept, ('cursor', page.next_cursor)])}" if page and page.next_cursor else None,
        csv_url=url_for("console.export") + query,
        points_url=url_for("console.map_points") + query,
        bulk_url=url_for("console.bulk_summary") + query,
        without_bbox_url="?" + urlencode([(name, value) for name, value in kept if name != "bbox"]),
        map_tiles=deps.current().settings.map_tile_url,
        map_attribution=deps.current().settings.map_tile_attribution,
        filters=args,
        given=dict(kept),
        errors=errors,
        refused=error,
        statuses=STATUSES,
        sorts=SORT_LABELS,
        opened_at=utcnow().isoformat(),
        notice=session.pop("console_notice", None),
        supervises=agent.powers.supervises,
        priorities=list(PRIORITIES),
    )


@blp.get("/carte.json")
@read_only
def map_points() -> Response:
    """The filtered queue as the map's points, at most 5,000, the most recent first: one array per
    point ``[lon, lat, reference, status]`` (a compact answer: GeoJSON's object per point cost more
    than the query), with the status labels and the reports' address once."""
    args, errors = _queue_args(request.args)
    if errors:
        return _bad_filters()
    rows = triage_queue.queue_points(
        db_session(),
        signed_in_agent(),
        filters=triage_queue.filters_of(args),
        now=utcnow(),
        known_id=deps.current().router.table(db_session()).id_of,
    )
    body = {
        "points": [
            [lon, lat, format_reference(received_at, report_id), status]
            for report_id, received_at, status, lat, lon in rows
        ],
        "labels": STATUS_LABELS,
        "report_url": url_for("console.report_page", reference=""),
        "limit": triage_queue.MAX_POINTS,
    }
    response = current_app.json.response(body)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.get("/nouveaux.json")
@read_only
def news() -> Response:
    """How many reports arrived under the page's filters since it was opened (the page asks every minute)."""
    args, errors = _queue_args(request.args)
    if errors or args.get("received_from") is None:
        return http.error_response(
            422,
            "validation_error",
            "received_from (the page's opening) and valid filters are needed.",
            {"query": errors},
        )
    _, counts = triage_queue.queue(
        db_session(),
        signed_in_agent(),
        filters=triage_queue.filters_of(args),
        sort="received",
        limit=1,
        cursor=None,
        now=utcnow(),
        with_counts=True,
        known_id=deps.current().router.table(db_session()).id_of,
    )
    response = current_app.json.response({"new": sum((counts or {}).values())})
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.get("/export.csv")
@read_only
def export() -> Response:
    """What the queue shows, as CSV (the agents' export: the filters and the order of the page)."""
    args, errors = _queue_args(request.args)
    if errors:
        return _bad_filters()
    chunks = triage_queue.queue_csv(
        db_session(),
        deps.current().database,
        signed_in_agent(),
        filters=triage_queue.filters_of(args),
        sort=args["sort"],
        now=utcnow(),
    )
    headers = {"Content-Disposition": 'attachment; filename="signalements.csv"', "Cache-Control": "private, no-store"}
    return Response(stream_with_context(chunks), mimetype="text/csv", headers=headers)


def _report_page(reference: str, *, status: int = 200, notice: str | None = None, since: str | None = None) -> Response:
    read = access.read_report(db_session(), signed_in_agent(), reference, now=utcnow())
    report = _DETAIL.dump(read)
    changes = []
    if since:
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            changes = [event for event in report["trail"] if datetime.fromisoformat(event["at"]) > moment]
    return web.page(
        "console/report.html",
        status,
        title=f"Signalement {report['reference']}",
        agent=signed_in_agent(),
        report=report,
        sensitive=read.report.sensitive,
        sighting=identification.species_attribute(read.report) is not None,
        verdicts=identification.VERDICTS,
        notice=notice or session.pop("console_notice", None),
        changes=changes,
        priorities=list(PRIORITIES),
        opened_at=utcnow().isoformat(),
    )


@blp.get("/signalements/<string:reference>")
@read_only
def report_page(reference: str) -> Response:
    """A report: everything the triage API gives, and a form for each action the agent may take."""
    return _report_page(reference)


def _act(reference: str, done: str, action: Any) -> Response:
    """Run one change of a report; back to its page, saying what happened or why it was refused.
    A stale version says what changed since the page was opened (never a silent overwrite)."""
    try:
        action()
    except StaleReport:
        db_session().rollback()
        return _report_page(
            reference,
            status=409,
            notice="Ce signalement a changé depuis que vous l'avez ouvert : votre action n'a pas été appliquée. "
            "Voici ce qui a changé ; recommencez si elle convient toujours.",
            since=request.form.get("ouvert_le"),
        )
    except DomainError as refused:
        if refused.status == 404:
            raise
        db_session().rollback()
        return _report_page(reference, status=refused.status, notice=REFUSALS.get(refused.code, refused.message))
    session["console_notice"] = done
    return redirect(url_for("console.report_page", reference=reference), 303)


def _version() -> int | None:
    text = request.form.get("version", "")
    return int(text) if text.isdigit() and len(text) <= 9 else None


def _text(name: str, limit: int = 4000) -> str:
    return request.form.get(name, "").strip()[:limit]


@blp.post("/signalements/<string:reference>/statut")
def move(reference: str) -> Response:
    """Move the report along the workflow, with a public or internal note."""
    target = request.form.get("statut", "")
    note = _text("note")
    return _act(
        reference,
        f"Statut changé : {status_label(target)}.",
        lambda: moves.transition(
            db_session(),
            signed_in_agent(),
            reference,
            to=target if target in STATUSES else "",
            version=_version(),
            now=utcnow(),
            queue=deps.current().queue,
            note=note or None,
            note_public=request.form.get("publique") == "oui",
            duplicate_of=_text("doublon_de", 40) or None,
        ),
    )


@blp.post("/signalements/<string:reference>/note")
def note(reference: str) -> Response:
    """Add a note to the trail: public (on the report's public page) or internal."""
    text = _text("note")
    if not text:
        return _report_page(reference, status=422, notice="Écrivez la note avant de l'ajouter.")
    return _act(
        reference,
        "Note ajoutée.",
        lambda: moves.add_note(
            db_session(),
            signed_in_agent(),
            reference,
            text=text,
            public=request.form.get("publique") == "oui",
            now=utcnow(),
        ),
    )


@blp.post("/signalements/<string:reference>/affectation")
def assign(reference: str) -> Response:
    """Assign the report to an agent (or nobody) and/or a unit of its directorate."""
    email = _text("agent", 254)
    unit = _text("unite", 40)
    return _act(
        reference,
        "Affectation enregistrée.",
        lambda: moves.assign(
            db_session(),
            signed_in_agent(),
            reference,
            assignee_email=(None if email == "personne" else email) if email else moves.KEEP_ASSIGNEE,
            unit_code=unit or None,
            version=_version(),
            now=utcnow(),
            queue=deps.current().queue,
        ),
    )


@blp.post("/signalements/<string:reference>/priorite")
def prioritise(reference: str) -> Response:
    """Set the report's priority."""
    priority = request.form.get("priorite", "")
    if priority not in PRIORITIES:
        return _report_page(reference, status=422, notice=REFUSALS["validation_error"])
    return _act(
        reference,
        f"Priorité : {priority_label(priority)}.",
        lambda: moves.set_priority(
            db_session(), signed_in_agent(), reference, priority=priority, version=_version(), now=utcnow()
        ),
    )


@blp.post("/signalements/<string:reference>/reacheminement")
def reroute(reference: str) -> Response:
    """Send the report to a unit of another directorate, saying why (supervisors)."""
    note = _text("note")
    if not note:
        return _report_page(reference, status=422, notice="Dites pourquoi le signalement change de direction.")
    return _act(
        reference,
        "Signalement réacheminé.",
        lambda: moves.reroute(
            db_session(),
            signed_in_agent(),
            reference,
            unit_code=_text("unite", 40),
            note=note,
            version=_version(),
            now=utcnow(),
            queue=deps.current().queue,
        ),
    )


@blp.post("/signalements/<string:reference>/identification")
def identify(reference: str) -> Response:
    """Record a review of a sighting's species: confirmed, corrected (to a species of the list) or unverifiable."""
    verdict = request.form.get("verdict", "")
    return _act(
        reference,
        "Identification enregistrée.",
        lambda: identification.review_identification(
            db_session(),
            signed_in_agent(),
            reference,
            verdict=verdict if verdict in identification.VERDICTS else "",
            species=_text("espece", 200) or None,
            note=_text("note"),
            version=_version(),
            now=utcnow(),
            router=deps.current().router,
            queue=deps.current().queue,
        ),
    )


@blp.post("/signalements/<string:reference>/medias/<int:media_id>")
def publication(reference: str, media_id: int) -> Response:
    """Publish a held photo or video of the report, or withdraw a published one."""
    publish = request.form.get("publier") == "oui"

    def act() -> None:
        _, report = (
            agent_media.publish_media(
                db_session(), signed_in_agent(), media_id, storage=deps.current().storage, now=utcnow()
            )
            if publish
            else agent_media.unpublish_media(db_session(), signed_in_agent(), media_id, now=utcnow())
        )
        if report.reference != reference:
            raise MediaNotFound()

    return _act(reference, "Média publié." if publish else "Média retiré du public.", act)


def _bulk_choice() -> tuple[list[str], dict[str, Any], str, str | None]:
    """What a bulk form asks: the references (the rows ticked, or every report under the page's
    filters up to 200), the service's arguments, what it will do in French, and why it cannot
    be done (None if it can)."""
    action = request.form.get("action", "")
    references = [ref.strip()[:40] for ref in request.form.getlist("ref") if ref.strip()][: moves.MAX_BULK + 1]
    if request.form.get("tout") == "oui":
        args, errors = _queue_args(request.args)
        if errors:
            return [], {}, "", "Un des filtres n'est pas reconnu : corrigez-le sur la file."
        page, _ = triage_queue.queue(
            db_session(),
            signed_in_agent(),
            filters=triage_queue.filters_of(args),
            sort=args["sort"],
            limit=moves.MAX_BULK,
            cursor=None,
            now=utcnow(),
            with_counts=False,
        )
        references = [queue_item(row)["reference"] for row in page.items]
        if page.next_cursor:
            return references, {}, "", f"Plus de {moves.MAX_BULK} signalements sous ces filtres : affinez-les."
    if not references:
        return [], {}, "", "Cochez au moins un signalement, ou « tous les signalements de ces filtres »."
    if len(references) > moves.MAX_BULK:
        return references, {}, "", f"{moves.MAX_BULK} signalements au plus à la fois."
    if action == "statut" and request.form.get("statut") in STATUSES:
        target, note = request.form["statut"], _text("note")
        public = request.form.get("publique") == "oui"
        arguments = {"action": "transition", "to": target, "note": note or None, "note_public": public}
        return references, arguments, f"Passer au statut « {status_label(target)} »", None
    if action == "affectation" and (_text("agent", 254) or _text("unite", 40)):
        email, unit = _text("agent", 254), _text("unite", 40)
        arguments = {
            "action": "assign",
            "assignee_email": (None if email == "personne" else email) if email else moves.KEEP_ASSIGNEE,
            "unit_code": unit or None,
        }
        who = "personne" if email == "personne" else email
        said = "Affecter" + (f" à {who}" if email else "") + (f" (unité {unit})" if unit else "")
        return references, arguments, said, None
    if action == "priorite" and request.form.get("priorite") in PRIORITIES:
        priority = request.form["priorite"]
        return references, {"action": "priority", "priority": priority}, f"Priorité : {priority_label(priority)}", None
    return references, {}, "", "Choisissez une action et complétez-la (statut, affectation ou priorité)."


def _bulk_page(references: list[str], said: str, problem: str | None, *, status: int, reasons=None) -> Response:
    return web.page(
        "console/bulk.html",
        status,
        title="Action groupée",
        agent=signed_in_agent(),
        references=references,
        said=said,
        problem=problem,
        reasons=reasons or {},
        form=request.form,
        query=request.query_string.decode("utf-8", "replace"),
    )


@blp.post("/lot")
def bulk_summary() -> Response:
    """Step one of a bulk action: what it will change, to confirm (nothing changes yet)."""
    references, _, said, problem = _bulk_choice()
    return _bulk_page(references, said, problem, status=422 if problem else 200)


@blp.post("/lot/confirmer")
def bulk_confirm() -> Response:
    """Step two: the action on every report chosen, all or nothing (supervisors and admins)."""
    references, arguments, said, problem = _bulk_choice()
    if problem:
        return _bulk_page(references, said, problem, status=422)
    try:
        changed = moves.bulk(
            db_session(), signed_in_agent(), references, now=utcnow(), queue=deps.current().queue, **arguments
        )
    except DomainError as refused:
        if refused.status not in (403, 409, 422):
            raise
        db_session().rollback()
        found = (refused.errors.get("json") or {}).get("references")
        reasons = found if isinstance(found, dict) else {}
        message = REFUSALS.get(refused.code, "Aucun signalement n'a été modifié : certains refusent cette action.")
        return _bulk_page(references, said, message, status=refused.status, reasons=reasons)
    plural = "s" if len(changed) > 1 else ""
    session["console_notice"] = f"{said} : {len(changed)} signalement{plural} modifié{plural}."
    query = request.query_string.decode("utf-8", "replace")
    return redirect(url_for("console.queue_page") + (f"?{query}" if query else ""), 303)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _chart(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """The weekly bars as an SVG draws them: two bars a week (received, resolved), each with its number."""
    height, top, bar, gap = 160, 20, 14, 12
    most = max([1, *(max(week["received"], week["resolved"]) for week in weeks)])
    bars = []
    for index, week in enumerate(weeks):
        x = 40 + index * (2 * bar + gap)
        for offset, kind in enumerate(("received", "resolved")):
            size = round(week[kind] / most * height)
            bars.append(
                {
                    "x": x + offset * bar,
                    "y": top + height - size,
                    "height": size,
                    "kind": kind,
                    "value": week[kind],
                    "week": week["week"],
                }
            )
    return {
        "bars": bars,
        "width": 40 + len(weeks) * (2 * bar + gap) + 10,
        "height": top + height + 40,
        "base": top + height,
        "bar": bar,
    }


@blp.get("/statistiques")
@read_only
def statistics() -> Response:
    """The directorate's figures (admins: all) for a chosen period: counts, times, overdue, per week."""
    today = datetime.now(web.LOCAL_TIME).date()
    first, last = _day(request.args.get("du")), _day(request.args.get("au"))
    problem = None
    if (request.args.get("du") and first is None) or (request.args.get("au") and last is None):
        problem = "Indiquez les dates au format AAAA-MM-JJ, par exemple 2026-11-01."
    last = last or today
    first = first or last - timedelta(days=29)
    if problem is None and first > last:
        problem = "La date de début doit précéder la date de fin."
    if problem is None and (last - first).days > 3660:
        problem = "Choisissez une période de dix ans au plus."
    if problem:
        first, last = today - timedelta(days=29), today
    since = datetime.combine(first, datetime.min.time(), web.LOCAL_TIME)
    until = datetime.combine(last + timedelta(days=1), datetime.min.time(), web.LOCAL_TIME)
    figures = stats.stats(db_session(), signed_in_agent(), since=since, until=until, now=utcnow())
    return web.page(
        "console/stats.html",
        422 if problem else 200,
        title="Statistiques",
        agent=signed_in_agent(),
        figures=figures,
        chart=_chart(figures["weeks"]),
        first=first.isoformat(),
        last=last.isoformat(),
        problem=problem,
    )


@blp.get("/medias/<int:media_id>/original")
@read_only
def original(media_id: int) -> Response:
    """The original of a photo or video, as received (agents of the report's directorate)."""
    found = agent_media.original_file(db_session(), deps.current().storage, signed_in_agent(), media_id)
    return Response(
        found.data,
        mimetype=found.content_type,
        headers={"Cache-Control": "private, no-store", "ETag": found.etag, **found.headers},
    )
