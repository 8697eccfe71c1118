"""Many partners at once, through two server processes on one PostgreSQL: nothing lost, nothing doubled.

20 clients post 200 entries each through the API, half through each process,
and reverse some of their own entries as they go. Afterwards every entry is
there exactly once, every reversal once, the hash chain verifies, and the
balance the API serves equals a recomputation from the entries one by one.
A close of the books racing the posters never leaves an entry inside the
closed period that committed after the close.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from ledger.chain import verify_alliance
from ledger.models import Activity, Entry, Period
from ledger.queries import balance_sheet
from tests.e2e.api_support import make_tokens
from tests.integration.test_balance_sql import _reference
from tests.servers import ServerProcess, running

CLIENTS = 20
ENTRIES_EACH = 200
REVERSE_EVERY = 10  # each client reverses every 10th entry it recorded
#: Each client acts for one partner (partner members) or, for the coordinator, for any.
POSTERS = ("alpha", "beta", "gamma", "omega", "coordinator")


@pytest.fixture
def two_processes(pg_url, case, tmp_path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    servers = (ServerProcess(pg_url, tmp_path, threads=12), ServerProcess(pg_url, tmp_path, threads=12))
    with running(servers):
        yield servers


class Client:
    """One partner's program: a keep-alive connection to one server, bearer token, JSON in and out."""

    def __init__(self, base_url: str, token: str) -> None:
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        self.connection.request("POST", "/api/v1" + path, body=json.dumps(body), headers=self.headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")

    def close(self) -> None:
        self.connection.close()


def _partner_of(case, who: str, n: int) -> int:
    if who == "coordinator":
        return case.pid(("Alpha", "Beta", "Gamma", "Omega")[n % 4])
    return case.pid(who.title())


def test_twenty_clients_two_processes_every_entry_exactly_once(two_processes, case, session):
    tokens = make_tokens(session, case)
    alliance_id = case.alliance.id
    failures: list[str] = []

    def run(index: int) -> tuple[list[int], list[int]]:
        who = POSTERS[index % len(POSTERS)]
        client = Client(two_processes[index % 2].url, tokens[who])
        recorded, reversals = [], []
        try:
            for n in range(ENTRIES_EACH):
                status, body = client.post(f"/alliances/{alliance_id}/entries", {
                    "date": f"2020-{5 + n % 6:02d}-{1 + n % 28:02d}", "partner_id": _partner_of(case, who, n),
                    "kind": ("cost", "revenue", "contribution")[n % 3], "category_id": case.cid("production"),
                    "amount": f"{index + 1}.{n % 100:02d}", "description": f"client {index} entry {n}"})
                if status != 201:
                    failures.append(f"client {index} entry {n}: {status} {body}")
                    continue
                recorded.append(body["id"])
                if n % REVERSE_EVERY == REVERSE_EVERY - 1:
                    status, body = client.post(f"/alliances/{alliance_id}/entries/{recorded[-2]}/reversal",
                                               {"reason": f"client {index} corrects entry {n - 1}"})
                    if status != 201:
                        failures.append(f"client {index} reversal: {status} {body}")
                        continue
                    reversals.append(body["reverses_id"])
        finally:
            client.close()
        return recorded, reversals

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(run, range(CLIENTS)))
    assert failures == []

    session.expire_all()
    recorded = [entry_id for ids, _ in results for entry_id in ids]
    reversed_ids = [entry_id for _, ids in results for entry_id in ids]
    assert len(recorded) == CLIENTS * ENTRIES_EACH
    rows = session.execute(select(Entry.description, func.count()).where(
        Entry.alliance_id == alliance_id, Entry.reverses_id.is_(None)).group_by(Entry.description)).all()
    assert len(rows) == CLIENTS * ENTRIES_EACH
    assert {count for _, count in rows} == {1}  # every entry exactly once
    stored_reversals = session.scalars(select(Entry.reverses_id).where(Entry.reverses_id.is_not(None))).all()
    assert sorted(stored_reversals) == sorted(reversed_ids)  # every reversal once, of the entry it named
    assert len(reversed_ids) == CLIENTS * (ENTRIES_EACH // REVERSE_EVERY)

    verdict = verify_alliance(session, alliance_id)
    assert verdict.intact, verdict.summary()
    assert verdict.count >= len(recorded) + len(reversed_ids)

    sheet = balance_sheet(session, case.alliance)
    assert sheet.rows == _reference(session, case)
    assert sheet.total("net") == 0
    seqs = session.scalars(select(Activity.seq).where(Activity.alliance_id == alliance_id)
                           .order_by(Activity.seq)).all()
    assert seqs == list(range(1, len(seqs) + 1))  # gapless events: no write was lost or doubled


def test_a_close_racing_the_posters_never_leaves_a_late_entry_inside_it(two_processes, case, session):
    tokens = make_tokens(session, case)
    alliance_id = case.alliance.id
    closing = threading.Event()
    outcomes: list[int] = []

    def post_may_entries(index: int) -> None:
        client = Client(two_processes[index % 2].url, tokens["coordinator"])
        try:
            for n in range(40):
                if n == 10:
                    closing.set()
                status, _ = client.post(f"/alliances/{alliance_id}/entries", {
                    "date": f"2020-05-{1 + n % 28:02d}", "partner_id": case.pid("Alpha"), "kind": "cost",
                    "category_id": case.cid("production"), "amount": "1.00", "description": f"race {index}-{n}"})
                outcomes.append(status)
        finally:
            client.close()

    def close_may() -> None:
        closing.wait(timeout=30)
        client = Client(two_processes[1].url, tokens["coordinator"])
        try:
            status, body = client.post(f"/alliances/{alliance_id}/periods", {"end_date": "2020-05-31"})
            assert status == 201, body
        finally:
            client.close()

    with ThreadPoolExecutor(7) as pool:
        futures = [pool.submit(post_may_entries, i) for i in range(6)] + [pool.submit(close_may)]
        for future in futures:
            future.result()

    assert set(outcomes) <= {201, 422}
    assert 422 in outcomes  # some posts came after the close and were refused at the date
    session.expire_all()
    closed = session.scalar(select(Period).where(Period.alliance_id == alliance_id))
    close_seq = session.scalar(select(Activity.seq).where(Activity.alliance_id == alliance_id,
                                                          Activity.action.like("period.%")))
    inside = session.scalars(select(Activity.seq).join(Entry, Entry.id == Activity.entry_id).where(
        Entry.alliance_id == alliance_id, Entry.entry_date <= closed.end_date)).all()
    assert inside
    assert max(inside) < close_seq  # every entry inside the period committed before the close
    assert outcomes.count(201) == len(inside)
