"""Measurements against targets and targets_progress (the contract checkpoints freeze), on both engines."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import event, select

from ledger.domain.errors import InvalidInput, NotAllowed
from ledger.models import Activity, Alliance, Measurement, Membership, Target, User
from ledger.progress import targets_progress
from ledger.services.charter import save_charter
from ledger.services.measurements import record_measurement
from tests.builders import TODAY


def who(session, case, key: str) -> tuple[User, Membership]:
    return session.get(User, case.users[key].id), session.get(Membership, case.memberships[key].id)


def set_targets(session, case, effective: str, targets: list[dict], cause: str = "Masks") -> None:
    user, membership = who(session, case, "coordinator")
    save_charter(session, user, membership, {"effective_from": effective, "cause": cause, "term_end": "2022-03-31",
                                             "targets": targets}, TODAY)
    session.commit()


@pytest.fixture
def targets(session, case) -> dict[str, int]:
    set_targets(session, case, "2020-04-01", [
        {"name": "masks produced", "unit": "masks", "period": "month", "value": "2,000,000"},
        {"name": "cost per mask", "unit": "EUR", "period": "quarter", "direction": "at_most", "combine": "latest",
         "value": "0.30"},
        {"name": "hospitals reached", "unit": "hospitals", "period": "term", "value": "50"},
    ])
    return {t.name: t.id for t in session.scalars(select(Target))}


def measure(session, case, key: str, today: date = TODAY, **raw) -> Measurement:
    user, membership = who(session, case, key)
    row = record_measurement(session, user, membership, raw, today)
    session.commit()
    return row


def test_partners_record_and_the_newest_figure_of_each_partner_counts(session, case, targets):
    masks = targets["masks produced"]
    measure(session, case, "alpha", target_id=masks, period="2020-05", value="900,000")
    measure(session, case, "beta", target_id=masks, period="2020-05-20", value="1,000,000")
    replaced = measure(session, case, "beta", target_id=masks, period="2020-05-31", value="1200000", note="recount")
    assert replaced.period_start == date(2020, 5, 1)
    measure(session, case, "coordinator", target_id=masks, partner_id=case.pid("Gamma"), period="2020-06",
            value="2500000")
    progress = {p["name"]: p for p in targets_progress(session, case.alliance, date(2020, 6, 30))}
    p = progress["masks produced"]
    assert p == {
        "target_id": masks, "name": "masks produced", "unit": "masks", "period": "month",
        "period_label": "per month", "direction": "at_least", "combine": "sum", "target": "2000000",
        "periods": [
            {"start": "2020-04-01", "label": "April 2020", "target": "2000000", "actual": None, "met": None},
            {"start": "2020-05-01", "label": "May 2020", "target": "2000000", "actual": "2100000", "met": True},
            {"start": "2020-06-01", "label": "June 2020", "target": "2000000", "actual": "2500000", "met": True},
        ],
        "periods_measured": 2, "periods_met": 2,
    }
    json.dumps(progress)  # JSON-able as the snapshot stores it
    summaries = session.scalars(select(Activity.summary).where(Activity.action == "measurement.recorded")
                                .order_by(Activity.seq)).all()
    assert summaries[0] == "Alpha (Alpha User) recorded 900,000 masks for masks produced, May 2020"
    assert summaries[2] == ("Beta (Beta User) recorded 1,200,000 masks for masks produced, May 2020 "
                            "(replacing 1,000,000)")
    assert summaries[3].startswith("Carla Coordinator, for Gamma, recorded 2,500,000 masks")
    assert session.scalar(select(Measurement).where(Measurement.value == 1000000)) is not None  # history kept


def test_latest_and_at_most_and_the_whole_term(session, case, targets):
    cost, hospitals = targets["cost per mask"], targets["hospitals reached"]
    measure(session, case, "alpha", target_id=cost, period="2020-04-10", value="0.35")
    measure(session, case, "beta", target_id=cost, period="2020-06-01", value="0.28")
    measure(session, case, "alpha", target_id=hospitals, period="2020-06-01", value="12")
    measure(session, case, "beta", target_id=hospitals, period="2021-01-01", value="30", today=date(2021, 1, 2))
    progress = {p["name"]: p for p in targets_progress(session, case.alliance, date(2020, 6, 30))}
    assert progress["cost per mask"]["periods"] == [
        {"start": "2020-04-01", "label": "Q2 2020", "target": "0.3", "actual": "0.28", "met": True}]
    assert progress["hospitals reached"]["periods"] == [
        {"start": "2020-04-01", "label": "Whole term", "target": "50", "actual": "42", "met": False}]
    # A measurement of a period starting after as_of does not count yet... but a whole-term one does.
    later = {p["name"]: p for p in targets_progress(session, case.alliance, date(2020, 12, 31))}
    assert later["cost per mask"]["periods_measured"] == 1
    assert later["cost per mask"]["periods"][-1]["label"] == "Q4 2020"


def test_each_period_is_judged_by_the_charter_in_force_on_its_first_day(session, case, targets):
    masks = targets["masks produced"]
    set_targets(session, case, "2020-06-01", [{"target_id": masks, "value": "2500000"}])
    measure(session, case, "alpha", target_id=masks, period="2020-05", value="2200000")
    measure(session, case, "alpha", target_id=masks, period="2020-06", value="2200000")
    (progress,) = targets_progress(session, case.alliance, date(2020, 6, 15))
    assert [(p["target"], p["met"]) for p in progress["periods"][1:]] == [("2000000", True), ("2500000", False)]
    assert progress["target"] == "2500000"
    # As of May, the charter in force still has all three targets, with May's value.
    may = targets_progress(session, case.alliance, date(2020, 5, 31))
    assert len(may) == 3
    assert may[0]["target"] == "2000000"
    assert len(may[0]["periods"]) == 2


def test_progress_reads_measurements_in_one_query_however_many_periods(app, session, case, targets):
    masks = targets["masks produced"]
    for month in range(4, 13):
        measure(session, case, "alpha", target_id=masks, period=f"2020-{month:02d}", value="1", today=date(2021, 1, 1))
    statements: list[str] = []
    engine = app.extensions["ledger.engine"]

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        session.expire_all()
        progress = targets_progress(session, session.get(Alliance, case.alliance.id), date(2021, 3, 31))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(progress[0]["periods"]) == 12
    assert sum("measurements" in s.lower() for s in statements) == 1
    assert len(statements) <= 5  # the alliance, versions, their targets, the targets, the measurements


@pytest.mark.parametrize(("raw", "field", "message"), [
    ({"period": "2020-07"}, "period", "July 2020 has not started yet"),
    ({"period": "2019-12"}, "period", "outside the alliance's term"),
    ({"period": "2020-13"}, "period", "is not a period"),
    ({"period": ""}, "period", "Enter the period"),
    ({"value": "lots"}, "value", "must be a number"),
    ({"value": ""}, "value", "Enter the figure"),
    ({"value": "-1"}, "value", "cannot be negative"),
    ({"value": "1.23456"}, "value", "at most 4 decimals"),
    ({"target_id": 999999}, "target_id", "Unknown target"),
    ({"target_id": None}, "target_id", "Choose a target"),
    ({"partner_id": 999999}, "partner_id", "Unknown partner"),
    ({"note": "n" * 501}, "note", "at most 500"),
])
def test_bad_input_is_refused_at_its_field(session, case, targets, raw, field, message):
    full = {"target_id": targets["masks produced"], "period": "2020-05", "value": "10", **raw}
    with pytest.raises(InvalidInput) as refused:
        measure(session, case, "coordinator" if "partner_id" in raw else "alpha", **full)
    assert message in refused.value.errors[field], refused.value.errors


def test_a_target_not_in_the_charter_for_that_period_is_refused(session, case, targets):
    set_targets(session, case, "2020-06-01", [{"target_id": targets["masks produced"], "value": "1"}])
    cost = targets["cost per mask"]
    measure(session, case, "alpha", target_id=cost, period="2020-05", value="0.3")  # Q2 starts under version 2
    set_targets(session, case, "2020-07-01", [{"target_id": targets["masks produced"], "value": "2"}], cause="M")
    with pytest.raises(InvalidInput) as refused:
        measure(session, case, "alpha", target_id=cost, period="2020-07", value="0.3", today=date(2020, 7, 2))
    assert "not a target of the charter in force for Q3 2020" in refused.value.errors["target_id"]


def test_who_may_record_for_whom(session, case, targets):
    masks = targets["masks produced"]
    with pytest.raises(NotAllowed):
        measure(session, case, "alpha", target_id=masks, partner_id=case.pid("Beta"), period="2020-05", value="1")
    for key in ("accountant", "steering"):
        with pytest.raises(NotAllowed):
            measure(session, case, key, target_id=masks, period="2020-05", value="1")
    with pytest.raises(InvalidInput) as refused:
        measure(session, case, "coordinator", target_id=masks, period="2020-05", value="1")
    assert "Choose the partner" in refused.value.errors["partner_id"]


def test_a_terminated_alliance_takes_no_measurements(session, case, targets):
    alliance = session.get(Alliance, case.alliance.id)
    alliance.ended_on = date(2020, 6, 1)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        measure(session, case, "alpha", target_id=targets["masks produced"], period="2020-05", value="1")
    assert "read-only" in refused.value.errors["period"]


def test_no_targets_no_progress(session, case):
    assert targets_progress(session, case.alliance) == []
