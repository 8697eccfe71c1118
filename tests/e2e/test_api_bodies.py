"""Every JSON body the API takes comes in by one door: unknown fields and unstorable text are a 422 there."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ledger.api.openapi import document
from ledger.models import Checkpoint, Entry
from tests.builders import charter_with_a_measured_target, record
from tests.e2e.api_support import Api, error_fields, make_tokens, row_counts

#: Every POST the API answers, from the OpenAPI document (so a new one is tested the day it is added).
POSTS = sorted(path for path, item in document()["paths"].items() if "post" in item)


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


@pytest.fixture
def ids(session, case) -> dict[str, int]:
    """An object of every kind a POST's path names, so each request reaches its body."""
    _charter, target, period = charter_with_a_measured_target(session, case)
    entry = record(session, case, "alpha", partner="Alpha", kind="cost", category="production", amount="10")
    checkpoint = Checkpoint(alliance_id=case.alliance.id, label="Review", due_date=date(2021, 4, 1))
    session.add(checkpoint)
    session.commit()
    return {"alliance_id": case.alliance.id, "entry_id": entry.id, "period_id": period.id,
            "target_id": target.id, "checkpoint_id": checkpoint.id}


@pytest.mark.parametrize("path", POSTS)
def test_every_body_refuses_an_unknown_field_by_name(api, session, ids, path):
    url = path.format(**ids)
    before = row_counts(session)
    response = api.post(url, "coordinator", json={"waste": "x"})
    assert response.status_code == 422, response.get_json()
    assert "Unknown field" in error_fields(response)["waste"]
    assert row_counts(session) == before


def test_the_api_names_its_own_field_not_the_form_s(api, case, session):
    """``"category": "waste"`` was dropped and the answer said "Choose a category", the form's words."""
    body = {"date": "2020-05-04", "partner_id": case.pid("Alpha"), "kind": "cost", "category": "waste",
            "amount": "10", "description": "Blades"}
    response = api.post(f"/alliances/{case.alliance.id}/entries", "alpha", json=body)
    assert response.status_code == 422
    fields = error_fields(response)
    assert set(fields) == {"category"}
    assert "Did you mean category_id?" in fields["category"]
    assert "Choose" not in json.dumps(fields)
    assert session.query(Entry).count() == 0


def test_unknown_fields_inside_lists_are_named_with_their_place(api, case):
    pools = [{"name": "Costs", "side": "costs", "kinds": ["cost"], "categories": "all", "colour": "red",
              "shares": [{"partner_id": case.pid("Alpha"), "weight": 1, "percent": 50}]}]
    response = api.post(f"/alliances/{case.alliance.id}/agreement/versions", "coordinator",
                        json={"effective_from": "2020-06-01", "pools": pools})
    assert response.status_code == 422
    assert set(error_fields(response)) == {"pools-0-colour", "pools-0-shares-0-percent"}


def test_the_document_closes_every_object_it_describes():
    schemas = document()["components"]["schemas"]
    open_objects = [name for name, schema in schemas.items()
                    if schema.get("type") == "object" and "properties" in schema
                    and schema.get("additionalProperties") is not False]
    assert open_objects == []
    assert schemas["EntryInput"]["additionalProperties"] is False


LONE = "\ud800"


def _entry(case):
    return {"date": "2020-05-04", "partner_id": case.pid("Alpha"), "kind": "cost",
            "category_id": case.cid("production"), "amount": "10", "description": "Blades", "reference": "R1"}


#: (path, body builder, field): every text field a write takes.
TEXT_FIELDS = [
    ("/alliances/{alliance_id}/entries", _entry, "description"),
    ("/alliances/{alliance_id}/entries", _entry, "reference"),
    ("/alliances", lambda case: {"name": "New", "cause": "Good", "currency": "EUR", "start_date": "2020-01-01",
                                 "term_end": "2020-12-31"}, "name"),
    ("/alliances", lambda case: {"name": "New", "cause": "Good", "currency": "EUR", "start_date": "2020-01-01",
                                 "term_end": "2020-12-31"}, "cause"),
    ("/alliances/{alliance_id}/partners", lambda case: {"name": "Delta", "role": "supplier", "type": "supplier"},
     "name"),
    ("/alliances/{alliance_id}/categories", lambda case: {"name": "waste"}, "name"),
    ("/alliances/{alliance_id}/members", lambda case: {"email": "new@example.org", "role": "accountant",
                                                       "name": "New Person", "password": "a long new password"},
     "name"),
    ("/alliances/{alliance_id}/members", lambda case: {"email": "new@example.org", "role": "accountant",
                                                       "name": "New Person", "password": "a long new password"},
     "email"),
    ("/alliances/{alliance_id}/members", lambda case: {"email": "new@example.org", "role": "accountant",
                                                       "name": "New Person", "password": "a long new password"},
     "password"),
    ("/alliances/{alliance_id}/charter", lambda case: {"term_end": "2022-03-31", "objective": "More masks",
                                                       "cause": "Masks", "change_note": "Why"}, "objective"),
    ("/alliances/{alliance_id}/charter", lambda case: {"term_end": "2022-03-31", "objective": "More masks",
                                                       "cause": "Masks", "change_note": "Why"}, "cause"),
    ("/alliances/{alliance_id}/charter", lambda case: {"term_end": "2022-03-31", "objective": "More masks",
                                                       "cause": "Masks", "change_note": "Why"}, "change_note"),
    ("/alliances/{alliance_id}/checkpoints", lambda case: {"due_date": "2021-04-01", "label": "Review"}, "label"),
    ("/alliances/{alliance_id}/entries", lambda case: {**_entry(case), "kind": LONE}, "kind"),
]


@pytest.mark.parametrize(("path", "body", "field"), TEXT_FIELDS, ids=lambda v: v if isinstance(v, str) else "")
def test_a_lone_surrogate_in_any_text_field_is_a_422_at_that_field(api, case, session, path, body, field):
    """Valid JSON, but no UTF-8 form: the database driver raised on it, a 500."""
    raw = body(case)
    raw[field] = f"x{LONE}y"
    before = row_counts(session)
    response = api.post(path.format(alliance_id=case.alliance.id), "coordinator",
                        data=json.dumps(raw))  # json.dumps escapes it as \ud800, as a client would
    assert response.status_code == 422, response.get_json()
    assert "lone surrogate" in error_fields(response)[field]
    assert row_counts(session) == before


def test_a_lone_surrogate_in_a_nested_field_or_a_field_name(api, case):
    pools = [{"name": LONE, "side": "costs", "kinds": ["cost"], "categories": "all",
              "shares": [{"partner_id": case.pid("Alpha"), "weight": 1}]}]
    response = api.post(f"/alliances/{case.alliance.id}/agreement/versions", "coordinator",
                        data=json.dumps({"effective_from": "2020-06-01", "pools": pools}))
    assert response.status_code == 422
    assert "lone surrogate" in error_fields(response)["pools-0-name"]
    response = api.post(f"/alliances/{case.alliance.id}/categories", "coordinator",
                        data=json.dumps({"name": "waste", LONE: 1}))
    assert response.status_code == 422
    assert "lone surrogate" in error_fields(response)["\\ud800"]
