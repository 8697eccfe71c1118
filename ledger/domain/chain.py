"""Tamper evidence: each alliance's records form a hash chain, and verifying it names the first break.

Every record that makes up the books (a ledger entry, an agreement or charter version, a checkpoint's
schedule, opening, decision or removal, an assessment, a vote) gets a *link*: its position in the
alliance's chain (1, 2, 3 ...), and ``hash = SHA-256(previous hash + canonical content)``. The first link's
previous hash is the alliance's genesis value, so two alliances' chains never share a hash.

The content is the record's own fields as they must never change (amount in cents, date, partner ...),
serialised canonically (:func:`canonical`): sorted keys, no spaces, dates in ISO form, decimals without
trailing zeros, so the same record hashes the same on SQLite and PostgreSQL, in the write path and in the
migration's backfill. Fields the app legitimately rewrites (an entry's agreement version and pool, re-assigned
when a new agreement version covers its date) are left out: they follow from the hashed ones.

:func:`verify` recomputes every link from the records as they are now and reports, in position order:

- ``changed``: the record's content no longer gives the hash the chain holds for it (someone edited the
  row, whether or not they recomputed its own link's hash: the next link still holds the original);
- ``missing``: the link names a record that is not there (someone deleted the row);
- ``broken``: a link's stored hash or previous hash was rewritten (its record as chained), or a position
  is skipped or repeated (someone deleted or inserted a link);
- ``unlinked``: a record with no link at all (someone inserted a row behind the app's back).

What it cannot see on its own: someone who rewrites a record *and* recomputes every later link, or who
deletes the newest record together with its link. The chain head (:func:`fingerprint`) is for that: it
goes out with every export, so a partner compares the head of an earlier export with the chain now
(:class:`HeadCheck`); an earlier head that is no longer a link of the chain means history was rewritten.

:func:`report` puts the chain's problems, the running totals that disagree with the entries
(:class:`TotalsGap`) and a head check into the one verdict (:class:`Report`) that the command line, the
API and the Verify page all show.

Plain Python: no Flask, no SQLAlchemy; the database side is ``ledger/chain.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

from ledger.domain.errors import InvalidInput
from ledger.domain.money import to_decimal_string, to_display_string

#: Bumped if the canonical form ever changes, so old and new links can never be confused.
FORMAT = 1

#: The kinds of record the chain covers, with how people call them.
RECORD_TYPES: dict[str, str] = {
    "entry": "entry",
    "agreement_version": "agreement version",
    "charter_version": "charter version",
    "checkpoint": "checkpoint (scheduled)",
    "checkpoint_opened": "checkpoint opening",
    "checkpoint_decided": "checkpoint decision",
    "checkpoint_removed": "checkpoint removal",
    "assessment": "assessment",
    "vote": "vote",
}

#: A removal link is its own content: the record it retires is gone on purpose.
SELF_CONTAINED = frozenset({"checkpoint_removed"})
#: Which record a self-contained removal retires: its earlier links cannot be recomputed, and need not be.
RETIRES = {"checkpoint_removed": ("checkpoint", "checkpoint_opened", "checkpoint_decided")}

FINGERPRINT_CHARS = 16


def genesis(alliance_id: int) -> str:
    """The "previous hash" of an alliance's first link."""
    return hashlib.sha256(f"alliance-ledger chain v{FORMAT} genesis of alliance {alliance_id}".encode()).hexdigest()


def _plain(value: object) -> object:
    """A JSON value that reads the same whatever engine or code path produced ``value``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot chain a non-finite decimal {value}")
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    raise TypeError(f"cannot chain a {type(value).__name__}")


def canonical(record_type: str, record_id: int, alliance_id: int, position: int,
              fields: Mapping[str, object]) -> bytes:
    """The bytes a link hashes: which record, where in the chain, and its content.

    The position is part of it, so links cannot be reordered or renumbered without changing every hash.
    """
    if record_type not in RECORD_TYPES:
        raise ValueError(f"unknown record type {record_type!r}")
    document = {"v": FORMAT, "type": record_type, "id": record_id, "alliance": alliance_id,
                "position": position, "fields": _plain(dict(fields))}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def canonical_around_position(record_type: str, record_id: int, alliance_id: int,
                              fields: Mapping[str, object]) -> tuple[bytes, bytes]:
    """:func:`canonical` cut where the position goes: ``before + str(position) + after`` for any position.

    For a write that learns its position only in the database, under the lock (PostgreSQL records an
    entry and its link in one statement, which hashes there): everything else is worked out here. The
    keys are sorted and the record's own fields come before ``"id"``, so the last ``"position"`` key is
    the document's own, whatever the fields hold.
    """
    content = canonical(record_type, record_id, alliance_id, 0, fields)
    head, marker, tail = content.rpartition(b',"position":0,')
    if not marker:
        raise ValueError("the canonical document has no position")  # pragma: no cover - sorted keys put it there
    return head + b',"position":', b"," + tail


def link_hash(previous_hash: str, content: bytes) -> str:
    return hashlib.sha256(previous_hash.encode("ascii") + b"\n" + content).hexdigest()


@dataclass(frozen=True)
class Link:
    """One stored link, as the database holds it."""

    position: int
    record_type: str
    record_id: int
    hash: str
    previous_hash: str


@dataclass(frozen=True)
class Head:
    """What the next link needs of the last one: a write that read the end of the chain alone (not the link)."""

    position: int
    hash: str


def make_link(alliance_id: int, previous: Link | Head | None, record_type: str, record_id: int,
              fields: Mapping[str, object]) -> Link:
    """The link after ``previous`` (None: the first) for a record with these fields."""
    position = previous.position + 1 if previous else 1
    previous_hash = previous.hash if previous else genesis(alliance_id)
    content = canonical(record_type, record_id, alliance_id, position, fields)
    return Link(position, record_type, record_id, link_hash(previous_hash, content), previous_hash)


def build_chain(alliance_id: int, records: Iterable[tuple[str, int, Mapping[str, object]]]) -> list[Link]:
    """Links for records in the order given (the backfill of records written before the chain existed)."""
    links: list[Link] = []
    for record_type, record_id, fields in records:
        links.append(make_link(alliance_id, links[-1] if links else None, record_type, record_id, fields))
    return links


def fingerprint(link: Link | None) -> str:
    """The chain head as people compare it: "<position>-<first 16 hex digits of its hash>", "0-genesis" if empty."""
    if link is None:
        return "0-genesis"
    return f"{link.position}-{link.hash[:FINGERPRINT_CHARS]}"


_FINGERPRINT = re.compile(r"^(\d{1,18})-([0-9a-f]{8,64})$")


def parse_fingerprint(value: object, field: str = "head") -> tuple[int, str]:
    """An earlier export's chain head as typed or pasted: (position, hash prefix); "0-genesis" is (0, "")."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if text == "0-genesis":
        return 0, ""
    match = _FINGERPRINT.match(text)
    if match is None:
        raise InvalidInput.at(field, "Paste the chain head exactly as the export shows it: a position, a dash and "
                                     "at least 8 hexadecimal digits, e.g. 42-3fa9c1d2e4b5a6f7.")
    return int(match[1]), match[2]


def describe(record_type: str, record_id: int) -> str:
    return f"{RECORD_TYPES.get(record_type, record_type)} #{record_id}"


@dataclass(frozen=True)
class Problem:
    """One place where the chain and the records disagree."""

    kind: str  # changed | missing | broken | unlinked
    record_type: str
    record_id: int
    position: int | None
    message: str

    def as_dict(self) -> dict[str, object]:
        """As the chain API and the Verify page's script read it."""
        return {"kind": self.kind, "record_type": self.record_type, "record_id": self.record_id,
                "position": self.position, "message": self.message}

    @property
    def record(self) -> str:
        return describe(self.record_type, self.record_id)


#: How many problems the Verify page and the chain API list (``flask ledger verify`` prints them all).
PROBLEMS_SHOWN = 100


@dataclass(frozen=True)
class Verdict:
    alliance_id: int
    count: int
    head: Link | None
    problems: list[Problem] = field(default_factory=list)

    def shown_problems(self, limit: int = PROBLEMS_SHOWN) -> list[Problem]:
        """The first ``limit`` problems, the first break first: what a page or an answer lists.

        A chain rewritten wholesale (or records added in bulk behind the app's back) has a problem per
        record; listed whole, a million of them made a 170 MB page. The count is always the full one.
        """
        return self.problems[:limit]

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.head)

    def summary(self) -> str:
        if self.intact:
            return f"intact: {self.count} records, head {self.fingerprint}"
        first = self.first
        more = len(self.problems) - 1
        return (f"BROKEN at {first.record} (position {first.position or '-'}): {first.message}"
                + (f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""))


def retirements(links: Iterable[Link]) -> dict[tuple[str, int], int]:
    """For each record a removal retired, the removal's position: its links before that need no content.

    Only the removal links matter, so a caller checking one segment passes the chain's removal links alone.
    """
    retired_until: dict[tuple[str, int], int] = {}
    for link in links:
        for record_type in RETIRES.get(link.record_type, ()):
            retired_until[(record_type, link.record_id)] = link.position
    return retired_until


def _own_hash(alliance_id: int, link: Link, previous_hash: str,
              fields: Mapping[str, object] | None) -> str | None:
    """The hash the link's record gives after ``previous_hash`` as it is now (None: its content is unknown)."""
    if fields is None:
        return None
    return link_hash(previous_hash, canonical(link.record_type, link.record_id, alliance_id, link.position, fields))


def check_links(alliance_id: int, links: Sequence[Link], contents: Mapping[tuple[str, int], Mapping[str, object]],
                retired_until: Mapping[tuple[str, int], int], *, before: Link | None = None,
                following: Link | None = None) -> tuple[list[Problem], set[tuple[str, int]]]:
    """Check consecutive ``links`` that come after the link ``before`` (None: the chain's start).

    Returns the problems, in position order, and the records the links vouch for (retired ones left out),
    from which :func:`unlinked` finds records with no link. The whole chain is one call; a long one can be
    checked as consecutive segments, each given the stored link just before it and the one just after it
    (``following``, whose content ``contents`` must hold): together they find exactly what one call finds.

    Each record is checked against the hash *the chain holds for it*: the next link's previous hash, which
    that link's own hash vouches for, or its own stored hash when it is the newest. So a record changed and
    its own link's hash recomputed to fit is named, not the untouched record after it; a link whose hash or
    previous hash alone was rewritten is named as broken, its record as it was chained. A record changed and
    every link after it recomputed leaves nothing to see here: only an earlier export's head shows it.
    """
    problems: list[Problem] = []
    previous = before
    chain = [*links, *([following] if following is not None else [])]
    seen: set[tuple[str, int]] = set()
    for index, link in enumerate(links):
        key = (link.record_type, link.record_id)
        retired = link.position < retired_until.get(key, 0)  # removed on the record: its content is gone on purpose
        fields = _fields(link, contents, retired)
        own = _own_hash(alliance_id, link, link.previous_hash, fields)
        problem, as_chained = _joint(alliance_id, previous, link, fields, own)
        if problem is not None:
            problems.append(problem)
        nxt = chain[index + 1] if index + 1 < len(chain) else None
        if not retired:
            seen.add(key)
            if fields is None:
                problems.append(Problem("missing", *key, link.position,
                                        f"{describe(*key)} is missing: it was deleted from the database"))
            elif not as_chained:
                found = _content(alliance_id, link, own, nxt, contents, retired_until)
                if found is not None:
                    problems.append(found)
            elif _vouched_by(alliance_id, link, nxt, contents, retired_until):
                problems.append(_rewritten_hash(link))
        elif _vouched_by(alliance_id, link, nxt, contents, retired_until):
            problems.append(_rewritten_hash(link))
        previous = link
    return problems, seen


def _fields(link: Link, contents: Mapping[tuple[str, int], Mapping[str, object]],
            retired: bool) -> Mapping[str, object] | None:
    if retired:
        return None
    return {} if link.record_type in SELF_CONTAINED else contents.get((link.record_type, link.record_id))


def _vouched_by(alliance_id: int, link: Link, nxt: Link | None,
                contents: Mapping[tuple[str, int], Mapping[str, object]],
                retired_until: Mapping[tuple[str, int], int]) -> bool:
    """Whether the next link holds another hash for ``link`` than its stored one, and is itself as chained:
    then that hash is what ``link`` was chained with, and the break between them is ``link``'s."""
    if nxt is None or nxt.position != link.position + 1 or nxt.previous_hash == link.hash:
        return False
    key = (nxt.record_type, nxt.record_id)
    fields = _fields(nxt, contents, nxt.position < retired_until.get(key, 0))
    return fields is not None and _own_hash(alliance_id, nxt, nxt.previous_hash, fields) == nxt.hash


def _joint(alliance_id: int, previous: Link | None, link: Link, fields: Mapping[str, object] | None,
           own: str | None) -> tuple[Problem | None, bool]:
    """The problem of the joint between ``previous`` (None: the genesis) and ``link``, if ``link`` is to blame;
    and whether that check already showed the record as it was chained (only its previous hash rewritten)."""
    key = (link.record_type, link.record_id)
    expected_position = previous.position + 1 if previous else 1
    if link.position != expected_position:
        return Problem("broken", *key, link.position,
                       f"the chain skips or repeats a position: expected {expected_position}, found "
                       f"{link.position} (a link was deleted or inserted)"), False
    expected_previous = previous.hash if previous else genesis(alliance_id)
    if link.previous_hash == expected_previous:
        return None, False
    if previous is not None and own == link.hash:
        return None, False  # this link is as chained, so the one before it no longer is: named there
    if own is not None and _own_hash(alliance_id, link, expected_previous, fields) == link.hash:
        return Problem("broken", *key, link.position,
                       f"its link's previous hash was rewritten; {describe(*key)} itself is as it was "
                       "chained"), True
    return Problem("broken", *key, link.position,
                   "its previous hash is not the hash of the link before it (a link before it was deleted or "
                   "rewritten)"), False


def _rewritten_hash(link: Link) -> Problem:
    return Problem("broken", link.record_type, link.record_id, link.position,
                   f"its link's stored hash was rewritten; {describe(link.record_type, link.record_id)} itself is "
                   "as it was chained")


def _content(alliance_id: int, link: Link, own: str | None, nxt: Link | None,
             contents: Mapping[tuple[str, int], Mapping[str, object]],
             retired_until: Mapping[tuple[str, int], int]) -> Problem | None:
    """Does the record still give the hash the chain holds for it?"""
    name = describe(link.record_type, link.record_id)
    if _vouched_by(alliance_id, link, nxt, contents, retired_until):
        if own is not None and own == nxt.previous_hash:
            return _rewritten_hash(link)
        if own == link.hash:
            return Problem("changed", link.record_type, link.record_id, link.position,
                           f"{name} does not match the hash it was chained with: it was changed after it was "
                           "recorded, and its link's hash recomputed to hide it (the next link still holds the "
                           "original)")
        return Problem("changed", link.record_type, link.record_id, link.position,
                       f"{name} does not match its hash: it was changed after it was recorded")
    if own != link.hash:
        return Problem("changed", link.record_type, link.record_id, link.position,
                       f"{name} does not match its hash: it was changed after it was recorded")
    return None


def unlinked(keys: Iterable[tuple[str, int]]) -> list[Problem]:
    """Records no link vouches for, by type and id."""
    return [Problem("unlinked", *key, None, f"{describe(*key)} is not in the chain: it was added behind the app's "
                                            "back") for key in sorted(keys)]


def verify(alliance_id: int, links: Sequence[Link],
           contents: Mapping[tuple[str, int], Mapping[str, object]]) -> Verdict:
    """Check ``links`` (in position order) against ``contents``, every record of the alliance as it is now.

    ``contents`` maps (record type, id) to the record's fields; a record absent from it has been deleted.
    Self-contained links (a checkpoint's removal) need no content, and the records they retire may be gone.
    Every problem is reported, in position order, then unlinked records by type and id.
    """
    problems, seen = check_links(alliance_id, links, contents, retirements(links))
    problems += unlinked(set(contents) - seen)
    return Verdict(alliance_id, len(links), links[-1] if links else None, problems)


# --- The one verdict every channel shows ------------------------------------------------------------------


def _records(count: int) -> str:
    return f"{count:,} record{'' if count == 1 else 's'}"


def _entries(count: int) -> str:
    return "no entries" if count == 0 else f"{count:,} entr{'y' if count == 1 else 'ies'}"


@dataclass(frozen=True)
class HeadCheck:
    """An earlier export's chain head compared with the chain now (whose newest link is at ``last``)."""

    fingerprint: str
    found: bool
    position: int
    #: The newest link's position now.
    last: int

    @property
    def added_since(self) -> int:
        """Records chained after the earlier head (0 when it is not found)."""
        return max(self.last - self.position, 0) if self.found else 0

    @property
    def code(self) -> str:
        """found; cut_short: it lies past the chain's end now; rewritten: the link at its position differs."""
        if self.found:
            return "found"
        return "cut_short" if self.position > self.last else "rewritten"

    def as_dict(self) -> dict[str, object]:
        return {"fingerprint": self.fingerprint, "found": self.found, "position": self.position,
                "added_since": self.added_since, "last_position": self.last, "code": self.code,
                "message": self.message}

    @property
    def message(self) -> str:
        head = f"The chain head of the earlier export, {self.fingerprint},"
        if self.code == "found":
            since = f"; {_records(self.added_since)} chained since" if self.added_since else ""
            return (f"{head} is in the chain (position {self.position:,}): the records up to that export are the "
                    f"ones chained then{since}.")
        if self.code == "cut_short":
            gone = self.position - self.last
            what = ("the record chained last by then was deleted together with its link" if gone == 1 else
                    f"the {gone:,} records chained last by then were deleted together with their links")
            return (f"{head} lies beyond the end of the chain, which now ends at position {self.last:,}: {what}, "
                    f"or the chain was rewritten. Which {'record it was' if gone == 1 else 'records they were'}, "
                    "the chain cannot tell: the earlier export lists "
                    f"{'it' if gone == 1 else 'them'}.")
        return (f"{head} is not in the chain: a record at position {self.position:,} or earlier was changed and "
                "every link after it recomputed to hide it (or the head was mistyped, or is another "
                "alliance's). Which record was changed, the chain itself cannot tell: compare the books with "
                "that export.")


@dataclass(frozen=True)
class TotalsGap:
    """One figure where the running totals that balances are read from differ from the entries themselves.

    Names as people know them (None: no counterparty, pool or category) and amounts in minor units of
    ``currency``; the ids are for scripts. ``all_categories``: the figure of every category together (the
    rows balances read), off while each category's agrees.
    """

    kind: str
    partner_id: int
    partner: str
    counterparty_id: int | None
    counterparty: str | None
    pool_id: int | None
    pool: str | None
    category_id: int | None
    category: str | None
    held_entries: int
    held_amount: int
    entries: int
    amount: int
    currency: str
    all_categories: bool = False

    def as_dict(self) -> dict[str, object]:
        """Ids and names, amounts as the API writes money (decimal strings), and the message."""
        money = {name: to_decimal_string(getattr(self, name), self.currency)
                 for name in ("held_amount", "amount")}
        return {"kind": self.kind, "partner_id": self.partner_id, "partner": self.partner,
                "counterparty_id": self.counterparty_id, "counterparty": self.counterparty, "pool_id": self.pool_id,
                "pool": self.pool, "category_id": self.category_id, "category": self.category,
                "all_categories": self.all_categories, "held_entries": self.held_entries, "entries": self.entries,
                **money,
                "difference": to_decimal_string(self.held_amount - self.amount, self.currency),
                "message": self.message}

    @property
    def message(self) -> str:
        details = [d for d in ("all categories together" if self.all_categories else self.category,
                               self.pool and f"pool {self.pool}",
                               self.counterparty and f"counterparty {self.counterparty}") if d]
        figure = f"{self.partner}'s {self.kind.replace('_', ' ')} entries" + (f" ({', '.join(details)})"
                                                                              if details else "")
        difference = self.held_amount - self.amount
        apart = (f"{to_display_string(abs(difference), self.currency)} {'more' if difference > 0 else 'less'} in "
                 "the totals" if difference else "the same amount, but not the same number of entries")
        return (f"{figure}: the running totals hold {to_display_string(self.held_amount, self.currency)} over "
                f"{_entries(self.held_entries)}, the entries themselves {to_display_string(self.amount, self.currency)}"
                f" over {_entries(self.entries)}: {apart}")


@dataclass(frozen=True)
class Report:
    """The verdict of a check, as the command line, the API and the Verify page all show it.

    ``state`` is "intact" only when every check passed: the chain, the running totals, and the earlier
    export's head when one was given. ``headline`` and ``message`` say it in words; the lists are the
    findings behind it (``problems`` all those found, or the first ones of ``problem_count``).
    """

    state: str
    headline: str
    message: str
    count: int
    problems: list[Problem]
    problem_count: int
    totals: list[TotalsGap]
    head_check: HeadCheck | None

    @property
    def intact(self) -> bool:
        return self.state == "intact"

    def shown_problems(self, limit: int = PROBLEMS_SHOWN) -> list[Problem]:
        """The first ``limit`` problems: what a page or an answer lists (``problem_count`` counts them all)."""
        return self.problems[:limit]

    def as_dict(self) -> dict[str, object]:
        """The verdict as the chain API and the Verify page's script read it: words and machine fields."""
        return {"intact": self.intact, "state": self.state, "headline": self.headline, "message": self.message,
                "count": self.count, "problems": [p.as_dict() for p in self.shown_problems()],
                "problem_count": self.problem_count, "totals": [g.as_dict() for g in self.totals],
                "head_check": None if self.head_check is None else self.head_check.as_dict()}


#: What an intact chain cannot rule out by itself, said whenever no earlier head was checked.
UNSEEN_WITHOUT_A_HEAD = ("A chain rewritten from some record on, or cut short by deleting its newest records with "
                         "their links, shows only against the chain head of an earlier export: check one to rule "
                         "that out.")


def report(count: int, problems: Sequence[Problem], problem_count: int, totals: Sequence[TotalsGap],
           head_check: HeadCheck | None) -> Report:
    """Put the findings of a check into one verdict: the chain's ``problems`` (the first ones, in chain order,
    of ``problem_count``) over ``count`` links, the ``totals`` that disagree with the entries, and an earlier
    export's ``head_check`` (None: none given)."""
    shown = list(problems)
    head_off = head_check is not None and not head_check.found
    if not problem_count and not totals and not head_off:
        message = f"{_records(count)} chained, every one as it was recorded; the running totals add up to the entries."
        message += " " + (head_check.message if head_check is not None else UNSEEN_WITHOUT_A_HEAD)
        return Report("intact", "Intact:", message, count, [], 0, [], head_check)
    sentences: list[str] = []
    if problem_count:
        headline = "The chain is broken."
        first = shown[0] if shown else None
        if first is not None:
            where = f" (position {first.position:,})" if first.position else ""
            sentences.append(f"The first record that does not match: {first.record}{where}: {first.message}.")
        more = problem_count - (1 if first is not None else 0)
        if more:
            sentences.append(f"{'And ' if first is not None else 'The chain has '}{more:,} "
                             f"{'more ' if first is not None else ''}problem{'' if more == 1 else 's'}.")
    else:
        headline = "The running totals no longer match the entries." if totals else "The chain was rewritten."
        sentences.append(f"The chain of {_records(count)} holds together on its own, but that does not show the "
                         "newest records deleted with their links, or a chain rewritten from a record on.")
    if totals:
        sentences.append("The running totals that balances are read from no longer match the entries, so balances "
                         "show figures the entries do not add up to: " + "; ".join(g.message for g in totals)
                         + ". An entry was changed or deleted in the database behind the app's back.")
    if head_check is not None:
        sentences.append(head_check.message)
    return Report("broken", headline, " ".join(sentences), count, shown, problem_count, list(totals), head_check)
