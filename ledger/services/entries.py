"""Recording entries, reversing them, and recording a settle-up.

Entries are only ever inserted. A correction is a reversal: a new entry with
the negated amount, linked to the original and split under the original's
pool, so the pair leaves every balance as it was. Both stay visible. A reversal
is never dated before its original (``ledger.domain.reversals``): so it lies in
an open period whenever its original does, and re-splitting the original under
a new agreement version can never reach into a closed period.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger import clock
from ledger.db import utcnow
from ledger.domain.errors import Conflict, FieldErrors, NotAllowed, NotFound
from ledger.domain.money import parse_amount, to_display_string
from ledger.domain.permissions import can_record, can_record_for
from ledger.domain.reversals import default_reversal_day, not_before_original
from ledger.domain.settle_up import Transfer
from ledger.domain.text import clean_text
from ledger.domain.vocabulary import EntryKind, MemberRole
from ledger.models import DESCRIPTION_MAX, REFERENCE_MAX, Alliance, Entry, Membership, Partner, User
from ledger.queries import BalanceSheet, balance_sheet
from ledger.services.activity import log
from ledger.services.agreements import category_and_pools, find_pool
from ledger.services.alliances import parse_choice
from ledger.services.chain import append_link
from ledger.services.entry_writes import write_entry
from ledger.services.lookups import date_in_term, partner_of
from ledger.services.periods import (
    after_close,
    check_open,
    closed_through,
    ensure_not_ended,
    lock_alliance,
    open_day,
)

RECORDABLE_KINDS = tuple(EntryKind)


def _require_recorder(membership: Membership) -> None:
    if not can_record(membership.role):
        raise NotAllowed(f"As {membership.role.label} you can read the books but not record entries.")


def record_entry(session: Session, actor: User, membership: Membership, raw: Mapping[str, object]) -> Entry:
    """Validate every field, find the pool in force on the entry's date, and insert the entry.

    The alliance lock is taken only once everything is validated, so the writers of one alliance wait
    for each other's writes, not for each other's lookups (``ledger.services.entry_writes``: from the lock
    to the commit, one statement on PostgreSQL). Whether the date is in a closed period is decided under
    the lock, by the INSERT itself: a close committed before the lock was granted refuses the entry at its
    date, and nothing is written. When other fields are refused anyway, the closed periods are read
    before answering, so one answer names every field at fault.
    """
    _require_recorder(membership)
    alliance = membership.alliance
    errors = FieldErrors()
    kind = errors.check("kind", parse_choice, EntryKind, raw.get("kind"), "kind", "kind of entry")
    day = errors.check("date", date_in_term, alliance, raw.get("date"))
    if day is not None:
        day = errors.check("date", _not_ended, alliance, day)
    partner = errors.check("partner_id", partner_of, session, alliance, raw.get("partner_id"))
    amount = errors.check("amount", parse_amount, raw.get("amount"), alliance.currency)
    description = errors.check("description", clean_text, raw.get("description"), "description",
                               max_len=DESCRIPTION_MAX)
    reference = errors.check("reference", clean_text, raw.get("reference"), "reference",
                             max_len=REFERENCE_MAX, required=False)
    if partner and not can_record_for(membership.role, membership.partner_id, partner.id):
        own = membership.partner.name if membership.partner else "your partner"
        errors.add("partner_id", f"You can record entries only for {own}.")
    category = counterparty = in_force = None
    if kind is EntryKind.SETTLEMENT:
        counterparty = _counterparty(session, membership, raw, partner, errors)
        if raw.get("category_id") not in (None, ""):
            errors.add("category_id", "A settlement has no category; leave it empty.")
    elif kind is not None:
        category, in_force = errors.check("category_id", category_and_pools, session, alliance,
                                          raw.get("category_id"), day) or (None, None)
        if raw.get("counterparty_id") not in (None, ""):
            errors.add("counterparty_id", "Only a settlement has a counterparty; leave it empty.")
    if errors and day is not None:  # refused anyway: say now, too, if the date is in a closed period
        errors.check("date", after_close, day, closed_through(session, alliance))
    errors.raise_if_any(first=("kind", "date"))
    placement = None if kind is EntryKind.SETTLEMENT else find_pool(session, alliance, in_force, kind, category)
    entry = Entry(
        alliance_id=alliance.id, entry_date=day, partner_id=partner.id, partner=partner, kind=kind,
        category_id=category.id if category else None, category=category, amount=amount,
        description=description, reference=reference or "",
        counterparty_id=counterparty.id if counterparty else None, counterparty=counterparty,
        version_id=placement.version_id if placement else None, version=placement.version if placement else None,
        pool_id=placement.pool_id if placement else None, pool=placement.pool if placement else None,
        reverses_id=None, import_batch_id=None, recorded_by_id=actor.id, recorded_by=actor, recorded_at=utcnow())
    write_entry(session, alliance, actor, entry,
                lambda written: _summary(actor, membership, written, partner, counterparty,
                                         category.name if category else None))
    return entry


def _not_ended(alliance: Alliance, day: date) -> date:
    ensure_not_ended(alliance, clock.today(alliance))
    return day


def _counterparty(session: Session, membership: Membership, raw: Mapping[str, object],
                  partner: Partner | None, errors: FieldErrors) -> Partner | None:
    if raw.get("counterparty_id") in (None, ""):
        errors.add("counterparty_id", "A settlement needs the partner who received the payment.")
        return None
    counterparty = errors.check("counterparty_id", partner_of, session, membership.alliance,
                                raw.get("counterparty_id"), "counterparty_id", "counterparty")
    if counterparty and partner and counterparty.id == partner.id:
        errors.add("counterparty_id", "A partner cannot settle with itself.")
        return None
    return counterparty


def _who(actor: User, membership: Membership, partner: Partner) -> str:
    """"Beta (Elena Rossi)" when a partner acts for itself, else the person's name."""
    return f"{partner.name} ({actor.name})" if membership.partner_id == partner.id else actor.name


def _summary(actor: User, membership: Membership, entry: Entry, partner: Partner, counterparty: Partner | None,
             category: str | None) -> str:
    """The activity line, e.g. "Beta (Elena Rossi) recorded a waste cost of EUR 1,243.57 (#12)"."""
    amount = to_display_string(abs(entry.amount), partner.alliance.currency)
    who = _who(actor, membership, partner)
    if entry.kind is EntryKind.SETTLEMENT:
        return f"{who} recorded a settlement: {partner.name} paid {counterparty.name} {amount} (#{entry.id})"
    for_whom = "" if who != actor.name else f" for {partner.name}"
    return f"{who} recorded a {category} {entry.kind.label} of {amount}{for_whom} (#{entry.id})"


def reversal_day(session: Session, alliance: Alliance, entry: Entry, today: date) -> date:
    """The date a reversal of ``entry`` gets when none is given (and the one its form offers): today in the
    term, moved past the last close, and never before ``entry`` itself."""
    return default_reversal_day(open_day(session, alliance, today), entry.entry_date)


def reverse_entry(session: Session, actor: User, membership: Membership, entry: Entry,
                  raw: Mapping[str, object], today: date) -> Entry:
    """Insert the reversal of ``entry``, dated ``raw['date']`` or :func:`reversal_day`; never before ``entry``."""
    _require_recorder(membership)
    alliance = membership.alliance
    if entry.alliance_id != alliance.id:
        raise NotFound("No such entry in this alliance.")
    if not can_record_for(membership.role, membership.partner_id, entry.partner_id):
        raise NotAllowed(f"Only {entry.partner.name} or the coordinator can reverse this entry.")
    if entry.reverses_id is not None:
        raise Conflict(f"Entry #{entry.id} is itself a reversal; record a new entry instead.")
    existing = session.scalar(select(Entry.id).where(Entry.reverses_id == entry.id))
    if existing:
        raise Conflict(f"Entry #{entry.id} was already reversed by entry #{existing}.")
    errors = FieldErrors()
    raw_date = raw.get("date")
    day = (errors.check("date", date_in_term, alliance, raw_date) if raw_date not in (None, "")
           else reversal_day(session, alliance, entry, today))
    if day is not None:
        day = errors.check("date", not_before_original, day, entry.entry_date, entry.id)
    reason = errors.check("reason", clean_text, raw.get("reason"), "reason", max_len=200,
                          required=False)
    if day is not None:
        errors.check("date", check_open, session, alliance, day)
    errors.raise_if_any()
    description = f"Reversal of #{entry.id}: " + (reason or entry.description)
    reversal = Entry(
        alliance_id=alliance.id, entry_date=day, partner_id=entry.partner_id, kind=entry.kind,
        category_id=entry.category_id, amount=-entry.amount, description=description[:DESCRIPTION_MAX],
        reference=entry.reference, counterparty_id=entry.counterparty_id, version_id=entry.version_id,
        pool_id=entry.pool_id, reverses_id=entry.id, recorded_by_id=actor.id)
    session.add(reversal)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"Entry #{entry.id} was reversed by someone else a moment ago.") from None
    log(session, alliance, actor, "entry.reversed",
        f"{_who(actor, membership, entry.partner)} reversed entry #{entry.id} ({entry.partner.name}, "
        f"{entry.kind.label} of {to_display_string(abs(entry.amount), alliance.currency)}) with #{reversal.id}",
        reversal)
    append_link(session, alliance, "entry", reversal.id)
    return reversal


def transfers_fingerprint(transfers: list[Transfer]) -> str:
    """A short text naming the suggested transfers, so a stale settle-up page is detected."""
    return ";".join(f"{t.payer_id}>{t.payee_id}:{t.amount}" for t in transfers) or "none"


class SettleUpConflict(Conflict):
    """The settle-up asked for is not the suggestion any more (or nothing is left to settle).

    Carries the current suggestion, read under the lock, so the caller can show it and ask again.
    """

    def __init__(self, message: str, sheet: BalanceSheet) -> None:
        super().__init__(message)
        self.sheet = sheet
        self.fingerprint = transfers_fingerprint(sheet.transfers)


def record_settle_up(session: Session, actor: User, membership: Membership, raw: Mapping[str, object],
                     today: date) -> list[Entry]:
    """Record the settle-up the caller reviewed (``raw['expected']``, its fingerprint) as settlement entries.

    The suggestion is computed under the alliance lock, not before it: of two requests sending the same
    fingerprint at once, the second waits for the first to commit, then finds the suggestion changed and
    is refused with the current one, having written nothing. The fingerprint is required, so a settle-up
    never records transfers its caller has not seen.
    """
    if membership.role is not MemberRole.COORDINATOR:
        raise NotAllowed("Only the coordinator records a settle-up; partners record their own "
                         "payments as settlement entries.")
    alliance = membership.alliance
    errors = FieldErrors()
    expected = raw.get("expected")
    if not isinstance(expected, str) or not expected.strip():
        errors.add("expected", "Send the fingerprint of the settle-up you reviewed, exactly as GET settle-up "
                               "returned it: only a suggestion you have seen is recorded.")
    raw_date = raw.get("date")
    day = errors.check("date", date_in_term, alliance, raw_date) if raw_date not in (None, "") else None
    errors.raise_if_any()
    lock_alliance(session, alliance)  # from here on no other write of this alliance can change the balances
    if day is None:
        day = open_day(session, alliance, today)
    check_open(session, alliance, day)
    sheet = balance_sheet(session, alliance)
    if transfers_fingerprint(sheet.transfers) != expected.strip():
        raise SettleUpConflict("The balances changed since you looked (someone may have just settled up): "
                               "review the current suggestion and record it again.", sheet)
    if not sheet.transfers:
        raise SettleUpConflict("Every balance is already zero: there is nothing to settle.", sheet)
    entries = []
    for t in sheet.transfers:
        entry = Entry(alliance_id=alliance.id, entry_date=day, partner_id=t.payer_id,
                      kind=EntryKind.SETTLEMENT, amount=t.amount,
                      description="Settle-up transfer", counterparty_id=t.payee_id,
                      recorded_by_id=actor.id)
        session.add(entry)
        entries.append(entry)
    session.flush()
    for entry in entries:
        log(session, alliance, actor, "entry.recorded",
            _summary(actor, membership, entry, entry.partner, entry.counterparty, None), entry)
        append_link(session, alliance, "entry", entry.id)
    return entries
