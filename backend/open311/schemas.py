"""The admin API's shapes for Open311 clients."""

from __future__ import annotations

import marshmallow as ma

from backend.fields import ResponseSchema


class ClientInSchema(ma.Schema):
    name = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=100), metadata={"example": "GRC de la DEA"}
    )


class ClientSchema(ResponseSchema):
    name = ma.fields.String(required=True)
    key_prefix = ma.fields.String(required=True, metadata={"description": "The key's first characters"})
    created_at = ma.fields.DateTime(required=True)
    revoked_at = ma.fields.DateTime(allow_none=True, required=True)


class IssuedClientSchema(ClientSchema):
    key = ma.fields.String(required=True, metadata={"description": "Shown once: the client sends it as api_key"})


class ClientListSchema(ResponseSchema):
    items = ma.fields.List(ma.fields.Nested(ClientSchema), required=True)
