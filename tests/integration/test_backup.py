"""``ledger backup`` and ``ledger restore`` on a real database: what comes back is exactly what was backed up.

"Exactly" is checked three ways: the entries, every partner's balance, and
the tamper-evident chain, which verifies intact with the backed-up head.

SQLite uses the online backup API, PostgreSQL pg_dump / pg_restore. Each test
records entries after the backup (and reverses one), restores, and checks the
books are the backed-up books to the cent: entries, reversals and balances.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.backup import BackupError, backup, default_path
from ledger.chain import verify_alliance
from ledger.models import Alliance, Entry, Membership, User
from ledger.queries import balance_sheet
from ledger.services import entries
from tests.builders import TODAY, record


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def _books(session, case) -> tuple[int, list[tuple[int, int]], str]:
    """Entries, every partner's net, and the hash chain's head, which must verify intact."""
    session.expire_all()
    alliance = session.get(Alliance, case.alliance.id)
    sheet = balance_sheet(session, alliance)
    count = session.scalar(select(func.count()).select_from(Entry))
    verdict = verify_alliance(session, alliance.id)
    assert verdict.intact, verdict.summary()
    return count, [(row.partner_id, row.net) for row in sheet.rows], verdict.fingerprint


def _some_books(session, case) -> None:
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="2000.00",
           date="2020-05-04")
    record(session, case, "beta", partner="Beta", kind="revenue", category="production", amount="500.01",
           date="2020-05-20")
    record(session, case, "gamma", partner="Gamma", kind="service_fee", category="production", amount="333.33",
           date="2020-06-01")
    session.commit()


def test_a_restored_backup_has_exactly_the_backed_up_books(runner, session, case, tmp_path, database_url):
    _some_books(session, case)
    before = _books(session, case)
    target = tmp_path / ("books.db" if database_url.startswith("sqlite") else "books.dump")
    result = runner.invoke(args=["ledger", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0

    # Life goes on after the backup: a new entry and a reversal.
    late = record(session, case, "alpha", partner="Alpha", kind="cost", category="waste", amount="99.99",
                  date="2020-06-10")
    first = session.scalars(select(Entry).order_by(Entry.id)).first()
    entries.reverse_entry(session, session.get(User, case.users["alpha"].id),
                          session.get(Membership, case.memberships["alpha"].id), first,
                          {"date": "2020-06-11", "reason": "billed twice"}, TODAY)
    session.commit()
    assert _books(session, case) != before
    late_id = late.id
    session.close()

    refused = runner.invoke(args=["ledger", "restore", str(target)], input="n\n")
    assert refused.exit_code != 0  # nothing happens without a yes
    assert _books(session, case)[0] == before[0] + 2
    session.close()

    result = runner.invoke(args=["ledger", "restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    assert _books(session, case) == before
    assert session.get(Entry, late_id) is None


def test_a_backup_never_holds_an_uncommitted_write(app, session, case, tmp_path, database_url):
    """Taken while a partner's transaction is open: the backup has the books as committed, not half a write."""
    _some_books(session, case)
    before = _books(session, case)
    writer = app.extensions["ledger.sessions"]()
    try:
        record(writer, case, "beta", partner="Beta", kind="cost", category="waste", amount="1.00",
               date="2020-06-12")
        writer.flush()  # written, not committed
        target = backup(database_url, default_path(tmp_path, database_url))
    finally:
        writer.rollback()
        writer.close()
    session.close()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ledger", "restore", str(target), "--yes"]).exit_code == 0
    assert _books(session, case) == before


def test_bad_targets_and_sources_are_refused_with_a_message(runner, tmp_path, database_url):
    existing = tmp_path / "taken.db"
    existing.write_text("x")
    result = runner.invoke(args=["ledger", "backup", str(existing)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    result = runner.invoke(args=["ledger", "restore", str(tmp_path / "missing.db"), "--yes"])
    assert result.exit_code == 1
    assert "no backup" in result.output


def test_a_file_that_is_not_a_backup_is_refused_and_the_books_stay(runner, session, case, tmp_path, database_url):
    _some_books(session, case)
    before = _books(session, case)
    session.close()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = runner.invoke(args=["ledger", "restore", str(junk), "--yes"])
    assert result.exit_code == 1
    expected = "not a backup" if database_url.startswith("sqlite") else "not appear to be a valid archive"
    assert expected in result.output
    assert _books(session, case) == before


def test_default_names_say_when_and_what():
    from datetime import UTC, datetime

    moment = datetime(2026, 12, 1, 10, 15, tzinfo=UTC)
    assert default_path(Path("b"), "sqlite:///x.db", moment).name == "ledger-20261201T101500Z.db"
    assert default_path(Path("b"), "postgresql://h/db", moment).name == "ledger-20261201T101500Z.dump"
    with pytest.raises(BackupError, match="in-memory"):
        backup("sqlite://", Path("never.db"))
