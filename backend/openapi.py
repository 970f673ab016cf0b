"""The OpenAPI contract both apps publish: what every operation shares, added in one place.

Each view names its operation (``Blueprint.operation``: a stable ``operationId`` and the domain
errors it answers with); :class:`ContractPlugin` adds what follows from the rest — the
``X-Request-ID`` header in and out, the errors every JSON body, query or token can meet, each
error's stable codes (in its description and as ``x-error-codes``), and a description where a
view gave only a summary. A document missing an ``operationId`` is refused when it is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apispec import BasePlugin

REQUEST_ID = "X-Request-ID"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
STATUS_NAMES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden for your role",
    404: "Not found",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
}
# What any JSON body can meet, and any request with parameters or a body.
JSON_BODY_ERRORS = {400: ["invalid_json"], 413: ["request_too_large"], 415: ["unsupported_media_type"]}
INPUT_ERRORS = {422: ["validation_error"]}
# What any operation can meet: a query parameter it does not declare (``http.Api``'s one rule).
QUERY_ERRORS = {422: ["unknown_parameter"]}
HEADER = {"schema": {"type": "string"}}


def error_response(status: int, codes: list[str], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    listed = ", ".join(f"`{code}`" for code in codes)
    response: dict[str, Any] = {
        "description": f"{STATUS_NAMES.get(status, 'Error')}: {listed}",
        "content": {"application/json": {"schema": ERROR_REF}},
        "x-error-codes": codes,
    }
    if headers:
        response["headers"] = headers
    return response


class ContractPlugin(BasePlugin):
    """Completes every operation of a document (see the module's docstring).

    ``token_errors`` maps a security scheme to the codes its refusal answers with (401, or the
    sandbox's own); ``extra_errors`` adds codes every operation can meet (the sandbox's limits).
    """

    def __init__(
        self,
        token_errors: dict[str, dict[int, list[str]]] | None = None,
        extra_errors: dict[int, list[str]] | None = None,
        extra_headers: dict[str, Any] | None = None,
        enums: dict[str, Sequence[str]] | None = None,
    ):
        super().__init__()
        self.token_errors = token_errors or {}
        self.extra_errors = extra_errors or {}
        self.extra_headers = extra_headers or {}
        self.enums = {name: list(values) for name, values in (enums or {}).items()}

    def init_spec(self, spec: Any) -> None:
        super().init_spec(spec)
        # Each enum declared once, as a component every field with those values refers to: a
        # generated client gets one ReportStatus type, not one per schema that shows a status.
        for name, values in self.enums.items():
            spec.components.schema(name, {"type": "string", "enum": values})
        by_values = {tuple(values): name for name, values in self.enums.items()}

        def enum_reference(converter: Any, field: Any, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            name = by_values.get(tuple(ret.get("enum") or ()))
            if name is None:
                return {}
            nullable = isinstance(ret.get("type"), list) and "null" in ret["type"]
            ret.pop("type", None)
            ret.pop("enum", None)
            reference = {"$ref": f"#/components/schemas/{name}"}
            return {"anyOf": [reference, {"type": "null"}]} if nullable else reference

        marshmallow = next(plugin for plugin in spec.plugins if hasattr(plugin, "converter"))
        marshmallow.converter.add_attribute_function(enum_reference)
        spec.components.parameter(
            "RequestId",
            "header",
            {
                "name": REQUEST_ID,
                "required": False,
                "description": "Your id for this request (8 to 128 of A-Z a-z 0-9 . _ : -), echoed back; "
                "else one is made. Quote it when reporting a problem.",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{8,128}$"},
            },
        )
        spec.components.header(
            "RequestId", {"description": "The request's id (yours, or a new one)", "schema": {"type": "string"}}
        )

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            if not operation.get("operationId"):
                raise ValueError(f"{method.upper()} {path} has no operationId: name it with Blueprint.operation")
            self._complete(operation)

    def _complete(self, operation: dict[str, Any]) -> None:
        operation.setdefault("description", operation.get("summary", ""))
        operation.setdefault("parameters", []).append("RequestId")
        responses = operation.setdefault("responses", {})
        codes: dict[int, list[str]] = {}

        def add(more: dict[int, list[str]]) -> None:
            for status, listed in more.items():
                codes.setdefault(status, [])
                codes[status] += [code for code in listed if code not in codes[status]]

        add(operation.pop("x-domain-errors", {}))
        body = operation.get("requestBody", {}).get("content", {})
        if "application/json" in body:
            add(JSON_BODY_ERRORS)
        if body or any(isinstance(p, dict) and p.get("in") in ("query", "path") for p in operation["parameters"]):
            add(INPUT_ERRORS)
        add(QUERY_ERRORS)
        for requirement in operation.get("security", []):
            for scheme in requirement:
                add(self.token_errors.get(scheme, {}))
        add(self.extra_errors)
        for status, listed in sorted(codes.items()):
            responses[str(status)] = error_response(
                status, listed, dict(responses.get(str(status), {}).get("headers", {}))
            )
        for status, response in responses.items():
            if not isinstance(response, dict):  # a shared response, named (flask-smorest's default error)
                continue
            headers = response.setdefault("headers", {})
            headers[REQUEST_ID] = "RequestId"
            if status != "default":
                headers.update(self.extra_headers)


# Headers some operations take or answer with (flask-smorest's ``doc(parameters=…)`` and
# ``response(headers=…)``).
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "description": 'The ETag of the report you changed ("3"), or send its `version` in the body',
    "schema": {"type": "string"},
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Your key for this submission (1 to 200 printable ASCII characters, a UUID say): "
    "a retry with the same key and body gets the same report",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}
ETAG = {"ETag": {"description": "The report's version, for If-Match", "schema": {"type": "string"}}}
LOCATION = {"Location": {"description": "Where the new report is", "schema": {"type": "string"}}}


def file_response(description: str, *content_types: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A 200 whose body is not JSON (a page, a CSV, a photo), for ``doc(responses={"200": …})``."""
    binary = {"type": "string", "format": "binary"}
    response: dict[str, Any] = {
        "description": description,
        "content": {
            kind: {"schema": {"type": "string"} if kind.startswith("text/") else binary} for kind in content_types
        },
    }
    if headers:
        response["headers"] = headers
    return response
