"""Value renewal: who counts towards a checkpoint's quorum, the tally of votes, and the alliance's state.

A steering member votes once per checkpoint (a later vote replaces the
earlier one, so each member counts once). The alliance sets which votes make
a quorum; the coordinator may record the decision only once it is met. These
rules are plain functions of who voted, so the pages, the API and the tests
ask them the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ledger.domain.vocabulary import Decision, QuorumRule


@dataclass(frozen=True, slots=True)
class Voter:
    """A steering member as the quorum sees it: who, and which partner (if any) they sit for."""

    user_id: Hashable
    partner_id: Hashable | None = None


@dataclass(frozen=True, slots=True)
class QuorumState:
    met: bool
    #: What is still missing, in words a steering group reads ("a vote for Beta", "2 more votes").
    missing: tuple[str, ...]
    #: Partners the rule needs a vote from but which have no steering member at all: the quorum can
    #: never be met until the coordinator appoints one.
    unrepresented: tuple[Hashable, ...] = ()


def quorum(rule: QuorumRule, steering: Sequence[Voter], voted: Iterable[Hashable],
           protagonists: Sequence[Hashable], partners: Sequence[Hashable],
           names: Mapping[Hashable, str]) -> QuorumState:
    """Whether the members in ``voted`` (user ids) make a quorum under ``rule``.

    ``steering`` is every steering member of the alliance; ``names`` names partners for the messages.
    Votes of people who are no longer steering members do not count.
    """
    members = {v.user_id: v for v in steering}
    counted = {u for u in voted if u in members}
    if rule in (QuorumRule.PROTAGONISTS, QuorumRule.ALL_PARTNERS):
        needed = protagonists if rule is QuorumRule.PROTAGONISTS else partners
        covered = {members[u].partner_id for u in counted}
        represented = {v.partner_id for v in steering}
        missing = [p for p in needed if p not in covered]
        unrepresented = tuple(p for p in missing if p not in represented)
        if not needed:
            what = "protagonist partners" if rule is QuorumRule.PROTAGONISTS else "partners"
            return QuorumState(False, (f"the alliance has no {what} yet",))
        return QuorumState(not missing, tuple(f"a vote for {names.get(p, p)}" for p in missing), unrepresented)
    if not members:
        return QuorumState(False, ("the alliance has no steering members yet",))
    needed_votes = len(members) if rule is QuorumRule.ALL_STEERING else len(members) // 2 + 1
    left = needed_votes - len(counted)
    if left <= 0:
        return QuorumState(True, ())
    return QuorumState(False, (f"{left} more vote{'s' if left != 1 else ''} of steering members",))


def tally(choices: Iterable[Decision]) -> dict[Decision, int]:
    """Votes per choice, every choice present (zero when nobody chose it), in the vocabulary's order."""
    counts = Counter(choices)
    return {d: counts.get(d, 0) for d in Decision}


def leading(counts: Mapping[Decision, int]) -> Decision | None:
    """The choice with the most votes, or None on a tie or with no votes: the steering group must talk."""
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] == 0 or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def alliance_state(today: date, term_end: date, ended_on: date | None, renegotiate_from: date | None) -> str:
    """One word for where the alliance is in its life: active, renegotiating, ending, ended or expired.

    ``ended`` (terminated, its last day passed) is read-only; ``expired`` means the term ran out without a
    renewal decision, which the dashboard points out.
    """
    if ended_on is not None:
        return "ended" if today > ended_on else "ending"
    if renegotiate_from is not None:
        return "renegotiating"
    if today > term_end:
        return "expired"
    return "active"


def is_read_only(today: date, ended_on: date | None) -> bool:
    """A terminated alliance takes no new records after its last day; its history stays readable."""
    return ended_on is not None and today > ended_on
