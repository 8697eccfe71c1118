"""The case's alliance, built through the real services, for tests of every tier.

Alpha and Beta share costs and returns 50/50 (agreement version 1 from the
start of the term); Gamma and Omega are paid per service. One user per role,
plus an outsider who belongs to another alliance only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.clock import EXTENSION as CLOCK
from ledger.clock import FixedClock
from ledger.models import Alliance, Category, CharterVersion, Membership, Partner, Period, Target, User
from ledger.services import agreements, alliances, entries, measurements, periods, users
from ledger.services.charter import save_charter

PASSWORD = "correct horse battery"
TODAY = date(2020, 6, 30)


@dataclass
class Case:
    alliance: Alliance
    partners: dict[str, Partner]
    categories: dict[str, Category]
    users: dict[str, User]
    memberships: dict[str, Membership]
    other: Alliance
    extra: dict = field(default_factory=dict)

    def pid(self, name: str) -> int:
        return self.partners[name].id

    def cid(self, name: str) -> int:
        return self.categories[name].id


def make_user(session: Session, key: str, name: str | None = None) -> User:
    return users.create_user(session, f"{key}@example.org", name or key.title(), PASSWORD)


def fifty_fifty_pools(case_partners: dict[str, Partner]) -> list[dict]:
    shares = [{"partner_id": case_partners["Alpha"].id, "weight": "1"},
              {"partner_id": case_partners["Beta"].id, "weight": "1"}]
    return [
        {"name": "Shared costs", "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
         "categories": "all", "shares": shares},
        {"name": "Returns", "side": "returns", "kinds": ["revenue"], "categories": "all",
         "shares": shares},
    ]


def build_case(session: Session) -> Case:
    coordinator = make_user(session, "coordinator", "Carla Coordinator")
    alliance = alliances.create_alliance(session, coordinator, {
        "name": "PPE masks 2020", "cause": "Surgical masks for front-line health workers",
        "currency": "EUR", "start_date": "2020-04-01", "term_end": "2022-03-31"})
    coord_m = session.query(Membership).filter_by(alliance_id=alliance.id, user_id=coordinator.id).one()
    partners = {}
    for name, role, type_ in [("Alpha", "protagonist", "supplier"), ("Beta", "protagonist", "supplier"),
                              ("Gamma", "supplier", "supplier"), ("Omega", "secondary", "customer")]:
        partners[name] = alliances.add_partner(session, coordinator, coord_m,
                                               {"name": name, "role": role, "type": type_})
    memberships = {"coordinator": coord_m}
    people = {"coordinator": coordinator}
    for key, role, partner in [("alpha", "partner_member", "Alpha"), ("beta", "partner_member", "Beta"),
                               ("gamma", "partner_member", "Gamma"), ("omega", "partner_member", "Omega"),
                               ("accountant", "accountant", None), ("steering", "steering_member", None)]:
        people[key] = make_user(session, key, f"{key.title()} User")
        memberships[key] = alliances.add_member(session, coordinator, coord_m, {
            "email": people[key].email, "role": role,
            "partner_id": partners[partner].id if partner else None})
    agreements.create_version(session, coordinator, coord_m, {
        "effective_from": "2020-04-01", "note": "The founding 50/50 agreement",
        "pools": fifty_fifty_pools(partners)})
    outsider = make_user(session, "outsider", "Olga Outsider")
    other = alliances.create_alliance(session, outsider, {
        "name": "Other alliance", "cause": "", "currency": "USD",
        "start_date": "2021-01-01", "term_end": "2021-12-31"})
    people["outsider"] = outsider
    session.flush()
    categories = {c.name: c for c in alliance.categories}
    session.expire_all()
    return Case(alliance, partners, categories, people, memberships, other)


def record(session: Session, case: Case, who: str, **fields) -> object:
    """Record an entry as user ``who`` with sensible defaults for unnamed fields."""
    raw = {"date": "2020-05-01", "description": "test entry", **fields}
    for key in ("partner", "counterparty"):
        if key in raw:
            raw[f"{key}_id"] = case.pid(raw.pop(key))
    if "category" in raw:
        raw["category_id"] = case.cid(raw.pop("category"))
    membership = session.get(Membership, case.memberships[who].id)
    return entries.record_entry(session, session.get(User, case.users[who].id), membership, raw)


def acting(session: Session, case: Case, who: str) -> tuple[User, Membership]:
    """The user ``who`` and their membership, as a service call takes them."""
    return session.get(User, case.users[who].id), session.get(Membership, case.memberships[who].id)


def charter_with_a_measured_target(session: Session, case: Case) -> tuple[CharterVersion, Target, Period]:
    """A charter version with one target (masks produced a month), Alpha's May figure, and April closed."""
    user, membership = acting(session, case, "coordinator")
    charter = save_charter(session, user, membership, {
        "effective_from": "2020-04-01", "cause": "Masks for front-line workers", "objective": "2M masks a month",
        "term_end": "2022-03-31", "commitments": [],
        "targets": [{"name": "masks produced", "unit": "masks", "period": "month", "value": "2000000"}]}, TODAY)
    session.commit()
    target = session.scalar(select(Target).where(Target.alliance_id == case.alliance.id))
    user, membership = acting(session, case, "alpha")
    measurements.record_measurement(session, user, membership,
                                    {"target_id": target.id, "period": "2020-05", "value": "1000"}, TODAY)
    user, membership = acting(session, case, "accountant")
    period = periods.close_period(session, user, membership, {"end_date": "2020-04-30"}, today=TODAY)
    session.commit()
    return charter, target, period


def stop_clock(app, instant: datetime) -> FixedClock:
    """Stop the app's one clock (ledger.clock) at ``instant``: every page, API route and service sees it."""
    clock = FixedClock(instant)
    app.extensions[CLOCK] = clock
    return clock
