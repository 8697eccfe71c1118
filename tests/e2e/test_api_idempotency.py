"""``Idempotency-Key`` on the API's POSTs: a retried request never records a second entry.

What a client on a flaky line relies on: send the same POST again with the
same key and get the same answer, with nothing recorded twice, even when the
two attempts race each other.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ledger.models import Entry
from tests.e2e.api_support import Api, error_fields, make_tokens, row_counts
from tests.e2e.test_api_entries import entry_body

KEY = {"Idempotency-Key": "0b7c6f0e-3d1f-4c1a-9d55-6a5ad1f0c001"}


@pytest.fixture
def api(app, client, session, case) -> Api:
    return Api(app, client, make_tokens(session, case))


def entry_count(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Entry))


def test_a_retry_with_the_same_key_replays_the_first_answer(api, case, session):
    url = f"/alliances/{case.alliance.id}/entries"
    first = api.post(url, "alpha", json=entry_body(case), headers=KEY)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = api.post(url, "alpha", json=entry_body(case), headers=KEY)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert entry_count(session) == 1
    # Without a key, the same body is a new entry: the key is what says "the same request".
    assert api.post(url, "alpha", json=entry_body(case)).status_code == 201
    assert entry_count(session) == 2


def test_the_same_json_spelled_differently_is_the_same_request(api, case, session):
    url = f"/alliances/{case.alliance.id}/entries"
    body = entry_body(case)
    assert api.post(url, "alpha", json=body, headers=KEY).status_code == 201
    import json

    respelled = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = api.post(url, "alpha", data=respelled, headers=KEY)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert entry_count(session) == 1


def test_the_same_key_for_another_request_is_refused_at_the_header(api, case, session):
    url = f"/alliances/{case.alliance.id}/entries"
    assert api.post(url, "alpha", json=entry_body(case), headers=KEY).status_code == 201
    before = row_counts(session)
    other = api.post(url, "alpha", json=entry_body(case, amount="99.00"), headers=KEY)
    assert other.status_code == 422
    assert "different request" in error_fields(other)["Idempotency-Key"]
    assert row_counts(session) == before


@pytest.mark.parametrize("key", ["", " ", "x" * 101, "caf\u00e9", "tab\there"])
def test_a_malformed_key_is_refused_and_nothing_is_written(api, case, session, key):
    before = row_counts(session)
    response = api.post(f"/alliances/{case.alliance.id}/entries", "alpha", json=entry_body(case),
                        headers={"Idempotency-Key": key})
    assert response.status_code == 422
    assert "printable ASCII" in error_fields(response)["Idempotency-Key"]
    assert row_counts(session) == before


def test_a_refused_request_can_be_fixed_and_sent_again_with_its_key(api, case, session):
    url = f"/alliances/{case.alliance.id}/entries"
    refused = api.post(url, "alpha", json=entry_body(case, amount="12,34,5"), headers=KEY)
    assert refused.status_code == 422
    fixed = api.post(url, "alpha", json=entry_body(case), headers=KEY)
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed.headers
    assert entry_count(session) == 1


def test_keys_belong_to_their_user(api, case, session):
    url = f"/alliances/{case.alliance.id}/entries"
    assert api.post(url, "alpha", json=entry_body(case), headers=KEY).status_code == 201
    beta = api.post(url, "beta", json=entry_body(case, partner_id=case.pid("Beta")), headers=KEY)
    assert beta.status_code == 201
    assert "Idempotent-Replayed" not in beta.headers
    assert entry_count(session) == 2


def test_a_retried_reversal_reverses_once(api, case, session):
    a = case.alliance.id
    entry = api.post(f"/alliances/{a}/entries", "alpha", json=entry_body(case)).get_json()
    url = f"/alliances/{a}/entries/{entry['id']}/reversal"
    body = {"reason": "billed twice"}
    first = api.post(url, "alpha", json=body, headers=KEY)
    again = api.post(url, "alpha", json=body, headers=KEY)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert entry_count(session) == 2  # the entry and one reversal


def test_two_racing_retries_record_one_entry(app, session, case):
    """Both attempts miss the stored answer and run; the loser's transaction rolls back and it replays."""
    tokens = make_tokens(session, case)
    url = f"/api/v1/alliances/{case.alliance.id}/entries"
    headers = {**KEY, "Authorization": f"Bearer {tokens['alpha']}"}
    start = threading.Barrier(2)
    results: list = []

    def attempt() -> None:
        client = app.test_client()
        start.wait()
        response = client.post(url, json=entry_body(case), headers=headers)
        results.append((response.status_code, response.get_json()["id"]))

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [status for status, _ in results] == [201, 201]
    assert len({entry_id for _, entry_id in results}) == 1
    assert entry_count(session) == 1
