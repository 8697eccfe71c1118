"""The read side of renewal checkpoints: the schedule, and everything one checkpoint's page shows.

Pages, the API and the review pack all read a checkpoint through
:func:`review_of`, so they show the same assessments, votes, tally and
quorum, and always the frozen snapshot rather than today's figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ledger.domain.renewal import QuorumState, leading, tally
from ledger.domain.vocabulary import ASSESSMENT_SCORES, Challenge, Decision, MemberRole
from ledger.models import Alliance, Assessment, Checkpoint, Membership, Partner, Vote
from ledger.services.checkpoints import current_votes, quorum_state
from ledger.snapshots import intact, load


@dataclass(frozen=True)
class ScheduledCheckpoint:
    checkpoint: Checkpoint
    #: scheduled (not yet open), open (figures frozen, awaiting the decision) or decided.
    state: str
    #: Its date has passed and no decision is recorded yet.
    overdue: bool


def checkpoint_state(checkpoint: Checkpoint) -> str:
    if checkpoint.decision is not None:
        return "decided"
    return "open" if checkpoint.opened_at is not None else "scheduled"


def schedule(session: Session, alliance: Alliance, today: date) -> list[ScheduledCheckpoint]:
    rows = session.scalars(select(Checkpoint).where(Checkpoint.alliance_id == alliance.id)
                           .order_by(Checkpoint.due_date))
    return [ScheduledCheckpoint(c, checkpoint_state(c), c.decision is None and c.due_date < today) for c in rows]


@dataclass(frozen=True)
class ScheduleSummary:
    """What the dashboard says about reviews: the next one, and any whose date passed without a decision."""

    upcoming: Checkpoint | None
    overdue: list[Checkpoint]
    latest_decision: Checkpoint | None


def schedule_summary(session: Session, alliance: Alliance, today: date) -> ScheduleSummary:
    rows = schedule(session, alliance, today)
    upcoming = next((r.checkpoint for r in rows if r.checkpoint.due_date >= today and r.state != "decided"), None)
    decided = [r.checkpoint for r in rows if r.state == "decided"]
    latest = max(decided, key=lambda c: c.decided_at) if decided else None
    return ScheduleSummary(upcoming, [r.checkpoint for r in rows if r.overdue], latest)


def checkpoint_in(session: Session, alliance: Alliance, checkpoint_id: int) -> Checkpoint | None:
    return session.scalar(select(Checkpoint).where(Checkpoint.id == checkpoint_id,
                                                   Checkpoint.alliance_id == alliance.id))


@dataclass
class Review:
    checkpoint: Checkpoint
    state: str
    #: The frozen figures (None until the checkpoint opens).
    snapshot: dict | None
    #: The stored snapshot still matches the digest it was frozen with.
    snapshot_intact: bool
    partners: list[Partner]
    #: Each partner's newest assessment (partners that have not assessed are absent).
    assessments: dict[int, Assessment]
    assessment_history: list[Assessment]
    steering: list[Membership]
    votes: list[Vote]
    vote_history: list[Vote]
    tally: dict[Decision, int]
    leading: Decision | None
    quorum: QuorumState
    averages: dict[str, float | None] = field(default_factory=dict)
    challenge_counts: dict[Challenge, int] = field(default_factory=dict)

    def vote_of(self, user_id: int) -> Vote | None:
        return next((v for v in self.votes if v.user_id == user_id), None)


def review_of(session: Session, alliance: Alliance, checkpoint: Checkpoint) -> Review:
    partners = list(session.scalars(select(Partner).where(Partner.alliance_id == alliance.id)
                                    .order_by(Partner.name)))
    history = list(session.scalars(select(Assessment).where(Assessment.checkpoint_id == checkpoint.id)
                                   .options(joinedload(Assessment.user)).order_by(Assessment.id.desc())))
    current: dict[int, Assessment] = {}
    for row in history:
        current.setdefault(row.partner_id, row)
    votes = current_votes(session, checkpoint)
    vote_history = list(session.scalars(select(Vote).where(Vote.checkpoint_id == checkpoint.id)
                                        .options(joinedload(Vote.user)).order_by(Vote.id.desc())))
    steering = list(session.scalars(select(Membership).where(
        Membership.alliance_id == alliance.id, Membership.role == MemberRole.STEERING_MEMBER)
        .options(joinedload(Membership.user), joinedload(Membership.partner)).order_by(Membership.id)))
    counts = tally(v.choice for v in votes)
    snapshot = load(checkpoint.snapshot) if checkpoint.snapshot else None
    return Review(
        checkpoint=checkpoint, state=checkpoint_state(checkpoint), snapshot=snapshot,
        snapshot_intact=bool(checkpoint.snapshot) and intact(checkpoint.snapshot, checkpoint.snapshot_sha256),
        partners=partners, assessments=current, assessment_history=history, steering=steering, votes=votes,
        vote_history=vote_history, tally=counts, leading=leading(counts),
        quorum=quorum_state(session, alliance, checkpoint),
        averages=_averages(list(current.values())), challenge_counts=_challenges(list(current.values())))


def _averages(rows: list[Assessment]) -> dict[str, float | None]:
    """Mean score per question over partners' current assessments (scores, not money: a float is fine)."""
    return {name: (round(sum(getattr(r, name) for r in rows) / len(rows), 1) if rows else None)
            for name in ASSESSMENT_SCORES}


def _challenges(rows: list[Assessment]) -> dict[Challenge, int]:
    counts = dict.fromkeys(Challenge, 0)
    for row in rows:
        for value in filter(None, row.challenges.split(",")):
            counts[Challenge(value)] += 1
    return counts


def challenges_of(row: Assessment) -> list[Challenge]:
    return [Challenge(v) for v in row.challenges.split(",") if v]


def open_count(session: Session, alliance: Alliance) -> int:
    return session.scalar(select(func.count()).select_from(Checkpoint).where(
        Checkpoint.alliance_id == alliance.id, Checkpoint.opened_at.is_not(None), Checkpoint.decision.is_(None)))
