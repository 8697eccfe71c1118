"""The split agreement pages: every version with its pools, and a new version through the form."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from ledger.models import AgreementVersion, Entry, Membership, User
from ledger.queries import balance_sheet
from ledger.services import agreements
from ledger.services.users import create_token
from tests.builders import record


def error_at(page: str, field: str) -> str | None:
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else None


def versions(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(AgreementVersion))


def pool_slot(i: int, case, name: str, side: str, kinds: list[str], weights: dict[str, str],
              categories: list[str] | None = None) -> dict:
    data = {f"pools-{i}-name": name, f"pools-{i}-side": side, f"pools-{i}-kinds": kinds,
            f"pools-{i}-scope": "some" if categories else "all"}
    if categories:
        data[f"pools-{i}-categories"] = [str(case.cid(c)) for c in categories]
    for partner, weight in weights.items():
        data[f"pools-{i}-weight_{case.pid(partner)}"] = weight
    return data


def seventy_thirty(case, **extra) -> dict:
    data = {"effective_from": "2020-07-01", "note": "Review after 3 months: Alpha takes more of the costs"}
    data.update(pool_slot(0, case, "Shared costs", "costs", ["cost", "contribution", "service_fee"],
                          {"Alpha": "70", "Beta": "30%"}))
    data.update(pool_slot(2, case, "Returns", "returns", ["revenue"], {"Alpha": "1", "Beta": "1"}))
    data.update(extra)
    return data


def test_the_agreement_page_shows_versions_pools_and_percentages(client, auth, case):
    auth.login("gamma")
    page = client.get(f"/a/{case.alliance.id}/agreement").get_data(as_text=True)
    assert "Version 1" in page
    assert "effective from 2020-04-01" in page
    assert "The founding 50/50 agreement" in page
    assert "Carla Coordinator" in page
    assert "contribution, cost, service fee" in page
    assert "all categories" in page
    assert "Alpha: weight 1 <span class=\"muted\">= 50.00%</span>" in page
    assert "New version" not in page


def test_whole_and_decimal_weights_show_as_typed_on_the_page_the_form_and_the_api(app, client, auth, session, case):
    """Issue 16, defect 17: a weight of 50 showed as "5E+1" (one formatter for weights now, everywhere)."""
    user, membership = session.get(User, case.users["coordinator"].id), session.get(
        Membership, case.memberships["coordinator"].id)
    shares = [{"partner_id": case.pid("Alpha"), "weight": "50"}, {"partner_id": case.pid("Beta"), "weight": "50%"},
              {"partner_id": case.pid("Gamma"), "weight": "2.50"}]
    agreements.create_version(session, user, membership, {"effective_from": "2020-07-01", "pools": [
        {"name": "Costs", "side": "costs", "kinds": ["cost"], "categories": "all", "shares": shares},
        {"name": "Returns", "side": "returns", "kinds": ["revenue"], "categories": "all", "shares": shares}]})
    session.commit()
    auth.login("coordinator")
    page = client.get(f"/a/{case.alliance.id}/agreement").get_data(as_text=True)
    assert "Alpha: weight 50 <span class=\"muted\">= 48.78%</span>" in page
    assert "Beta: weight 50 <span class=\"muted\">= 48.78%</span>" in page
    assert "Gamma: weight 2.5 <span class=\"muted\">= 2.44%</span>" in page
    assert "E+" not in page
    form = client.get(f"/a/{case.alliance.id}/agreement/new").get_data(as_text=True)
    assert f'name="pools-0-weight_{case.pid("Alpha")}" placeholder="—" type="text" value="50"' in form
    assert f'name="pools-0-weight_{case.pid("Gamma")}" placeholder="—" type="text" value="2.5"' in form
    _, token = create_token(session, user, "weights")
    session.commit()
    versions = client.get(f"/api/v1/alliances/{case.alliance.id}/agreement/versions",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
    newest = max(versions["versions"], key=lambda v: v["number"])
    assert [s["weight"] for s in newest["pools"][0]["shares"]] == ["50", "50", "2.5"]


def test_the_new_version_form_is_prefilled_from_the_version_in_force(client, auth, case):
    auth.login("coordinator")
    page = client.get(f"/a/{case.alliance.id}/agreement/new").get_data(as_text=True)
    assert 'name="pools-0-name" type="text" value="Shared costs"' in page
    assert 'name="pools-1-name" type="text" value="Returns"' in page
    assert f'name="pools-0-weight_{case.pid("Alpha")}" placeholder="—" type="text" value="1"' in page
    assert re.search(rf'name="pools-0-weight_{case.pid("Gamma")}"[^>]*value=""', page)


def test_a_new_version_through_the_form_resplits_later_entries(client, auth, session, case):
    record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="1000",
           date="2020-07-15")
    session.commit()
    auth.login("coordinator")
    a = case.alliance.id
    response = client.post(f"/a/{a}/agreement/new", data=seventy_thirty(case))
    assert response.status_code == 302, re.findall(r"id=\"([^\"]+)-error\">(.*?)<", response.get_data(as_text=True))
    assert versions(session) == 2
    page = client.get(f"/a/{a}/agreement").get_data(as_text=True)
    assert "Version 2" in page
    assert "= 70.00%" in page
    assert "= 30.00%" in page
    sheet = balance_sheet(session, case.alliance)
    assert sheet.row(case.pid("Alpha")).cost_share == 70000
    assert sheet.row(case.pid("Beta")).net == -30000


def test_a_version_limited_to_chosen_categories(client, auth, session, case):
    auth.login("coordinator")
    data = {"effective_from": "2020-08-01", "note": ""}
    data.update(pool_slot(0, case, "Production costs", "costs", ["cost"], {"Alpha": "1", "Beta": "1"},
                          categories=["production", "waste"]))
    data.update(pool_slot(1, case, "Other costs", "costs", ["contribution", "service_fee"], {"Alpha": "1"}))
    data.update(pool_slot(2, case, "Returns", "returns", ["revenue"], {"Alpha": "1", "Beta": "1"}))
    response = client.post(f"/a/{case.alliance.id}/agreement/new", data=data)
    assert response.status_code == 302
    page = client.get(f"/a/{case.alliance.id}/agreement").get_data(as_text=True)
    assert "production, waste" in page


BAD_POOLS = [
    ("pools-0-weights", {"Alpha": "0", "Beta": "1"}, "greater than zero"),
    ("pools-0-weights", {"Alpha": "-1", "Beta": "1"}, "positive number"),
    ("pools-0-weights", {"Alpha": "abc"}, "positive number"),
]


@pytest.mark.parametrize(("field", "weights", "message"), BAD_POOLS)
def test_bad_weights_are_refused_at_the_pool(client, auth, session, case, field, weights, message):
    auth.login("coordinator")
    data = seventy_thirty(case)
    for partner in ("Alpha", "Beta"):
        data.pop(f"pools-0-weight_{case.pid(partner)}")
    data.update({f"pools-0-weight_{case.pid(p)}": w for p, w in weights.items()})
    response = client.post(f"/a/{case.alliance.id}/agreement/new", data=data)
    assert response.status_code == 422
    assert message in error_at(response.get_data(as_text=True), field)
    assert versions(session) == 1


def test_errors_name_the_slot_they_were_typed_in(client, auth, session, case):
    """Slot 1 is empty, so the service's pool 1 is the form's slot 2."""
    auth.login("coordinator")
    data = seventy_thirty(case)
    data["pools-2-kinds"] = ["cost"]
    data["effective_from"] = "2020-04-01"
    response = client.post(f"/a/{case.alliance.id}/agreement/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "cannot cover cost" in error_at(page, "pools-2-kinds")
    assert "already takes effect" in error_at(page, "effective_from")
    assert error_at(page, "pools-1-kinds") is None
    assert versions(session) == 1


def test_a_version_that_leaves_entries_unpooled_is_refused(client, auth, session, case):
    record(session, case, "alpha", partner="Alpha", kind="revenue", category="sales", amount="10",
           date="2020-07-15")
    session.commit()
    auth.login("coordinator")
    data = seventy_thirty(case)
    for key in [k for k in data if k.startswith("pools-2-")]:
        data.pop(key)
    response = client.post(f"/a/{case.alliance.id}/agreement/new", data=data)
    assert response.status_code == 422
    assert "would fall into no pool" in error_at(response.get_data(as_text=True), "pools")
    assert versions(session) == 1
    assert session.scalar(select(Entry.version_id)) is not None
