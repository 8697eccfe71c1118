"""The read side of the hash chain: each chained record's content as stored now, the links, the verdict.

The same loaders serve three callers, so a record always hashes from the same values: the write path
(:func:`ledger.services.chain.append_link`, right after the record is flushed), :func:`verify_alliance`,
and migration 0005's backfill of records written before the chain existed. They read with plain
``select``s of named columns through whatever connection or session they are given, so the values come
back through the same column types (dates, UTC datetimes, exact weights) on SQLite and PostgreSQL.

Left out of an entry's content on purpose: its agreement version and pool, which a later agreement version
re-assigns by design (they follow from the entry's date, kind and category, which are hashed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    LargeBinary,
    Select,
    String,
    Text,
    cast,
    except_,
    func,
    literal_column,
    select,
)
from sqlalchemy.sql.selectable import ScalarSelect

from ledger import totals
from ledger.domain.chain import (
    RETIRES,
    SELF_CONTAINED,
    HeadCheck,
    Link,
    Problem,
    Report,
    Verdict,
    check_links,
    parse_fingerprint,
    report,
    retirements,
    unlinked,
    verify,
)
from ledger.domain.errors import InvalidInput
from ledger.models import (
    AgreementVersion,
    Alliance,
    Assessment,
    ChainLink,
    CharterCommitment,
    CharterTarget,
    CharterVersion,
    Checkpoint,
    Entry,
    Pool,
    PoolCategory,
    PoolKind,
    PoolShare,
    Target,
    Vote,
)

#: A record as the loaders yield it: (record type, id, when it happened, its content).
Record = tuple[str, int, datetime, dict]

#: The order of record types when two happened at the same instant (backfill only).
TYPE_ORDER = ("charter_version", "agreement_version", "checkpoint", "entry", "checkpoint_opened", "assessment",
              "vote", "checkpoint_decided")


def _only(column, ids: list[int] | range | None):
    """No condition for None; ``BETWEEN`` for a range of ids (:func:`contents_of`), else ``IN``."""
    if isinstance(ids, range) and ids.step == 1 and len(ids):
        return [column.between(ids.start, ids.stop - 1)]
    return [column.in_(ids)] if ids is not None else []


def _entries(db, alliance_id: int, ids: list[int] | None) -> Iterator[Record]:
    rows = db.execute(select(
        Entry.id, Entry.entry_date, Entry.partner_id, Entry.kind, Entry.category_id, Entry.amount,
        Entry.description, Entry.reference, Entry.counterparty_id, Entry.reverses_id, Entry.import_batch_id,
        Entry.recorded_by_id, Entry.recorded_at, Alliance.currency,
    ).join(Alliance, Alliance.id == Entry.alliance_id)
        .where(Entry.alliance_id == alliance_id, *_only(Entry.id, ids)).order_by(Entry.id))
    for r in rows:
        yield "entry", r.id, r.recorded_at, entry_fields(r, r.currency)


def entry_fields(entry, currency: str) -> dict:
    """An entry's chained content, from a row read back or from the ``Entry`` just flushed (same attributes).

    The write path hashes the flushed object (no read-back under the alliance lock); the verifier hashes
    the stored row. Both give the same values: every field is one the app set itself, and timestamps
    keep their microseconds on both engines (``ledger.db.UTCDateTime``).
    """
    return {
        "date": entry.entry_date, "partner": entry.partner_id, "kind": entry.kind, "category": entry.category_id,
        "amount_cents": entry.amount, "currency": currency, "description": entry.description,
        "reference": entry.reference, "counterparty": entry.counterparty_id, "reverses": entry.reverses_id,
        "import_batch": entry.import_batch_id, "recorded_by": entry.recorded_by_id, "recorded_at": entry.recorded_at}


def _agreement_versions(db, alliance_id: int, ids: list[int] | None) -> Iterator[Record]:
    versions = list(db.execute(select(
        AgreementVersion.id, AgreementVersion.number, AgreementVersion.effective_from, AgreementVersion.note,
        AgreementVersion.created_by_id, AgreementVersion.created_at,
    ).where(AgreementVersion.alliance_id == alliance_id, *_only(AgreementVersion.id, ids))
        .order_by(AgreementVersion.id)))
    in_alliance = select(AgreementVersion.id).where(AgreementVersion.alliance_id == alliance_id,
                                                    *_only(AgreementVersion.id, ids))
    pools = list(db.execute(select(Pool.id, Pool.version_id, Pool.position, Pool.name, Pool.side,
                                   Pool.all_categories).where(Pool.version_id.in_(in_alliance))))
    pool_ids = select(Pool.id).where(Pool.version_id.in_(in_alliance))
    kinds, categories, shares = defaultdict(list), defaultdict(list), defaultdict(list)
    for pool_id, kind in db.execute(select(PoolKind.pool_id, PoolKind.kind).where(PoolKind.pool_id.in_(pool_ids))):
        kinds[pool_id].append(kind.value)
    for pool_id, category_id in db.execute(select(PoolCategory.pool_id, PoolCategory.category_id)
                                           .where(PoolCategory.pool_id.in_(pool_ids))):
        categories[pool_id].append(category_id)
    for pool_id, partner_id, weight in db.execute(select(PoolShare.pool_id, PoolShare.partner_id, PoolShare.weight)
                                                  .where(PoolShare.pool_id.in_(pool_ids))):
        shares[pool_id].append([partner_id, weight])
    by_version = defaultdict(list)
    for p in sorted(pools, key=lambda p: (p.position, p.id)):
        by_version[p.version_id].append({
            "position": p.position, "name": p.name, "side": p.side, "all_categories": p.all_categories,
            "kinds": sorted(kinds[p.id]), "categories": sorted(categories[p.id]), "shares": sorted(shares[p.id])})
    for v in versions:
        yield "agreement_version", v.id, v.created_at, {
            "number": v.number, "effective_from": v.effective_from, "note": v.note,
            "created_by": v.created_by_id, "created_at": v.created_at, "pools": by_version[v.id]}


def _charter_versions(db, alliance_id: int, ids: list[int] | None) -> Iterator[Record]:
    versions = list(db.execute(select(
        CharterVersion.id, CharterVersion.number, CharterVersion.effective_from, CharterVersion.cause,
        CharterVersion.objective, CharterVersion.term_end, CharterVersion.change_note, CharterVersion.created_by_id,
        CharterVersion.created_at,
    ).where(CharterVersion.alliance_id == alliance_id, *_only(CharterVersion.id, ids)).order_by(CharterVersion.id)))
    in_alliance = select(CharterVersion.id).where(CharterVersion.alliance_id == alliance_id,
                                                  *_only(CharterVersion.id, ids))
    commitments, targets = defaultdict(list), defaultdict(list)
    for c in db.execute(select(CharterCommitment.version_id, CharterCommitment.partner_id, CharterCommitment.expects,
                               CharterCommitment.brings).where(CharterCommitment.version_id.in_(in_alliance))):
        commitments[c.version_id].append([c.partner_id, c.expects, c.brings])
    for t in db.execute(select(CharterTarget.version_id, CharterTarget.target_id, CharterTarget.value, Target.name,
                               Target.unit, Target.period, Target.direction, Target.combine)
                        .join(Target, Target.id == CharterTarget.target_id)
                        .where(CharterTarget.version_id.in_(in_alliance))):
        targets[t.version_id].append([t.target_id, t.name, t.unit, t.period.value, t.direction.value,
                                      t.combine.value, t.value])
    for v in versions:
        yield "charter_version", v.id, v.created_at, {
            "number": v.number, "effective_from": v.effective_from, "cause": v.cause, "objective": v.objective,
            "term_end": v.term_end, "change_note": v.change_note, "created_by": v.created_by_id,
            "created_at": v.created_at, "commitments": sorted(commitments[v.id]),
            "targets": sorted(targets[v.id], key=lambda t: t[0])}


def _checkpoints(db, alliance_id: int, ids: list[int] | None, which: str) -> Iterator[Record]:
    """A checkpoint is chained in up to three steps, each with the fields that step wrote."""
    rows = db.execute(select(
        Checkpoint.id, Checkpoint.due_date, Checkpoint.label, Checkpoint.created_by_id, Checkpoint.created_at,
        Checkpoint.opened_at, Checkpoint.opened_by_id, Checkpoint.as_of, Checkpoint.snapshot,
        Checkpoint.snapshot_sha256, Checkpoint.decision, Checkpoint.rationale, Checkpoint.decided_by_id,
        Checkpoint.decided_at, Checkpoint.decision_date,
    ).where(Checkpoint.alliance_id == alliance_id, *_only(Checkpoint.id, ids)).order_by(Checkpoint.id))
    for c in rows:
        if which == "checkpoint":
            yield "checkpoint", c.id, c.created_at, {
                "due_date": c.due_date, "label": c.label, "created_by": c.created_by_id, "created_at": c.created_at}
        elif which == "checkpoint_opened" and c.opened_at is not None:
            yield "checkpoint_opened", c.id, c.opened_at, {
                "opened_at": c.opened_at, "opened_by": c.opened_by_id, "as_of": c.as_of,
                "snapshot": c.snapshot, "snapshot_sha256": c.snapshot_sha256}
        elif which == "checkpoint_decided" and c.decision is not None:
            yield "checkpoint_decided", c.id, c.decided_at, {
                "decision": c.decision, "rationale": c.rationale, "decision_date": c.decision_date,
                "decided_by": c.decided_by_id, "decided_at": c.decided_at}


def _assessments(db, alliance_id: int, ids: list[int] | None) -> Iterator[Record]:
    rows = db.execute(select(
        Assessment.id, Assessment.checkpoint_id, Assessment.partner_id, Assessment.satisfaction, Assessment.fairness,
        Assessment.commitment, Assessment.trust, Assessment.challenges, Assessment.comments, Assessment.user_id,
        Assessment.created_at,
    ).join(Checkpoint, Checkpoint.id == Assessment.checkpoint_id)
        .where(Checkpoint.alliance_id == alliance_id, *_only(Assessment.id, ids)).order_by(Assessment.id))
    for a in rows:
        yield "assessment", a.id, a.created_at, {
            "checkpoint": a.checkpoint_id, "partner": a.partner_id, "satisfaction": a.satisfaction,
            "fairness": a.fairness, "commitment": a.commitment, "trust": a.trust, "challenges": a.challenges,
            "comments": a.comments, "user": a.user_id, "created_at": a.created_at}


def _votes(db, alliance_id: int, ids: list[int] | None) -> Iterator[Record]:
    rows = db.execute(select(
        Vote.id, Vote.checkpoint_id, Vote.user_id, Vote.partner_id, Vote.choice, Vote.reason, Vote.created_at,
    ).join(Checkpoint, Checkpoint.id == Vote.checkpoint_id)
        .where(Checkpoint.alliance_id == alliance_id, *_only(Vote.id, ids)).order_by(Vote.id))
    for v in rows:
        yield "vote", v.id, v.created_at, {
            "checkpoint": v.checkpoint_id, "user": v.user_id, "partner": v.partner_id, "choice": v.choice,
            "reason": v.reason, "created_at": v.created_at}


LOADERS = {
    "entry": _entries,
    "agreement_version": _agreement_versions,
    "charter_version": _charter_versions,
    "checkpoint": lambda db, a, ids: _checkpoints(db, a, ids, "checkpoint"),
    "checkpoint_opened": lambda db, a, ids: _checkpoints(db, a, ids, "checkpoint_opened"),
    "checkpoint_decided": lambda db, a, ids: _checkpoints(db, a, ids, "checkpoint_decided"),
    "assessment": _assessments,
    "vote": _votes,
}


def records(db, alliance_id: int) -> list[Record]:
    """Every chained record of the alliance as stored now (``db``: a Session or a Connection)."""
    return [record for loader in LOADERS.values() for record in loader(db, alliance_id, None)]


def content_of(db, alliance_id: int, record_type: str, record_id: int) -> dict:
    """One record's content, for the link the write path appends ({} for a self-contained removal)."""
    if record_type in SELF_CONTAINED:
        return {}
    found = list(LOADERS[record_type](db, alliance_id, [record_id]))
    if not found:
        raise LookupError(f"no {record_type} #{record_id} in alliance {alliance_id} to chain")
    return found[0][3]


#: Ids per ``IN`` list of :func:`contents_of` (well under SQLite's and PostgreSQL's bound-parameter limits).
CONTENTS_CHUNK = 2_000
#: Consecutive ids from this many on are read with one ``BETWEEN`` instead.
CONTENTS_RUN = 50


def _batches(ids: list[int]) -> list[list[int] | range]:
    """Sorted ids as ranges of consecutive ids (a bulk insert's) and ``IN`` lists of the scattered rest."""
    runs: list[list[int]] = []
    for record_id in ids:
        if runs and record_id == runs[-1][-1] + 1:
            runs[-1].append(record_id)
        else:
            runs.append([record_id])
    batches: list[list[int] | range] = []
    scattered: list[int] = []
    for run in runs:
        if len(run) >= CONTENTS_RUN:
            batches.append(range(run[0], run[-1] + 1))
        else:
            scattered.extend(run)
    batches.extend(scattered[i:i + CONTENTS_CHUNK] for i in range(0, len(scattered), CONTENTS_CHUNK))
    return batches


def contents_of(db, alliance_id: int, record_type: str, record_ids: list[int]) -> dict[int, dict]:
    """Many records' contents at once, ``{id: content}``: for each record exactly what :func:`content_of` gives.

    The same loaders with ranges or lists of ids instead of one id per query (100,000 entries in a couple of
    queries), so the links a bulk write appends (``ledger.services.chain.append_links``) hash byte-identical
    content and :func:`verify_alliance` agrees. LookupError if a record is not there.
    """
    found = found_contents(db, alliance_id, record_type, record_ids)
    wanted = set(record_ids)
    if len(found) != len(wanted):
        missing = next(i for i in wanted if i not in found)
        raise LookupError(f"no {record_type} #{missing} in alliance {alliance_id} to chain")
    return found


def found_contents(db, alliance_id: int, record_type: str, record_ids: list[int]) -> dict[int, dict]:
    """:func:`contents_of` for the records still there; the others are simply absent (deleted)."""
    if record_type in SELF_CONTAINED:
        return {record_id: {} for record_id in record_ids}
    found: dict[int, dict] = {}
    for batch in _batches(sorted(set(record_ids))):
        for _, record_id, _, fields in LOADERS[record_type](db, alliance_id, batch):
            found[record_id] = fields
    return found


def backfill_order(found: list[Record]) -> list[Record]:
    """Records written before the chain existed, in the order they happened (ties: type, then id)."""
    return sorted(found, key=lambda r: (r[2], TYPE_ORDER.index(r[0]), r[1]))


def _link(row) -> Link:
    return Link(row.position, row.record_type, row.record_id, row.hash, row.previous_hash)


_LINK_COLUMNS = select(ChainLink.position, ChainLink.record_type, ChainLink.record_id, ChainLink.hash,
                       ChainLink.previous_hash)


def links_of(db, alliance_id: int) -> list[Link]:
    rows = db.execute(_LINK_COLUMNS.where(ChainLink.alliance_id == alliance_id)
                      .order_by(ChainLink.position, ChainLink.id))
    return [_link(r) for r in rows]


def _links_where(db, alliance_id: int, condition: ColumnElement[bool]) -> list[Link]:
    return [_link(r) for r in db.execute(_LINK_COLUMNS.where(ChainLink.alliance_id == alliance_id, condition)
                                         .order_by(ChainLink.position))]


def newest_link(alliance_id: int | BindParameter[int]) -> Select[tuple[int, str]]:
    """The position and hash of the newest link (no row while the chain is empty), for a write that reads
    them in the statement that appends the next link (``ledger.services.entry_writes``)."""
    return (select(ChainLink.position, ChainLink.hash).where(ChainLink.alliance_id == alliance_id)
            .order_by(ChainLink.position.desc()).limit(1))


def head_columns(alliance_id: int | BindParameter[int]) -> tuple[ScalarSelect[int | None], ScalarSelect[str | None]]:
    """:func:`newest_link` as two subqueries, both NULL while the chain is empty."""
    newest = newest_link(alliance_id)
    return (newest.with_only_columns(ChainLink.position).scalar_subquery(),
            newest.with_only_columns(ChainLink.hash).scalar_subquery())


def link_hash_sql(previous_hash: ColumnElement[str], position: ColumnElement[int], before: ColumnElement[bytes],
                  after: ColumnElement[bytes]) -> ColumnElement[str]:
    """PostgreSQL's :func:`ledger.domain.chain.link_hash` of ``before + str(position) + after``.

    For the one statement that records an entry on PostgreSQL, which learns the link's position and
    previous hash only as it runs, under the lock; ``before`` and ``after`` are the halves of
    :func:`ledger.domain.chain.canonical_around_position`. The same bytes are hashed as in Python: the
    previous hash (ASCII hex), a newline, the canonical document in UTF-8.
    """
    content = (func.convert_to(previous_hash.concat("\n"), "UTF8", type_=LargeBinary).concat(before)
               .concat(func.convert_to(cast(position, Text), "UTF8", type_=LargeBinary)).concat(after))
    return func.encode(func.sha256(content, type_=LargeBinary), "hex", type_=String)


def head_position(db, alliance_id: int) -> int:
    """The newest link's position (0: no chain yet): the chain's length when it is intact.

    One probe of the (alliance_id, position) index, where counting the links reads them all (70 ms at a
    million on PostgreSQL).
    """
    return db.scalar(select(func.max(ChainLink.position)).where(ChainLink.alliance_id == alliance_id)) or 0


def head_of(db, alliance_id: int) -> Link | None:
    """The newest link (what an export's fingerprint names)."""
    row = db.execute(_LINK_COLUMNS.where(ChainLink.alliance_id == alliance_id)
                     .order_by(ChainLink.position.desc()).limit(1)).first()
    return _link(row) if row else None


def verify_alliance(db, alliance_id: int) -> Verdict:
    """Recompute the alliance's whole chain from its records as they are now."""
    contents = {(t, i): fields for t, i, _, fields in records(db, alliance_id)}
    return verify(alliance_id, links_of(db, alliance_id), contents)


#: Links one request of a segmented check reads (``verify_segment``): about a second's work on the project's
#: machine, so no request of the Verify page runs for long, however long the chain.
SEGMENT = 20_000


@dataclass(frozen=True)
class Segment:
    """The check of the links from ``start`` through ``end``, of a chain whose newest link is at ``last``."""

    start: int
    end: int
    last: int
    problems: list[Problem]
    #: Where the next segment starts; None: this was the last (then :func:`unlinked_problems` completes the check).
    next_start: int | None


def verify_segment(db, alliance_id: int, start: int, limit: int = SEGMENT) -> Segment:
    """Check the links at positions ``start`` to ``start + limit - 1`` against their records as they are now.

    The chain's ``verify_alliance`` in pieces that each take a bounded time: walked from 1 to the end, the
    segments, then :func:`unlinked_problems`, report exactly its problems (tests/integration/test_chain.py
    walks every tampering case both ways). Each picks up from the stored hash of the newest link before it,
    which an earlier segment checked.
    """
    last = head_position(db, alliance_id)
    links = [_link(r) for r in db.execute(
        _LINK_COLUMNS.where(ChainLink.alliance_id == alliance_id, ChainLink.position >= start,
                            ChainLink.position < start + limit).order_by(ChainLink.position))]
    # Pick up where the links before left off: the newest one before ``start`` (the one just before, unless
    # links were deleted), as one walk through the whole chain would; and look one link past the end, whose
    # previous hash is what the chain holds for the segment's last record (``check_links``).
    before = _link_where(db, alliance_id, ChainLink.position < start, newest=True) if links and start > 1 else None
    following = _link_where(db, alliance_id, ChainLink.position >= start + limit) if links else None
    retired = _retired(db, alliance_id)
    wanted: dict[str, list[int]] = defaultdict(list)
    for link in [*links, *([following] if following else [])]:
        wanted[link.record_type].append(link.record_id)
    # A link whose type was rewritten to one no loader knows names a missing record, as in the whole check.
    contents = {(record_type, record_id): fields for record_type, ids in wanted.items()
                if record_type in LOADERS or record_type in SELF_CONTAINED
                for record_id, fields in found_contents(db, alliance_id, record_type, ids).items()}
    problems, _ = check_links(alliance_id, links, contents, retired, before=before, following=following)
    end = links[-1].position if links else start - 1
    return Segment(start, end, last, problems, start + limit if last >= start + limit else None)


def _link_where(db, alliance_id: int, condition: ColumnElement[bool], *, newest: bool = False) -> Link | None:
    """The first (or ``newest``) link that meets ``condition``: one probe of the (alliance_id, position) index."""
    order = ChainLink.position.desc() if newest else ChainLink.position
    row = db.execute(_LINK_COLUMNS.where(ChainLink.alliance_id == alliance_id, condition).order_by(order)
                     .limit(1)).first()
    return _link(row) if row else None


def _retired(db, alliance_id: int) -> dict[tuple[str, int], int]:
    return retirements(_links_where(db, alliance_id, ChainLink.record_type.in_(tuple(RETIRES))))


def unlinked_problems(db, alliance_id: int) -> list[Problem]:
    """The last step of a segmented check: records that no link vouches for (inserted behind the app's back).

    Entries by one ``EXCEPT`` in SQL (reading every entry id and every entry link once: the one step whose
    time grows with the ledger), the few other records compared in Python.
    """
    retired = _retired(db, alliance_id)
    # EXCEPT ... ORDER BY 1, not NOT EXISTS: SQLite probes the link index once per entry for the latter
    # (7.7 s at a million entries), but merges two sorted id lists for the former (0.45 s).
    ids = db.scalars(except_(select(Entry.id).where(Entry.alliance_id == alliance_id),
                             select(ChainLink.record_id).where(ChainLink.alliance_id == alliance_id,
                                                               ChainLink.record_type == "entry"))
                     .order_by(literal_column("1")))
    found = [("entry", entry_id) for entry_id in ids]
    others = {(record_type, record_id) for loader_type, loader in LOADERS.items() if loader_type != "entry"
              for record_type, record_id, _, _ in loader(db, alliance_id, None)}
    vouched = {(link.record_type, link.record_id)
               for link in _links_where(db, alliance_id, ChainLink.record_type != "entry")
               if link.position >= retired.get((link.record_type, link.record_id), 0)}
    return unlinked(found + sorted(others - vouched))


def find_fingerprint(db, alliance_id: int, fingerprint: str) -> Link | None:
    """The link an earlier export's fingerprint ("<position>-<hash prefix>") names, if it is still in the chain.

    Found: every record up to that export is still as it was chained (if the chain verifies too). Not found:
    the chain was rewritten from that position on, or the fingerprint is another alliance's or mistyped.
    """
    try:
        position, prefix = parse_fingerprint(fingerprint)
    except InvalidInput:
        return None
    if position == 0:
        return None
    row = db.execute(_LINK_COLUMNS.where(ChainLink.alliance_id == alliance_id, ChainLink.position == position)).first()
    if row is None or not row.hash.startswith(prefix):
        return None
    return _link(row)


def check_head(db, alliance_id: int, text: object, last: int, field: str = "head") -> HeadCheck:
    """Is the head an earlier export printed still a link of this alliance's chain (its newest at ``last``)?

    InvalidInput if it is malformed. Whether the chain itself verifies is a separate question.
    """
    position, prefix = parse_fingerprint(text, field)
    shown = f"{position}-{prefix}" if position else "0-genesis"
    found = position == 0 or find_fingerprint(db, alliance_id, shown) is not None
    return HeadCheck(shown, found, position, last)


def report_of(db, alliance_id: int, head: str | None = None) -> Report:
    """The whole check in one verdict: the chain, the running totals, and an earlier export's ``head`` if given.

    What ``flask ledger verify``, ``GET .../chain`` and the Verify page show. InvalidInput (field ``head``)
    if the head is malformed.
    """
    verdict = verify_alliance(db, alliance_id)
    last = verdict.head.position if verdict.head else 0
    head_check = check_head(db, alliance_id, head, last) if head else None
    return report(verdict.count, verdict.problems, len(verdict.problems), totals.mismatches(db, alliance_id),
                  head_check)


def report_after_walk(db, alliance_id: int, found: int, first: int | None, head: str | None = None) -> Report:
    """The verdict of a check walked in segments (the Verify page of a long chain), completed here.

    ``found`` problems were found by the segments, the first at position ``first``: that link is checked again
    (its segment of one, which finds what the whole check finds there) to name it; then the records with no
    link, the running totals and the head, as :func:`report_of` does.
    """
    problems = verify_segment(db, alliance_id, first, 1).problems[:1] if found and first else []
    rest = unlinked_problems(db, alliance_id)
    last = head_position(db, alliance_id)
    head_check = check_head(db, alliance_id, head, last) if head else None
    return report(last, problems + rest, found + len(rest), totals.mismatches(db, alliance_id), head_check)
