"""The charter and targets pages: reading, the coordinator's edit form, recording figures, roles, 422s."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.models import CharterVersion, Measurement, Membership, Target, User
from ledger.services.charter import save_charter
from ledger.services.measurements import record_measurement
from tests.builders import TODAY
from tests.e2e.test_web_entries import error_at


@pytest.fixture(autouse=True)
def fixed_today(case_day):
    """Today is the builders' TODAY (2020-06-30), inside the case's term: case_day stops the app's clock."""


def who(session, case, key: str) -> tuple[User, Membership]:
    return session.get(User, case.users[key].id), session.get(Membership, case.memberships[key].id)


@pytest.fixture
def with_targets(session, case) -> dict[str, int]:
    user, membership = who(session, case, "coordinator")
    save_charter(session, user, membership, {
        "effective_from": "2020-04-01", "cause": "Masks for front-line workers", "objective": "2M masks a month",
        "term_end": "2022-03-31",
        "commitments": [{"partner_id": case.pid("Alpha"), "expects": "Half the returns", "brings": "A mask line"}],
        "targets": [{"name": "masks produced", "unit": "masks", "period": "month", "value": "2000000"},
                    {"name": "cost per mask", "unit": "EUR", "period": "quarter", "direction": "at_most",
                     "combine": "latest", "value": "0.3"}]}, TODAY)
    session.commit()
    return {t.name: t.id for t in session.scalars(select(Target))}


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def edit_form(case, session, **overrides) -> dict:
    """What the edit page posts when its prefilled fields are left as they are."""
    newest = session.scalar(select(CharterVersion).order_by(CharterVersion.number.desc()).limit(1))
    data = {"effective_from": "2020-06-30", "cause": newest.cause, "objective": newest.objective,
            "term_end": newest.term_end.isoformat(), "change_note": ""}
    partners = sorted(case.partners.values(), key=lambda p: p.name)
    by_partner = {c.partner_id: c for c in newest.commitments}
    for i, p in enumerate(partners):
        c = by_partner.get(p.id)
        data[f"commitments-{i}-expects"] = c.expects if c else ""
        data[f"commitments-{i}-brings"] = c.brings if c else ""
    for i, ct in enumerate(newest.targets):
        data[f"targets-{i}-target_id"] = str(ct.target_id)
        data[f"targets-{i}-value"] = str(ct.value)
    data.update(overrides)
    return data


def test_every_member_reads_the_charter_in_force_and_its_history(client, auth, case, with_targets):
    auth.login("steering")
    page = text(client.get(f"/a/{case.alliance.id}/charter"))
    assert "Version 2 is in force" in page
    assert "A mask line" in page
    assert "masks produced" in page
    assert "2,000,000" in page
    assert "first version" in page
    assert "target 'cost per mask' added (0.3 EUR per quarter)" in page
    assert "Edit the charter" not in page
    assert f'href="/a/{case.alliance.id}/checkpoints"' in page
    version = text(client.get(f"/a/{case.alliance.id}/charter/versions/1"))
    assert "Charter version 1" in version
    assert "No targets are set in this version" in version
    assert client.get(f"/a/{case.alliance.id}/charter/versions/3").status_code == 404
    auth.logout()
    auth.login("outsider")
    assert client.get(f"/a/{case.alliance.id}/charter").status_code == 404


def test_only_the_coordinator_edits(client, auth, case, session, with_targets):
    for key in ("alpha", "steering", "accountant"):
        auth.login(key)
        assert client.get(f"/a/{case.alliance.id}/charter/edit").status_code == 403
        assert client.post(f"/a/{case.alliance.id}/charter/edit", data=edit_form(case, session)).status_code == 403
        auth.logout()
    assert session.scalar(select(func.count()).select_from(CharterVersion)) == 3  # 2 + the other alliance's


def test_the_coordinator_changes_a_target_and_a_commitment_and_adds_a_target(client, auth, case, session, with_targets):
    auth.login("coordinator")
    form = client.get(f"/a/{case.alliance.id}/charter/edit").get_data(as_text=True)
    assert 'value="2000000"' in form
    assert 'name="targets-2-name"' in form  # an empty row for a new target
    assert "A mask line" in form
    data = edit_form(case, session, **{
        "targets-0-value": "2,500,000", "targets-1-remove": "y", "commitments-1-brings": "Raw material",
        "targets-2-name": "masks delivered", "targets-2-unit": "masks", "targets-2-period": "month",
        "targets-2-direction": "at_least", "targets-2-combine": "sum", "targets-2-value": "1,800,000",
        "term_end": "2022-09-30", "change_note": "The 3-month review"})
    response = client.post(f"/a/{case.alliance.id}/charter/edit", data=data)
    assert response.status_code == 302, error_at(response.get_data(as_text=True), "charter")
    page = text(client.get(f"/a/{case.alliance.id}/charter"))
    assert "Charter version 3 saved" in page
    for change in ("term end 2022-03-31 -> 2022-09-30", "Beta's commitment added",
                   "target 'masks produced' 2,000,000 -> 2,500,000",
                   "target 'masks delivered' added (1,800,000 masks per month)", "target 'cost per mask' removed",
                   "The 3-month review"):
        assert change in page
    assert client.get(f"/a/{case.alliance.id}/charter/versions/2").status_code == 200


def test_the_edit_form_shows_each_error_at_its_field(client, auth, case, session, with_targets):
    auth.login("coordinator")
    data = edit_form(case, session, **{
        "targets-0-value": "two million", "term_end": "2019-12-31",
        "targets-3-name": "masks delivered", "targets-3-unit": "", "targets-3-period": "month",
        "targets-3-value": "5"})
    response = client.post(f"/a/{case.alliance.id}/charter/edit", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "must be a number" in error_at(page, "targets-0-value")
    assert "cannot end before it starts" in error_at(page, "term_end")
    assert "Enter the unit" in error_at(page, "targets-3-unit")  # the form row typed in, not the 2nd target sent
    assert 'value="two million"' in page
    response = client.post(f"/a/{case.alliance.id}/charter/edit", data=edit_form(case, session))
    assert response.status_code == 422
    assert "Nothing changed" in error_at(response.get_data(as_text=True), "charter")


def record(session, case, key: str, **raw) -> None:
    user, membership = who(session, case, key)
    record_measurement(session, user, membership, raw, TODAY)
    session.commit()


def test_the_targets_page_shows_actual_against_target_as_chart_and_table(client, auth, case, session, with_targets):
    record(session, case, "beta", target_id=with_targets["masks produced"], period="2020-05", value="2,100,000")
    record(session, case, "alpha", target_id=with_targets["cost per mask"], period="2020-05", value="0.35")
    auth.login("accountant")
    response = client.get(f"/a/{case.alliance.id}/targets")
    page = text(response)
    assert "<svg" in page
    assert 'data-live-region="targets-progress"' in page
    assert "May 2020" in page
    assert "2,100,000" in page
    assert "Met in 1 of 1 measured period" in page
    assert "Met in 0 of 1 measured period" in page  # cost per mask: 0.35 is over "at most 0.3"
    assert "measurement-form" not in page  # an accountant records nothing
    detail = text(client.get(f"/a/{case.alliance.id}/targets/{with_targets['masks produced']}"))
    assert "Beta User" in detail
    assert client.get(f"/a/{case.alliance.id}/targets/99999").status_code == 404


def test_a_partner_records_a_figure_and_a_newer_one_supersedes_it(client, auth, case, session, with_targets):
    auth.login("beta")
    page = client.get(f"/a/{case.alliance.id}/targets").get_data(as_text=True)
    assert 'id="measurement-form"' in page
    assert 'value="2020-06"' in page  # the current month is offered
    masks = with_targets["masks produced"]
    url = f"/a/{case.alliance.id}/targets/measurements"
    assert client.post(url, data={"target_id": masks, "period": "2020-05", "value": "1,000,000"}).status_code == 302
    response = client.post(url, data={"target_id": masks, "period": "2020-05", "value": "1,200,000"},
                           follow_redirects=True)
    assert "Recorded 1,200,000 masks for masks produced, May 2020 (Beta)." in text(response)
    history = text(client.get(f"/a/{case.alliance.id}/targets/{masks}"))
    assert "replaced" in history
    assert 'class="superseded"' in client.get(f"/a/{case.alliance.id}/targets/{masks}").get_data(as_text=True)
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    assert session.scalar(select(func.count()).select_from(Measurement)) == 2


def test_the_measurement_form_shows_errors_at_their_fields(client, auth, case, session, with_targets):
    auth.login("alpha")
    url = f"/a/{case.alliance.id}/targets/measurements"
    response = client.post(url, data={"target_id": with_targets["masks produced"], "period": "2020-09",
                                      "value": "1e6"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "has not started yet" in error_at(page, "period")
    assert "must be a number" in error_at(page, "value")
    response = client.post(url, data={"target_id": with_targets["masks produced"], "period": "2020-05",
                                      "value": "1", "partner_id": case.pid("Beta")})
    assert response.status_code == 403
    auth.logout()
    auth.login("steering")
    assert client.post(url, data={"target_id": with_targets["masks produced"], "period": "2020-05",
                                  "value": "1"}).status_code == 403


def test_the_coordinator_records_for_any_partner(client, auth, case, session, with_targets):
    auth.login("coordinator")
    url = f"/a/{case.alliance.id}/targets/measurements"
    response = client.post(url, data={"target_id": with_targets["masks produced"], "period": "2020-06-10",
                                      "value": "5", "partner_id": case.pid("Gamma")})
    assert response.status_code == 302
    session.rollback()
    session.expire_all()  # the request wrote through its own session: read afresh
    row = session.scalar(select(Measurement))
    assert (row.partner_id, row.period_start) == (case.pid("Gamma"), date(2020, 6, 1))
