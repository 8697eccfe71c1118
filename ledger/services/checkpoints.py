"""Renewal checkpoints: scheduling, opening (freezing the snapshot), assessments, votes and the decision.

The steps follow the steering group's meeting: the coordinator schedules the
reviews (the case: 3 months, 9 months, end of term); on its date a checkpoint
opens by itself (or earlier, by the coordinator), which freezes the figures;
each partner assesses the alliance; steering members vote; once the quorum has
voted the coordinator records the decision, which renews, renegotiates or
terminates the alliance in the same transaction.

Every step takes the alliance row lock first (:func:`lock_alliance`), so two
coordinators deciding at once, or a decision racing a vote, take turns and the
second one sees the first one's result.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.db import utcnow
from ledger.domain.errors import Conflict, FieldErrors, InvalidInput, NotAllowed
from ledger.domain.permissions import can_manage
from ledger.domain.renewal import QuorumState, Voter, quorum
from ledger.domain.text import clean_text, parse_date, whole_number
from ledger.domain.vocabulary import ASSESSMENT_SCORES, Challenge, Decision, MemberRole, PartnerRole, QuorumRule
from ledger.models import (
    NAME_MAX,
    TEXT_MAX,
    Alliance,
    Assessment,
    Checkpoint,
    Entry,
    Measurement,
    Membership,
    Partner,
    User,
    Vote,
)
from ledger.services.activity import log
from ledger.services.alliances import parse_choice
from ledger.services.chain import append_link
from ledger.services.charter import check_term_end, derive_version
from ledger.services.lookups import partner_of
from ledger.services.periods import check_open, closed_through, ensure_not_ended, lock_alliance
from ledger.snapshots import build_snapshot, serialise

MAX_CHECKPOINTS = 100


# ---- the schedule ---------------------------------------------------------------------------------------

def _require_coordinator(membership: Membership, what: str) -> None:
    if not can_manage(membership.role):
        raise NotAllowed(f"Only the alliance's coordinator {what}.")


def schedule_checkpoint(session: Session, actor: User, membership: Membership, raw: Mapping[str, object],
                        today: date) -> Checkpoint:
    """Add a review date to the schedule (within the term; one checkpoint per day)."""
    _require_coordinator(membership, "schedules checkpoints")
    alliance = membership.alliance
    ensure_not_ended(alliance, today, "due_date")
    errors = FieldErrors()
    due = errors.check("due_date", parse_date, raw.get("due_date"), "due_date")
    label = errors.check("label", clean_text, raw.get("label"), "label", max_len=NAME_MAX, required=False)
    if due is not None:
        if not alliance.start_date < due <= alliance.term_end:
            errors.add("due_date", f"Choose a day after the term's start and up to its end "
                                   f"({alliance.start_date.isoformat()} to {alliance.term_end.isoformat()}).")
        elif session.scalar(select(Checkpoint.id).where(Checkpoint.alliance_id == alliance.id,
                                                        Checkpoint.due_date == due)):
            errors.add("due_date", f"There is already a checkpoint on {due.isoformat()}.")
    count = session.scalar(select(func.count()).select_from(Checkpoint).where(Checkpoint.alliance_id == alliance.id))
    if count >= MAX_CHECKPOINTS:
        errors.add("due_date", f"An alliance can have at most {MAX_CHECKPOINTS} checkpoints.")
    errors.raise_if_any()
    label = label or default_label(alliance, due)
    checkpoint = Checkpoint(alliance_id=alliance.id, due_date=due, label=label, created_by_id=actor.id)
    session.add(checkpoint)
    session.flush()
    log(session, alliance, actor, "checkpoint.scheduled",
        f"{actor.name} scheduled the checkpoint \u201c{label}\u201d on {due.isoformat()}")
    append_link(session, alliance, "checkpoint", checkpoint.id)
    return checkpoint


def default_label(alliance: Alliance, due: date) -> str:
    """"3-month review", "End-of-term review": how the case names its reviews."""
    if due == alliance.term_end:
        return "End-of-term review"
    months = (due.year - alliance.start_date.year) * 12 + due.month - alliance.start_date.month
    if due.day < alliance.start_date.day:
        months -= 1
    return f"{months}-month review" if months > 0 else f"Review of {due.isoformat()}"


def remove_checkpoint(session: Session, actor: User, membership: Membership, checkpoint: Checkpoint) -> None:
    """Take a checkpoint off the schedule; once open it is part of the record and stays."""
    _require_coordinator(membership, "changes the review schedule")
    _same_alliance(membership, checkpoint)
    lock_alliance(session, membership.alliance)
    session.refresh(checkpoint)
    if checkpoint.opened_at is not None:
        raise Conflict(f"\u201c{checkpoint.label}\u201d is already open; an open checkpoint stays on the record.")
    log(session, membership.alliance, actor, "checkpoint.removed",
        f"{actor.name} removed the checkpoint \u201c{checkpoint.label}\u201d of {checkpoint.due_date.isoformat()}")
    append_link(session, membership.alliance, "checkpoint_removed", checkpoint.id)
    session.delete(checkpoint)
    session.flush()


def parse_threshold(value: object, field: str = "hhi_threshold") -> Decimal:
    """A Herfindahl threshold between 0 and 1, with at most 4 decimals ("0.5", "0,45")."""
    text = value.strip().replace(",", ".") if isinstance(value, str) else value
    if isinstance(text, bool) or text in (None, ""):
        raise InvalidInput.at(field, "Enter a threshold between 0 and 1, e.g. 0.5.")
    try:
        threshold = Decimal(str(text))
    except InvalidOperation:
        raise InvalidInput.at(field, f"\u201c{str(value)[:20]}\u201d is not a number; enter e.g. 0.5.") from None
    if not threshold.is_finite() or not Decimal(0) < threshold <= Decimal(1):
        raise InvalidInput.at(field, "The threshold is a share between 0 and 1 (1 would never flag), e.g. 0.5.")
    if threshold != threshold.quantize(Decimal("0.0001")):
        raise InvalidInput.at(field, "Use at most 4 decimals.")
    return threshold


def update_settings(session: Session, actor: User, membership: Membership, raw: Mapping[str, object]) -> Alliance:
    """The review rules the alliance sets: its quorum and its dependency-concentration threshold."""
    _require_coordinator(membership, "changes the review settings")
    alliance = membership.alliance
    errors = FieldErrors()
    rule = errors.check("quorum", parse_choice, QuorumRule, raw.get("quorum"), "quorum", "quorum rule")
    threshold = errors.check("hhi_threshold", parse_threshold, raw.get("hhi_threshold"))
    errors.raise_if_any()
    changes = []
    if rule is not alliance.quorum:
        changes.append(f"quorum: {rule.label}")
    if threshold != alliance.hhi_threshold:
        changes.append(f"dependency threshold {alliance.hhi_threshold} \u2192 {threshold}")
    if not changes:
        raise InvalidInput.at("quorum", "Nothing changed.")
    alliance.quorum, alliance.hhi_threshold = rule, threshold
    log(session, alliance, actor, "alliance.review_settings", f"{actor.name} changed the review settings: "
        + "; ".join(changes))
    session.flush()
    return alliance


# ---- opening: the frozen snapshot -----------------------------------------------------------------------

def open_checkpoint(session: Session, actor: User, membership: Membership, checkpoint: Checkpoint,
                    today: date) -> Checkpoint:
    """Open a checkpoint now (the coordinator, possibly before its date); figures freeze as of the earlier day."""
    _require_coordinator(membership, "opens a checkpoint before its date")
    _same_alliance(membership, checkpoint)
    lock_alliance(session, membership.alliance)
    session.refresh(checkpoint)
    if checkpoint.opened_at is not None:
        raise Conflict(f"\u201c{checkpoint.label}\u201d was opened on {checkpoint.opened_at.date().isoformat()}; "
                       f"its figures are frozen as of {checkpoint.as_of.isoformat()}.")
    _freeze(session, membership.alliance, checkpoint, actor, today)
    return checkpoint


def open_due(session: Session, alliance: Alliance, today: date) -> list[Checkpoint]:
    """Open every checkpoint whose date has come (pages call this; so can a nightly ``ledger`` command).

    Cheap when nothing is due: one indexed query, no lock. Callers commit.
    """
    due_filter = (Checkpoint.alliance_id == alliance.id, Checkpoint.opened_at.is_(None), Checkpoint.due_date <= today)
    if session.scalar(select(Checkpoint.id).where(*due_filter).limit(1)) is None:
        return []
    lock_alliance(session, alliance)
    due = list(session.scalars(select(Checkpoint).where(*due_filter).order_by(Checkpoint.due_date)
                               .execution_options(populate_existing=True)))
    for checkpoint in due:
        _freeze(session, alliance, checkpoint, None, today)
    return due


def _freeze(session: Session, alliance: Alliance, checkpoint: Checkpoint, actor: User | None, today: date) -> None:
    as_of = max(alliance.start_date, min(checkpoint.due_date, today, alliance.term_end))
    now = utcnow()
    text, digest = serialise(build_snapshot(session, alliance, as_of, now))
    checkpoint.opened_at, checkpoint.opened_by_id, checkpoint.as_of = now, actor.id if actor else None, as_of
    checkpoint.snapshot, checkpoint.snapshot_sha256 = text, digest
    session.flush()
    who = f"{actor.name} opened" if actor else "Opened on its date:"
    log(session, alliance, actor, "checkpoint.opened",
        f"{who} the checkpoint \u201c{checkpoint.label}\u201d; its figures are frozen as of {as_of.isoformat()}")
    append_link(session, alliance, "checkpoint_opened", checkpoint.id)


# ---- assessments and votes ------------------------------------------------------------------------------

def _require_open(checkpoint: Checkpoint) -> None:
    if checkpoint.opened_at is None:
        raise Conflict(f"\u201c{checkpoint.label}\u201d opens on {checkpoint.due_date.isoformat()}; "
                       "assessments and votes start then.")
    if checkpoint.decision is not None:
        raise Conflict(f"\u201c{checkpoint.label}\u201d is decided ({checkpoint.decision.value}); "
                       "its assessments and votes are closed.")


def may_assess(membership: Membership, partner: Partner) -> bool:
    """A partner's own members (partner members, or steering members sitting for it) assess for it."""
    return (membership.role in (MemberRole.PARTNER_MEMBER, MemberRole.STEERING_MEMBER)
            and membership.partner_id == partner.id)


def parse_score(value: object, field: str) -> int:
    if isinstance(value, str) and (number := whole_number(value, 999, smallest=0)) is not None:
        value = number
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInput.at(field, f"Give the {field} a score from 1 (poor) to 5 (excellent).")
    return value


def parse_challenges(value: object, field: str = "challenges") -> list[Challenge]:
    if value in (None, ""):
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise InvalidInput.at(field, "Challenges are a list of: " + ", ".join(c.value for c in Challenge) + ".")
    chosen = {parse_choice(Challenge, item, field, "challenge") for item in items}
    return [c for c in Challenge if c in chosen]


def assess(session: Session, actor: User, membership: Membership, checkpoint: Checkpoint,
           raw: Mapping[str, object]) -> Assessment:
    """Record a partner's assessment; it replaces the partner's previous one (which stays in the history)."""
    alliance = membership.alliance
    _same_alliance(membership, checkpoint)
    raw_partner = raw.get("partner_id")
    if raw_partner in (None, "") and membership.partner_id is not None:
        raw_partner = membership.partner_id
    partner = partner_of(session, alliance, raw_partner)
    if not may_assess(membership, partner):
        raise NotAllowed(f"Only {partner.name}'s own members assess the alliance for {partner.name}.")
    lock_alliance(session, alliance)
    session.refresh(checkpoint)
    _require_open(checkpoint)
    errors = FieldErrors()
    scores = {name: errors.check(name, parse_score, raw.get(name), name) for name in ASSESSMENT_SCORES}
    challenges = errors.check("challenges", parse_challenges, raw.get("challenges"))
    comments = errors.check("comments", clean_text, raw.get("comments"), "comments", max_len=TEXT_MAX,
                            required=False)
    if challenges and Challenge.OTHER in challenges and not comments:
        errors.add("comments", "You ticked \u201cother\u201d: say in the comments what it was.")
    errors.raise_if_any()
    row = Assessment(checkpoint_id=checkpoint.id, partner_id=partner.id, **scores,
                     challenges=",".join(c.value for c in challenges), comments=comments or "", user_id=actor.id)
    session.add(row)
    session.flush()
    log(session, alliance, actor, "checkpoint.assessed",
        f"{partner.name} ({actor.name}) assessed \u201c{checkpoint.label}\u201d: satisfaction "
        f"{scores['satisfaction']}, fairness {scores['fairness']}, commitment {scores['commitment']}, "
        f"trust {scores['trust']}")
    append_link(session, alliance, "assessment", row.id)
    return row


def vote(session: Session, actor: User, membership: Membership, checkpoint: Checkpoint,
         raw: Mapping[str, object]) -> Vote:
    """A steering member's vote; a second vote by the same member replaces the first (one vote each)."""
    alliance = membership.alliance
    _same_alliance(membership, checkpoint)
    if membership.role is not MemberRole.STEERING_MEMBER:
        raise NotAllowed("Only steering members vote on a checkpoint.")
    lock_alliance(session, alliance)
    session.refresh(checkpoint)
    _require_open(checkpoint)
    errors = FieldErrors()
    choice = errors.check("choice", parse_choice, Decision, raw.get("choice"), "choice",
                          "choice (renew, renegotiate or terminate)")
    reason = errors.check("reason", clean_text, raw.get("reason"), "reason", max_len=TEXT_MAX)
    errors.raise_if_any()
    previous = session.scalar(select(Vote).where(Vote.checkpoint_id == checkpoint.id, Vote.user_id == actor.id)
                              .order_by(Vote.id.desc()).limit(1))
    row = Vote(checkpoint_id=checkpoint.id, user_id=actor.id, partner_id=membership.partner_id, choice=choice,
               reason=reason)
    session.add(row)
    session.flush()
    seat = f" for {membership.partner.name}" if membership.partner else ""
    change = f" (was {previous.choice.value})" if previous is not None else ""
    log(session, alliance, actor, "checkpoint.voted",
        f"{actor.name}{seat} voted {choice.value}{change} at \u201c{checkpoint.label}\u201d: {reason}")
    append_link(session, alliance, "vote", row.id)
    return row


# ---- the quorum and the decision ------------------------------------------------------------------------

def steering_voters(session: Session, alliance: Alliance) -> list[Voter]:
    rows = session.execute(select(Membership.user_id, Membership.partner_id).where(
        Membership.alliance_id == alliance.id, Membership.role == MemberRole.STEERING_MEMBER)
        .order_by(Membership.id))
    return [Voter(user_id, partner_id) for user_id, partner_id in rows]


def current_votes(session: Session, checkpoint: Checkpoint) -> list[Vote]:
    """Each voter's newest vote, oldest voter first."""
    newest = (select(func.max(Vote.id)).where(Vote.checkpoint_id == checkpoint.id).group_by(Vote.user_id))
    return list(session.scalars(select(Vote).where(Vote.id.in_(newest)).order_by(Vote.id)))


def quorum_state(session: Session, alliance: Alliance, checkpoint: Checkpoint) -> QuorumState:
    partners = list(session.execute(select(Partner.id, Partner.name, Partner.role)
                                    .where(Partner.alliance_id == alliance.id).order_by(Partner.name)))
    return quorum(alliance.quorum, steering_voters(session, alliance),
                  [v.user_id for v in current_votes(session, checkpoint)],
                  protagonists=[p.id for p in partners if p.role is PartnerRole.PROTAGONIST],
                  partners=[p.id for p in partners], names={p.id: p.name for p in partners})


def decide(session: Session, actor: User, membership: Membership, checkpoint: Checkpoint,
           raw: Mapping[str, object], today: date) -> Checkpoint:
    """Record the steering group's decision and apply it to the alliance, all in one transaction.

    renew: ``new_term_end`` extends the term. renegotiate: from ``effective_from`` a new charter version
    applies now and a new split agreement is awaited (the agreement page asks for it). terminate: the
    alliance ends on ``end_date`` (default today, within the term) and is read-only after it.
    """
    _require_coordinator(membership, "records the decision")
    alliance = membership.alliance
    _same_alliance(membership, checkpoint)
    lock_alliance(session, alliance)
    session.refresh(checkpoint)
    session.refresh(alliance)
    if checkpoint.decision is not None:
        raise Conflict(f"\u201c{checkpoint.label}\u201d was already decided: {checkpoint.decision.value}.")
    if checkpoint.opened_at is None:
        raise Conflict(f"\u201c{checkpoint.label}\u201d is not open yet; open it first.")
    ensure_not_ended(alliance, today, "decision")
    if alliance.ended_on is not None:
        # A renewal after a termination would extend the term but leave the end date standing (read-only anyway).
        raise Conflict(f"{alliance.name} was terminated at an earlier checkpoint: it ends on "
                       f"{alliance.ended_on.isoformat()}, so no further decision can be recorded.")
    state = quorum_state(session, alliance, checkpoint)
    if not state.met:
        raise Conflict("The quorum has not voted yet (" + alliance.quorum.label + "): still missing "
                       + ", ".join(state.missing) + ".")
    errors = FieldErrors()
    decision = errors.check("decision", parse_choice, Decision, raw.get("decision"), "decision",
                            "decision (renew, renegotiate or terminate)")
    rationale = errors.check("rationale", clean_text, raw.get("rationale"), "rationale", max_len=TEXT_MAX)
    day = None
    if decision is Decision.RENEW:
        day = errors.check("new_term_end", _renewal_end, session, alliance, raw.get("new_term_end"))
    elif decision is Decision.RENEGOTIATE:
        day = errors.check("effective_from", _renegotiation_start, session, alliance, raw.get("effective_from"))
    elif decision is Decision.TERMINATE:
        day = errors.check("end_date", _termination_end, session, alliance, raw.get("end_date"), today)
    errors.raise_if_any()
    checkpoint.decision, checkpoint.rationale, checkpoint.decision_date = decision, rationale, day
    checkpoint.decided_by_id, checkpoint.decided_at = actor.id, utcnow()
    session.flush()
    append_link(session, alliance, "checkpoint_decided", checkpoint.id)
    note = f"Decided at \u201c{checkpoint.label}\u201d ({decision.value}): {rationale}"
    in_term = max(alliance.start_date, min(today, alliance.term_end))
    if decision is Decision.RENEW:
        derive_version(session, actor, alliance, note=note, effective_from=in_term, term_end=day)
        outcome = f"the term now ends on {day.isoformat()}"
    elif decision is Decision.RENEGOTIATE:
        derive_version(session, actor, alliance, note=note, effective_from=day)
        alliance.renegotiate_from = day
        outcome = (f"a new charter version applies from {day.isoformat()}; the new split agreement from that "
                   "day is awaited")
    else:
        _drop_later_checkpoints(session, actor, alliance, day)
        alliance.renegotiate_from = None
        alliance.ended_on = day
        if day != alliance.term_end:
            derive_version(session, actor, alliance, note=note, effective_from=min(in_term, day),
                                      term_end=day)
        outcome = f"the alliance ends on {day.isoformat()} and is read-only after it"
    session.flush()
    log(session, alliance, actor, "checkpoint.decided",
        f"{actor.name} recorded the decision at \u201c{checkpoint.label}\u201d: {decision.value}; {outcome}. "
        f"Rationale: {rationale}")
    return checkpoint


def _renewal_end(session: Session, alliance: Alliance, value: object) -> date:
    end = parse_date(value, "new_term_end")
    if end <= alliance.term_end:
        raise InvalidInput.at("new_term_end", f"Renewing extends the term: choose a day after its current end, "
                                              f"{alliance.term_end.isoformat()}.")
    if (end - alliance.start_date).days > 366 * 50:
        raise InvalidInput.at("new_term_end", "A term can be at most 50 years.")
    return check_term_end(session, alliance, end, "new_term_end")


def _renegotiation_start(session: Session, alliance: Alliance, value: object) -> date:
    day = parse_date(value, "effective_from")
    if not alliance.start_date < day <= alliance.term_end:
        raise InvalidInput.at("effective_from", f"Choose a day after the term's start and up to its end "
                                                f"({alliance.term_end.isoformat()}).")
    return check_open(session, alliance, day, "effective_from")


def _termination_end(session: Session, alliance: Alliance, value: object, today: date) -> date:
    end = (parse_date(value, "end_date") if value not in (None, "")
           else max(alliance.start_date, min(today, alliance.term_end)))
    if not alliance.start_date <= end <= alliance.term_end:
        raise InvalidInput.at("end_date", f"The last day must be within the term "
                                          f"({alliance.start_date.isoformat()} to {alliance.term_end.isoformat()}).")
    closed = closed_through(session, alliance)
    if closed is not None and end < closed:
        raise InvalidInput.at("end_date", f"The books are closed through {closed.isoformat()}; the alliance cannot "
                                          f"end before that.")
    last = session.scalar(select(func.max(Entry.entry_date)).where(Entry.alliance_id == alliance.id))
    if last is not None and end < last:
        raise InvalidInput.at("end_date", f"Entries are recorded up to {last.isoformat()}; end the alliance on "
                                          f"that day or later, or reverse the later entries first.")
    measured = session.scalar(select(func.max(Measurement.period_start)).where(Measurement.alliance_id == alliance.id))
    if measured is not None and end < measured:  # the same rule as a charter's term end (check_term_end)
        raise InvalidInput.at("end_date", f"Measurements are recorded for a period starting {measured.isoformat()}; "
                                          "end the alliance on that day or later.")
    return end


def _drop_later_checkpoints(session: Session, actor: User, alliance: Alliance, end: date) -> None:
    """A terminated alliance holds no reviews after its end: unopened ones after it come off the schedule."""
    later = list(session.scalars(select(Checkpoint).where(
        Checkpoint.alliance_id == alliance.id, Checkpoint.opened_at.is_(None), Checkpoint.due_date > end)))
    for checkpoint in later:
        log(session, alliance, actor, "checkpoint.removed",
            f"The checkpoint \u201c{checkpoint.label}\u201d of {checkpoint.due_date.isoformat()} was taken off the "
            f"schedule: the alliance ends on {end.isoformat()}")
        append_link(session, alliance, "checkpoint_removed", checkpoint.id)
        session.delete(checkpoint)
    session.flush()


def _same_alliance(membership: Membership, checkpoint: Checkpoint) -> None:
    if checkpoint.alliance_id != membership.alliance_id:
        raise NotAllowed("That checkpoint belongs to another alliance.")

