"""What operators use: ``/metrics`` (Prometheus, not public: ``METRICS_ALLOW`` networks or the
``METRICS_TOKEN`` bearer) and ``flask --app wsgi doctor``, which checks the configuration, the
database's revision, Redis, the media storage, SMTP, the workers and the queue, and says what is
wrong in French and English (exit status 1 when something is)."""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import NotFound

from backend import deps, metrics
from backend.db import revision_state, utcnow
from backend.http import authorization
from backend.media.services import stale_pending
from backend.queue import QUEUE_NAME

blp = Blueprint("operations", __name__)
HEARTBEAT_SECONDS = 90  # a worker silent longer than this is taken for dead
# Other apps mounted beside the backend add their own checks here (the sandbox: its revision).
EXTRA_CHECKS = "signal93.doctor_checks"


@blp.get("/metrics")
def metrics_view() -> Response:
    """The metrics, for a Prometheus scraper of ``METRICS_ALLOW`` or with ``METRICS_TOKEN``; a
    404 to anyone else (nothing says they exist)."""
    settings = deps.current().settings
    if not metrics.allowed(
        request.remote_addr, authorization("Bearer"), settings.metrics_allow, settings.metrics_token
    ):
        raise NotFound()
    response = Response(metrics.exposition(_live_states), content_type=metrics.CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def _live_states() -> Iterable[tuple[str, str, list[str], list[tuple[list[str], float]]]]:
    context = deps.current()
    with context.database.session() as session:
        stale = stale_pending(session, now=utcnow())
    yield "signal93_media_pending_stale", "Media still being processed after 5 minutes", [], [([], stale)]
    if context.redis is not None:
        jobs, workers, _ = _queue_state(context.redis)
        yield (
            "signal93_jobs",
            "Jobs by state (rq registries)",
            ["queue", "state"],
            [([QUEUE_NAME, state], count) for state, count in jobs.items()],
        )
        yield "signal93_workers", "rq workers with a recent heartbeat", [], [([], workers)]


def _queue_state(redis_client: Any) -> tuple[dict[str, int], int, int]:
    """Jobs by state, live workers, and workers registered (live or not)."""
    from rq import Queue, Worker
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    queue = Queue(QUEUE_NAME, connection=redis_client)
    jobs = {
        "queued": queue.count,
        "running": StartedJobRegistry(queue=queue).count,
        "failed": FailedJobRegistry(queue=queue).count,
        "scheduled": ScheduledJobRegistry(queue=queue).count,  # retries waiting, the periodic sweep
    }
    now = datetime.now(UTC)
    registered = Worker.all(queue=queue)
    live = 0
    for worker in registered:
        beat = worker.last_heartbeat
        if (
            beat is not None
            and (now - (beat if beat.tzinfo else beat.replace(tzinfo=UTC))).total_seconds() < HEARTBEAT_SECONDS
        ):
            live += 1
    return jobs, live, len(registered)


@dataclass(frozen=True)
class Check:
    name: str  # "base de données / database"
    ok: bool
    said: str  # French, then English


def doctor() -> list[Check]:
    """Every check, in order; each says what it found in French and English."""
    context = deps.current()
    settings = context.settings
    checks = [_configuration(settings)]
    checks.append(_guard("base de données / database", lambda: _database(context)))
    checks.append(_guard("Redis", lambda: _redis(context)))
    checks.append(_guard("stockage des médias / media storage", lambda: _storage(context)))
    checks.append(_guard("messagerie / mail", lambda: _smtp(settings)))
    if context.redis is not None:
        checks.append(_guard("travaux et workers / jobs and workers", lambda: _workers(context)))
    for extra in current_app.extensions.get(EXTRA_CHECKS, []):
        checks.append(_guard(extra.__doc__ or extra.__name__, extra))
    return checks


def _guard(name: str, check: Callable[[], tuple[bool, str]]) -> Check:
    try:
        ok, said = check()
    except Exception as exc:  # a check that cannot even run is a problem to report, not a traceback
        ok, said = False, f"vérification impossible / check failed: {type(exc).__name__}: {exc}"
    return Check(name, ok, said)


def _configuration(settings: Any) -> Check:
    problems = []
    if settings.is_production and not settings.public_base_url.startswith("https://"):
        problems.append("PUBLIC_BASE_URL n'est pas en https / is not https")
    if settings.is_production and settings.media_storage_url.startswith("file://"):
        problems.append(
            "médias sur le disque local : non partagés entre nœuds / media on the local disk: not shared by nodes"
        )
    said = "; ".join(problems) or f"mode {settings.mode}, {settings.public_base_url}"
    return Check("configuration", not problems, said)


def _database(context: Any) -> tuple[bool, str]:
    with context.database.session() as session:
        current, head = revision_state(session.connection())
    if current != head:
        return False, (
            f"révision {current} au lieu de {head} : lancez « flask --app wsgi db upgrade » / "
            f"revision {current} instead of {head}: run 'flask --app wsgi db upgrade'"
        )
    return True, f"révision {head} (à jour / up to date)"


def _redis(context: Any) -> tuple[bool, str]:
    if context.redis is None:
        return True, "non configuré : travaux dans le processus / not configured: jobs in-process"
    context.redis.ping()
    return True, "répond / answers"


def _storage(context: Any) -> tuple[bool, str]:
    storage = context.storage
    url = context.settings.media_storage_url
    key = f"doctor/{uuid.uuid4().hex}"
    probe = b"signal93 doctor"
    try:
        storage.put(key, probe, "application/octet-stream")
        try:
            read = storage.get(key)
        finally:
            storage.delete(key)
    except Exception as exc:
        return False, _storage_problem(url, exc)
    if read != probe:
        return False, "relu autre chose que l'écrit / read back something else"
    if storage.exists(key):
        return False, "la suppression n'a pas pris / the delete did not take"
    return True, "écriture, lecture et suppression réussies / write, read and delete worked"


# What an S3-compatible service answers, in words an operator can act on (French / English).
_S3_PROBLEMS = {
    "NoSuchBucket": ("le compartiment {bucket} n'existe pas", "the bucket {bucket} does not exist"),
    "AccessDenied": ("accès refusé au compartiment {bucket}", "access to the bucket {bucket} is denied"),
    "AllAccessDisabled": ("accès refusé au compartiment {bucket}", "access to the bucket {bucket} is denied"),
    "InvalidAccessKeyId": (
        "clé d'accès inconnue (AWS_ACCESS_KEY_ID)",
        "unknown access key (AWS_ACCESS_KEY_ID)",
    ),
    "SignatureDoesNotMatch": (
        "clé secrète erronée (AWS_SECRET_ACCESS_KEY)",
        "wrong secret key (AWS_SECRET_ACCESS_KEY)",
    ),
}


def _storage_problem(url: str, exc: Exception) -> str:
    """What went wrong with the media storage at ``url`` and where to look, in both languages."""
    parts = urlsplit(url)
    bucket = f"« {parts.netloc} »"
    response = getattr(exc, "response", None)  # botocore's ClientError: the service's answer
    code = response.get("Error", {}).get("Code", "") if isinstance(response, dict) else ""
    if code in _S3_PROBLEMS:
        french, english = (text.format(bucket=bucket) for text in _S3_PROBLEMS[code])
    elif type(exc).__name__ in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL", "AWS")
        french = f"point d'accès injoignable ({endpoint}, AWS_ENDPOINT_URL)"
        english = f"endpoint unreachable ({endpoint}, AWS_ENDPOINT_URL)"
    elif type(exc).__name__ in ("NoCredentialsError", "PartialCredentialsError"):
        french = "identifiants absents (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
        english = "no credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
    elif isinstance(exc, OSError) and parts.scheme == "file":
        french = f"dossier {parts.path} inutilisable ({exc.strerror or exc})"
        english = f"folder {parts.path} unusable ({exc.strerror or exc})"
    else:
        french = english = f"{type(exc).__name__}: {exc}"
    return f"{french} : vérifiez MEDIA_STORAGE_URL={url} / {english}: check MEDIA_STORAGE_URL={url}"


def _smtp(settings: Any) -> tuple[bool, str]:
    if not settings.smtp_url:
        folder = settings.instance_path / "outbox"
        if settings.is_production:  # nobody reads a node's folder: the reporters would never hear back
            return False, (
                f"SMTP_URL absent : les e-mails resteraient dans {folder} sur ce nœud / "
                f"SMTP_URL unset: e-mails would stay in {folder} on this node"
            )
        folder.mkdir(parents=True, exist_ok=True)
        return True, f"pas de SMTP : e-mails écrits dans {folder} / no SMTP: e-mails written to {folder}"
    parts = urlsplit(settings.smtp_url)
    host, port = parts.hostname or "localhost", parts.port
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=10, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port or 25, timeout=10)
    with client:
        client.ehlo()
        if parts.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        code, _ = client.noop()
    if code != 250:
        return False, f"le serveur répond {code} / the server answers {code}"
    return True, f"{host}:{port or 25} répond / answers"


def _workers(context: Any) -> tuple[bool, str]:
    jobs, live, registered = _queue_state(context.redis)
    depth = f"{jobs['queued']} en attente, {jobs['failed']} en échec / {jobs['queued']} queued, {jobs['failed']} failed"
    if live == 0:
        return False, (
            f"aucun worker vivant ({registered} inscrits) : lancez « flask --app wsgi worker » ; {depth} / "
            f"no live worker ({registered} registered): start 'flask --app wsgi worker'"
        )
    return True, f"{live} worker(s) ; {depth}"
