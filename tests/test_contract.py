"""Every operation of the backend's OpenAPI document, sent requests that schemathesis generates
from the document itself, through the wsgi app as served (tests/sandbox/test_contract.py: the
sandbox's): no server error, and each answer's status, content type, headers and body as
documented. The agents' operations are called with an admin's token."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import bearer_for, make_agent

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Bounded: a few minutes for both documents in CI's PostgreSQL pass (CONTRACT_EXAMPLES to go deeper).
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "100"))


def check_every_operation(app: Any, document: str, headers_for: Any) -> None:
    """Run generated cases on each operation of ``document``; fail with every operation that
    answered otherwise than documented (the first failing case of each)."""
    schema = schemathesis.openapi.from_wsgi(document, app)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            # The credentials given win over those generated from the security schemes.
            given = headers_for(case)
            names = {name.lower() for name in given}
            kept = {name: value for name, value in (case.headers or {}).items() if name.lower() not in names}
            case.headers = {**kept, **given}
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except Exception as failure:  # schemathesis raises one error naming every failed check
            failures[operation.label] = str(failure)[:3000]
    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())


@pytest.mark.postgresql
def test_every_backend_operation_answers_as_documented(wsgi_app, session):
    admin = make_agent(session, "contrat.admin@seinesaintdenis.fr", role="admin")
    token = bearer_for(session, admin)

    def headers_for(case: Any) -> dict[str, str]:
        if case.path == "/api/v1/auth/tokens/current":  # signing out revokes the token: a token of its own
            return bearer_for(session, admin)
        return token if case.path.startswith(("/api/v1/triage", "/api/v1/admin")) else {}

    check_every_operation(wsgi_app, "/api/v1/openapi.json", headers_for)
