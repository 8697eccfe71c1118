"""Two app processes, one PostgreSQL, one Redis: the documented multi-process configuration, over real HTTP.

Both processes run ``deploy/gunicorn.conf.py`` in production mode with the same secret key, like two
hosts behind a load balancer without sticky sessions. One person's cookie jar is used against either:

- a log-in made through one process works through the other, for pages and for forms (CSRF);
  logging out through one is logged out on both (and ends the session's live stream on the other
  within seconds), and a password changed through one ends the person's other sessions on the other;
- an entry recorded through one process reaches a live stream opened on the other within a
  second or two (PostgreSQL NOTIFY), and the other way round: the streams' own re-read of the
  database comes only after a 30 s heartbeat, so arrival in time is the notification crossing;
- failed log-ins split between the two processes are counted together in Redis and trip the
  limit on both (counting per process, neither would have seen enough to refuse);
- each process holds at most its pool plus one LISTEN connection, as the README adds up.

Redis must answer at ``TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/13``, a database of its own);
an empty ``TEST_REDIS_URL`` skips these tests. Each run counts under a key prefix of its own and
deletes only its own keys, so two runs at once on one machine do not disturb each other.
"""

from __future__ import annotations

import http.client
import os
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest
import redis
from sqlalchemy import make_url

from tests.builders import PASSWORD
from tests.live_client import _CSRF, EventStream, _cookies, cookie_header
from tests.servers import DEPLOY_CONFIG, ServerProcess, free_ports, running

DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
LOGIN_LIMIT = 4
POOL_SIZE, MAX_OVERFLOW = 2, 2
WRONG = "not the password at all"
#: Both live streams' own re-read of the database is this far away: only a notification is on time.
HEARTBEAT = 30
ON_TIME = 3.0


@pytest.fixture
def redis_store() -> Iterator[tuple[str, str, redis.Redis]]:
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    if not url:
        pytest.skip("TEST_REDIS_URL is empty: the multi-process tests need a shared rate-limit store")
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        problem = None
    except redis.RedisError as exc:
        problem = exc
    if problem is not None:  # outside the except: the message alone, without the client's traceback
        pytest.fail(f"No Redis answers at {url} ({problem}). The multi-process tests share their rate limits "
                    f"through it: start redis-server, set TEST_REDIS_URL to a Redis that answers, or set "
                    f"TEST_REDIS_URL= (empty) to skip them.", pytrace=False)
    prefix = f"ledger-test-{uuid.uuid4().hex[:12]}"
    try:
        yield url, prefix, client
    finally:
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def two_processes(pg_url, redis_store, case, tmp_path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    url, prefix, _ = redis_store
    env = {"LEDGER_ENV": "production", "LEDGER_RATELIMIT_STORAGE_URI": url, "LEDGER_RATELIMIT_KEY_PREFIX": prefix,
           "LEDGER_LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per minute", "LEDGER_LIVE_HEARTBEAT_SECONDS": str(HEARTBEAT),
           "LEDGER_DB_POOL_SIZE": str(POOL_SIZE), "LEDGER_DB_MAX_OVERFLOW": str(MAX_OVERFLOW),
           "LEDGER_ACCESS_LOG": ""}
    servers = tuple(ServerProcess(pg_url, tmp_path, port=port, workers=1, threads=8, config=DEPLOY_CONFIG,
                                  env={**env, "PGAPPNAME": f"{prefix}-{name}"})
                    for name, port in zip("ab", free_ports(2), strict=True))
    with running(servers):
        yield servers


class Browser:
    """One person's cookie jar, sent to whichever server a request goes to (no sticky sessions)."""

    def __init__(self) -> None:
        self.jar: dict[str, str] = {}

    def request(self, server: ServerProcess, method: str, path: str,
                form: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, str]:
        parts = urlsplit(server.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        headers = {"Cookie": self.cookie()} if self.jar else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            _cookies(response, self.jar)
        finally:
            conn.close()
        return response.status, response.headers, text

    def get(self, server: ServerProcess, path: str) -> tuple[int, http.client.HTTPMessage, str]:
        return self.request(server, "GET", path)

    def submit(self, server: ServerProcess, path: str, fields: dict[str, str], *,
               page_from: ServerProcess | None = None,
               page: str | None = None) -> tuple[int, http.client.HTTPMessage, str]:
        """Open the form's page (on ``page_from``, by default the same server), then POST it with its CSRF token."""
        status, _, html = self.get(page_from or server, page or path)
        assert status == 200, f"{page or path}: {status}"
        token = _CSRF.search(html)
        assert token, f"no CSRF token on {page or path}"
        return self.request(server, "POST", path, {**fields, "csrf_token": token.group(1)})

    def log_in(self, server: ServerProcess, who: str, password: str = PASSWORD) -> int:
        return self.submit(server, "/login", {"email": f"{who}@example.org", "password": password})[0]

    def cookie(self) -> str:
        return cookie_header(self.jar)


def record_cost(browser: Browser, server: ServerProcess, case, amount: str, *, page_from: ServerProcess) -> None:
    alliance = case.alliance.id
    status, headers, _ = browser.submit(server, f"/a/{alliance}/entries/new", {
        "date": "2020-05-04", "partner_id": str(case.pid("Alpha")), "kind": "cost",
        "category_id": str(case.cid("production")), "amount": amount, "description": f"cost of {amount}",
        "reference": "", "counterparty_id": "", "save": "Save"}, page_from=page_from)
    assert status == 302, f"recording {amount} through {server.url}: {status}"
    assert headers["Location"].endswith(f"/a/{alliance}/ledger")


def test_a_log_in_through_one_process_works_through_the_other(two_processes, case):
    a, b = two_processes
    home = f"/a/{case.alliance.id}/"
    alpha = Browser()
    assert alpha.log_in(a, "alpha") == 302
    status, _, page = alpha.get(b, home)
    assert status == 200
    assert "Alpha User" in page
    assert Browser().get(b, home)[0] == 302  # B does let nobody in: it is the cookie that carries the log-in
    record_cost(alpha, b, case, "1.01", page_from=b)  # a form and its CSRF token, all through B
    record_cost(alpha, a, case, "2.02", page_from=b)  # a form opened on B and sent to A
    status, _, ledger = alpha.get(a, f"/a/{case.alliance.id}/ledger")
    assert status == 200
    assert "cost of 1.01" in ledger
    assert "cost of 2.02" in ledger

    # Logging out through B is logged out on A too (the log-in session is a row in the shared database).
    assert alpha.submit(b, "/logout", {}, page=home)[0] == 302
    assert alpha.get(a, home)[0] == 302

    # A password changed through A ends the person's session opened on B (its row ended in the database).
    here, there = Browser(), Browser()
    assert here.log_in(a, "gamma") == 302
    assert there.log_in(b, "gamma") == 302
    assert there.get(b, home)[0] == 200
    new = "seven purple elephants"
    status, _, _ = here.submit(a, "/account", {"action": "password", "current_password": PASSWORD,
                                               "new_password": new, "confirm": new})
    assert status == 302
    assert here.get(b, home)[0] == 200  # the session that changed it goes on, and works on B
    status, headers, _ = there.get(b, home)
    assert status == 302
    assert "/login" in headers["Location"]


def test_live_events_cross_processes_through_postgresql(two_processes, case, pg_url, redis_store):
    a, b = two_processes
    alpha, beta = Browser(), Browser()
    assert alpha.log_in(a, "alpha") == 302
    assert beta.log_in(b, "beta") == 302
    events = f"/a/{case.alliance.id}/events"
    # Each person streams from the process they did *not* log in through.
    with EventStream(b.url, events, alpha.cookie(), timeout=10) as on_b, \
            EventStream(a.url, events, beta.cookie(), timeout=10) as on_a:
        assert (on_b.status, on_a.status) == (200, 200)
        assert on_b.read_message().retry is not None  # the view has run: anything recorded from now arrives
        assert on_a.read_message().retry is not None
        for cents, through, own, other in ((1111, a, on_a, on_b), (2222, b, on_b, on_a)):
            record_cost(alpha, through, case, f"{cents / 100:.2f}", page_from=through)
            recorded = time.monotonic()
            (event,) = other.events(1, timeout=ON_TIME + 2)
            assert time.monotonic() - recorded < ON_TIME, "the event came with the re-read, not the notification"
            assert event.json["entry"]["amount"] == cents
            assert event.json["actor"] == "Alpha User"
            assert [e.json["entry"]["amount"] for e in own.events(1)] == [cents]  # and in its own process

        # What the README adds up: per process, at most the pool plus one LISTEN connection.
        _, prefix, _ = redis_store
        database = make_url(pg_url).database
        with psycopg.connect(make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False),
                             autocommit=True) as conn:
            rows = conn.execute(
                "SELECT application_name, count(*), count(*) FILTER (WHERE query LIKE 'LISTEN %%') "
                "FROM pg_stat_activity WHERE datname = %s AND application_name LIKE %s GROUP BY 1 ORDER BY 1",
                (database, f"{prefix}-%")).fetchall()
    assert [name for name, _, _ in rows] == [f"{prefix}-a", f"{prefix}-b"]
    for name, connections, listeners in rows:
        assert listeners == 1, name
        assert connections <= POOL_SIZE + MAX_OVERFLOW + 1, name


def test_a_log_out_through_one_process_ends_the_stream_on_the_other(two_processes, case):
    """The end of a log-in session crosses processes as a notification: the stream's own check is 30 s away."""
    a, b = two_processes
    beta = Browser()
    assert beta.log_in(a, "beta") == 302
    with EventStream(b.url, f"/a/{case.alliance.id}/events", beta.cookie(), timeout=10) as stream:
        assert stream.status == 200
        assert stream.read_message().retry is not None
        assert beta.submit(a, "/logout", {}, page=f"/a/{case.alliance.id}/")[0] == 302
        logged_out = time.monotonic()
        (message,) = stream.events(1, timeout=ON_TIME + 2)
        assert time.monotonic() - logged_out < ON_TIME
        assert (message.event, message.json) == ("revoked", {"reason": "logged-out"})


def test_failed_log_ins_are_counted_across_processes(two_processes, redis_store):
    _, prefix, client = redis_store
    a, b = two_processes
    statuses = [Browser().log_in((a, b)[n % 2], "alpha", WRONG) for n in range(LOGIN_LIMIT)]
    assert statuses == [200] * LOGIN_LIMIT  # two failures seen by each process: under the limit in either
    for server in (a, b):  # together they spent the budget: both refuse, the right password included
        assert Browser().log_in(server, "alpha") == 429
    assert list(client.scan_iter(match=f"*{prefix}*"))  # the counts are in Redis, not in either process
