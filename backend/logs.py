"""Structured logging: one JSON object per line, with the fields callers pass in ``extra``."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else came from ``extra`` and is emitted as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


# The id of the request being served — or of the request whose job is running: a worker sets it
# from the job (backend.queue) — added to every log line that does not carry one.
REQUEST_ID: ContextVar[str | None] = ContextVar("signal93_request_id", default=None)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and (current := REQUEST_ID.get()) is not None:
            record.request_id = current
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as a single JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str, json_lines: bool) -> None:
    """Send the app's logs to stderr, as JSON lines or plain text."""
    handler = logging.StreamHandler()
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    # Replace, never stack, our handler when several apps are created in one process (tests).
    for existing in list(root.handlers):
        if getattr(existing, "_signal93", False):
            root.removeHandler(existing)
    handler._signal93 = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every migration step at INFO, boto3 where it found its credentials and
    # endpoint: keep their warnings only.
    for chatty in ("alembic", "botocore", "boto3", "s3transfer"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLevelName(level)))
