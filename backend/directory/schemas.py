"""Public shapes of the catalog (allow-lists: every field is named)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from backend.directory.models import ROLES
from backend.fields import ComputedList, ComputedString, ResponseSchema


class ZoneRefSchema(ResponseSchema):
    kind = ma.fields.String(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class AttributeValueSchema(ResponseSchema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class AttributeSchema(ResponseSchema):
    """A typed extra attribute (Open311 service-definition attribute)."""

    code = ma.fields.String(required=True)
    datatype = ma.fields.String(
        required=True,
        metadata={"enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]},
    )
    required = ma.fields.Boolean(required=True)
    photo_may_replace = ma.fields.Boolean(
        required=True,
        dump_default=False,
        metadata={"description": "A photo sent with the report may stand for this value (an unknown species)"},
    )
    description = ma.fields.String(required=True)
    min = ma.fields.Float(allow_none=True, dump_default=None, metadata={"description": "A number's lowest value"})
    max = ma.fields.Float(allow_none=True, dump_default=None, metadata={"description": "A number's highest value"})
    integer = ma.fields.Boolean(dump_default=False, metadata={"description": "A number that must be whole"})
    order = ma.fields.Integer(required=True)
    values = ma.fields.List(ma.fields.Nested(AttributeValueSchema), required=True)


class CategorySchema(ResponseSchema):
    code = ma.fields.String(required=True, metadata={"example": "nid-de-poule"})
    name = ma.fields.String(required=True, metadata={"example": "Nid-de-poule"})
    description = ma.fields.String(required=True)
    program = ma.fields.String(attribute="program.code", required=True)
    directorate = ma.fields.String(attribute="program.directorate.code", required=True)
    keywords = ma.fields.List(ma.fields.String(), required=True)
    target_days = ma.fields.Integer(required=True, metadata={"description": "Target handling time, in days"})
    similar_radius_m = ma.fields.Integer(
        required=True, metadata={"description": "Radius within which open reports count as similar"}
    )
    attributes = ma.fields.List(ma.fields.Nested(AttributeSchema), required=True)


class ProgramSchema(ResponseSchema):
    code = ma.fields.String(required=True, metadata={"example": "patrouillage"})
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    directorate = ma.fields.String(attribute="directorate.code", required=True)
    categories = ComputedList(
        ma.fields.String(),
        method="_category_codes",
        required=True,
        metadata={"description": "Codes of its categories"},
    )

    def _category_codes(self, program) -> list[str]:
        return [c.code for c in program.categories if c.active]


class UnitSchema(ResponseSchema):
    code = ma.fields.String(required=True, metadata={"example": "DVD-T6"})
    kind = ma.fields.String(required=True, metadata={"enum": ["territory", "park", "observatory"]})
    name = ma.fields.String(required=True)
    zone = ma.fields.Nested(ZoneRefSchema, allow_none=True, required=True)


class DirectorateSchema(ResponseSchema):
    code = ma.fields.String(required=True, metadata={"example": "DVD"})
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    units = ComputedList(ma.fields.Nested(UnitSchema), method="_active_units", required=True)

    def _active_units(self, directorate) -> list[Any]:
        return [u for u in directorate.units if u.active]


class ExternalBodySchema(ResponseSchema):
    code = ma.fields.String(required=True, metadata={"example": "COMMUNE-93066"})
    kind = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    zone = ma.fields.Nested(ZoneRefSchema, allow_none=True, required=True)


class CategoryQuerySchema(ma.Schema):
    program = ma.fields.String(metadata={"description": "Only the categories of this program"})


def items_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A ``{"items": [...]}`` wrapper: lists stay objects, so fields can be added later."""
    return ma.Schema.from_dict({"items": ma.fields.List(ma.fields.Nested(item), required=True)}, name=name)


ProgramListSchema = items_schema(ProgramSchema, "ProgramList")
CategoryListSchema = items_schema(CategorySchema, "CategoryList")
DirectorateListSchema = items_schema(DirectorateSchema, "DirectorateList")
ExternalBodyListSchema = items_schema(ExternalBodySchema, "ExternalBodyList")


class TokenRequestSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(max=254))
    password = ma.fields.String(required=True, validate=ma.validate.Length(max=1000), load_only=True)


class SignedInAgentSchema(ResponseSchema):
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True, metadata={"enum": list(ROLES)})
    directorate = ma.fields.String(attribute="directorate.code", required=True)
    unit = ComputedString(method="_unit_code", allow_none=True, required=True, metadata={"example": "DVD-T6"})

    def _unit_code(self, agent: Any) -> str | None:
        return agent.unit.code if agent.unit else None


class AgentOutSchema(SignedInAgentSchema):
    id = ma.fields.Integer(required=True)
    active = ma.fields.Boolean(required=True)


class TokenSchema(ResponseSchema):
    token = ma.fields.String(required=True, metadata={"description": "Send as 'Authorization: Bearer <token>'"})
    expires_at = ma.fields.DateTime(required=True)
    agent = ma.fields.Nested(SignedInAgentSchema, required=True, metadata={"description": "Who signed in"})


class AgentCreateSchema(ma.Schema):
    email = ma.fields.String(required=True)
    password = ma.fields.String(required=True, load_only=True)
    directorate = ma.fields.String(required=True)
    unit = ma.fields.String(allow_none=True)
    role = ma.fields.String(load_default="agent", validate=ma.validate.OneOf(ROLES))


class AgentUpdateSchema(ma.Schema):
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    active = ma.fields.Boolean()
    unit = ma.fields.String(allow_none=True)


class CategoryUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(validate=ma.validate.Length(max=2000))
    target_days = ma.fields.Integer(validate=ma.validate.Range(1, 365))
    similar_radius_m = ma.fields.Integer(validate=ma.validate.Range(1, 5000))
    active = ma.fields.Boolean()


AgentListSchema = items_schema(AgentOutSchema, "AgentList")
