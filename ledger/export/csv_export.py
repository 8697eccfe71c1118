"""The ledger of a period as CSV: the Ledger sheet's columns, amounts as exact decimal strings.

Text that a spreadsheet would take for a formula gets OWASP's single-quote
prefix; amounts are written from integer minor units, never via a float.
"""

from __future__ import annotations

import csv
from datetime import UTC
from typing import TextIO

from sqlalchemy.orm import Session

from ledger.domain.money import to_decimal_string
from ledger.export.cells import csv_text
from ledger.export.period import ExportPeriod
from ledger.export.rows import ledger_rows
from ledger.export.workbook import LEDGER_COLUMNS
from ledger.models import Alliance


def write_csv(session: Session, alliance: Alliance, period: ExportPeriod, out: TextIO) -> int:
    """Write the CSV to ``out``; returns the number of entries written."""
    writer = csv.writer(out)
    writer.writerow(LEDGER_COLUMNS)
    count = 0
    for e in ledger_rows(session, alliance, period.start, period.end):
        recorded = e.recorded_at.astimezone(UTC) if e.recorded_at.tzinfo else e.recorded_at
        # Only text typed by people is escaped: "-100.01" is a number and must stay one.
        writer.writerow([
            e.id, e.entry_date.isoformat(), e.kind.value, csv_text(e.category), e.partner_id, csv_text(e.partner),
            e.counterparty_id, csv_text(e.counterparty), to_decimal_string(e.amount, alliance.currency), e.amount,
            e.version, e.pool_id, csv_text(e.pool), e.reverses_id, csv_text(e.description), csv_text(e.reference),
            csv_text(e.recorded_by), recorded.strftime("%Y-%m-%d %H:%M:%S")])
        count += 1
    return count
