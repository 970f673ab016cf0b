"""Command-line entry points: ``flask --app wsgi seed | db ... | zones import``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from alembic import command as alembic_command
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from backend import deps
from backend.db import Database, alembic_config, migrate, migrations_disagreement, utcnow
from backend.directory.models import ROLES
from backend.errors import DomainError
from backend.seeding import DEFAULT_SEEDS_DIR, SeedError, load_seeds
from backend.zones import services as zone_services
from backend.zones.geometry import LAMBERT93, WGS84
from backend.zones.models import ZONE_KINDS


def _database() -> Database:
    return deps.current().database


db_group = AppGroup("db", help="Database schema (Alembic migrations).")
zones_group = AppGroup("zones", help="Zones: import GeoJSON outlines.")


@click.command("seed")
@click.option(
    "--seeds-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_SEEDS_DIR,
    show_default=True,
    help="Folder of seed files.",
)
@with_appcontext
def seed_command(seeds_dir: Path) -> None:
    """Apply migrations, then load the reference data (safe to run again)."""
    try:
        # One transaction: the schema and the data move together, or not at all.
        with _database().transaction() as session:
            migrate(session.connection())
            # Components mounted beside the backend (the sandbox) migrate in the same transaction.
            for migrate_component in current_app.extensions.get("signal93.extra_migrations", []):
                migrate_component(session.connection())
            report = load_seeds(session, seeds_dir)
    except SeedError as exc:
        raise click.ClickException(f"seed failed, nothing was changed: {exc}") from exc
    for line in report.lines():
        click.echo(line)
    click.echo("Seed data up to date." if report.changed == 0 else f"Seed loaded: {report.changed} changes.")


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the schema to REVISION (default: head)."""
    migrate(_database().engine, revision)
    click.echo(f"Database at {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the schema down to REVISION (``base`` empties it)."""
    with _database().engine.begin() as connection:
        alembic_command.downgrade(alembic_config(connection), revision)
    click.echo(f"Database at {revision}.")


@db_group.command("check")
def db_check() -> None:
    """Fail if the models and the migrations disagree (``alembic check``)."""
    problem = migrations_disagreement(_database().engine)
    if problem:
        raise click.ClickException(problem)
    click.echo("Models and migrations agree.")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does.")
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    with _database().engine.begin() as connection:
        alembic_command.revision(alembic_config(connection), message=message, autogenerate=True)


@zones_group.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--kind", required=True, type=click.Choice(ZONE_KINDS), help="Kind of every zone in the file.")
@click.option(
    "--srid",
    type=click.Choice([str(WGS84), str(LAMBERT93)]),
    default=str(WGS84),
    show_default=True,
    help="Coordinate system of the file: 4326 (WGS84) or 2154 (Lambert-93).",
)
@click.option("--name-property", default="name", show_default=True, help="Feature property holding the name.")
@click.option("--code-property", default="code", show_default=True, help="Feature property holding the code.")
def zones_import(file, kind: str, srid: str, name_property: str, code_property: str) -> None:
    """Import zones from a GeoJSON FeatureCollection: all of them, or none if one is invalid."""
    try:
        collection = json.load(file)
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file.name} is not JSON: {exc}") from exc
    try:
        zones = zone_services.read_features(
            collection, kind=kind, srid=int(srid), name_property=name_property, code_property=code_property
        )
    except zone_services.InvalidFeatures as exc:
        lines = [exc.message]
        for index, reasons in exc.errors.get("features", {}).items():
            lines += [f"  feature {index}: {reason}" for reason in reasons]
        lines += [f"  {reason}" for reason in exc.errors.get("file", [])]
        raise click.ClickException("\n".join(lines)) from exc
    with _database().transaction() as session:
        result = zone_services.store_zones(session, zones)
    click.echo(f"{kind}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged.")


@zones_group.command("qr-sheet")
@click.option("--park", required=True, help="The park's slug (sausset, georges-valbon…).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write.")
def zones_qr_sheet(park: str, out: Path) -> None:
    """Write the A4 sheet of QR labels of a park's walk, to print for its posts."""
    from backend.observations import services as observations
    from backend.observations.sheet import qr_sheet

    with _database().session(read_only=True) as session:
        try:
            the_park = observations.get_park(session, park)
            balade = observations.get_balade(session, the_park)
        except observations.NotFound as exc:
            raise click.ClickException(exc.message) from exc
        stations = [(s.position, len(balade.stations), s.zone.code, s.zone.name) for s in balade.stations]
        park_name = the_park.name
    with click.progressbar(length=len(stations), label="Labels") as bar:
        pdf = qr_sheet(park_name, stations, deps.current().settings.public_base_url, progress=lambda _: bar.update(1))
    out.write_bytes(pdf)
    click.echo(f"{out}: {len(stations)} labels for {park_name}.")


@click.command("sweep")
@click.option(
    "--older-than",
    type=click.IntRange(0, 86_400),
    default=None,
    help="Seconds pending work waits before it is taken for lost (default: each kind's own; 0 after an incident).",
)
@with_appcontext
def sweep_command(older_than: int | None) -> None:
    """Send again the jobs lost to a Redis outage or a killed worker (media, reporter e-mails, unit webhooks)."""
    from datetime import timedelta

    from backend import jobs

    stale_after = None if older_than is None else timedelta(seconds=older_than)
    click.echo(f"{jobs.sweep(stale_after)} lost jobs sent again.")


@click.command("digest")
@with_appcontext
def digest_command() -> None:
    """E-mail the units that take a digest of their new reports (a worker does it hourly)."""
    from backend.notifications.jobs import send_digests

    click.echo(f"{send_digests()} digests sent.")


@click.command("unit-secret")
@click.argument("unit")
@with_appcontext
def unit_secret_command(unit: str) -> None:
    """Print the key a unit's webhook receiver checks X-Signal93-Signature with."""
    from backend.notifications.units import webhook_secret

    click.echo(webhook_secret(deps.current().settings.secret_key, unit))


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check the configuration, the database's revision, Redis, the media storage, SMTP and the
    workers; say what is wrong in French and English; exit 1 if anything is."""
    from backend.operations import doctor

    checks = doctor()
    for check in checks:
        click.echo(f"{'OK     ' if check.ok else 'ERREUR '} {check.name} : {check.said}")
    failed = [check for check in checks if not check.ok]
    if failed:
        click.echo(f"{len(failed)} problème(s) / problem(s).", err=True)
        raise SystemExit(1)
    click.echo("Tout va bien / All good.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty (tests, one-off runs).")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an rq worker with the app's settings; it also sweeps pending media every few minutes."""
    from rq import Queue

    from backend import jobs
    from backend.queue import QUEUE_NAME, worker_class

    redis_client = deps.current().redis
    if redis_client is None:
        raise click.ClickException("REDIS_URL is not set: without it, jobs already run in-process.")
    jobs.sweep()  # whatever a previous worker left behind
    jobs.schedule_sweeps(redis_client)
    for schedule in current_app.extensions.get("signal93.schedules", []):  # the sandbox's snapshots
        schedule(redis_client)
    worker = worker_class()([Queue(QUEUE_NAME, connection=redis_client)], connection=redis_client)
    worker.work(burst=burst, with_scheduler=not burst)


agents_group = AppGroup("agents", help="Agents' accounts.")


@agents_group.command("create")
@click.option("--email", required=True)
@click.option("--directorate", required=True, help="DVD, DEA or DNPB")
@click.option("--unit", help="Unit code, e.g. DVD-T6")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def agents_create(email, directorate, unit, role, password_stdin) -> None:
    """Create an agent; the password is typed at a prompt (or read from stdin)."""
    from backend.directory import agents

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with _database().transaction() as session:
            agent = agents.create_agent(
                session, email=email, password=password, directorate=directorate, role=role, unit=unit
            )
            click.echo(f"Agent {agent.email} ({role}, {directorate}) created.")
    except agents.AgentError as exc:
        details = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.errors.items())
        raise click.ClickException(f"{exc.message} {details}") from exc


@agents_group.command("disable")
@click.argument("email")
def agents_disable(email: str) -> None:
    """Disable an agent: their tokens stop working at once."""
    from backend.directory import agents

    try:
        with _database().transaction() as session:
            agents.set_active(session, email, False)
    except agents.AgentError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{email} disabled.")


@agents_group.command("list")
def agents_list() -> None:
    from sqlalchemy import select

    from backend.directory.models import Agent

    with _database().transaction() as session:
        for agent in session.scalars(select(Agent).order_by(Agent.email)):
            state = "active" if agent.active else "disabled"
            click.echo(f"{agent.email}\t{agent.role}\t{agent.directorate.code}\t{state}")


species_group = AppGroup("species", help="The species list.")
observations_group = AppGroup("observations", help="Observ'acteurs' sightings.")


@observations_group.command("dwca")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def observations_dwca(out: Path) -> None:
    """Write every public sighting as a Darwin Core Archive (zip)."""
    from backend.db import utcnow
    from backend.observations import dwca

    with _database().transaction() as session:  # streaming the rows needs a transaction on PostgreSQL
        count = dwca.write_archive(session, out, public_base_url=deps.current().settings.public_base_url, now=utcnow())
    click.echo(f"{out}: {count} occurrences.")


@species_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def species_import(file: Path) -> None:
    """Load a TAXREF extract (TSV or CSV, TAXREF's column names): CD_NOM for the species known,
    the others added; rows that cannot be used are listed."""
    from backend.observations import taxref

    with file.open("rb") as handle:
        lines = sum(1 for _ in handle) - 1
    try:
        with (
            _database().transaction() as session,
            click.progressbar(length=max(lines, 1), label="Loading TAXREF") as bar,
        ):
            result = taxref.import_taxref(session, file, progress=lambda _line: bar.update(1))
    except taxref.TaxrefFileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"species: {result.created} created, {result.updated} updated, {result.unchanged} unchanged.")
    if result.refused:
        click.echo(f"{len(result.refused)} rows not used:")
        for reason in result.refused[:50]:
            click.echo(f"  {reason}")
        if len(result.refused) > 50:
            click.echo(f"  … and {len(result.refused) - 50} more")


open311_group = AppGroup("open311", help="The Open311 GeoReport v2 API.")
open311_keys = AppGroup("keys", help="Keys of the Open311 clients (a CRM, an app…).")
open311_group.add_command(open311_keys)


@open311_keys.command("issue")
@click.argument("name")
def open311_keys_issue(name: str) -> None:
    """Issue a key to a new client NAME: printed once, stored hashed."""
    from backend.open311 import clients

    try:
        with _database().transaction() as session:
            client, key = clients.issue(session, name, secret_key=deps.current().settings.secret_key, now=utcnow())
            click.echo(f"Key for {client.name} (shown once, keep it secret):")
            click.echo(key)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc


@open311_keys.command("revoke")
@click.argument("name")
def open311_keys_revoke(name: str) -> None:
    """Revoke client NAME's key at once (its reports keep its name)."""
    from backend.open311 import clients

    try:
        with _database().transaction() as session:
            clients.revoke(session, name, now=utcnow())
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{name}: key revoked.")


@open311_keys.command("list")
def open311_keys_list() -> None:
    from backend.open311 import clients

    with _database().transaction() as session:
        for client in clients.list_clients(session):
            state = f"revoked {client.revoked_at:%Y-%m-%d}" if client.revoked_at else "active"
            click.echo(f"{client.name}\t{client.key_prefix}…\t{state}")


def register(app: Flask) -> None:
    app.cli.add_command(open311_group)
    app.cli.add_command(seed_command)
    app.cli.add_command(species_group)
    app.cli.add_command(observations_group)
    app.cli.add_command(db_group)
    app.cli.add_command(zones_group)
    app.cli.add_command(sweep_command)
    app.cli.add_command(agents_group)
    app.cli.add_command(digest_command)
    app.cli.add_command(unit_secret_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(doctor_command)
