"""Every operation of the sandbox's OpenAPI document, as tests/test_contract.py does the
backend's, with a registered team's key and the open datasets built."""

from __future__ import annotations

import pytest

from tests.test_contract import check_every_operation


@pytest.mark.postgresql
def test_every_sandbox_operation_answers_as_documented(wsgi_app, team_key):
    # Published open data, so that the Explore operations query real versions.
    built = wsgi_app.test_cli_runner().invoke(args=["sandbox", "snapshot", "build", "--all"])
    assert built.exit_code == 0, built.output
    check_every_operation(wsgi_app, "/sandbox/api/v1/openapi.json", lambda case: {"X-API-Key": team_key[1]})
