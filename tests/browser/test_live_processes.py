"""Live views across real gunicorn processes: another process's entries, and a server that dies and comes back.

These run the production set-up (``gunicorn -k gthread``, see the README):
with PostgreSQL, an entry posted through one process reaches a stream and a
page served by another one through LISTEN/NOTIFY. On both engines, a server
killed with SIGKILL and restarted on the same port leaves a raw stream
client (resuming with Last-Event-ID) and an open dashboard with every entry
recorded meanwhile, exactly once, in order.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ledger.models import Alliance
from tests.browser.conftest import screenshot
from tests.builders import PASSWORD, record
from tests.e2e.api_support import make_tokens
from tests.live_client import EventStream, StreamClosed, login, post_entry
from tests.servers import ServerProcess, free_port, running

LIVE_ENV = {"LEDGER_LIVE_HEARTBEAT_SECONDS": "0.25"}
#: Streams also re-read the database on every heartbeat; across processes the heartbeat is made far longer
#: than the time allowed for delivery, so an event that arrives in time came through LISTEN/NOTIFY.
SLOW_HEARTBEAT_ENV = {"LEDGER_LIVE_HEARTBEAT_SECONDS": "20"}
DELIVERY_SECONDS = 3
#: What live.js puts in #live-status[data-state] while the stream is open.
LIVE = "live"


@pytest.fixture
def two_processes(pg_url, case, tmp_path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Processes A and B on one PostgreSQL database (the case is committed before they start)."""
    servers = (ServerProcess(pg_url, tmp_path, threads=8, env=SLOW_HEARTBEAT_ENV),
               ServerProcess(pg_url, tmp_path, threads=8, env=SLOW_HEARTBEAT_ENV))
    with running(servers):
        yield servers


def cost_body(case, amount: str, partner: str = "Alpha") -> dict:
    return {"date": "2020-05-04", "partner_id": case.pid(partner), "kind": "cost", "amount": amount,
            "category_id": case.cid("production"), "description": f"Fabric rolls {amount}"}


def seq_now(session, alliance_id: int) -> int:
    session.rollback()
    return session.scalar(select(Alliance.event_seq).where(Alliance.id == alliance_id))


def browser_login(page, base_url: str, who: str) -> None:
    page.goto(base_url + "/login")
    page.fill("input[name=email]", f"{who}@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")


def wait_live(page, timeout: float = 10_000) -> None:
    page.wait_for_selector(f"#live-status[data-state={LIVE}]", state="attached", timeout=timeout)


def rows_of(page, entry_id: int) -> int:
    return page.locator(f'[data-live-region=latest] tr[data-entry-id="{entry_id}"]').count()


def test_stream_on_b_receives_an_entry_posted_through_a(two_processes, session, case):
    a_proc, b_proc = two_processes
    a = case.alliance.id
    token = make_tokens(session, case)["alpha"]
    start = seq_now(session, a)
    with EventStream(b_proc.url, f"/a/{a}/events?after={start}", login(b_proc.url, "beta")) as stream:
        assert stream.status == 200
        assert stream.read_message().retry == 1000  # connected: B's listener is starting
        created = post_entry(a_proc.url, token, a, cost_body(case, "250.00"))
        (event,) = stream.events(1, timeout=DELIVERY_SECONDS)
    assert event.seq == start + 1
    assert event.json["entry"]["id"] == created["id"]
    assert event.json["entry"]["amount"] == 25000


def test_page_served_by_b_shows_an_entry_posted_through_a(two_processes, session, case, page):
    a_proc, b_proc = two_processes
    a = case.alliance.id
    token = make_tokens(session, case)["alpha"]
    browser_login(page, b_proc.url, "beta")
    page.goto(f"{b_proc.url}/a/{a}/")
    wait_live(page)
    # Something the viewer is in the middle of typing must survive the live update.
    page.fill("#notify-form input[name=notify_above]", "999.99")
    created = post_entry(a_proc.url, token, a, cost_body(case, "100.00"))
    page.wait_for_selector(f'[data-live-region=latest] tr[data-entry-id="{created["id"]}"]',
                           timeout=DELIVERY_SECONDS * 1000)
    # Alpha bore 100.00 of a cost shared 50/50: the balance table shows it without a reload.
    page.wait_for_function(
        "() => document.querySelector('tr[data-partner=Alpha] [data-figure=net]')?.dataset.cents === '5000'",
        timeout=5_000)
    assert page.input_value("#notify-form input[name=notify_above]") == "999.99"
    assert rows_of(page, created["id"]) == 1
    screenshot(page, "live-dashboard-other-process")


def test_killed_server_restarts_and_everyone_catches_up_exactly(database_url, case, session, tmp_path, page):
    a = case.alliance.id
    port = free_port()
    server = ServerProcess(database_url, tmp_path, port=port, threads=8, env=LIVE_ENV).start()
    stream = None
    try:
        start = seq_now(session, a)
        stream = EventStream(server.url, f"/a/{a}/events?after={start}", login(server.url, "beta"))
        browser_login(page, server.url, "alpha")
        page.goto(f"{server.url}/a/{a}/")
        wait_live(page)

        before = record(session, case, "alpha", partner="Alpha", kind="cost", category="production",
                        amount="10.00", description="before the crash")
        session.commit()
        # Written by this test's process: on SQLite the server sees it at its next heartbeat's re-read.
        (first,) = stream.events(1)
        assert first.seq == start + 1
        assert stream.until_heartbeat() == []
        page.wait_for_selector(f'[data-live-region=latest] tr[data-entry-id="{before.id}"]', timeout=5_000)

        server.kill()
        with pytest.raises((StreamClosed, ConnectionError)):
            stream.until_heartbeat(timeout=5)
        stream.close()
        page.wait_for_selector(f"#live-status:not([data-state={LIVE}])", state="attached", timeout=5_000)

        missed = []
        for n, who in enumerate(["alpha", "beta", "alpha"]):
            missed.append(record(session, case, who, partner=who.title(), kind="cost", category="production",
                                 amount=f"{n + 1}1.00", description=f"while down {n}"))
            session.commit()

        server = ServerProcess(database_url, tmp_path, port=port, threads=8, env=LIVE_ENV).start()
        stream = EventStream(server.url, f"/a/{a}/events", login(server.url, "beta"), last_event_id=first.seq)
        resumed = stream.until_heartbeat()
        assert [m.seq for m in resumed] == [start + 2, start + 3, start + 4]
        assert [m.json["entry"]["id"] for m in resumed] == [e.id for e in missed]

        wait_live(page, timeout=15_000)
        everyone = [before, *missed]
        page.wait_for_function(
            "ids => ids.every(id => document.querySelectorAll("
            "`[data-live-region=latest] tr[data-entry-id=\"${id}\"]`).length === 1)",
            arg=[e.id for e in everyone], timeout=10_000)
        page.wait_for_timeout(500)  # anything shown twice would have arrived by now
        assert [rows_of(page, e.id) for e in everyone] == [1, 1, 1, 1]
        screenshot(page, "live-dashboard-after-restart")
    finally:
        if stream is not None:
            stream.close()
        server.stop()
