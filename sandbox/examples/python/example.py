"""A citizen app and an agent, on the Python client generated from Signal93's OpenAPI document.

Generate the client first (see README.md beside this file), then:

    SIGNAL93_URL=http://127.0.0.1:5000 SIGNAL93_AGENT_EMAIL=… SIGNAL93_AGENT_PASSWORD=… \\
        python example.py photo.jpg

It lists the categories, submits a pothole with an idempotency key (sent twice: one report),
reads it back with the reporter token, adds a photo, then an agent of the roads directorate
signs in and acknowledges it.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import TypeVar

from signal93_client import AuthenticatedClient, Client
from signal93_client.api.auth import create_token
from signal93_client.api.catalog import list_categories
from signal93_client.api.reports import add_report_media, create_report, get_report
from signal93_client.api.triage import get_triage_report, transition_report
from signal93_client.models import (
    CategoryList,
    Error,
    LocationIn,
    MediaList,
    MediaUpload,
    ReportCreate,
    ReportCreateAttributes,
    ReportCreated,
    ReportRead,
    ReportStatus,
    Token,
    TokenRequest,
    Transition,
    TriageReport,
    TriageReportDetail,
)
from signal93_client.types import File

T = TypeVar("T")


def ok(answer: T | Error | None) -> T:
    """The answer, or stop with the API's error (its stable code and message)."""
    if answer is None or isinstance(answer, Error):
        sys.exit(f"refused: {answer.code if answer else 'no answer'}: {answer.message if answer else ''}")
    return answer


def main(photo: Path) -> None:
    base_url = os.environ.get("SIGNAL93_URL", "http://127.0.0.1:5000")
    public = Client(base_url=base_url, raise_on_unexpected_status=True)

    categories: CategoryList = ok(list_categories.sync(client=public))
    pothole = next(category for category in categories.items if category.code == "nid-de-poule")
    print(f"categories: {len(categories.items)}, including {pothole.name}")

    report = ReportCreate(
        category=pothole.code,
        location=LocationIn(lat=48.9010, lon=2.3990, accuracy_m=8.0),
        attributes=ReportCreateAttributes.from_dict({"taille": "moyen"}),
        description="Trou profond devant l'arrêt de bus",
    )
    key = str(uuid.uuid4())  # kept with the report on the phone: a retry sends the same one
    created: ReportCreated = ok(create_report.sync(client=public, body=report, idempotency_key=key))
    again: ReportCreated = ok(create_report.sync(client=public, body=report, idempotency_key=key))
    assert again.reference == created.reference
    print(f"submitted: {created.reference}, routed to {created.routing.directorate.code}: {created.routing.message}")

    reporter = AuthenticatedClient(base_url=base_url, token=created.reporter_token, prefix="Reporter")
    read: ReportRead = ok(get_report.sync(created.reference, client=reporter))
    assert read.submitted is not None
    print(f"read back with the reporter token: {read.status.value}, as submitted: {read.submitted.description}")

    upload = MediaUpload(photos=[File(payload=photo.open("rb"), file_name=photo.name, mime_type="image/jpeg")])
    added: MediaList = ok(add_report_media.sync(created.reference, client=reporter, body=upload))
    print(f"photos added: {len(added.media)} ({added.media[0].status.value})")

    credentials = TokenRequest(email=os.environ["SIGNAL93_AGENT_EMAIL"], password=os.environ["SIGNAL93_AGENT_PASSWORD"])
    token: Token = ok(create_token.sync(client=public, body=credentials))
    agent = AuthenticatedClient(base_url=base_url, token=token.token)
    seen: TriageReportDetail = ok(get_triage_report.sync(created.reference, client=agent))
    moved: TriageReport = ok(
        transition_report.sync(
            created.reference, client=agent, body=Transition(to=ReportStatus.ACKNOWLEDGED, version=seen.version)
        )
    )
    print(f"acknowledged by {token.agent.email}: {moved.status.value}, version {moved.version}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
