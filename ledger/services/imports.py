"""Importing a spreadsheet of entries: a dry-run preview, and the all-or-nothing import.

Both judge every row by the rules of ``record_entry`` (and ``reverse_entry`` for an exported ledger's
reversal rows), with the same field errors in the same words, so an import can never accept what the entry
form refuses, nor refuse what it accepts. They do it in memory (``ledger.imports.checks``) against the
alliance's tables loaded once per import, not one database round trip after another: 100,000 rows take
seconds, not minutes.

The preview writes nothing and takes no lock. The import checks the rows (or uses the preview's verdict when
nothing it depends on has changed since), then takes the alliance row lock, re-reads those tables (a period
may have been closed or an agreement version added meanwhile: if anything changed, the rows are checked
again) and writes: the entries in a few bulk inserts with ids reserved beforehand, their hash-chain links in
one go, and one activity event for the import. It keeps them only when no row has an error. A file's SHA-256
is recorded per alliance, so importing it a second time creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger import clock
from ledger.db import UTCDateTime, utcnow
from ledger.domain.errors import Conflict, NotAllowed
from ledger.domain.money import to_display_string
from ledger.domain.permissions import can_record
from ledger.domain.vocabulary import EntryKind
from ledger.imports import mapping as mappings
from ledger.imports.checks import (
    Books,
    Checked,
    Planned,
    VersionBook,
    check_rows,
    dump_plan,
    load_plan,
    reversal_description,
    verdict_key,
)
from ledger.imports.reading import Sheet
from ledger.imports.rows import ParsedRow, parse_row
from ledger.models import Alliance, Category, Entry, ImportBatch, ImportMapping, Membership, Partner, User
from ledger.services.activity import log
from ledger.services.agreements import rules_of, versions_of
from ledger.services.chain import append_links
from ledger.services.periods import closed_through, lock_alliance

#: Entries per INSERT statement (PostgreSQL) or executemany call (SQLite).
INSERT_CHUNK = 20_000

#: Where a service's field name points in the sheet (for messages in the sheet's own words).
_FIELD_COLUMN = {"date": "date", "partner_id": "partner", "kind": "kind", "category_id": "category",
                 "amount": "amount", "description": "description", "reference": "reference",
                 "counterparty_id": "counterparty", "entry_id": "entry_id", "reason": "description"}


@dataclass
class RowOutcome:
    """What one row becomes (or why it cannot), as the preview lists it."""

    number: int
    date: str
    partner: str
    kind: str
    category: str
    cents: int | None
    description: str
    errors: list[str] = field(default_factory=list)
    reversal_of: int | None = None


@dataclass
class ImportResult:
    rows: list[RowOutcome]
    created: int = 0
    batch: ImportBatch | None = None
    #: A preview's plan, for the import of the same file (see dry_run).
    verdict: bytes | None = None

    @property
    def errors(self) -> list[RowOutcome]:
        return [r for r in self.rows if r.errors]


class ImportRefused(Exception):
    """At least one row has an error: nothing was imported (the caller rolls back)."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        super().__init__(f"{len(result.errors)} rows have errors")


def _require_recorder(membership: Membership) -> None:
    if not can_record(membership.role):
        raise NotAllowed(f"As {membership.role.label} you can read the books but not import entries.")


def remembered_mapping(session: Session, membership: Membership) -> dict[str, str]:
    row = session.get(ImportMapping, membership.alliance_id)
    return mappings.loads(row.mapping if row else None)


def save_mapping(session: Session, actor: User, membership: Membership, names: dict[str, str]) -> None:
    """Remember the mapping for the alliance's next import (the caller commits)."""
    _require_recorder(membership)
    row = session.get(ImportMapping, membership.alliance_id)
    if row is None:
        row = ImportMapping(alliance_id=membership.alliance_id, mapping="{}", updated_by_id=actor.id)
        session.add(row)
    row.mapping = mappings.dumps(names)
    row.updated_by_id = actor.id
    row.updated_at = utcnow()
    session.flush()


def find_batch(session: Session, membership: Membership, sha256: str) -> ImportBatch | None:
    return session.scalar(select(ImportBatch).where(ImportBatch.alliance_id == membership.alliance_id,
                                                    ImportBatch.file_sha256 == sha256))


def already_imported_message(batch: ImportBatch) -> str:
    return (f"This file was already imported on {batch.imported_at:%Y-%m-%d %H:%M} UTC by "
            f"{batch.imported_by.name} ({batch.row_count} entries, as \u201c{batch.filename}\u201d). "
            f"Nothing new was created.")


def dry_run(session: Session, actor: User, membership: Membership, sheet: Sheet,
            columns: dict[str, int], sha256: str | None = None) -> ImportResult:
    """Judge every row as the import would, writing nothing and locking nothing.

    Given the file's ``sha256``, a sheet without errors also gets its ``verdict``: the plan, for
    :func:`import_sheet` to use instead of checking every row again if nothing it depends on has changed.
    """
    _require_recorder(membership)
    books = load_books(session, membership)
    today = clock.today(membership.alliance)
    result, checked = _check(session, membership, sheet, columns, books, today)
    if sha256 is not None and not result.errors:
        result.verdict = dump_plan(_verdict_key(books, today, membership, sha256, columns), checked.plan)
    return result


def import_sheet(session: Session, actor: User, membership: Membership, sheet: Sheet, columns: dict[str, int],
                 sha256: str, filename: str, verdict: bytes | None = None) -> ImportResult:
    """Import every row or none: raises ImportRefused (roll back) on any row error, Conflict if seen before.

    ``verdict``: what :func:`dry_run` gave for this file, used only if made by this member with this mapping,
    today, against the books as they are (else every row is checked again). The returned result then lists
    no rows, only what was created.
    """
    _require_recorder(membership)
    existing = find_batch(session, membership, sha256)
    if existing is not None:
        raise Conflict(already_imported_message(existing))
    alliance = membership.alliance
    books = load_books(session, membership)
    today = clock.today(membership.alliance)
    plan = load_plan(verdict, _verdict_key(books, today, membership, sha256, columns))
    if plan is not None:
        result, checked = ImportResult([], len(plan)), Checked({}, plan)
    else:
        result, checked = _check(session, membership, sheet, columns, books, today)
        if result.errors:
            raise ImportRefused(result)
    # The write: under the alliance lock from here to the commit, like every dated write.
    lock_alliance(session, alliance)
    locked = load_books(session, membership)
    if locked != books:  # a close, an agreement version, a partner ... landed since: judge the rows again
        result, checked = _check(session, membership, sheet, columns, locked, today)
        if result.errors:
            raise ImportRefused(result)
    batch = ImportBatch(alliance_id=alliance.id, file_sha256=sha256, filename=filename[:255] or "upload",
                        row_count=0, imported_by_id=actor.id)
    session.add(batch)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("This file was imported by someone else a moment ago; nothing new was created.") from None
    ids = _insert_entries(session, actor, alliance, batch, checked.plan)
    append_links(session, alliance, "entry", ids)
    result.created = batch.row_count = len(ids)
    result.batch = batch
    session.flush()
    log(session, alliance, actor, "entries.imported",
        f"{actor.name} imported {result.created} entries from {batch.filename}")
    return result


def load_books(session: Session, membership: Membership) -> Books:
    """The tables an import checks its rows against, as they are now (a handful of queries)."""
    alliance_id = membership.alliance_id
    alliance = session.execute(select(Alliance.name, Alliance.currency, Alliance.start_date, Alliance.term_end,
                                      Alliance.ended_on).where(Alliance.id == alliance_id)).one()
    partners: dict[int, str] = dict(session.execute(
        select(Partner.id, Partner.name).where(Partner.alliance_id == alliance_id).order_by(Partner.id)).all())
    categories: dict[int, str] = dict(session.execute(
        select(Category.id, Category.name).where(Category.alliance_id == alliance_id).order_by(Category.id)).all())
    versions = tuple(VersionBook(v.id, v.number, v.effective_from, tuple(rules_of(v)))
                     for v in reversed(versions_of(session, membership.alliance)))
    return Books(id=alliance_id, name=alliance.name, currency=alliance.currency, start_date=alliance.start_date,
                 term_end=alliance.term_end, ended_on=alliance.ended_on,
                 closed=closed_through(session, membership.alliance), partners=partners, categories=categories,
                 versions=versions, role=membership.role, own_partner_id=membership.partner_id,
                 own_partner_name=partners.get(membership.partner_id) if membership.partner_id else None)


def _verdict_key(books: Books, today: date, membership: Membership, sha256: str, columns: dict[str, int]) -> str:
    return verdict_key(books, today, membership.id, sha256, sorted(columns.items()))


def _check(session: Session, membership: Membership, sheet: Sheet, columns: dict[str, int],
           books: Books, today: date) -> tuple[ImportResult, Checked]:
    by_name = {name.casefold(): (pid, name) for pid, name in books.partners.items()}
    categories = {name.casefold(): (cid, name) for cid, name in books.categories.items()}
    parsed = [parse_row(n, cells, columns, books.currency, by_name, categories) for n, cells in sheet.rows]
    outcomes = [_outcome(row, books.currency) for row in parsed]
    first_id = (session.scalar(select(func.max(Entry.id))) or 0) + 1
    checked = check_rows(books, parsed, today, first_id)
    for outcome in outcomes:
        errors = checked.errors.get(outcome.number)
        if errors:
            outcome.errors = [_plain(key, message, sheet, columns) for key, message in errors.items()]
    return ImportResult(outcomes, len(checked.plan)), checked


def _insert_entries(session: Session, actor: User, alliance: Alliance, batch: ImportBatch,
                    plan: list[Planned]) -> list[int]:
    """Insert the planned entries and return their ids, in the plan's order (originals, then reversals).

    The ids are reserved first, so a reversal names its original's id and every row goes in one pass.
    """
    connection = session.connection()
    ids = _reserve_ids(connection, len(plan))
    id_of = {id(p): entry_id for p, entry_id in zip(plan, ids, strict=True)}
    rows = []
    for p, entry_id in zip(plan, ids, strict=True):
        original_id = id_of[id(p.original)] if p.original is not None else None
        rows.append({
            "id": entry_id, "entry_date": p.entry_date, "partner_id": p.partner_id, "kind": p.kind,
            "category_id": p.category_id, "amount": p.amount,
            "description": p.description if original_id is None else reversal_description(original_id,
                                                                                         p.reversal_text),
            "reference": p.reference, "counterparty_id": p.counterparty_id, "version_id": p.version_id,
            "pool_id": p.pool_id, "reverses_id": original_id})
    common = {"alliance_id": alliance.id, "import_batch_id": batch.id, "recorded_by_id": actor.id,
              "recorded_at": utcnow()}
    if connection.dialect.name == "postgresql":
        _insert_postgresql(connection, rows, common)
    else:
        table = Entry.__table__
        for start in range(0, len(rows), INSERT_CHUNK):
            connection.execute(insert(table), [{**row, **common} for row in rows[start:start + INSERT_CHUNK]])
    return ids


def _reserve_ids(connection, count: int) -> list[int]:
    """``count`` new entry ids, ascending. The caller holds the alliance lock (SQLite: the database's writer lock)."""
    if not count:
        return []
    if connection.dialect.name == "postgresql":
        return sorted(connection.execute(
            text("SELECT nextval(pg_get_serial_sequence('entries', 'id')) FROM generate_series(1, :n)"),
            {"n": count}).scalars())
    # SQLite hands out max(id) + 1 (the table has no AUTOINCREMENT); nobody else writes until the commit.
    first = (connection.execute(select(func.max(Entry.id))).scalar() or 0) + 1
    return list(range(first, first + count))


#: The entry columns that differ per row: each is one array parameter of the statement below.
_PG_COLUMNS = ("id", "entry_date", "partner_id", "kind", "category_id", "amount", "description", "reference",
               "counterparty_id", "version_id", "pool_id", "reverses_id")
_PG_INSERT = text("""
INSERT INTO entries (id, entry_date, partner_id, kind, category_id, amount, description, reference,
                     counterparty_id, version_id, pool_id, reverses_id,
                     alliance_id, import_batch_id, recorded_by_id, recorded_at)
SELECT u.*, :alliance_id, :import_batch_id, :recorded_by_id, :recorded_at
FROM unnest(CAST(:id AS integer[]), CAST(:entry_date AS date[]), CAST(:partner_id AS integer[]),
            CAST(:kind AS varchar[]), CAST(:category_id AS integer[]), CAST(:amount AS bigint[]),
            CAST(:description AS varchar[]), CAST(:reference AS varchar[]), CAST(:counterparty_id AS integer[]),
            CAST(:version_id AS integer[]), CAST(:pool_id AS integer[]), CAST(:reverses_id AS integer[]))
     AS u(id, entry_date, partner_id, kind, category_id, amount, description, reference,
          counterparty_id, version_id, pool_id, reverses_id)
""").bindparams(bindparam("recorded_at", type_=UTCDateTime()))


def _insert_postgresql(connection, rows: list[dict], common: dict) -> None:
    """One ``INSERT ... SELECT FROM unnest(arrays)`` per chunk: each column is one array parameter.

    An executemany would run one statement per row (and the statement-level trigger maintaining entry_totals
    once per row); a multi-row VALUES of 1,000 rows has 15,000 placeholders that psycopg parses on the client
    for every statement. This is the same rows with 16 parameters a chunk, so the time is the server's.
    """
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start:start + INSERT_CHUNK]
        arrays = {name: [row[name] for row in chunk] for name in _PG_COLUMNS}
        arrays["kind"] = [kind.value for kind in arrays["kind"]]
        connection.execute(_PG_INSERT, {**common, **arrays})


def _outcome(row: ParsedRow, currency: str) -> RowOutcome:
    day = row.raw.get("date")
    return RowOutcome(
        number=row.number, date=day.isoformat() if isinstance(day, date) else str(day or ""),
        partner=row.partner_name, kind=row.kind.label if isinstance(row.kind, EntryKind) else str(
            row.raw.get("kind") or ""),
        category=row.category_name, cents=row.cents, description=str(row.raw.get("description") or ""),
        reversal_of=row.reverses)


def _plain(key: str, message: str, sheet: Sheet, columns: dict[str, int]) -> str:
    """"Amount (column “Importo”): The amount cannot be zero." - the sheet's own column name."""
    field_key = _FIELD_COLUMN.get(key, key)
    label = mappings.LABELS.get(field_key, key.replace("_", " ").capitalize())
    if field_key in columns:
        return f"{label} (column \u201c{sheet.header[columns[field_key]]}\u201d): {message}"
    return f"{label}: {message}"


def display_amount(cents: int | None, currency: str) -> str:
    return "" if cents is None else to_display_string(cents, currency)
