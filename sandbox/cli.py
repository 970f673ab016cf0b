"""``flask --app wsgi sandbox ...``: organisers' commands (events, teams, keys, usage, snapshots)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from backend import deps
from backend.db import Database, migrations_disagreement
from sandbox import services
from sandbox.migrate import MIGRATIONS_DIR, migrate
from sandbox.models import ApiKey, Event, Team
from sandbox.usage import MemoryUsage, RedisUsage

sandbox_group = AppGroup("sandbox", help="Hackathon sandbox: events, teams, keys, usage.")
db_group = AppGroup("db", help="The sandbox's own tables.")
events_group = AppGroup("events", help="Hackathon events.")
teams_group = AppGroup("teams", help="Teams and their limits.")
keys_group = AppGroup("keys", help="API keys.")
snapshot_group = AppGroup("snapshot", help="Versions of the open datasets.")
sandbox_group.add_command(snapshot_group)
sandbox_group.add_command(db_group)
sandbox_group.add_command(events_group)
sandbox_group.add_command(teams_group)
sandbox_group.add_command(keys_group)


def _database() -> Database:
    return deps.core().database


def _secret() -> bytes:
    return services.key_secret(deps.core().settings.secret_key)


def _now() -> datetime:
    return datetime.now(UTC)


def _when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _fail(exc: services.DomainError) -> click.ClickException:
    details = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items())
    return click.ClickException(f"{exc.message} {details}".strip())


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create or update the sandbox's tables."""
    migrate(_database().engine)
    click.echo("Sandbox tables up to date.")


@db_group.command("check")
def db_check() -> None:
    """Fail if the sandbox's models and migrations disagree."""
    problem = migrations_disagreement(_database().engine, MIGRATIONS_DIR)
    if problem:
        raise click.ClickException(problem)
    click.echo("Sandbox models and migrations agree.")


@events_group.command("create")
@click.option("--slug", required=True)
@click.option("--name", required=True)
@click.option("--starts", required=True, help="ISO 8601, UTC if no offset")
@click.option("--ends", required=True, help="ISO 8601, UTC if no offset; keys expire then")
@click.option("--rate", default=10, show_default=True, help="requests per second per key")
@click.option("--burst", default=20, show_default=True, help="requests within one second per key")
@click.option("--quota", default=10_000, show_default=True, help="requests per day per key (UTC)")
def events_create(slug, name, starts, ends, rate, burst, quota) -> None:
    """Create a hackathon event."""
    try:
        with _database().transaction() as session:
            event = services.create_event(
                session,
                slug=slug,
                name=name,
                starts_at=_when(starts),
                ends_at=_when(ends),
                rate_per_second=rate,
                burst=burst,
                daily_quota=quota,
            )
            click.echo(f"Event {event.slug} created.")
    except services.DomainError as exc:
        raise _fail(exc) from exc


@events_group.command("list")
def events_list() -> None:
    with _database().transaction() as session:
        for event in session.scalars(select(Event).order_by(Event.starts_at)):
            click.echo(
                f"{event.slug}\t{event.name}\t{event.starts_at:%Y-%m-%d}→{event.ends_at:%Y-%m-%d}\t"
                f"{event.rate_per_second}/s burst {event.burst}, {event.daily_quota}/day"
            )


@teams_group.command("list")
def teams_list() -> None:
    """Teams with their status and requests over the last 7 days."""
    with _database().transaction() as session:
        services.store_usage(session, *_usage().drain())
        teams = list(session.scalars(select(Team).order_by(Team.id)))
        usage = services.usage_by_day(session, [t.id for t in teams], 7, today=services.utc_today(_now()))
        for team in teams:
            click.echo(f"{team.name}\t{team.contact_email}\t{team.status}\t{sum(usage[team.id].values())} requests/7d")


def _usage():
    """The mounted sandbox's counters (Redis in production: every process's requests)."""
    usage = current_app.extensions.get("sandbox.usage")
    if usage is not None:
        return usage
    redis_client = deps.current().redis
    return RedisUsage(redis_client) if redis_client is not None else MemoryUsage()


@teams_group.command("suspend")
@click.argument("team")
def teams_suspend(team: str) -> None:
    """Suspend a team: its keys are refused at once (403 team_suspended)."""
    _set_status(team, "suspended")


@teams_group.command("reinstate")
@click.argument("team")
def teams_reinstate(team: str) -> None:
    _set_status(team, "active")


def _set_status(name: str, status: str) -> None:
    try:
        with _database().transaction() as session:
            services.set_team_status(session, services.team_by_name(session, name), status)
    except services.DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"{name}: {status}")


@teams_group.command("limits")
@click.argument("team")
@click.option("--rate", type=int, help="requests per second (empty: the event's)")
@click.option("--burst", type=int)
@click.option("--quota", type=int, help="requests per day")
def teams_limits(team: str, rate, burst, quota) -> None:
    """Set a team's own limits (options left out follow the event's)."""
    try:
        with _database().transaction() as session:
            row = services.team_by_name(session, team)
            services.set_team_limits(session, row, rate_per_second=rate, burst=burst, daily_quota=quota)
    except services.DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"{team}: limits updated.")


@keys_group.command("issue")
@click.option("--team", required=True)
def keys_issue(team: str) -> None:
    """Issue a key for a team (printed once)."""
    try:
        with _database().transaction() as session:
            _, key = services.issue_key(session, services.team_by_name(session, team), now=_now(), secret=_secret())
    except services.DomainError as exc:
        raise _fail(exc) from exc
    click.echo(key)


@keys_group.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    """Revoke a key by its display prefix: refused at once by every process."""
    try:
        with _database().transaction() as session:
            services.revoke_key(session, prefix=prefix, now=_now())
    except services.DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"{prefix}… revoked.")


@keys_group.command("list")
@click.option("--team")
def keys_list(team: str | None) -> None:
    with _database().transaction() as session:
        query = select(ApiKey, Team).join(Team, ApiKey.team_id == Team.id).order_by(ApiKey.id)
        if team:
            query = query.where(Team.name == team)
        for key, owner in session.execute(query):
            state = "revoked" if key.revoked_at else ("expired" if key.expires_at <= _now() else "active")
            click.echo(f"{key.prefix}…\t{owner.name}\t{state}\texpires {key.expires_at:%Y-%m-%d %H:%M}")


def _datasets(dataset: str | None, every: bool) -> list[Any]:
    from sandbox.opendata.datasets import dataset_or_none, published_datasets

    if every == bool(dataset):
        raise click.UsageError("name one dataset (--dataset ID) or all of them (--all)")
    known = published_datasets()
    if dataset and dataset_or_none(dataset) is None:
        names = ", ".join(item.id for item in known)
        raise click.BadParameter(f"unknown dataset; one of {names}", param_hint="--dataset")
    return known if every else [dataset_or_none(dataset)]


@snapshot_group.command("build")
@click.option("--dataset", help="A dataset's id (see --all).")
@click.option("--all", "every", is_flag=True, help="Every dataset.")
def snapshot_build(dataset: str | None, every: bool) -> None:
    """Build and publish a new version of each dataset whose data changed (none otherwise)."""
    from sandbox.opendata import jobs
    from sandbox.opendata.datasets import refused_extras

    for reason in refused_extras():
        click.echo(f"refused: {reason}", err=True)
    datasets = _datasets(dataset, every)
    with click.progressbar(length=len(datasets), label="Building", item_show_func=lambda name: name) as bar:
        results = jobs.build_datasets(
            deps.current(), [item.id for item in datasets], now=_now(), progress=lambda name: bar.update(1, name)
        )
    for result in results:
        click.echo(result.line())
    if any(result.failed for result in results):
        raise SystemExit(1)


@snapshot_group.command("prune")
@click.option("--dataset", help="A dataset's id (see --all).")
@click.option("--all", "every", is_flag=True, help="Every dataset.")
@click.option(
    "--keep", type=click.IntRange(min=1), required=True, help="How many versions to keep (the latest always stays)."
)
def snapshot_prune(dataset: str | None, every: bool, keep: int) -> None:
    """Remove the oldest versions beyond the KEEP newest."""
    from sandbox.opendata import snapshots

    for item in _datasets(dataset, every):
        with _database().transaction() as session:
            removed = snapshots.prune(session, deps.current().storage, item.id, keep=keep)
        click.echo(f"{item.id}: {len(removed)} removed" + (f" ({', '.join(removed)})" if removed else ""))
