"""Creating an alliance and managing its partners, categories and members."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.domain.errors import Conflict, FieldErrors, InvalidInput, NotAllowed, NotFound
from ledger.domain.money import parse_currency
from ledger.domain.permissions import can_manage
from ledger.domain.renewal import is_read_only
from ledger.domain.text import clean_text, parse_date
from ledger.domain.vocabulary import DEFAULT_CATEGORIES, MemberRole, PartnerRole, PartnerType
from ledger.models import CAUSE_MAX, NAME_MAX, TEXT_MAX, Alliance, Category, CharterVersion, Membership, Partner, User
from ledger.services import users
from ledger.services.activity import log
from ledger.services.lookups import partner_of


def parse_choice(enum, value: object, field: str, label: str):
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidInput.at(field, f"Choose a {label}: one of {allowed}.") from None


def create_alliance(session: Session, actor: User, raw: dict) -> Alliance:
    """A new alliance with the case's categories; its creator is its first coordinator."""
    errors = FieldErrors()
    name = errors.check("name", clean_text, raw.get("name"), "name", max_len=NAME_MAX)
    cause = errors.check("cause", clean_text, raw.get("cause"), "cause", max_len=CAUSE_MAX,
                         required=False)
    objective = errors.check("objective", clean_text, raw.get("objective"), "objective", max_len=TEXT_MAX,
                             required=False)
    currency = errors.check("currency", parse_currency, raw.get("currency"))
    start = errors.check("start_date", parse_date, raw.get("start_date"), "start_date")
    end = errors.check("term_end", parse_date, raw.get("term_end"), "term_end")
    timezone = errors.check("timezone", clock.parse_timezone, raw.get("timezone"))
    if start and end and end < start:
        errors.add("term_end", "The term must end on or after its start date.")
    if start and end and (end - start).days > 366 * 50:
        errors.add("term_end", "A term can be at most 50 years.")
    errors.raise_if_any()
    alliance = Alliance(name=name, cause=cause or "", currency=currency, start_date=start,
                        term_end=end, timezone=timezone)
    session.add(alliance)
    session.flush()
    session.add_all(Category(alliance_id=alliance.id, name=c) for c in DEFAULT_CATEGORIES)
    session.add(Membership(alliance_id=alliance.id, user_id=actor.id, role=MemberRole.COORDINATOR))
    charter = CharterVersion(alliance_id=alliance.id, number=1, effective_from=start, cause=cause or "",
                             objective=objective or "", term_end=end, created_by_id=actor.id,
                             change_note="The charter as the alliance was created.")
    session.add(charter)
    log(session, alliance, actor, "alliance.created", f"{actor.name} created the alliance {name}")
    session.flush()
    from ledger.services.chain import append_link  # services.chain imports periods, which imports this module

    append_link(session, alliance, "charter_version", charter.id)
    return alliance


def update_alliance(session: Session, actor: User, membership: Membership, raw: dict) -> Alliance:
    """The coordinator changes the alliance's settings; a field left out keeps its value.

    The time zone decides the alliance's "today" everywhere (ledger.clock): from the next request on, the
    day that is inside the term or past the last day is the calendar day there.
    """
    _require_manager(membership)
    alliance = membership.alliance
    if is_read_only(clock.today(alliance), alliance.ended_on):  # a later zone must not reopen ended books
        raise InvalidInput.at("timezone", f"{alliance.name} ended on {alliance.ended_on.isoformat()}: its "
                                          f"settings, like its books, are read-only.")
    timezone = clock.parse_timezone(raw["timezone"]) if "timezone" in raw else alliance.timezone
    if timezone == alliance.timezone:
        raise InvalidInput.at("timezone", f"Nothing changed: the time zone is {alliance.timezone} already.")
    log(session, alliance, actor, "alliance.timezone",
        f"{actor.name} changed the time zone from {alliance.timezone} to {timezone}")
    alliance.timezone = timezone
    session.flush()
    return alliance


def _require_manager(membership: Membership) -> None:
    if not can_manage(membership.role):
        raise NotAllowed("Only the alliance's coordinator can do this.")


def add_partner(session: Session, actor: User, membership: Membership, raw: dict) -> Partner:
    _require_manager(membership)
    alliance = membership.alliance
    errors = FieldErrors()
    name = errors.check("name", clean_text, raw.get("name"), "name", max_len=NAME_MAX)
    role = errors.check("role", parse_choice, PartnerRole, raw.get("role"), "role", "role")
    type_ = errors.check("type", parse_choice, PartnerType, raw.get("type"), "type", "type")
    if name and session.scalar(select(Partner.id).where(
            Partner.alliance_id == alliance.id, func.lower(Partner.name) == name.lower())):
        errors.add("name", f"{alliance.name} already has a partner called {name}.")
    errors.raise_if_any()
    partner = Partner(alliance_id=alliance.id, name=name, role=role, type=type_)
    session.add(partner)
    session.flush()
    log(session, alliance, actor, "partner.added",
        f"{actor.name} added {name} as a {role.value} partner ({type_.label})")
    return partner


def add_category(session: Session, actor: User, membership: Membership, raw: dict) -> Category:
    _require_manager(membership)
    alliance = membership.alliance
    name = clean_text(raw.get("name"), "name", max_len=NAME_MAX, label="category name").lower()
    if session.scalar(select(Category.id).where(Category.alliance_id == alliance.id,
                                                func.lower(Category.name) == name)):
        raise InvalidInput.at("name", f"There is already a category called {name}.")
    category = Category(alliance_id=alliance.id, name=name)
    session.add(category)
    session.flush()
    log(session, alliance, actor, "category.added", f"{actor.name} added the category {name}")
    return category


def _role_and_partner(session: Session, alliance: Alliance, raw: dict, errors: FieldErrors):
    """A partner member always acts for a partner; a steering member may sit for one (quorum rules count them)."""
    role = errors.check("role", parse_choice, MemberRole, raw.get("role"), "role", "role")
    partner = None
    sits_for = role is MemberRole.STEERING_MEMBER and raw.get("partner_id") not in (None, "")
    if role is MemberRole.PARTNER_MEMBER or sits_for:
        partner = errors.check("partner_id", partner_of, session, alliance, raw.get("partner_id"))
    elif raw.get("partner_id") not in (None, ""):
        errors.add("partner_id", "Only partner members and steering members act for a partner; "
                                 "leave the partner empty.")
    return role, partner


def add_member(session: Session, actor: User, membership: Membership, raw: dict) -> Membership:
    """Add a user to the alliance; a new email creates the user with the given name and password."""
    _require_manager(membership)
    alliance = membership.alliance
    errors = FieldErrors()
    email = errors.check("email", users.parse_email, raw.get("email"))
    role, partner = _role_and_partner(session, alliance, raw, errors)
    user = users.user_by_email(session, email) if email else None
    if user is not None and session.scalar(select(Membership.id).where(
            Membership.alliance_id == alliance.id, Membership.user_id == user.id)):
        errors.add("email", f"{email} is already a member of {alliance.name}.")
    if user is None and email:
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():  # a JSON number here was an AttributeError (a 500)
            errors.add("name", "This person has no account yet: give their name and a first password.")
        else:
            errors.check("name", clean_text, name, "name", max_len=NAME_MAX)
        errors.check("password", users.parse_password, raw.get("password"), email=email)
    errors.raise_if_any()
    if user is None:
        user = users.create_user(session, email, raw.get("name"), raw.get("password"))
    member = Membership(alliance_id=alliance.id, user_id=user.id, role=role,
                        partner_id=partner.id if partner else None)
    session.add(member)
    session.flush()
    log(session, alliance, actor, "member.added",
        f"{actor.name} added {user.name} as {role_text(role, partner)}")
    return member


def change_member(session: Session, actor: User, membership: Membership, member: Membership,
                  raw: dict) -> Membership:
    _require_manager(membership)
    _same_alliance(membership, member)
    errors = FieldErrors()
    role, partner = _role_and_partner(session, membership.alliance, raw, errors)
    errors.raise_if_any()
    _keep_a_coordinator(session, membership, member, stays_coordinator=role is MemberRole.COORDINATOR)
    member.role, member.partner_id = role, partner.id if partner else None
    log(session, membership.alliance, actor, "member.changed",
        f"{actor.name} made {member.user.name} {role_text(role, partner)}")
    return member


def remove_member(session: Session, actor: User, membership: Membership, member: Membership) -> None:
    _require_manager(membership)
    _same_alliance(membership, member)
    _keep_a_coordinator(session, membership, member, stays_coordinator=False)
    log(session, membership.alliance, actor, "member.removed",
        f"{actor.name} removed {member.user.name} from the alliance")
    session.delete(member)
    session.flush()


def _same_alliance(membership: Membership, member: Membership) -> None:
    """Callers look members up within the alliance; this keeps a slip there from reaching another alliance."""
    if member.alliance_id != membership.alliance_id:
        raise NotFound("No such member in this alliance.")


def _keep_a_coordinator(session: Session, membership: Membership, member: Membership, *,
                        stays_coordinator: bool) -> None:
    """Refuse a change that would leave the alliance without a coordinator, deciding under the alliance lock.

    Read before the lock, two coordinators removing (or demoting) each other at the same moment would
    each see the other still there, and both succeed. Under the lock the second waits for the first to
    commit, then re-reads who is a coordinator now: the actor may no longer be one, or the member may
    be the last.
    """
    from ledger.services.periods import lock_alliance  # services.periods imports this module (parse_choice)

    lock_alliance(session, membership.alliance)
    roles = dict(session.execute(select(Membership.id, Membership.role).where(
        Membership.alliance_id == membership.alliance_id)).all())
    actor_role = roles.get(membership.id)
    if actor_role is None or not can_manage(actor_role):
        raise NotAllowed("You are no longer this alliance's coordinator: someone changed your role a moment ago.")
    if member.id not in roles:
        raise Conflict(f"{member.user.name} was removed from the alliance a moment ago.")
    if stays_coordinator or roles[member.id] is not MemberRole.COORDINATOR:
        return
    if not any(role is MemberRole.COORDINATOR for mid, role in roles.items() if mid != member.id):
        if member.id == membership.id:
            raise Conflict("You are the alliance's only coordinator, and it needs at least one coordinator: "
                           "make another member coordinator first, then you can step down or leave.")
        raise Conflict(f"{member.user.name} is the alliance's only coordinator now, and it needs at least one "
                       f"coordinator: make another member coordinator first.")


def role_text(role: MemberRole, partner: Partner | None) -> str:
    """"partner member for Alpha", "steering member for Alpha" (sits for it), "accountant"."""
    return f"{role.label} for {partner.name}" if partner else role.label


def term_contains(alliance: Alliance, day: date) -> bool:
    return alliance.start_date <= day <= alliance.term_end
