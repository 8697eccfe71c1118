"""Backups the books can be restored from: SQLite's online backup, PostgreSQL's pg_dump and pg_restore.

A backup must never catch a half-written transaction, and taking one must not
stop the partners from recording. SQLite's online backup API copies a
consistent snapshot page by page while writers carry on; ``pg_dump`` reads
the whole database inside one repeatable-read transaction. Copying the
``.db`` file by hand could catch a write half-way (and misses the WAL).

Restoring replaces everything in the target database with the backup:
the command asks for confirmation, and the restored books can be checked
with ``ledger verify`` and the balances.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from ledger.clock import utcnow
from ledger.db import normalise_url


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says what to do."""


def is_sqlite(database_url: str) -> bool:
    return normalise_url(database_url).startswith("sqlite")


def default_path(directory: Path, database_url: str, now: datetime | None = None) -> Path:
    """``ledger-20261201T101500Z.db`` (SQLite) or ``.dump`` (pg_dump's custom format), by the moment taken."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
    return directory / f"ledger-{stamp}.{'db' if is_sqlite(database_url) else 'dump'}"


def _sqlite_file(database_url: str) -> Path:
    database = make_url(normalise_url(database_url)).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database has nothing on disk to back up or restore.")
    return Path(database)


def _libpq_url(database_url: str) -> str:
    """The URL as pg_dump and pg_restore read it (no SQLAlchemy driver name)."""
    url = make_url(normalise_url(database_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client tools "
                          f"(Debian: apt-get install postgresql-client) and run the command again.")
    return path


def backup(database_url: str, target: Path) -> Path:
    """Write a consistent copy of the database to ``target`` while it stays in use."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise BackupError(f"{target} already exists; choose another file.")
    if is_sqlite(database_url):
        source = _sqlite_file(database_url)
        if not source.exists():
            raise BackupError(f"There is no database at {source}.")
        with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
            live.backup(copy)
        return target
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target), _libpq_url(database_url)])
    return target


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with the backup in ``source`` (all of it, or nothing on SQLite)."""
    if not source.is_file():
        raise BackupError(f"There is no backup at {source}.")
    if is_sqlite(database_url):
        _restore_sqlite(database_url, source)
        return
    _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          "--dbname", _libpq_url(database_url), str(source)])


def _restore_sqlite(database_url: str, source: Path) -> None:
    with sqlite3.connect(source) as backup_db:
        try:
            ok = backup_db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            versioned = backup_db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone()
        except sqlite3.DatabaseError:
            ok, versioned = False, None
        if not ok or versioned is None:
            raise BackupError(f"{source} is not a backup of an Alliance Ledger SQLite database.")
        target = _sqlite_file(database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(target) as live:
            backup_db.backup(live)  # page by page under one lock: readers see the old or the new books


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tools
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip() or result.stdout.strip()}")
