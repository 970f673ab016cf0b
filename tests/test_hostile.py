"""Issue 17's hostile walk, over every operation of both OpenAPI documents as ``wsgi.py`` serves
them (the sandbox at /sandbox): walked from the documents, so an operation added later is walked
too.

- A query parameter an operation does not declare is a 422 ``unknown_parameter`` naming it, and
  one it declares as a single value, given twice, a 422 naming it: one rule everywhere.
- Hostile values (lone surrogates, invalid UTF-8, control characters, over-long strings,
  spreadsheet formulas, extreme numbers and dates, wrong types) in each query parameter, each
  path parameter and each field of each documented request body, one at a time in an otherwise
  valid request: never a 500, and every refusal in the envelope with a code.
- Then everything is read back — every read operation of both documents, every report by each of
  its readers, the queue's CSV, Open311, the open-data snapshots built from what was stored:
  nothing stored by the walk breaks a read.
"""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from tests.factories import ON_RD932_PANTIN, SAUSSET_MARAIS, bearer_for, make_agent, report_payload, submit
from tests.media.files import jpeg_from_phone
from tests.sandbox.conftest import unlimited_team_key

BACKEND = "/api/v1/openapi.json"
SANDBOX = "/sandbox/api/v1/openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")

HOSTILE_STRINGS = [
    "\udc00",  # a lone surrogate: valid in JSON's escapes, not a character
    "note \ud800 finie",
    "\x00",
    "\x1b[2J\x07\x08\x7f",
    "\u202e\u200b\ufeff",
    "=1+1",
    "\t=1+1",
    "\r=cmd|' /C calc'!A0",
    "-2+3+cmd",
    "@SUM(A1:A9)",
    "+33 6 12 34 56 78",
    "x" * 70_000,
    "\U0001d54a\U0001d55a\U0001d558 \U0001f986"  # astral characters,
    "' OR '1'='1' --",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "0001-01-01T00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1e308",
    "-99999999999999999999999999999",
    "NaN",
    "",
]
HOSTILE_NUMBERS: list[Any] = [1e308, -1e308, -1, 0, 10**30, -(2**63) - 1, 2**31]
HOSTILE_SHAPES: list[Any] = [True, None, [], {}, [[[["x"]]]], {"a": "\udc00"}]
HOSTILE_VALUES = HOSTILE_STRINGS + HOSTILE_NUMBERS + HOSTILE_SHAPES


def as_query_value(value: Any) -> str:
    """A value as a query string carries it: a lone surrogate as the bytes a broken client sends."""
    text = value if isinstance(value, str) else json.dumps(value)
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


class Walk:
    """The app as served, the credentials and the real values the operations' paths name."""

    def __init__(self, wsgi_app: Any, session: Any, settings: Any) -> None:
        self.app = wsgi_app
        self.client = wsgi_app.test_client()
        self.session = session
        admin = make_agent(session, "hostile.admin@seinesaintdenis.fr", directorate="DNPB", role="admin")
        self.admin = bearer_for(session, admin)
        self.victim = make_agent(session, "hostile.cible@seinesaintdenis.fr", directorate="DEA")
        key = unlimited_team_key(session, settings, "hackathon-hostile")
        self.key = {"X-API-Key": key}
        self.reference = submit(self.client, report_payload()).get_json()["reference"]
        with_photo = self.client.post(
            "/api/v1/reports/with-files",
            data={"report": json.dumps(report_payload()), "photos": [(io.BytesIO(jpeg_from_phone()), "a.jpg")]},
            content_type="multipart/form-data",
        )
        assert with_photo.status_code == 201, with_photo.get_json()
        self.photo_reference = with_photo.get_json()["reference"]
        self.media_id = with_photo.get_json()["media"][0]["id"]
        client = self.client.post("/api/v1/admin/open311/clients", json={"name": "GRC hostile"}, headers=self.admin)
        assert client.status_code == 201, client.get_json()
        built = self.app.test_cli_runner().invoke(args=["sandbox", "snapshot", "build", "--all"])
        assert built.exit_code == 0, built.output
        self.documents = {
            prefix: self.client.get(url).get_json() for prefix, url in (("", BACKEND), ("/sandbox", SANDBOX))
        }

    def path_value(self, path: str, name: str, schema: dict[str, Any]) -> str:
        """A real value for a path parameter, so that a request reaches the operation's work."""
        if "$ref" in schema:
            schema = self.documents[""]["components"]["schemas"][schema["$ref"].split("/")[-1]]
        if schema.get("enum"):
            return schema["enum"][0]
        values = {
            "reference": self.reference,
            "media_id": str(self.media_id),
            "agent_id": str(self.victim.id),
            "kind": "commune",
            "name": "GRC hostile",
            "dataset_id": "signalements",
            "version": "latest",
            "variant": "thumb",
            "file": "data.csv",
        }
        if name == "code":
            if "routing-rules" in path:
                return "patrouillage-route-departementale"
            return "93001" if "/zones/" in path else "nid-de-poule"
        if name == "slug":
            return "sausset-marais" if "park_zone" in path else "sausset"
        assert name in values, f"{path}: give the walk a real value for the path parameter {name!r}"
        return values[name]

    def operations(self) -> list[dict[str, Any]]:
        """Every operation of both documents, with what a valid request to it holds."""
        found = []
        for prefix, document in self.documents.items():
            for path, item in document["paths"].items():
                for method in METHODS:
                    if method not in item:
                        continue
                    operation = item[method]
                    parameters = [p for p in item.get("parameters", []) + operation.get("parameters", [])]
                    parameters = [p for p in parameters if isinstance(p, dict) and "in" in p]
                    path_values = {
                        p["name"]: self.path_value(path, p["name"], p.get("schema", {}))
                        for p in parameters
                        if p["in"] == "path"
                    }
                    query = [p for p in parameters if p["in"] == "query"]
                    content = operation.get("requestBody", {}).get("content", {})
                    kind, media = next(iter(content.items()), (None, {}))
                    found.append(
                        {
                            "label": f"{method.upper()} {prefix}{path}",
                            "method": method,
                            "template": prefix + path,
                            "path_values": path_values,
                            "query": {p["name"]: p for p in query},
                            "required_query": {p["name"]: "x" for p in query if p.get("required")},
                            "body_kind": kind,
                            "example": media.get("example"),
                            "security": [name for requirement in operation.get("security", []) for name in requirement],
                        }
                    )
        return found

    def fresh(self, operation: dict[str, Any], body: Any) -> tuple[dict[str, str], Any]:
        """What each hostile value needs to get as far as being stored: a submission its own
        ``client_id`` (a retry's would be a 409), and a request that changes a report a new
        report in the state the documented example expects (version 1), not one the previous
        request moved on."""
        example_id = (operation["example"] or {}).get("client_id") if isinstance(operation["example"], dict) else None
        if isinstance(body, dict) and example_id and body.get("client_id") == example_id:
            body = {**body, "client_id": str(uuid.uuid4())}
        if "{reference}" not in operation["template"] or operation["method"] not in ("post", "put"):
            return operation["path_values"], body
        category, at = (
            ("observation-espece", SAUSSET_MARAIS)
            if "identification" in operation["template"]
            else ("nid-de-poule", ON_RD932_PANTIN)
        )
        attributes = (
            {"espece": "Ardea cinerea", "nombre": 2} if category == "observation-espece" else {"taille": "moyen"}
        )
        answer = submit(self.client, report_payload(category, at=at, attributes=attributes))
        assert answer.status_code == 201, answer.get_json()
        if isinstance(body, dict) and isinstance(body.get("version"), int) and not isinstance(body["version"], bool):
            body = {**body, "version": 1}
        return {**operation["path_values"], "reference": answer.get_json()["reference"]}, body

    def url(self, operation: dict[str, Any], path_values: dict[str, str], query: str = "") -> str:
        url = operation["template"]
        for name, value in path_values.items():
            url = url.replace("{" + name + "}", quote(value.encode("utf-8", "surrogatepass"), safe=""))
        return f"{url}?{query}" if query else url

    def headers(self, operation: dict[str, Any]) -> dict[str, str]:
        if operation["template"].startswith("/sandbox"):
            return dict(self.key)
        if operation["template"].endswith("/auth/tokens/current"):  # signing out revokes: a token of its own
            return bearer_for(self.session, make_agent_once(self.session))
        return dict(self.admin) if "AgentToken" in operation["security"] else {}

    def send(self, operation: dict[str, Any], *, path_values=None, query: str | None = None, body: Any = None):
        path_values = path_values or operation["path_values"]
        if query is None:
            query = urlencode(operation["required_query"])
        kwargs: dict[str, Any] = {"headers": self.headers(operation)}
        if operation["body_kind"] == "application/json":
            data = operation["example"] if body is None else body
            kwargs.update(data=json.dumps(data), content_type="application/json")
        elif operation["body_kind"] == "application/x-www-form-urlencoded":
            fields = (operation["example"] or {}) if body is None else body
            data = "&".join(f"{as_query_value(name)}={as_query_value(value)}" for name, value in fields.items())
            kwargs.update(data=data, content_type=operation["body_kind"])
        elif operation["body_kind"] == "multipart/form-data":
            fields = (operation["example"] or {}) if body is None else body
            data, boundary = multipart(fields)
            kwargs.update(data=data, content_type=f"multipart/form-data; boundary={boundary}")
        return self.client.open(self.url(operation, path_values, query), method=operation["method"].upper(), **kwargs)


_agents = {"count": 0}


def make_agent_once(session):
    _agents["count"] += 1
    return make_agent(session, f"hostile.sortie{_agents['count']}@seinesaintdenis.fr", role="admin")


def multipart(fields: dict[str, Any]) -> tuple[bytes, str]:
    """A multipart/form-data body written by hand: a broken client's bytes (a lone surrogate
    encoded as it stands), which a well-behaved encoder would refuse to write."""
    boundary = "hostile-boundary-7f3a"
    parts = []
    for name, value in fields.items():
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode("utf-8", "surrogatepass")
            + text.encode("utf-8", "surrogatepass")
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def variations(value: Any) -> list[tuple[str, Any]]:
    """Each leaf of a JSON document replaced, one at a time, by each hostile value (with where)."""
    found: list[tuple[str, Any]] = []

    def walk(node: Any, replace: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(
                    child,
                    lambda new, key=key, node=node, replace=replace: replace({**node, key: new}),
                    f"{where}.{key}",
                )
            for hostile in ("\udc00", "x" * 70_000):  # an unknown field, hostile too
                found.append((f"{where}.<unknown>", replace({**node, hostile[:40]: hostile})))
        elif isinstance(node, list) and node:
            walk(node[0], lambda new, node=node, replace=replace: replace([new, *node[1:]]), f"{where}[0]")
        for hostile in HOSTILE_VALUES:
            found.append((f"{where}={hostile!r:.40}", replace(hostile)))

    walk(value, lambda new: new, "body")
    return found


def envelope_problem(response: Any) -> str | None:
    """What is wrong with an answer to a hostile request, or None."""
    if response.status_code >= 500:
        return f"{response.status_code}: {response.get_data(as_text=True)[:300]}"
    if response.status_code >= 400 and response.mimetype == "application/json":
        body = response.get_json()
        if not (isinstance(body, dict) and body.get("code") and "message" in body):
            return f"{response.status_code} outside the envelope: {response.get_data(as_text=True)[:300]}"
    return None


@pytest.fixture
def walk(wsgi_app, session, settings):
    return Walk(wsgi_app, session, settings)


def test_every_operation_refuses_a_query_parameter_it_does_not_declare(walk):
    """Issue 17, item 14: unknown parameters were refused by some operations and silently ignored
    by others (a misspelt filter looks like an empty result). One rule, walked from the documents."""
    operations = walk.operations()
    assert len(operations) > 60
    wrong = {}
    for operation in operations:
        query = urlencode({**operation["required_query"], "statut": "ouvert"})
        response = walk.send(operation, query=query)
        body = response.get_json(silent=True) or {}
        if (response.status_code, body.get("code")) != (422, "unknown_parameter") or list(
            body.get("errors", {}).get("query", {})
        ) != ["statut"]:
            wrong[operation["label"]] = f"{response.status_code} {str(body)[:200]}"
        single = [name for name, p in operation["query"].items() if p.get("schema", {}).get("type") != "array"]
        for name in single:
            response = walk.send(operation, query=urlencode([(name, "1"), (name, "2")]))
            errors = (response.get_json(silent=True) or {}).get("errors", {}).get("query", {})
            if response.status_code != 422 or name not in errors:
                wrong[f"{operation['label']} {name} twice"] = f"{response.status_code} {errors}"
    assert not wrong, "\n".join(f"{label}: {answer}" for label, answer in wrong.items())


def test_hostile_values_anywhere_get_a_4xx_in_the_envelope_and_never_break_a_later_read(walk):
    """Issue 17's done-when: each hostile value in each query parameter, path parameter and body
    field of each operation, one at a time; then every read, of everything stored meanwhile."""
    problems: dict[str, str] = {}
    statuses: Counter[int] = Counter()
    stored = {"count": 0}

    def check(label: str, response: Any) -> None:
        response.get_data()  # read to the end, as a client does (a streamed CSV closes its cursor)
        statuses[response.status_code] += 1
        if response.status_code < 300 and response.request.method != "GET":
            stored["count"] += 1
        if problem := envelope_problem(response):
            problems.setdefault(label, problem)

    operations = walk.operations()
    for operation in operations:
        label = operation["label"]
        for name in operation["query"]:
            for hostile in [*HOSTILE_STRINGS, "1e308", "-9223372036854775809"]:
                query = {**operation["required_query"], name: None}
                encoded = "&".join(
                    f"{key}={as_query_value(hostile)}" if value is None else urlencode({key: value})
                    for key, value in query.items()
                )
                check(f"{label} ?{name}={hostile!r:.40}", walk.send(operation, query=encoded))
        for name in operation["path_values"]:
            for hostile in [*HOSTILE_STRINGS[:11], "x" * 3000, "99999999999999999999", "-1"]:
                values = {**operation["path_values"], name: hostile}
                check(f"{label} {{{name}}}={hostile!r:.40}", walk.send(operation, path_values=values))
        if operation["body_kind"] and operation["example"] is not None:
            example = operation["example"]
            if operation["body_kind"] == "multipart/form-data":
                # The report's JSON inside its form field: hostile inside, and as the field itself.
                inner = json.loads(example["report"])
                for where, varied in variations(inner):
                    if isinstance(varied, dict) and varied.get("client_id") == inner.get("client_id"):
                        varied = {**varied, "client_id": str(uuid.uuid4())}
                    body = {**example, "report": json.dumps(varied)}
                    check(f"{label} report:{where}", walk.send(operation, body=body))
            for where, varied in variations(example):
                if operation["body_kind"] != "application/json" and not isinstance(varied, dict):
                    continue  # a form is a mapping of names to texts
                values, body = walk.fresh(operation, varied)
                check(f"{label} {where}", walk.send(operation, path_values=values, body=body))
        # Invalid UTF-8 bytes in a body, where the JSON decoder meets them.
        if operation["body_kind"] == "application/json":
            raw = walk.client.open(
                walk.url(operation, operation["path_values"]),
                method=operation["method"].upper(),
                data=b'{"note": "\xff\xfe\xed\xa0\x80"}',
                content_type="application/json",
                headers=walk.headers(operation),
            )
            check(f"{label} invalid UTF-8 body", raw)

    # Everything the walk stored is read back, by every reader.
    rebuilt = walk.app.test_cli_runner().invoke(args=["sandbox", "snapshot", "build", "--all"])
    assert rebuilt.exit_code == 0, rebuilt.output
    for operation in operations:
        if operation["method"] == "get":
            check(f"read {operation['label']}", walk.send(operation))
    references, cursor = [], ""
    while cursor is not None:
        page = walk.client.get(f"/api/v1/triage/reports?limit=200&counts=false{cursor}", headers=walk.admin)
        check("read the queue", page)
        references += [row["reference"] for row in page.get_json()["items"]]
        cursor = page.get_json()["next_cursor"] and f"&cursor={page.get_json()['next_cursor']}"
    assert walk.reference in references
    assert len(references) > 2
    for reference in references:
        check(f"read {reference} (agent)", walk.client.get(f"/api/v1/triage/reports/{reference}", headers=walk.admin))
        check(f"read {reference} (public)", walk.client.get(f"/api/v1/reports/{reference}"))
    for reference in references[::20]:
        check(f"read /suivi/{reference}", walk.client.get(f"/suivi/{reference}"))
    for url in (
        "/api/v1/triage/reports.csv",
        "/api/v1/reports?limit=200",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        "/sandbox/api/explore/v2.1/catalog/datasets/signalements/records?limit=100",
        "/sandbox/api/explore/v2.1/catalog/datasets/signalements/exports/csv",
        "/sandbox/api/explore/v2.1/catalog/datasets/signalements/exports/parquet",
    ):
        headers = walk.key if url.startswith("/sandbox") else walk.admin
        response = walk.client.get(url, headers=headers)
        check(f"read {url}", response)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    sent = sum(statuses.values())
    answers = dict(sorted(statuses.items()))
    summary = f"{len(operations)} operations, {sent} requests, {stored['count']} stored, answers {answers}"
    print(f"hostile walk: {summary}")  # noqa: T201
    assert stored["count"] > 150  # hostile values that were taken, then read back
    assert sent > 5000
    assert not problems, "\n".join(f"{label}: {problem}" for label, problem in list(problems.items())[:60])
