"""The value balance indicators of an alliance, read from the ledger: the contract pages, API and snapshots share.

The running totals by month (:mod:`ledger.totals`; the loose days of the
month of ``as_of`` by day) up to ``as_of`` give everything: the value each partner
put in, the sums the balance needs month by month, and therefore the cost
shares and nets as of that day. :mod:`ledger.domain.indicators` does the
arithmetic. The result is plain JSON (fractions as decimal strings rounded to
four places, money as integer minor units) because a checkpoint freezes it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import clock, totals
from ledger.domain import indicators as calc
from ledger.models import Alliance, Entry
from ledger.queries import partners_of, pool_weights

#: The net position series never spans more than this many months (a term is a few years; this bounds the work).
MAX_MONTHS = 240


def _series_end(alliance: Alliance, as_of: date | None, latest: date | None) -> date:
    """The last month of the net position series: as_of, or else today or the latest entry, within the term."""
    if as_of is not None:
        end = as_of
    else:
        end = min(clock.today(alliance), alliance.term_end)
        if latest is not None and latest > end:
            end = latest
    return min(max(end, alliance.start_date), alliance.term_end)


def balance_indicators(session: Session, alliance: Alliance, as_of: date | None = None) -> dict[str, Any]:
    """Every partner's share of the value put in against its agreed share, dependency, diversity, nets over time."""
    rows = totals.sums(session, alliance.id, ("period_start", "kind", "partner_id", "counterparty_id", "pool_id"),
                       None, as_of, monthly=True)
    monthly: dict[str, calc.Sums] = {}
    for start, kind, partner_id, counterparty_id, pool_id, _, total in rows:
        monthly.setdefault(start.strftime("%Y-%m"), calc.Sums()).add(kind, partner_id, counterparty_id, pool_id,
                                                                     total)
    latest = session.scalar(select(func.max(Entry.entry_date)).where(
        Entry.alliance_id == alliance.id, *([] if as_of is None else [Entry.entry_date <= as_of]))) if rows else None

    partners = partners_of(session, alliance)
    ids = [p.id for p in partners]
    weights = pool_weights(session, alliance) if rows else {}
    labels = calc.month_labels(alliance.start_date, _series_end(alliance, as_of, latest))[-MAX_MONTHS:]
    points = calc.cumulative_balances(labels, monthly, ids, weights)

    # Everything up to as_of (the last point may leave out nothing: as_of is within its month or past the term).
    whole = calc.Sums()
    for sums in monthly.values():
        whole.merge(sums)
    final = whole.balances(ids, weights)
    put_in = {pid: whole.put_in.get(pid, 0) for pid in ids}
    share = calc.shares(put_in)
    agreed = calc.shares({row.partner_id: row.cost_share for row in final})
    drift = calc.drift(share, agreed)
    hhi = calc.herfindahl(share)
    threshold = alliance.hhi_threshold
    present = calc.types_present(p.type for p in partners)

    return {
        "as_of": as_of.isoformat() if as_of else None,
        "currency": alliance.currency,
        "partners": [
            {"partner_id": p.id, "name": p.name, "type": p.type.value, "put_in": put_in[p.id],
             "share": calc.fraction_text(share[p.id]), "agreed_share": calc.fraction_text(agreed[p.id]),
             "drift": calc.fraction_text(drift[p.id]), "net": row.net}
            for p, row in zip(partners, final, strict=True)
        ],
        "total_put_in": sum(put_in.values()),
        "hhi": calc.fraction_text(hhi),
        "hhi_threshold": calc.fraction_text(threshold),
        "hhi_flagged": calc.is_concentrated(hhi, threshold),
        "types_present": present,
        "types_total": calc.TYPES_TOTAL,
        "diversity": calc.fraction_text(calc.diversity(present)),
        "net_over_time": {
            "labels": labels,
            "series": [{"partner_id": p.id, "name": p.name, "values": [point[i].net for point in points]}
                       for i, p in enumerate(partners)],
        },
    }
