"""Charter versions through the service, on both engines: validation, history, term rules and mirroring."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ledger.charters import changes_by_number, diff, newest_version, version_number, version_on, versions_of
from ledger.domain.errors import InvalidInput, NotAllowed
from ledger.models import Activity, Alliance, CharterVersion, Checkpoint, Membership, Period, Target, User
from ledger.services.charter import check_term_end, derive_version, save_charter
from tests.builders import TODAY, record


def who(session, case, key: str) -> tuple[User, Membership]:
    return session.get(User, case.users[key].id), session.get(Membership, case.memberships[key].id)


def charter(case, **overrides) -> dict:
    raw = {
        "effective_from": "2020-05-01", "cause": "Surgical masks for front-line health workers",
        "objective": "Two million masks a month for hospitals", "term_end": "2022-03-31",
        "commitments": [{"partner_id": case.pid("Alpha"), "expects": "Half the returns", "brings": "A mask line"},
                        {"partner_id": case.pid("Beta"), "expects": "Half the returns", "brings": "Raw material"}],
        "targets": [{"name": "masks produced", "unit": "masks", "period": "month", "value": "2,000,000"},
                    {"name": "cost per mask", "unit": "EUR", "period": "quarter", "direction": "at_most",
                     "combine": "latest", "value": "0.25"}],
        "change_note": "Targets agreed at the kick-off",
    }
    raw.update(overrides)
    return raw


def save(session, case, raw: dict, key: str = "coordinator", today: date = TODAY) -> CharterVersion:
    user, membership = who(session, case, key)
    return save_charter(session, user, membership, raw, today)


def test_the_alliance_starts_with_version_1_and_a_save_makes_version_2(session, case):
    first = newest_version(session, case.alliance)
    assert (first.number, first.effective_from, first.term_end) == (1, date(2020, 4, 1), date(2022, 3, 31))
    version = save(session, case, charter(case))
    session.commit()
    assert version.number == 2
    v2 = version_number(session, case.alliance, 2)
    assert [ct.target.name for ct in v2.targets] == ["masks produced", "cost per mask"]
    assert {c.partner.name: c.brings for c in v2.commitments} == {"Alpha": "A mask line", "Beta": "Raw material"}
    assert v2.targets[0].value == Decimal(2000000)
    assert v2.created_by.name == "Carla Coordinator"
    assert diff(session, case.alliance, 2) == [
        "objective changed", "Alpha's commitment added", "Beta's commitment added",
        "target 'masks produced' added (2,000,000 masks per month)",
        "target 'cost per mask' added (0.25 EUR per quarter)"]
    assert version_on(session, case.alliance, date(2020, 4, 30)).number == 1
    assert version_on(session, case.alliance, date(2020, 5, 1)).number == 2
    summary = session.scalar(select(Activity.summary).where(Activity.action == "charter.version"))
    assert summary.startswith("Carla Coordinator saved charter version 2, effective from 2020-05-01: objective")


def test_changing_a_target_keeps_its_identity_and_the_history_reads_each_change(session, case):
    save(session, case, charter(case))
    session.commit()
    v2 = newest_version(session, case.alliance)
    masks = next(ct.target_id for ct in v2.targets if ct.target.name == "masks produced")
    save(session, case, charter(case, effective_from="2020-07-01", term_end="2022-09-30",
                                targets=[{"target_id": masks, "value": "2500000"}],
                                commitments=[{"partner_id": case.pid("Alpha"), "expects": "Half the returns",
                                              "brings": "A mask line"},
                                             {"partner_id": case.pid("Beta"), "expects": "Half the returns",
                                              "brings": "Raw material and a second line"}]))
    session.commit()
    assert diff(session, case.alliance, 3) == [
        "term end 2022-03-31 -> 2022-09-30", "Beta's commitment changed (what it brings)",
        "target 'masks produced' 2,000,000 -> 2,500,000", "target 'cost per mask' removed"]
    assert session.scalar(select(func.count()).select_from(Target)) == 2  # the removed one still exists
    versions = versions_of(session, case.alliance)
    assert [v.number for v in versions] == [3, 2, 1]
    assert changes_by_number(versions)[1] == ["first version"]
    session.expire_all()
    alliance = session.get(Alliance, case.alliance.id)
    assert alliance.term_end == date(2022, 9, 30)  # mirrored for every dated write
    # The earlier version is still readable exactly as it was.
    assert version_number(session, case.alliance, 2).targets[0].value == Decimal(2000000)


def test_a_save_that_changes_nothing_is_refused(session, case):
    save(session, case, charter(case))
    session.commit()
    v2 = newest_version(session, case.alliance)
    same = charter(case, effective_from="2020-06-01", change_note="again",
                   targets=[{"target_id": ct.target_id, "value": str(ct.value)} for ct in v2.targets])
    with pytest.raises(InvalidInput) as refused:
        save(session, case, same)
    assert "Nothing changed" in refused.value.errors["charter"]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"term_end": "2020-03-01"}, "term_end", "cannot end before it starts"),
    ({"term_end": "31/03/2022"}, "term_end", "YYYY-MM-DD"),
    ({"term_end": "2090-01-01"}, "term_end", "at most 50 years"),
    ({"effective_from": "2019-01-01"}, "effective_from", "within the term"),
    ({"effective_from": "2022-06-01"}, "effective_from", "within the term"),
    ({"cause": "x" * 501}, "cause", "at most 500"),
    ({"targets": [{"name": "", "unit": "masks", "period": "month", "value": "1"}]}, "targets-0-name", "Enter"),
    ({"targets": [{"name": "m", "unit": "", "period": "month", "value": "1"}]}, "targets-0-unit", "Enter"),
    ({"targets": [{"name": "m", "unit": "u", "period": "weekly", "value": "1"}]}, "targets-0-period", "month"),
    ({"targets": [{"name": "m", "unit": "u", "period": "month", "direction": "up", "value": "1"}]},
     "targets-0-direction", "at_least"),
    ({"targets": [{"name": "m", "unit": "u", "period": "month", "value": "1e6"}]}, "targets-0-value", "number"),
    ({"targets": [{"name": "m", "unit": "u", "period": "month", "value": "-3"}]}, "targets-0-value", "negative"),
    ({"targets": [{"name": "m", "unit": "u", "period": "month", "value": "1"},
                  {"name": "M", "unit": "u", "period": "month", "value": "2"}]}, "targets-1-name", "listed twice"),
    ({"targets": [{"target_id": 999999, "value": "1"}]}, "targets-0-target_id", "Unknown target"),
    ({"targets": "all"}, "targets", "list"),
    ({"commitments": [{"partner_id": 999999, "expects": "", "brings": ""}]}, "commitments-0-partner_id",
     "Unknown partner"),
    ({"commitments": [{"partner_id": 1, "expects": "a\x00", "brings": ""}]}, "commitments-0-expects", "control"),
])
def test_each_field_is_checked_with_a_message_at_it(session, case, overrides, field, message):
    with pytest.raises(InvalidInput) as refused:
        save(session, case, charter(case, **overrides))
    assert message in refused.value.errors[field], refused.value.errors


def test_every_bad_field_is_reported_at_once(session, case):
    with pytest.raises(InvalidInput) as refused:
        save(session, case, charter(case, term_end="", cause="x" * 600,
                                    targets=[{"name": "m", "unit": "u", "period": "month", "value": "abc"}]))
    assert {"term_end", "cause", "targets-0-value"} <= set(refused.value.errors)


def test_a_target_of_another_alliance_is_unknown(session, case):
    other_target = Target(alliance_id=case.other.id, name="x", unit="u", period="month", direction="at_least",
                          combine="sum")
    session.add(other_target)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        save(session, case, charter(case, targets=[{"target_id": other_target.id, "value": "1"}]))
    assert "Unknown target" in refused.value.errors["targets-0-target_id"]


def test_a_removed_target_comes_back_by_name_with_the_same_identity(session, case):
    save(session, case, charter(case))
    session.commit()
    masks_id = session.scalar(select(Target.id).where(Target.name == "masks produced"))
    save(session, case, charter(case, effective_from="2020-06-01", targets=[]))
    save(session, case, charter(case, effective_from="2020-07-01"))
    session.commit()
    assert masks_id in [ct.target_id for ct in newest_version(session, case.alliance).targets]
    with pytest.raises(InvalidInput) as refused:
        save(session, case, charter(case, targets=[{"name": "Masks produced", "unit": "boxes", "period": "month",
                                                    "value": "1"}]))
    assert "already exists" in refused.value.errors["targets-0-name"]


def test_only_the_coordinator_edits(session, case):
    for key in ("alpha", "accountant", "steering"):
        with pytest.raises(NotAllowed):
            save(session, case, charter(case), key=key)


def test_a_new_version_cannot_take_effect_before_the_newest(session, case):
    save(session, case, charter(case, effective_from="2020-06-01"))
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        save(session, case, charter(case, effective_from="2020-05-01", cause="Other"))
    assert "on or after" in refused.value.errors["effective_from"]
    # The same day is allowed: the higher number is in force.
    save(session, case, charter(case, effective_from="2020-06-01", cause="Other"))
    session.commit()
    assert version_on(session, case.alliance, date(2020, 6, 1)).number == 3


def test_effective_from_defaults_to_today_pulled_into_the_term(session, case):
    version = save(session, case, charter(case, effective_from=""))
    assert version.effective_from == TODAY


def test_the_term_end_respects_entries_closed_periods_and_pending_checkpoints(session, case):
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="10",
           date="2020-06-15")
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        save(session, case, charter(case, term_end="2020-06-14"))
    assert "Entries are recorded up to 2020-06-15" in refused.value.errors["term_end"]

    session.add(Period(alliance_id=case.alliance.id, start_date=date(2020, 4, 1), end_date=date(2020, 6, 20),
                       closed_by_id=case.users["accountant"].id))
    session.add(Checkpoint(alliance_id=case.alliance.id, due_date=date(2020, 12, 31), label="9 months"))
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        check_term_end(session, session.get(Alliance, case.alliance.id), date(2020, 6, 18), "new_end")
    assert "closed through 2020-06-20" in refused.value.errors["new_end"]
    with pytest.raises(InvalidInput) as refused:
        save(session, case, charter(case, term_end="2020-09-30"))
    assert "9 months" in refused.value.errors["term_end"]
    assert "move or remove it" in refused.value.errors["term_end"]
    session.rollback()
    # An opened checkpoint no longer stands in the way.
    checkpoint = session.scalar(select(Checkpoint))
    checkpoint.opened_at = datetime(2020, 6, 30, tzinfo=UTC)
    checkpoint.as_of = date(2020, 6, 30)
    checkpoint.snapshot, checkpoint.snapshot_sha256 = "{}", "0" * 64
    session.commit()
    assert check_term_end(session, session.get(Alliance, case.alliance.id), date(2020, 9, 30)) == date(2020, 9, 30)


def test_a_terminated_alliance_is_read_only(session, case):
    alliance = session.get(Alliance, case.alliance.id)
    alliance.ended_on = date(2020, 6, 1)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        save(session, case, charter(case))
    assert "read-only" in refused.value.errors["effective_from"]


def test_derive_version_copies_the_newest_with_a_new_end(session, case):
    save(session, case, charter(case))
    session.commit()
    alliance = session.get(Alliance, case.alliance.id)
    user = session.get(User, case.users["coordinator"].id)
    version = derive_version(session, user, alliance, note="Renewed at the 9-month checkpoint",
                             effective_from=date(2020, 4, 1), term_end=date(2023, 3, 31))
    session.commit()
    assert version.number == 3
    assert version.effective_from == date(2020, 5, 1)  # never before the newest version
    assert version.change_note == "Renewed at the 9-month checkpoint"
    assert diff(session, case.alliance, 3) == ["term end 2022-03-31 -> 2023-03-31"]
    assert len(version_number(session, case.alliance, 3).targets) == 2
    assert session.get(Alliance, case.alliance.id).term_end == date(2023, 3, 31)
    summaries = session.scalars(select(Activity.summary).where(Activity.action == "charter.version")
                                .order_by(Activity.seq)).all()
    assert "term end 2022-03-31 -> 2023-03-31" in summaries[-1]
    without_actor = derive_version(session, None, session.get(Alliance, case.alliance.id), note="Renegotiate",
                                   effective_from=date(2020, 8, 1))
    session.commit()
    assert without_actor.created_by_id is None
    assert without_actor.effective_from == date(2020, 8, 1)
