"""Importing a spreadsheet of entries: a dry-run preview, and the all-or-nothing import.

Both run every row through ``record_entry`` (and ``reverse_entry`` for an
exported ledger's reversal rows), so an import can never accept what the
entry form refuses, nor refuse what it accepts. The preview does the real
writes and the caller rolls them back; the import keeps them only when no row
has an error. A file's SHA-256 is recorded per alliance, so importing it a
second time creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.db import utcnow
from ledger.domain.errors import Conflict, InvalidInput, NotAllowed
from ledger.domain.money import to_display_string
from ledger.domain.permissions import can_record
from ledger.domain.vocabulary import EntryKind
from ledger.imports import mapping as mappings
from ledger.imports.reading import Sheet
from ledger.imports.rows import ParsedRow, parse_row
from ledger.models import Category, Entry, ImportBatch, ImportMapping, Membership, Partner, User
from ledger.services.activity import log
from ledger.services.agreements import VERSION_MEMO
from ledger.services.entries import record_entry, reverse_entry

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
            columns: dict[str, int]) -> ImportResult:
    """Run the import without keeping it. The caller MUST roll back the session afterwards."""
    _require_recorder(membership)
    return _apply(session, actor, membership, sheet, columns, None)


def import_sheet(session: Session, actor: User, membership: Membership, sheet: Sheet, columns: dict[str, int],
                 sha256: str, filename: str) -> ImportResult:
    """Import every row or none: raises ImportRefused (roll back) on any row error, Conflict if seen before."""
    _require_recorder(membership)
    existing = find_batch(session, membership, sha256)
    if existing is not None:
        raise Conflict(already_imported_message(existing))
    alliance = membership.alliance
    batch = ImportBatch(alliance_id=alliance.id, file_sha256=sha256, filename=filename[:255] or "upload",
                        row_count=0, imported_by_id=actor.id)
    session.add(batch)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("This file was imported by someone else a moment ago; nothing new was created.") from None
    result = _apply(session, actor, membership, sheet, columns, batch)
    if result.errors:
        raise ImportRefused(result)
    batch.row_count = result.created
    result.batch = batch
    session.flush()
    log(session, alliance, actor, "entries.imported",
        f"{actor.name} imported {result.created} entries from {batch.filename}")
    return result


def _tables(session: Session, membership: Membership) -> tuple[dict, dict]:
    alliance_id = membership.alliance_id
    partners = {p.name.casefold(): (p.id, p.name)
                for p in session.scalars(select(Partner).where(Partner.alliance_id == alliance_id))}
    categories = {c.name.casefold(): (c.id, c.name)
                  for c in session.scalars(select(Category).where(Category.alliance_id == alliance_id))}
    return partners, categories


def _apply(session: Session, actor: User, membership: Membership, sheet: Sheet, columns: dict[str, int],
           batch: ImportBatch | None) -> ImportResult:
    session.info[VERSION_MEMO] = {}  # no agreement version changes during an import: look each date up once
    try:
        return _apply_rows(session, actor, membership, sheet, columns, batch)
    finally:
        session.info.pop(VERSION_MEMO, None)


def _apply_rows(session: Session, actor: User, membership: Membership, sheet: Sheet, columns: dict[str, int],
                batch: ImportBatch | None) -> ImportResult:
    alliance = membership.alliance
    partners, categories = _tables(session, membership)
    parsed = [parse_row(n, cells, columns, alliance.currency, partners, categories) for n, cells in sheet.rows]
    outcomes = {row.number: _outcome(row, alliance.currency) for row in parsed}
    seen: dict[int, int] = {}
    for row in parsed:
        if row.source_id is not None:
            if row.source_id in seen:
                row.errors.setdefault("entry_id", f"Entry id {row.source_id} is also on row {seen[row.source_id]}.")
            seen.setdefault(row.source_id, row.number)
    originals: dict[int, Entry] = {}
    created = 0
    # Originals first, reversals after: a reversal may be dated before the row it reverses appears.
    for row in [r for r in parsed if r.reverses is None] + [r for r in parsed if r.reverses is not None]:
        errors = dict(row.errors)
        entry = None
        try:
            if row.reverses is None:
                entry = record_entry(session, actor, membership, row.raw)
            elif not errors:
                entry = _reverse(session, actor, membership, row, originals)
        except InvalidInput as exc:
            for key, message in exc.errors.items():
                errors.setdefault(key, message)
        except (Conflict, NotAllowed) as exc:
            errors.setdefault("amount", str(exc))
        if errors:
            outcomes[row.number].errors = [_plain(key, message, sheet, columns) for key, message in errors.items()]
            continue
        created += 1
        if batch is not None:
            entry.import_batch_id = batch.id
        if row.source_id is not None and row.reverses is None:
            originals[row.source_id] = entry
    if batch is not None:
        session.flush()
    return ImportResult([outcomes[n] for n, _ in sheet.rows], created)


def _reverse(session: Session, actor: User, membership: Membership, row: ParsedRow,
             originals: dict[int, Entry]) -> Entry:
    original = originals.get(row.reverses)
    if original is None:
        raise InvalidInput.at("description", f"This reverses entry #{row.reverses}, which is not an importable "
                                             f"row of this file (missing, or it has errors itself).")
    same = (original.partner_id == row.raw.get("partner_id") and original.kind.value == row.raw.get("kind")
            and (original.category_id or None) == (row.raw.get("category_id") or None)
            and original.amount == -row.cents)
    if not same:
        raise InvalidInput.at("amount", f"A reversal must repeat entry #{row.reverses}'s partner, kind, category "
                                        f"and amount with a minus sign.")
    original_text = original.description
    reason = "" if row.reason == original_text else row.reason
    return reverse_entry(session, actor, membership, original, {"date": row.raw.get("date"), "reason": reason},
                         today=date.today())  # noqa: DTZ011 - only used when the row has no date, which it has


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
