"""How soon does an entry posted through the API reach 50 open live views? (Target: p95 under 250 ms.)

For each engine this script builds the case alliance in an empty database
(real migrations, real services), starts real ``gunicorn -k gthread``
servers on loopback, opens ``--clients`` Server-Sent Events streams on the
alliance (logged-in browser sessions, plain sockets, one thread each), then
posts ``--posts`` entries through ``/api/v1`` one after another, ``--interval``
apart. The latency of one delivery is the time from the POST returning to
one client having read that entry's event; every client must receive every
event once, in order. On SQLite there is one server process (the in-process
broker wakes the streams); on PostgreSQL there are two, the clients are split
across them and the posts alternate, so half of all deliveries cross
processes through LISTEN/NOTIFY.

    .venv/bin/python -m benchmarks.live                 # both engines
    .venv/bin/python -m benchmarks.live --no-pg --clients 20 --posts 40

The PostgreSQL database in ``--pg-url`` is wiped (schema ``public`` dropped).
Everything is bounded: a fixed number of clients and posts, and a deadline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``ledger`` and ``tests`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text

from ledger.db import make_engine, make_session_factory, normalise_url
from ledger.migrate import upgrade
from ledger.models import Alliance, User
from ledger.services.users import create_token
from tests.builders import build_case
from tests.live_client import EventStream, StreamClosed, login, post_entry
from tests.servers import ServerProcess, running

TARGET_P95_MS = 250.0
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
#: Users whose log-ins the stream clients share (a session cookie works on any number of connections).
VIEWERS = ["coordinator", "alpha", "beta", "gamma", "omega", "accountant", "steering"]
#: Long, as in production: deliveries must come from wake-ups, not from the heartbeat's re-read.
HEARTBEAT_SECONDS = "15"


@dataclass
class Client:
    """One open live view: when it read each entry's event, and the order of the event numbers."""

    base_url: str
    cookie: str
    path: str
    received_at: dict[int, float] = field(default_factory=dict)
    seqs: list[int] = field(default_factory=list)
    error: str | None = None

    def run(self, ready: threading.Barrier, expected: int, deadline: float) -> None:
        try:
            with EventStream(self.base_url, self.path, self.cookie, timeout=30) as stream:
                stream.read_message(timeout=10)  # the retry hint: the stream is open
                ready.wait(timeout=30)
                while len(self.seqs) < expected and time.monotonic() < deadline:
                    message = stream.read_message(timeout=max(0.1, deadline - time.monotonic()))
                    if message.event == "activity":
                        now = time.perf_counter()
                        data = message.json
                        self.seqs.append(data["seq"])
                        if data["entry"] is not None:
                            self.received_at[data["entry"]["id"]] = now
        except (TimeoutError, StreamClosed, OSError, threading.BrokenBarrierError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"


@dataclass
class Result:
    engine: str
    processes: int
    clients: int
    posts: int
    latencies_ms: list[float]
    from_send_ms: list[float]
    expected_deliveries: int
    early: int
    errors: list[str]
    in_order: bool

    def percentile(self, p: float, samples: list[float] | None = None) -> float:
        ordered = sorted(self.latencies_ms if samples is None else samples)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] if ordered else float("nan")


def prepare(url: str) -> tuple[int, dict[str, str], int, dict[str, int]]:
    """Build the case; (alliance id, API token per poster, current event number, ids for an entry body)."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            case = build_case(session)
            tokens = {}
            for who in ("alpha", "beta"):
                _, tokens[who] = create_token(session, session.get(User, case.users[who].id), "benchmark")
            session.commit()
            alliance_id = case.alliance.id
            seq = session.scalar(select(Alliance.event_seq).where(Alliance.id == alliance_id))
            ids = {"Alpha": case.pid("Alpha"), "Beta": case.pid("Beta"), "production": case.cid("production")}
    finally:
        engine.dispose()
    return alliance_id, tokens, seq, ids


def run_engine(engine_name: str, url: str, instance: Path, *, processes: int, threads: int, clients: int,
               posts: int, interval: float, timeout: float) -> Result:
    alliance_id, tokens, start_seq, ids = prepare(url)
    # The clients stand for many people on loopback, sharing a few log-ins: the caps on streams per user and
    # per address (meant for one person's pages) are lifted to the number of clients.
    env = {"LEDGER_LIVE_HEARTBEAT_SECONDS": HEARTBEAT_SECONDS, "LEDGER_LIVE_STREAMS_PER_USER": str(clients),
           "LEDGER_LIVE_STREAMS_PER_ADDRESS": str(clients)}
    servers = [ServerProcess(url, instance, threads=threads, env=env) for _ in range(processes)]
    with running(servers):  # killed afterwards: open streams would hold a graceful stop
        cookies = {who: login(servers[0].url, who) for who in VIEWERS}  # one secret key: valid on every process
        path = f"/a/{alliance_id}/events?after={start_seq}"
        viewers = [Client(servers[i % processes].url, cookies[VIEWERS[i % len(VIEWERS)]], path)
                   for i in range(clients)]
        ready = threading.Barrier(clients + 1)
        deadline = time.monotonic() + timeout
        threads_ = [threading.Thread(target=c.run, args=(ready, posts, deadline), daemon=True) for c in viewers]
        for t in threads_:
            t.start()
        ready.wait(timeout=60)
        posted_at: dict[int, tuple[float, float]] = {}  # entry id -> (POST sent, POST returned)
        for n in range(posts):
            who, partner = ("alpha", "Alpha") if n % 2 == 0 else ("beta", "Beta")
            target = servers[n % processes]
            body = {"date": "2020-05-04", "partner_id": ids[partner], "kind": "cost", "amount": f"{n + 1}.25",
                    "category_id": ids["production"], "description": f"benchmark entry {n}"}
            sent = time.perf_counter()
            entry = post_entry(target.url, tokens[who], alliance_id, body)
            posted_at[entry["id"]] = (sent, time.perf_counter())
            time.sleep(interval)
        for t in threads_:
            t.join(timeout=max(0.1, deadline - time.monotonic()))
    latencies, from_send, early = [], [], 0
    for client in viewers:
        for entry_id, received in client.received_at.items():
            sent, returned = posted_at[entry_id]
            delta = (received - returned) * 1000
            early += delta < 0  # the commit wakes the streams before the response is written
            latencies.append(max(delta, 0.0))
            from_send.append((received - sent) * 1000)
    expected_seqs = list(range(start_seq + 1, start_seq + posts + 1))
    return Result(engine_name, processes, clients, posts, latencies, from_send, clients * posts, early,
                  [c.error for c in viewers if c.error], all(c.seqs == expected_seqs for c in viewers))


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def table(results: list[Result]) -> str:
    lines = ["| engine | server processes | stream clients | posts | deliveries | in order, once | "
             "p50 | p95 | max | p95 target | p50 / p95 from POST sent |",
             "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: |"]
    for r in results:
        ok = "yes" if r.in_order and not r.errors else "NO"
        verdict = "met" if r.percentile(95) < TARGET_P95_MS and ok == "yes" else "MISSED"
        lines.append(
            f"| {r.engine} | {r.processes} | {r.clients} | {r.posts} | {len(r.latencies_ms)}/{r.expected_deliveries} "
            f"| {ok} | {r.percentile(50):.1f} ms | {r.percentile(95):.1f} ms | {max(r.latencies_ms or [0]):.1f} ms "
            f"| {verdict} (< {TARGET_P95_MS:.0f} ms) "
            f"| {r.percentile(50, r.from_send_ms):.1f} / {r.percentile(95, r.from_send_ms):.1f} ms |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between posts")
    parser.add_argument("--timeout", type=float, default=60.0, help="deadline per engine, seconds")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)
    common = {"clients": args.clients, "posts": args.posts, "interval": args.interval, "timeout": args.timeout}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            # One process: every stream holds a thread, so threads must exceed the clients (plus the posts).
            results.append(run_engine("SQLite", f"sqlite:///{Path(tmp) / 'live.db'}", Path(tmp) / "sqlite",
                                      processes=1, threads=args.clients + 16, **common))
            print(table(results[-1:]), flush=True)
        if not args.no_pg:
            url = normalise_url(args.pg_url)
            reset_postgres(url)
            per_process = -(-args.clients // 2)
            results.append(run_engine("PostgreSQL", url, Path(tmp) / "pg", processes=2,
                                      threads=per_process + 16, **common))
            print(table(results[-1:]), flush=True)
    print()
    print(table(results))
    for r in results:
        if r.early:
            print(f"{r.engine}: {r.early} deliveries were read before the POST response (counted as 0 ms).")
        for error in sorted(set(r.errors))[:5]:
            print(f"{r.engine}: client error: {error}")
        if r.latencies_ms:
            print(f"{r.engine}: mean {statistics.fmean(r.latencies_ms):.1f} ms over {len(r.latencies_ms)} deliveries")
    missed = [r for r in results if not r.in_order or r.errors or r.percentile(95) >= TARGET_P95_MS]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
