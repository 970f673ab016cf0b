"""What the opt-out takes and answers."""

from __future__ import annotations

import marshmallow as ma

from backend.fields import ResponseSchema

OPTED_OUT = "Vous ne recevrez plus de message à propos de ce signalement."


class OptOutQuerySchema(ma.Schema):
    token = ma.fields.String(required=True, metadata={"description": "The token of the link in the e-mail"})


class OptOutLinkSchema(ma.Schema):
    """The query of the e-mails' link, posted to as it is by a mail client's one-click unsubscribe."""

    token = ma.fields.String(metadata={"description": "The token of the link in the e-mail (or in the form)"})


class OptOutFormSchema(ma.Schema):
    """The confirmation form of the opt-out page, or a mail client's one-click unsubscribe
    (RFC 8058: ``List-Unsubscribe=One-Click``, the token in the link's query)."""

    token = ma.fields.String(metadata={"description": "The token of the link (or in the query string)"})
    List_Unsubscribe = ma.fields.String(data_key="List-Unsubscribe", metadata={"example": "One-Click"})


class OptedOutSchema(ResponseSchema):
    """Dumps the report whose e-mails stop (its reference only)."""

    reference = ma.fields.String(required=True, metadata={"example": "S93-2026-000123"})
    message = ma.fields.Constant(OPTED_OUT, required=True, metadata={"description": "In French, for the citizen"})
