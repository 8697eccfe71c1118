"""Renewal checkpoints on the web: the review schedule, one checkpoint's meeting page, and its review pack.

The schedule page is where the coordinator plans the reviews (the case's
3 months, 9 months and end of term) and sets the review rules; a checkpoint's
page is the steering meeting itself: the frozen figures, each partner's
assessment, the steering members' votes, the quorum and the decision. The
pages only render :func:`ledger.reviews.review_of`; every rule is in
:mod:`ledger.services.checkpoints`. A checkpoint whose date has come opens on
the first look at either page (:func:`open_due`).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.widgets import DateInput

from ledger.domain.errors import InvalidInput
from ledger.domain.permissions import can_manage
from ledger.domain.renewal import alliance_state
from ledger.domain.vocabulary import ASSESSMENT_SCORES, Challenge, Decision, MemberRole, QuorumRule
from ledger.export.review_pack import review_pack_file
from ledger.extensions import get_session
from ledger.models import Checkpoint, Membership
from ledger.queries import balance_sheet
from ledger.reviews import Review, challenges_of, checkpoint_in, review_of, schedule
from ledger.services import checkpoints as service
from ledger.services.audit import record_download
from ledger.services.lookups import default_day
from ledger.web.access import membership_or_404
from ledger.web.common import Choice, MultiCheckbox, Radio, me, put_errors, today

bp = Blueprint("checkpoints", __name__)

SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]
SCORE_LABELS = {"satisfaction": "Satisfaction", "fairness": "Fairness of the value split",
                "commitment": "Commitment", "trust": "Trust"}
DECISION_TEXT = {
    Decision.RENEW: "renew: extend the term",
    Decision.RENEGOTIATE: "renegotiate: a new charter and split agreement from a chosen date",
    Decision.TERMINATE: "terminate: the alliance ends and its books become read-only",
}
#: The field of the decision form that goes with each choice.
DECISION_DATE_FIELD = {Decision.RENEW: "new_term_end", Decision.RENEGOTIATE: "effective_from",
                       Decision.TERMINATE: "end_date"}


# ---- forms ----------------------------------------------------------------------------------------------

class ScheduleForm(FlaskForm):
    due_date = StringField("Date", widget=DateInput(), description="A day within the term; one checkpoint a day.")
    label = StringField("Label", description="Optional, e.g. \u201c3-month review\u201d (named after its date "
                                             "when left empty).")


class SettingsForm(FlaskForm):
    quorum = Choice("Quorum", choices=[(r.value, r.label) for r in QuorumRule],
                    description="Who must have voted before the coordinator may record a decision.")
    hhi_threshold = StringField("Dependency threshold", description="Concentration of the value put in "
                                "(Herfindahl index, 0 to 1) above which the indicators flag a dependency, "
                                "e.g. 0.5.")


class AssessmentForm(FlaskForm):
    partner_id = HiddenField()
    satisfaction = Radio(SCORE_LABELS["satisfaction"], choices=SCORE_CHOICES)
    fairness = Radio(SCORE_LABELS["fairness"], choices=SCORE_CHOICES)
    commitment = Radio(SCORE_LABELS["commitment"], choices=SCORE_CHOICES)
    trust = Radio(SCORE_LABELS["trust"], choices=SCORE_CHOICES)
    challenges = MultiCheckbox("Challenges met", choices=[(c.value, c.label) for c in Challenge])
    comments = TextAreaField("Comments", description="What worked, what did not; required if you tick "
                                                     "\u201cother\u201d.")


class VoteForm(FlaskForm):
    choice = Radio("Your vote", choices=[(d.value, DECISION_TEXT[d]) for d in Decision])
    reason = TextAreaField("Reason", description="Why; the steering group and the partners read it.")


class DecisionForm(FlaskForm):
    decision = Radio("Decision", choices=[(d.value, DECISION_TEXT[d]) for d in Decision])
    rationale = TextAreaField("Rationale", description="Why the steering group decided so; it stays on the "
                                                       "record and in the review pack.")
    new_term_end = StringField("New end of the term (renew)", widget=DateInput(),
                               description="After the current end of the term.")
    effective_from = StringField("New versions effective from (renegotiate)", widget=DateInput(),
                                 description="The day the new charter and split agreement apply; within the "
                                             "term and after the last closed period.")
    end_date = StringField("Last day of the alliance (terminate)", widget=DateInput(),
                           description="Within the term, not before the last entry; empty for today.")


# ---- helpers --------------------------------------------------------------------------------------------

def _open_due(membership: Membership) -> None:
    """A checkpoint whose date has come opens on the first look at a checkpoint page."""
    session = get_session()
    if service.open_due(session, membership.alliance, today(membership.alliance)):
        session.commit()


def _checkpoint_or_404(membership: Membership, checkpoint_id: int) -> Checkpoint:
    checkpoint = checkpoint_in(get_session(), membership.alliance, checkpoint_id)
    if checkpoint is None:
        abort(404)
    return checkpoint


def _months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def suggestions(membership: Membership) -> list[tuple[date, str]]:
    """The case's schedule: 3 months, 9 months and the end of the two-year term (those still in the term)."""
    alliance = membership.alliance
    days = [_months_later(alliance.start_date, 3), _months_later(alliance.start_date, 9), alliance.term_end]
    seen: list[date] = []
    for day in days:
        if alliance.start_date < day <= alliance.term_end and day not in seen:
            seen.append(day)
    return [(day, service.default_label(alliance, day)) for day in seen]


def _may_vote(membership: Membership) -> bool:
    return membership.role is MemberRole.STEERING_MEMBER


def _my_partner(membership: Membership):
    """The partner this member assesses for, if any."""
    partner = membership.partner
    return partner if partner is not None and service.may_assess(membership, partner) else None


# ---- the schedule ---------------------------------------------------------------------------------------

def _render_index(membership: Membership, schedule_form: ScheduleForm | None = None,
                  settings_form: SettingsForm | None = None, status: int = 200):
    session = get_session()
    alliance = membership.alliance
    rows = schedule(session, alliance, today(alliance))
    if settings_form is None:
        settings_form = SettingsForm(formdata=None, quorum=alliance.quorum.value,
                                     hhi_threshold=str(alliance.hhi_threshold.normalize()))
    return render_template(
        "alliance/checkpoints.html", membership=membership, alliance=alliance, section="checkpoints", rows=rows,
        schedule_form=schedule_form or ScheduleForm(formdata=None), settings_form=settings_form,
        suggestions=suggestions(membership) if not rows else [], can_manage=can_manage(membership.role),
        today=today(alliance), state=alliance_state(today(alliance), alliance.term_end, alliance.ended_on,
                                            alliance.renegotiate_from)), status


@bp.route("/a/<id:alliance_id>/checkpoints")
def index(alliance_id: int):
    membership = membership_or_404(alliance_id)
    _open_due(membership)
    return _render_index(membership)


@bp.route("/a/<id:alliance_id>/checkpoints", methods=["POST"])
def create(alliance_id: int):
    membership = membership_or_404(alliance_id)
    form = ScheduleForm()
    session = get_session()
    try:
        row = service.schedule_checkpoint(session, me(), membership,
                                          {"due_date": form.due_date.data, "label": form.label.data},
                                          today(membership.alliance))
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render_index(membership, schedule_form=form, status=422)
    session.commit()
    flash(f"\u201c{row.label}\u201d is scheduled on {row.due_date.isoformat()}.", "success")
    return redirect(url_for("checkpoints.index", alliance_id=alliance_id))


@bp.route("/a/<id:alliance_id>/checkpoints/suggested", methods=["POST"])
def create_suggested(alliance_id: int):
    """Schedule the case's three reviews at once (offered while the schedule is empty)."""
    membership = membership_or_404(alliance_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    session = get_session()
    try:
        for day, label in suggestions(membership):
            service.schedule_checkpoint(session, me(), membership, {"due_date": day.isoformat(), "label": label},
                                        today(membership.alliance))
    except InvalidInput as exc:
        session.rollback()
        flash("Could not schedule the suggested reviews: " + "; ".join(exc.errors.values()), "error")
        return redirect(url_for("checkpoints.index", alliance_id=alliance_id))
    session.commit()
    flash("The suggested reviews are scheduled.", "success")
    return redirect(url_for("checkpoints.index", alliance_id=alliance_id))


@bp.route("/a/<id:alliance_id>/checkpoints/settings", methods=["POST"])
def settings(alliance_id: int):
    membership = membership_or_404(alliance_id)
    form = SettingsForm()
    session = get_session()
    try:
        service.update_settings(session, me(), membership,
                                {"quorum": form.quorum.data, "hhi_threshold": form.hhi_threshold.data})
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render_index(membership, settings_form=form, status=422)
    session.commit()
    flash("The review settings are saved.", "success")
    return redirect(url_for("checkpoints.index", alliance_id=alliance_id))


@bp.route("/a/<id:alliance_id>/checkpoints/<id:checkpoint_id>/remove", methods=["POST"])
def remove(alliance_id: int, checkpoint_id: int):
    membership = membership_or_404(alliance_id)
    checkpoint = _checkpoint_or_404(membership, checkpoint_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    label = checkpoint.label
    service.remove_checkpoint(get_session(), me(), membership, checkpoint)
    get_session().commit()
    flash(f"\u201c{label}\u201d is off the schedule.", "success")
    return redirect(url_for("checkpoints.index", alliance_id=alliance_id))


@bp.route("/a/<id:alliance_id>/checkpoints/<id:checkpoint_id>/open", methods=["POST"])
def open_now(alliance_id: int, checkpoint_id: int):
    membership = membership_or_404(alliance_id)
    checkpoint = _checkpoint_or_404(membership, checkpoint_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    service.open_checkpoint(get_session(), me(), membership, checkpoint, today(membership.alliance))
    get_session().commit()
    flash(f"\u201c{checkpoint.label}\u201d is open; its figures are frozen as of {checkpoint.as_of.isoformat()}.",
          "success")
    return redirect(url_for("checkpoints.show", alliance_id=alliance_id, checkpoint_id=checkpoint_id))


# ---- one checkpoint -------------------------------------------------------------------------------------

def _assessment_form(review: Review, membership: Membership) -> AssessmentForm | None:
    partner = _my_partner(membership)
    if partner is None:
        return None
    current = review.assessments.get(partner.id)
    if current is None:
        return AssessmentForm(formdata=None, partner_id=str(partner.id))
    return AssessmentForm(formdata=None, partner_id=str(partner.id), comments=current.comments,
                          challenges=[c.value for c in challenges_of(current)],
                          **{name: str(getattr(current, name)) for name in ASSESSMENT_SCORES})


def _vote_form(review: Review, membership: Membership) -> VoteForm | None:
    if not _may_vote(membership):
        return None
    mine = review.vote_of(membership.user_id)
    if mine is None:
        return VoteForm(formdata=None)
    return VoteForm(formdata=None, choice=mine.choice.value, reason=mine.reason)


def _decision_form(review: Review, membership: Membership) -> DecisionForm | None:
    if not can_manage(membership.role):
        return None
    alliance = membership.alliance
    return DecisionForm(formdata=None, decision=review.leading.value if review.leading else None,
                        end_date=default_day(alliance, today(alliance)).isoformat())


def _outcome(membership: Membership, checkpoint: Checkpoint):
    """What a terminate decision leaves to settle: the settle-up of everything up to the alliance's last day."""
    alliance = membership.alliance
    if checkpoint.decision is not Decision.TERMINATE or checkpoint.decision_date is None:
        return None
    return balance_sheet(get_session(), alliance, date_to=checkpoint.decision_date)


def _render_show(membership: Membership, checkpoint: Checkpoint, *, assessment_form: AssessmentForm | None = None,
                 vote_form: VoteForm | None = None, decision_form: DecisionForm | None = None, status: int = 200):
    session = get_session()
    alliance = membership.alliance
    review = review_of(session, alliance, checkpoint)
    forms = {
        "assessment_form": assessment_form or _assessment_form(review, membership),
        "vote_form": vote_form or _vote_form(review, membership),
        "decision_form": decision_form or _decision_form(review, membership),
    }
    return render_template(
        "alliance/checkpoint.html", membership=membership, alliance=alliance, section="checkpoints",
        review=review, checkpoint=checkpoint, my_partner=_my_partner(membership), **forms,
        final=_outcome(membership, checkpoint), score_labels=SCORE_LABELS, scores=ASSESSMENT_SCORES,
        challenges_of=challenges_of, date_fields=DECISION_DATE_FIELD, today=today(alliance),
        state=alliance_state(today(alliance), alliance.term_end, alliance.ended_on, alliance.renegotiate_from)), status


@bp.route("/a/<id:alliance_id>/checkpoints/<id:checkpoint_id>")
def show(alliance_id: int, checkpoint_id: int):
    membership = membership_or_404(alliance_id)
    _open_due(membership)
    return _render_show(membership, _checkpoint_or_404(membership, checkpoint_id))


@bp.route("/a/<id:alliance_id>/checkpoints/<id:checkpoint_id>/assessments", methods=["POST"])
def assess(alliance_id: int, checkpoint_id: int):
    membership = membership_or_404(alliance_id)
    checkpoint = _checkpoint_or_404(membership, checkpoint_id)
    form = AssessmentForm()
    raw = {name: getattr(form, name).data for name in ASSESSMENT_SCORES}
    raw.update(partner_id=form.partner_id.data, challenges=form.challenges.data or [], comments=form.comments.data)
    session = get_session()
    try:
        row = service.assess(session, me(), membership, checkpoint, raw)
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render_show(membership, checkpoint, assessment_form=form, status=422)
    partner_name = row.partner.name
    session.commit()
    flash(f"{partner_name}'s assessment is recorded.", "success")
    return redirect(url_for("checkpoints.show", alliance_id=alliance_id, checkpoint_id=checkpoint_id)
                    + "#assessments-h")


@bp.route("/a/<id:alliance_id>/checkpoints/<id:checkpoint_id>/votes", methods=["POST"])
def vote(alliance_id: int, checkpoint_id: int):
    membership = membership_or_404(alliance_id)
    checkpoint = _checkpoint_or_404(membership, checkpoint_id)
    form = VoteForm()
    session = get_session()
    try:
        row = service.vote(session, me(), membership, checkpoint,
                           {"choice": form.choice.data, "reason": form.reason.data})
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render_show(membership, checkpoint, vote_form=form, status=422)
    choice = row.choice.value
    session.commit()
    flash(f"Your vote ({choice}) is recorded.", "success")
    return redirect(url_for("checkpoints.show", alliance_id=alliance_id, checkpoint_id=checkpoint_id)
                    + "#votes-h")


@bp.route("/a/<id:alliance_id>/checkpoints/<id:checkpoint_id>/decision", methods=["POST"])
def decide(alliance_id: int, checkpoint_id: int):
    membership = membership_or_404(alliance_id)
    checkpoint = _checkpoint_or_404(membership, checkpoint_id)
    form = DecisionForm()
    raw = {"decision": form.decision.data, "rationale": form.rationale.data}
    # Only the date that goes with the choice is passed on: the others may still hold what the form
    # showed (all three are visible without JavaScript).
    field = DECISION_DATE_FIELD.get(Decision(form.decision.data)) if form.decision.data in set(Decision) else None
    if field:
        raw[field] = getattr(form, field).data
    session = get_session()
    try:
        row = service.decide(session, me(), membership, checkpoint, raw, today(membership.alliance))
    except InvalidInput as exc:
        session.rollback()
        put_errors(form, exc.errors)
        return _render_show(membership, checkpoint, decision_form=form, status=422)
    decision = row.decision.value
    session.commit()
    flash(f"The decision is recorded: {decision}.", "success")
    return redirect(url_for("checkpoints.show", alliance_id=alliance_id, checkpoint_id=checkpoint_id)
                    + "#decision-h")


# ---- the review pack ------------------------------------------------------------------------------------

@bp.route("/a/<id:alliance_id>/checkpoints/<id:checkpoint_id>/pack")
def pack(alliance_id: int, checkpoint_id: int):
    membership = membership_or_404(alliance_id)
    _open_due(membership)
    checkpoint = _checkpoint_or_404(membership, checkpoint_id)
    alliance = membership.alliance
    review = review_of(get_session(), alliance, checkpoint)
    return render_template(
        "alliance/review_pack.html", membership=membership, alliance=alliance, section="checkpoints",
        review=review, checkpoint=checkpoint, final=_outcome(membership, checkpoint), score_labels=SCORE_LABELS,
        scores=ASSESSMENT_SCORES, challenges_of=challenges_of, today=today(alliance))


@bp.route("/a/<id:alliance_id>/checkpoints/<id:checkpoint_id>/pack.xlsx")
def pack_xlsx(alliance_id: int, checkpoint_id: int):
    membership = membership_or_404(alliance_id)
    _open_due(membership)
    checkpoint = _checkpoint_or_404(membership, checkpoint_id)
    session = get_session()
    export = review_pack_file(session, membership.alliance, checkpoint)
    response = send_file(export.content, mimetype=export.mimetype, as_attachment=True,
                         download_name=export.name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    record_download(session, membership.alliance, me(), f"the review pack of \u201c{checkpoint.label}\u201d", "web")
    session.commit()
    return response
