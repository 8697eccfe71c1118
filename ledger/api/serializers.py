"""Rows and balances as JSON-ready dicts, in the shapes the OpenAPI document declares.

Amounts leave as decimal strings in the alliance's currency ("1234.56"), never
as JSON numbers, so no client ever parses money into a float; weights are
strings for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from ledger.clock import today
from ledger.domain.agreements import weight_text
from ledger.domain.money import to_decimal_string
from ledger.domain.renewal import alliance_state
from ledger.domain.settle_up import Transfer
from ledger.models import AgreementVersion, Alliance, Category, Entry, Membership, Partner, Pool
from ledger.queries import BalanceSheet, LedgerPage

FIGURES = ("borne", "cost_share", "received", "return_share", "net")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _moment(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def alliance(row: Alliance, membership: Membership) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "cause": row.cause,
        "currency": row.currency,
        "start_date": _day(row.start_date),
        "term_end": _day(row.term_end),
        "created_at": _moment(row.created_at),
        "role": membership.role.value,
        "partner_id": membership.partner_id,
        "today": _day(today(row)),
        "state": alliance_state(today(row), row.term_end, row.ended_on, row.renegotiate_from),
        "ended_on": _day(row.ended_on) if row.ended_on else None,
        "renegotiate_from": _day(row.renegotiate_from) if row.renegotiate_from else None,
        "quorum": row.quorum.value,
        "hhi_threshold": format(row.hhi_threshold, "f"),
        "timezone": row.timezone,
    }


def partner(row: Partner) -> dict:
    return {"id": row.id, "name": row.name, "role": row.role.value, "type": row.type.value}


def category(row: Category) -> dict:
    return {"id": row.id, "name": row.name}


def member(row: Membership) -> dict:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "name": row.user.name,
        "email": row.user.email,
        "role": row.role.value,
        "partner_id": row.partner_id,
        "partner": row.partner.name if row.partner else None,
        "created_at": _moment(row.created_at),
    }


def pool(row: Pool) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "side": row.side.value,
        "kinds": sorted(k.kind.value for k in row.kinds),
        "categories": "all" if row.all_categories else sorted(c.category_id for c in row.categories),
        "shares": [{"partner_id": s.partner_id, "partner": s.partner.name, "weight": weight_text(s.weight)}
                   for s in row.shares],
    }


def agreement_version(row: AgreementVersion) -> dict:
    return {
        "id": row.id,
        "number": row.number,
        "effective_from": _day(row.effective_from),
        "note": row.note,
        "created_by": row.created_by.name if row.created_by else None,
        "created_at": _moment(row.created_at),
        "pools": [pool(p) for p in row.pools],
    }


@dataclass(frozen=True)
class EntryContext:
    """What an entry's JSON needs beyond the row: looked up once per response, not once per entry."""

    currency: str
    version_numbers: Mapping[int, int] = field(default_factory=dict)
    reversed_by: Mapping[int, int] = field(default_factory=dict)


def entry(row: Entry, ctx: EntryContext) -> dict:
    return {
        "id": row.id,
        "date": _day(row.entry_date),
        "partner_id": row.partner_id,
        "partner": row.partner.name,
        "kind": row.kind.value,
        "category_id": row.category_id,
        "category": row.category.name if row.category else None,
        "amount": to_decimal_string(row.amount, ctx.currency),
        "description": row.description,
        "reference": row.reference,
        "counterparty_id": row.counterparty_id,
        "counterparty": row.counterparty.name if row.counterparty else None,
        "agreement_version": ctx.version_numbers.get(row.version_id) if row.version_id else None,
        "pool": row.pool.name if row.pool else None,
        "reverses_id": row.reverses_id,
        "reversed_by_id": ctx.reversed_by.get(row.id),
        "recorded_by": row.recorded_by.name,
        "recorded_at": _moment(row.recorded_at),
    }


def entry_page(page: LedgerPage, ctx: EntryContext, next_cursor: str | None) -> dict:
    return {
        "entries": [entry(e, ctx) for e in page.entries],
        "next_cursor": next_cursor,
        "count": page.count,
        "totals": {kind.value: to_decimal_string(total, ctx.currency)
                   for kind, total in sorted(page.totals.items())},
    }


def transfers(sheet: BalanceSheet, items: list[Transfer]) -> list[dict]:
    currency = sheet.alliance.currency
    return [{"payer_id": t.payer_id, "payer": sheet.partner(t.payer_id).name,
             "payee_id": t.payee_id, "payee": sheet.partner(t.payee_id).name,
             "amount": to_decimal_string(t.amount, currency)} for t in items]


def balance(sheet: BalanceSheet) -> dict:
    currency = sheet.alliance.currency
    return {
        "currency": currency,
        "from": _day(sheet.date_from),
        "to": _day(sheet.date_to),
        "partners": [
            {"partner_id": row.partner_id, "partner": sheet.partner(row.partner_id).name,
             **{name: to_decimal_string(getattr(row, name), currency) for name in FIGURES}}
            for row in sheet.rows
        ],
        "totals": {name: to_decimal_string(sheet.total(name), currency) for name in FIGURES},
        "transfers": transfers(sheet, sheet.transfers),
    }


def settle_up(sheet: BalanceSheet, fingerprint: str) -> dict:
    return {"currency": sheet.alliance.currency, "transfers": transfers(sheet, sheet.transfers),
            "fingerprint": fingerprint}
