"""``flask --app wsgi ledger ...``: database, users, tokens and the demo alliance."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ledger import totals
from ledger.domain.errors import InvalidInput
from ledger.extensions import get_session
from ledger.migrate import upgrade
from ledger.services import users

ledger_cli = AppGroup("ledger", help="Alliance Ledger administration.")
user_cli = AppGroup("user", help="User accounts.")
token_cli = AppGroup("token", help="API bearer tokens.")
ledger_cli.add_command(user_cli)
ledger_cli.add_command(token_cli)


def _fail(exc: InvalidInput) -> None:
    for field, message in exc.errors.items():
        click.echo(f"error: {field}: {message}", err=True)
    raise SystemExit(1)


@ledger_cli.command("init-db")
def init_db() -> None:
    """Upgrade the database to the latest migration (safe to run again)."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo("Database is at the latest migration.")


@user_cli.command("create")
@click.argument("email")
@click.option("--name", prompt=True, help="Full name shown to other members.")
@click.password_option(help="At least 10 characters, not a common password, not the email.")
def user_create(email: str, name: str, password: str) -> None:
    """Create a user who can log in with EMAIL."""
    session = get_session()
    try:
        user = users.create_user(session, email, name, password)
    except InvalidInput as exc:
        _fail(exc)
    session.commit()
    click.echo(f"Created user {user.email} (#{user.id}).")


@token_cli.command("create")
@click.argument("email")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
def token_create(email: str, name: str) -> None:
    """Create an API bearer token for EMAIL and print it (it is shown only once)."""
    session = get_session()
    user = users.user_by_email(session, email)
    if user is None:
        click.echo(f"error: no user with email {email}", err=True)
        raise SystemExit(1)
    try:
        _, plain = users.create_token(session, user, name)
    except InvalidInput as exc:
        _fail(exc)
    session.commit()
    click.echo(plain)


@ledger_cli.command("demo")
def demo() -> None:
    """Load the demo alliance "PPE masks 2020" unless it is already there, and print its log-ins."""
    from ledger.demo import DEMO_PASSWORD, load_demo

    session = get_session()
    created, logins = load_demo(session)
    session.commit()
    click.echo("Loaded the demo alliance." if created else "The demo alliance is already there; nothing changed.")
    click.echo(f"Demo log-ins (password for all: {DEMO_PASSWORD}):")
    width = max((len(email) for email, _ in logins), default=0)
    for email, role in logins:
        click.echo(f"  {email:<{width}}  {role}")


@ledger_cli.command("export")
@click.argument("alliance_id", type=int)
@click.option("--from", "date_from", help="First day (YYYY-MM-DD); default the start of the term.")
@click.option("--to", "date_to", help="Last day (YYYY-MM-DD); default the end of the term.")
@click.option("--month", help="A month instead of --from/--to (YYYY-MM).")
@click.option("--quarter", help="A quarter instead of --from/--to (YYYY-Qn).")
@click.option("--format", "fmt", default="xlsx", show_default=True, help="xlsx or csv.")
def export(alliance_id: int, date_from: str | None, date_to: str | None, month: str | None, quarter: str | None,
           fmt: str) -> None:
    """Export an alliance's books for a period into exports/ (named by alliance, period and export time)."""
    from pathlib import Path

    from ledger.db import MAX_ID
    from ledger.domain.errors import FieldErrors
    from ledger.export.files import save_export
    from ledger.export.period import parse_format, parse_period
    from ledger.models import Alliance
    from ledger.statements import every_comment

    session = get_session()
    alliance = session.get(Alliance, alliance_id) if 0 < alliance_id <= MAX_ID else None
    if alliance is None:
        click.echo(f"error: no alliance #{alliance_id}", err=True)
        raise SystemExit(1)
    errors = FieldErrors()
    choice = "month" if month else "quarter" if quarter else "range"
    chosen = errors.merge(parse_period, alliance, {"period": choice, "month": month, "quarter": quarter,
                                                   "from": date_from, "to": date_to})
    fmt = errors.check("format", parse_format, fmt)
    if errors:
        _fail(InvalidInput(errors.errors))
    directory = Path(current_app.config.get("EXPORT_DIR") or Path(current_app.root_path).parent / "exports")
    path = save_export(session, alliance, chosen, fmt, directory, every_comment)
    click.echo(f"Wrote {path}")


@ledger_cli.command("open-checkpoints")
def open_checkpoints() -> None:
    """Open every checkpoint whose date has come, freezing its figures (run daily, e.g. from cron).

    Pages open a due checkpoint on the first look anyway; this makes the freeze happen on the day itself
    even if nobody looks.
    """
    from sqlalchemy import select

    from ledger.clock import today
    from ledger.models import Alliance
    from ledger.services.checkpoints import open_due

    session = get_session()
    opened = 0
    for alliance in session.scalars(select(Alliance).order_by(Alliance.id)).all():
        for checkpoint in open_due(session, alliance, today(alliance)):  # each alliance's own calendar day
            opened += 1
            click.echo(f"Opened \u201c{checkpoint.label}\u201d of {alliance.name}, as of {checkpoint.as_of}")
        session.commit()
    click.echo(f"{opened} checkpoint{'s' if opened != 1 else ''} opened.")


@ledger_cli.command("backup")
@click.argument("target", required=False, type=click.Path(dir_okay=False))
def backup_command(target: str | None) -> None:
    """Write a consistent backup while the app keeps running (default: instance/backups/ledger-<time>.db|.dump).

    SQLite: the online backup API. PostgreSQL: pg_dump's custom format (restore with ``ledger restore``).
    """
    from pathlib import Path

    from ledger.backup import BackupError, backup, default_path

    url = current_app.config["DATABASE_URL"]
    path = Path(target) if target else default_path(Path(current_app.instance_path) / "backups", url)
    try:
        backup(url, path)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Wrote {path}")


@ledger_cli.command("restore")
@click.argument("source", type=click.Path(dir_okay=False))
@click.confirmation_option(prompt="Restoring replaces everything in this database with the backup. Go on?")
def restore_command(source: str) -> None:
    """Replace the database's contents with a backup made by ``ledger backup``; stop the app first."""
    from pathlib import Path

    from ledger.backup import BackupError, restore

    try:
        restore(current_app.config["DATABASE_URL"], Path(source))
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"Restored {source}. Check it with: flask --app wsgi ledger verify")


@ledger_cli.command("verify")
@click.argument("alliance_id", type=int, required=False)
@click.option("--head", help="The chain head an earlier export of ALLIANCE_ID printed (e.g. 42-3fa9c1d2e4b5a6f7): "
                             "is it still in the chain?")
def verify_command(alliance_id: int | None, head: str | None) -> None:
    """Check the books of ALLIANCE_ID (default: every alliance): the hash chain, the running totals, and with
    --head an earlier export's chain head. Exit 1 if any check fails.

    Prints the verdict the Verify page and the API give, then every finding: records changed, missing or
    unlinked, links broken, totals that no longer match the entries, a head no longer in the chain.
    """
    from sqlalchemy import select

    from ledger.chain import head_of, report_of
    from ledger.db import MAX_ID
    from ledger.domain.chain import fingerprint
    from ledger.models import Alliance

    session = get_session()
    if alliance_id is None:
        if head is not None:
            click.echo("error: --head: give the ALLIANCE_ID whose export printed it", err=True)
            raise SystemExit(2)
        alliances = list(session.scalars(select(Alliance).order_by(Alliance.id)))
    else:
        alliance = session.get(Alliance, alliance_id) if 0 < alliance_id <= MAX_ID else None
        if alliance is None:
            click.echo(f"error: no alliance #{alliance_id}", err=True)
            raise SystemExit(2)
        alliances = [alliance]
    broken = 0
    for alliance in alliances:
        try:
            found = report_of(session, alliance.id, head)
        except InvalidInput as exc:
            for message in exc.errors.values():
                click.echo(f"error: --head: {message}", err=True)
            raise SystemExit(2) from None
        click.echo(f"Alliance #{alliance.id} {alliance.name}: {found.headline} {found.message}")
        click.echo(f"  chain head now: {fingerprint(head_of(session, alliance.id))}")
        for problem in found.problems:
            where = f"position {problem.position}" if problem.position else "no position"
            click.echo(f"  {problem.kind}: {problem.record} ({where}): {problem.message}")
        for gap in found.totals:
            click.echo(f"  totals: {gap.message} (`flask ledger rebuild-totals {alliance.id}` recomputes them once "
                       "the books are settled)")
        if found.head_check is not None and not found.head_check.found:
            click.echo(f"  head {found.head_check.code.replace('_', ' ')}: {found.head_check.fingerprint}")
        broken += not found.intact
    if broken:
        raise SystemExit(1)


@ledger_cli.command("rebuild-totals")
@click.argument("alliance_id", type=int, required=False)
def rebuild_totals_command(alliance_id: int | None) -> None:
    """Recompute the running totals of ALLIANCE_ID (default: every alliance) from its entries, in one transaction.

    The database keeps them by itself (triggers on ``entries``); this is for books restored or repaired by
    hand. Balances read the totals, so after an entry was changed outside the app they are what to rebuild.
    """
    session = get_session()
    totals.rebuild(session, alliance_id)
    session.commit()
    click.echo(f"Rebuilt the totals of {'every alliance' if alliance_id is None else f'alliance #{alliance_id}'}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(ledger_cli)
