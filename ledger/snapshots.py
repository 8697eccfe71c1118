"""The frozen figures of a renewal checkpoint: balance, settle-up, targets against actuals and indicators.

A snapshot is plain JSON, built once when a checkpoint opens and stored as
text with its SHA-256. Pages, the review pack and the API render the stored
JSON, never a fresh computation, so what the steering group decided on stays
exactly what it saw, whatever is recorded or reversed afterwards.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.indicators import balance_indicators
from ledger.models import AgreementVersion, Alliance, CharterVersion
from ledger.progress import targets_progress
from ledger.queries import balance_sheet

#: Bumped when the shape of a snapshot changes, so readers can tell old ones apart.
SNAPSHOT_FORMAT = 1
FIGURES = ("borne", "cost_share", "received", "return_share", "net")


def build_snapshot(session: Session, alliance: Alliance, as_of: date, taken_at: datetime) -> dict:
    sheet = balance_sheet(session, alliance, date_to=as_of)
    names = {p.id: p.name for p in sheet.partners}
    rows = [{"partner_id": r.partner_id, "name": names[r.partner_id], **{f: getattr(r, f) for f in FIGURES}}
            for r in sheet.rows]
    return {
        "format": SNAPSHOT_FORMAT,
        "as_of": as_of.isoformat(),
        "taken_at": taken_at.isoformat().replace("+00:00", "Z"),
        "alliance": {"name": alliance.name, "currency": alliance.currency,
                     "start_date": alliance.start_date.isoformat(), "term_end": alliance.term_end.isoformat()},
        "charter_version": _number_in_force(session, CharterVersion, alliance, as_of),
        "agreement_version": _number_in_force(session, AgreementVersion, alliance, as_of),
        "balance": {"rows": rows, "totals": {f: sheet.total(f) for f in FIGURES}, "entry_count": sheet.entry_count},
        "settle_up": [{"payer_id": t.payer_id, "payer": names[t.payer_id], "payee_id": t.payee_id,
                       "payee": names[t.payee_id], "amount": t.amount} for t in sheet.transfers],
        "targets": targets_progress(session, alliance, as_of, ended_only=True),
        "indicators": balance_indicators(session, alliance, as_of),
    }


def _number_in_force(session: Session, model, alliance: Alliance, day: date) -> int | None:
    return session.scalar(
        select(func.max(model.number)).where(
            model.alliance_id == alliance.id,
            model.effective_from == select(func.max(model.effective_from)).where(
                model.alliance_id == alliance.id, model.effective_from <= day).scalar_subquery()))


def serialise(snapshot: dict) -> tuple[str, str]:
    """Canonical JSON (sorted keys, no spaces) and its SHA-256: the same figures always give the same digest."""
    text = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text, hashlib.sha256(text.encode()).hexdigest()


def load(text: str) -> dict:
    return json.loads(text)


def intact(text: str, digest: str) -> bool:
    """Whether the stored snapshot still has the digest it was frozen with."""
    return hashlib.sha256(text.encode()).hexdigest() == digest
