"""Checking every parsed row of a sheet in memory, with ``record_entry``'s and ``reverse_entry``'s rules and words.

The import used to run each row through ``record_entry`` (and ``reverse_entry``) against the database, twice
(preview and import): about 2.7 ms a row on PostgreSQL. Here the same checks run against :class:`Books`, the
alliance's partners, categories, agreement versions with their pools, last close and term, loaded once per
import by ``ledger.services.imports``; the result is every row's errors (keyed and worded exactly as the
services would report them, in the same order) and the plan of entries to insert.

The pure parts of the services' rules are called as they are (``parse_choice``, ``date_in_term``,
``parse_amount``, ``clean_text``, ``parse_id``, ``can_record_for``, ``pool_for``, ``ensure_not_ended``,
``default_day``, the date rule of a reversal in ``ledger.domain.reversals``), so their messages cannot drift;
the few that read the database (the closed period, the partner and category lookups, the pool lookup) are
restated here over the loaded tables with the same words.
``tests/integration/test_import_batched.py`` checks row by row, with generated rows, that this agrees with
the services.

No database and no Flask here: the service loads the books and writes the plan.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger.domain.agreements import PoolRule, pool_for
from ledger.domain.errors import Conflict, FieldErrors, InvalidInput, NotAllowed
from ledger.domain.money import parse_amount
from ledger.domain.permissions import can_record_for
from ledger.domain.reversals import default_reversal_day, not_before_original
from ledger.domain.text import clean_text
from ledger.domain.vocabulary import EntryKind, MemberRole
from ledger.imports.rows import ParsedRow
from ledger.models import DESCRIPTION_MAX, REFERENCE_MAX
from ledger.services.alliances import parse_choice
from ledger.services.lookups import date_in_term, default_day, parse_id
from ledger.services.periods import after_close, ensure_not_ended

#: reverse_entry's limit on a reversal's reason.
REASON_MAX = 200


@dataclass(frozen=True)
class VersionBook:
    """One agreement version as the pool lookup needs it."""

    id: int
    number: int
    effective_from: date
    rules: tuple[PoolRule, ...]


@dataclass(frozen=True)
class Books:
    """What an import checks rows against, read once (and read again under the alliance lock before writing).

    Attribute names follow :class:`ledger.models.Alliance` where they mean the same, so the services' pure
    helpers (``date_in_term``, ``ensure_not_ended``, ``default_day``) take a ``Books`` as they take an alliance.
    Two ``Books`` compare equal when every table an import depends on is the same.
    """

    id: int
    name: str
    currency: str
    start_date: date
    term_end: date
    ended_on: date | None
    #: The last closed day (None: nothing closed).
    closed: date | None
    partners: Mapping[int, str]
    categories: Mapping[int, str]
    #: By effective date, oldest first.
    versions: tuple[VersionBook, ...]
    role: MemberRole
    own_partner_id: int | None
    own_partner_name: str | None
    _starts: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(v.effective_from for v in self.versions))

    def version_on(self, day: date) -> VersionBook | None:
        """The version with the latest effective date not after ``day`` (as ``agreements.version_on``)."""
        index = bisect.bisect_right(self._starts, day)
        return self.versions[index - 1] if index else None


@dataclass
class Planned:
    """An entry the import will insert (ids are handed out when it is written)."""

    number: int
    entry_date: date
    partner_id: int
    kind: EntryKind
    category_id: int | None
    amount: int
    description: str
    reference: str
    counterparty_id: int | None
    version_id: int | None
    pool_id: int | None
    #: For a reversal: the planned original, and the text after "Reversal of #N: ".
    original: Planned | None = None
    reversal_text: str = ""


@dataclass
class Checked:
    """Every row's errors ({field key: message}, in the services' order) and the entries to insert."""

    errors: dict[int, dict[str, str]]
    #: Originals in sheet order, then reversals in sheet order: the order the row-by-row import created them.
    plan: list[Planned]


# --- The database-reading rules of the services, over the loaded books -------------------------------------


def check_open(books: Books, day: date, today: date, field: str = "date") -> date:
    """``ledger.services.periods.check_open`` with the last close read once (under the lock for the write)."""
    ensure_not_ended(books, today, field)
    return after_close(day, books.closed, field)


def open_day(books: Books, today: date) -> date:
    """``ledger.services.periods.open_day``: today in the term, moved past the last close if it can be."""
    day = default_day(books, today)
    closed = books.closed
    if closed is not None and day <= closed < books.term_end:
        return closed + timedelta(days=1)
    return day


def partner_of(books: Books, value: object, field: str = "partner_id", label: str = "partner") -> int:
    """``ledger.services.lookups.partner_of``, giving the partner's id."""
    partner_id = parse_id(value, field, label)
    if partner_id not in books.partners:
        raise InvalidInput.at(field, f"Unknown {label}: no partner #{partner_id} in {books.name}.")
    return partner_id


def category_of(books: Books, value: object, field: str = "category_id") -> int:
    """``ledger.services.lookups.category_of``, giving the category's id."""
    category_id = parse_id(value, field, "category")
    if category_id not in books.categories:
        raise InvalidInput.at(field, f"Unknown category: no category #{category_id} in {books.name}.")
    return category_id


def find_pool(books: Books, day: date, kind: EntryKind, category_id: int) -> tuple[int, object]:
    """``ledger.services.agreements.find_pool``: (version id, pool id) or the same field error."""
    version = books.version_on(day)
    if version is None:
        first = books.versions[0].effective_from if books.versions else None
        hint = (f"the first one starts on {first.isoformat()}" if first
                else "the coordinator has not set one up yet")
        raise InvalidInput.at("date", f"No split agreement is in force on {day.isoformat()}: {hint}.")
    rule = pool_for(version.rules, kind, category_id)
    if rule is None:
        raise InvalidInput.at(
            "category_id",
            f"No pool of agreement version {version.number} covers a {kind.label} in "
            f"\u201c{books.categories[category_id]}\u201d, so it would count in nobody's balance. Choose another "
            f"category or ask the coordinator to extend the agreement.")
    return version.id, rule.key


# --- record_entry and reverse_entry, minus the writes -------------------------------------------------------


def check_entry(books: Books, raw: Mapping[str, object], today: date, number: int = 0) -> Planned:
    """What ``record_entry`` would insert for ``raw``, or its InvalidInput (same keys, messages and order)."""
    errors = FieldErrors()
    kind = errors.check("kind", parse_choice, EntryKind, raw.get("kind"), "kind", "kind of entry")
    day = errors.check("date", date_in_term, books, raw.get("date"))
    if day is not None:
        day = errors.check("date", check_open, books, day, today)
    partner_id = errors.check("partner_id", partner_of, books, raw.get("partner_id"))
    amount = errors.check("amount", parse_amount, raw.get("amount"), books.currency)
    description = errors.check("description", clean_text, raw.get("description"), "description",
                               max_len=DESCRIPTION_MAX)
    reference = errors.check("reference", clean_text, raw.get("reference"), "reference",
                             max_len=REFERENCE_MAX, required=False)
    if partner_id and not can_record_for(books.role, books.own_partner_id, partner_id):
        own = books.own_partner_name or "your partner"
        errors.add("partner_id", f"You can record entries only for {own}.")
    category_id = counterparty_id = None
    if kind is EntryKind.SETTLEMENT:
        counterparty_id = _counterparty(books, raw, partner_id, errors)
        if raw.get("category_id") not in (None, ""):
            errors.add("category_id", "A settlement has no category; leave it empty.")
    elif kind is not None:
        category_id = errors.check("category_id", category_of, books, raw.get("category_id"))
        if raw.get("counterparty_id") not in (None, ""):
            errors.add("counterparty_id", "Only a settlement has a counterparty; leave it empty.")
    errors.raise_if_any()
    version_id = pool_id = None
    if kind is not EntryKind.SETTLEMENT:
        version_id, pool_id = find_pool(books, day, kind, category_id)
    return Planned(number=number, entry_date=day, partner_id=partner_id, kind=kind, category_id=category_id,
                   amount=amount, description=description, reference=reference or "",
                   counterparty_id=counterparty_id, version_id=version_id, pool_id=pool_id)


def _counterparty(books: Books, raw: Mapping[str, object], partner_id: int | None,
                  errors: FieldErrors) -> int | None:
    if raw.get("counterparty_id") in (None, ""):
        errors.add("counterparty_id", "A settlement needs the partner who received the payment.")
        return None
    counterparty_id = errors.check("counterparty_id", partner_of, books, raw.get("counterparty_id"),
                                   "counterparty_id", "counterparty")
    if counterparty_id and partner_id and counterparty_id == partner_id:
        errors.add("counterparty_id", "A partner cannot settle with itself.")
        return None
    return counterparty_id


def check_reversal(books: Books, row: ParsedRow, original: Planned | None, original_id: int,
                   reversed_by: int | None, today: date) -> Planned:
    """The import's reversal row (``services.imports._reverse`` then ``reverse_entry``), minus the writes.

    ``original_id`` is the id the original would get, ``reversed_by`` the id of an earlier reversal of it in
    this file (both only for messages). Raises InvalidInput, NotAllowed or Conflict as those do.
    """
    if original is None:
        raise InvalidInput.at("description", f"This reverses entry #{row.reverses}, which is not an importable "
                                             f"row of this file (missing, or it has errors itself).")
    same = (original.partner_id == row.raw.get("partner_id") and original.kind.value == row.raw.get("kind")
            and (original.category_id or None) == (row.raw.get("category_id") or None)
            and original.amount == -row.cents)
    if not same:
        raise InvalidInput.at("amount", f"A reversal must repeat entry #{row.reverses}'s partner, kind, category "
                                        f"and amount with a minus sign.")
    reason = "" if row.reason == original.description else row.reason
    # reverse_entry from here on
    if not can_record_for(books.role, books.own_partner_id, original.partner_id):
        raise NotAllowed(f"Only {books.partners[original.partner_id]} or the coordinator can reverse this entry.")
    if reversed_by is not None:
        raise Conflict(f"Entry #{original_id} was already reversed by entry #{reversed_by}.")
    errors = FieldErrors()
    raw_date = row.raw.get("date")
    day = (errors.check("date", date_in_term, books, raw_date) if raw_date not in (None, "")
           else default_reversal_day(open_day(books, today), original.entry_date))
    if day is not None:
        day = errors.check("date", not_before_original, day, original.entry_date, original_id)
    reason = errors.check("reason", clean_text, reason, "reason", max_len=REASON_MAX, required=False)
    if day is not None:
        errors.check("date", check_open, books, day, today)
    errors.raise_if_any()
    return Planned(number=row.number, entry_date=day, partner_id=original.partner_id, kind=original.kind,
                   category_id=original.category_id, amount=-original.amount, description="",
                   reference=original.reference, counterparty_id=original.counterparty_id,
                   version_id=original.version_id, pool_id=original.pool_id, original=original,
                   reversal_text=reason or original.description)


def reversal_description(original_id: int, text: str) -> str:
    """The reversal's description as ``reverse_entry`` writes it."""
    return (f"Reversal of #{original_id}: " + text)[:DESCRIPTION_MAX]


# --- A whole sheet ------------------------------------------------------------------------------------------


def check_rows(books: Books, parsed: list[ParsedRow], today: date, first_id: int) -> Checked:
    """Every row as the row-by-row import judged it: originals first, then reversals (which may come earlier
    in the sheet than the row they reverse).

    ``first_id`` is the id the first new entry would get; ids appear only in the message about a row
    reversed twice, numbered as the row-by-row import numbered the entries it created on the way.
    """
    seen: dict[int, int] = {}
    for row in parsed:
        if row.source_id is not None:
            if row.source_id in seen:
                row.errors.setdefault("entry_id", f"Entry id {row.source_id} is also on row {seen[row.source_id]}.")
            seen.setdefault(row.source_id, row.number)
    result: dict[int, dict[str, str]] = {}
    plan: list[Planned] = []
    originals: dict[int, tuple[Planned, int]] = {}
    reversed_by: dict[int, int] = {}  # id(original) -> its reversal's id
    next_id = first_id
    for row in [r for r in parsed if r.reverses is None] + [r for r in parsed if r.reverses is not None]:
        errors = dict(row.errors)
        planned = None
        try:
            if row.reverses is None:
                planned = check_entry(books, row.raw, today, row.number)
            elif not errors:
                original, original_id = originals.get(row.reverses, (None, 0))
                planned = check_reversal(books, row, original, original_id,
                                         reversed_by.get(id(original)), today)
        except InvalidInput as exc:
            for key, message in exc.errors.items():
                errors.setdefault(key, message)
        except (Conflict, NotAllowed) as exc:
            errors.setdefault("amount", str(exc))
        if planned is not None:  # record_entry or reverse_entry would have inserted it (and used an id)
            entry_id, next_id = next_id, next_id + 1
            if planned.original is not None:
                reversed_by[id(planned.original)] = entry_id
        if errors:
            result[row.number] = errors
            continue
        plan.append(planned)
        if row.source_id is not None and row.reverses is None:
            originals[row.source_id] = (planned, entry_id)
    return Checked(result, plan)


# --- The preview's verdict, kept for the import ---------------------------------------------------------------
# Checking 100,000 rows takes seconds. When the import comes with the plan its preview made, and everything the
# check depends on is as it was (the same file and mapping, the same member, the same calendar day, the same
# books: partners, categories, agreement versions and pools, last close, term, end), the check would come out
# the same, so the plan is used as it is. The key names all of that; anything else means a full check.

VERDICT_FORMAT = 1


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def verdict_key(books: Books, today: date, *context: object) -> str:
    """A digest of everything a check of the same rows depends on (``context``: the file, mapping, member)."""
    document = [
        VERDICT_FORMAT, today.isoformat(), [str(c) for c in context],
        [books.id, books.name, books.currency, _iso(books.start_date), _iso(books.term_end), _iso(books.ended_on),
         _iso(books.closed), sorted(books.partners.items()), sorted(books.categories.items()),
         books.role.value, books.own_partner_id, books.own_partner_name],
        [[v.id, v.number, _iso(v.effective_from),
          [[r.name, r.side.value, sorted(k.value for k in r.kinds),
            None if r.categories is None else sorted(r.categories),
            sorted((partner, str(weight)) for partner, weight in r.weights.items()), r.key] for r in v.rules]]
         for v in books.versions],
    ]
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def dump_plan(key: str, plan: list[Planned]) -> bytes:
    index = {id(p): i for i, p in enumerate(plan)}
    return json.dumps({"key": key, "plan": [
        [p.number, p.entry_date.isoformat(), p.partner_id, p.kind.value, p.category_id, p.amount, p.description,
         p.reference, p.counterparty_id, p.version_id, p.pool_id,
         index[id(p.original)] if p.original is not None else None, p.reversal_text] for p in plan]},
        ensure_ascii=False, separators=(",", ":")).encode()


def load_plan(data: bytes | None, key: str) -> list[Planned] | None:
    """The plan :func:`dump_plan` stored under ``key``; None if there is none, or it was made for other inputs."""
    if not data:
        return None
    try:
        stored = json.loads(data)
        if stored.get("key") != key:
            return None
        plan: list[Planned] = []
        for (number, day, partner_id, kind, category_id, amount, description, reference, counterparty_id,
             version_id, pool_id, original, reversal_text) in stored["plan"]:
            plan.append(Planned(number, date.fromisoformat(day), partner_id, EntryKind(kind), category_id, amount,
                                description, reference, counterparty_id, version_id, pool_id,
                                plan[original] if original is not None else None, reversal_text))
        return plan
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
