"""Members and partners through the services, on both engines: who may join as what, and the last coordinator."""

from __future__ import annotations

import contextlib
from functools import partial

import pytest
from sqlalchemy import func, select

from ledger import queries
from ledger.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from ledger.domain.vocabulary import MemberRole
from ledger.models import Membership, Partner, User
from ledger.services import alliances, users
from tests.builders import PASSWORD
from tests.races import race_for_the_lock


def who(session, case, key):
    return session.get(User, case.users[key].id), session.get(Membership, case.memberships[key].id)


def counts(session):
    return (session.scalar(select(func.count()).select_from(Membership)),
            session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(Partner)))


def add(session, case, raw, key="coordinator"):
    user, membership = who(session, case, key)
    return alliances.add_member(session, user, membership, raw)


def refused(session, case, raw, key="coordinator"):
    before = counts(session)
    with pytest.raises(InvalidInput) as exc:
        add(session, case, raw, key)
    assert counts(session) == before
    return exc.value.errors


def test_add_an_existing_user(session, case):
    member = add(session, case, {"email": " Outsider@Example.org ", "role": "steering_member"})
    session.commit()
    assert member.user_id == case.users["outsider"].id
    assert member.role is MemberRole.STEERING_MEMBER
    assert member.partner_id is None
    names = [m.alliance.name for m in queries.memberships_of(session, member.user)]
    assert names == ["Other alliance", "PPE masks 2020"]


def test_add_a_new_user_with_name_and_password(session, case):
    member = add(session, case, {"email": "new.alpha@example.org", "role": "partner_member",
                                 "partner_id": case.pid("Alpha"), "name": "Nina New", "password": PASSWORD})
    session.commit()
    assert member.user.name == "Nina New"
    assert member.partner.name == "Alpha"
    assert users.authenticate(session, "new.alpha@example.org", PASSWORD).id == member.user_id


REFUSED = [
    ({"email": "someone.new@example.org", "role": "accountant"}, {"name", "password"}),
    ({"email": "someone.new@example.org", "role": "accountant", "name": "S", "password": "short"}, {"password"}),
    ({"email": "someone.new@example.org", "role": "accountant", "name": 5, "password": PASSWORD}, {"name"}),
    ({"email": "someone.new@example.org", "role": "accountant", "name": "n" * 121, "password": PASSWORD}, {"name"}),
    ({"email": "not-an-email", "role": "accountant"}, {"email"}),
    ({"email": "", "role": "accountant"}, {"email"}),
    ({"email": "outsider@example.org", "role": "boss"}, {"role"}),
    ({"email": "outsider@example.org", "role": "partner_member"}, {"partner_id"}),
    ({"email": "outsider@example.org", "role": "partner_member", "partner_id": 999_999}, {"partner_id"}),
    ({"email": "outsider@example.org", "role": "accountant", "partner_id": "1"}, {"partner_id"}),
    ({"email": "alpha@example.org", "role": "accountant"}, {"email"}),  # already a member
]


def test_refused_members(session, case):
    for raw, fields in REFUSED:  # a loop, not parametrize: one case build for all
        assert set(refused(session, case, raw)) == fields, raw


def test_members_of_another_alliance_are_out_of_reach(session, case):
    user, membership = who(session, case, "coordinator")
    theirs = session.scalar(select(Membership).where(Membership.alliance_id == case.other.id))
    with pytest.raises(NotFound):
        alliances.change_member(session, user, membership, theirs, {"role": "accountant"})
    with pytest.raises(NotFound):
        alliances.remove_member(session, user, membership, theirs)
    session.expire_all()
    assert session.get(Membership, theirs.id).role is MemberRole.COORDINATOR


def test_partner_member_needs_a_partner_of_this_alliance(session, case):
    outsider = session.get(User, case.users["outsider"].id)
    membership = session.scalar(select(Membership).where(Membership.user_id == outsider.id))
    zeta = alliances.add_partner(session, outsider, membership, {"name": "Zeta", "role": "other", "type": "other"})
    errors = refused(session, case, {"email": "outsider@example.org", "role": "partner_member", "partner_id": zeta.id})
    assert "Unknown partner" in errors["partner_id"]
    errors = refused(session, case, {"email": "outsider@example.org", "role": "partner_member"})
    assert errors["partner_id"] == "Choose a partner."


def test_duplicate_membership_message(session, case):
    errors = refused(session, case, {"email": "BETA@example.org", "role": "coordinator"})
    assert errors == {"email": "beta@example.org is already a member of PPE masks 2020."}


def test_only_the_coordinator_manages_members(session, case):
    for key in ("alpha", "accountant", "steering"):
        user, membership = who(session, case, key)
        with pytest.raises(NotAllowed):
            alliances.add_member(session, user, membership, {"email": "outsider@example.org", "role": "accountant"})
        with pytest.raises(NotAllowed):
            alliances.change_member(session, user, membership, membership, {"role": "coordinator"})
        with pytest.raises(NotAllowed):
            alliances.remove_member(session, user, membership, membership)
        with pytest.raises(NotAllowed):
            alliances.add_partner(session, user, membership, {"name": "Delta", "role": "other", "type": "other"})


class TestLastCoordinator:
    def test_cannot_demote_or_remove_the_last_one(self, session, case):
        user, membership = who(session, case, "coordinator")
        with pytest.raises(Conflict, match="at least one coordinator"):
            alliances.change_member(session, user, membership, membership, {"role": "accountant"})
        with pytest.raises(Conflict, match="at least one coordinator"):
            alliances.remove_member(session, user, membership, membership)
        session.commit()
        session.expire_all()
        assert session.get(Membership, membership.id).role is MemberRole.COORDINATOR

    def test_with_a_second_coordinator_the_first_may_step_down(self, session, case):
        user, membership = who(session, case, "coordinator")
        steering = session.get(Membership, case.memberships["steering"].id)
        alliances.change_member(session, user, membership, steering, {"role": "coordinator"})
        alliances.change_member(session, user, membership, membership, {"role": "accountant"})
        session.commit()
        roles = {m.user.email: m.role for m in queries.members_of(session, case.alliance)}
        assert roles["coordinator@example.org"] is MemberRole.ACCOUNTANT
        assert roles["steering@example.org"] is MemberRole.COORDINATOR
        # The new coordinator removes the old one; the old membership is gone, the user stays.
        new_user, new_membership = who(session, case, "steering")
        alliances.remove_member(session, new_user, new_membership, session.get(Membership, membership.id))
        session.commit()
        assert queries.membership_in(session, user, case.alliance.id) is None
        assert session.get(User, user.id) is not None


@pytest.mark.parametrize("move", ["remove", "demote"])
def test_two_coordinators_removing_each_other_at_once_leave_one(app, session, case, move):
    """Each checked "is another coordinator left?" before the other committed, so both succeeded and the
    alliance had none. Under the alliance lock the second waits, sees the first's change, and is refused."""
    coordinator, coord_m = who(session, case, "coordinator")
    alliances.change_member(session, coordinator, coord_m, session.get(Membership, case.memberships["steering"].id),
                            {"role": "coordinator"})
    session.commit()
    sessions = app.extensions["ledger.sessions"]
    outcomes: dict[str, str] = {}

    def act(key: str, other: str) -> None:
        s = sessions()
        try:
            user, membership = who(s, case, key)
            member = s.get(Membership, case.memberships[other].id)
            try:
                if move == "remove":
                    alliances.remove_member(s, user, membership, member)
                else:
                    alliances.change_member(s, user, membership, member, {"role": "accountant"})
                s.commit()
                outcomes[key] = "done"
            except (Conflict, NotAllowed) as exc:
                s.rollback()
                outcomes[key] = type(exc).__name__
        finally:
            s.close()

    race_for_the_lock(sessions, case.alliance.id, [partial(act, *pair) for pair in (("coordinator", "steering"),
                                                                                 ("steering", "coordinator"))])
    assert sorted(outcomes.values()) == ["NotAllowed", "done"], outcomes  # the loser is no coordinator any more
    session.rollback()
    left = session.scalars(select(Membership.role).where(Membership.alliance_id == case.alliance.id)).all()
    assert left.count(MemberRole.COORDINATOR) == 1


def test_change_member_role_and_partner(session, case):
    user, membership = who(session, case, "coordinator")
    accountant = session.get(Membership, case.memberships["accountant"].id)
    with pytest.raises(InvalidInput) as exc:
        alliances.change_member(session, user, membership, accountant, {"role": "partner_member"})
    assert list(exc.value.errors) == ["partner_id"]
    changed = alliances.change_member(session, user, membership, accountant,
                                      {"role": "partner_member", "partner_id": str(case.pid("Gamma"))})
    assert (changed.role, changed.partner_id) == (MemberRole.PARTNER_MEMBER, case.pid("Gamma"))
    changed = alliances.change_member(session, user, membership, accountant, {"role": "accountant"})
    assert changed.partner_id is None


class TestPartners:
    def test_add_and_refuse(self, session, case):
        user, membership = who(session, case, "coordinator")
        delta = alliances.add_partner(session, user, membership,
                                      {"name": " Delta Lab ", "role": "other", "type": "commercial_laboratory"})
        assert delta.name == "Delta Lab"
        for raw, fields in [
            ({"name": "alpha", "role": "other", "type": "other"}, {"name"}),
            ({"name": "", "role": "x", "type": "y"}, {"name", "role", "type"}),
            ({"name": "n" * 121, "role": "other", "type": "other"}, {"name"}),
        ]:
            before = counts(session)
            with pytest.raises(InvalidInput) as exc:
                alliances.add_partner(session, user, membership, raw)
            assert set(exc.value.errors) == fields
            assert counts(session) == before

    def test_categories(self, session, case):
        user, membership = who(session, case, "coordinator")
        assert alliances.add_category(session, user, membership, {"name": "Logistics"}).name == "logistics"
        with pytest.raises(InvalidInput) as exc:
            alliances.add_category(session, user, membership, {"name": "PRODUCTION"})
        assert list(exc.value.errors) == ["name"]


JUNK = [None, True, 0, -1, 2**40, 10**30, 1.5, float("nan"), "", " ", "x" * 5000, [], [1], {}, {"a": 1}, "\x00"]


def test_any_json_value_in_any_field_is_a_message_not_a_crash(session, case):
    """A number as a currency or as a new member's name used to be an AttributeError (a 500)."""
    user, membership = who(session, case, "coordinator")
    for base, call in [
        ({"email": "n@example.org", "role": "partner_member", "partner_id": case.pid("Alpha"), "name": "N",
          "password": PASSWORD}, lambda raw: alliances.add_member(session, user, membership, raw)),
        ({"name": "P", "role": "other", "type": "other"},
         lambda raw: alliances.add_partner(session, user, membership, raw)),
        ({"name": "c"}, lambda raw: alliances.add_category(session, user, membership, raw)),
        ({"name": "A", "cause": "c", "currency": "EUR", "start_date": "2020-01-01", "term_end": "2020-12-31"},
         lambda raw: alliances.create_alliance(session, user, raw)),
    ]:
        for key in base:
            for junk in JUNK:
                with contextlib.suppress(InvalidInput):  # refused with a message is fine
                    call({**base, key: junk})
                session.rollback()
