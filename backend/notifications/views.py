"""The opt-out link of reporters' e-mails: a page that asks to confirm (a GET changes nothing,
so a mail scanner that follows links stops nothing), and the POST that stops the e-mails
(the page's button, a mail client's one-click unsubscribe, or an app)."""

from __future__ import annotations

from flask import Response, render_template, request
from flask.views import MethodView

from backend import deps
from backend.http import Blueprint, db_session, read_only
from backend.notifications import reporters, schemas
from backend.openapi import file_response
from backend.reports.errors import ReportNotFound

blp = Blueprint(
    "notifications",
    __name__,
    description="Reporters' e-mails: stop them (no account needed)",
    template_folder="templates",
)


def _wants_html() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


@blp.route("/reports/<string:reference>/opt-out")
class OptOut(MethodView):
    @blp.operation("showOptOutPage", reporters.InvalidOptOutLink, ReportNotFound)
    @blp.arguments(schemas.OptOutQuerySchema, location="query")
    @blp.doc(responses={"200": file_response("A page asking to confirm (French)", "text/html")})
    @read_only
    def get(self, args, reference: str):
        """The page of the e-mails' opt-out link: it asks to confirm, and changes nothing"""
        report = reporters.check_opt_out(db_session(), reference, args["token"], deps.current().settings.secret_key)
        page = render_template(
            "opt_out.html",
            title="Ne plus recevoir de message",
            message=f"Confirmez-vous ne plus vouloir recevoir de message à propos du signalement {report.reference} ?",
            confirm=True,
            action=request.path,
            token=args["token"],
        )
        return Response(page, mimetype="text/html")

    @blp.operation("optOut", reporters.InvalidOptOutLink, ReportNotFound)
    @blp.arguments(schemas.OptOutLinkSchema, location="query", as_kwargs=True)
    @blp.arguments(schemas.OptOutFormSchema, location="form", example={"List-Unsubscribe": "One-Click"})
    @blp.response(200, schemas.OptedOutSchema)
    def post(self, form, reference: str, token: str | None = None):
        """Stop e-mails about a report: the token of the e-mail's link, in the form or the query string

        Answers a French page to a browser (the opt-out page's button) and JSON otherwise.
        Safe to repeat.
        """
        report = reporters.opt_out(
            db_session(), reference, form.get("token") or token, deps.current().settings.secret_key
        )
        if _wants_html():
            page = render_template(
                "opt_out.html", title="C'est noté", message=schemas.OPTED_OUT, confirm=False, action="", token=""
            )
            return Response(page, mimetype="text/html")
        return report
