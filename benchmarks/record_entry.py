"""How fast is recording an entry through the API? (Target: under 20 ms a request; 200 a second sustained.)

The scene of issue 7: two server processes (gunicorn) on one PostgreSQL, on this 2-core machine, with
partners' programs posting entries through ``POST /api/v1/alliances/<id>/entries`` with bearer tokens.

1. A fresh database (schema ``public`` of ``--pg-url`` dropped; the database is created if missing),
   the real Alembic migrations, and a realistic set-up built only through the services: the demo
   alliance (its ~300 entries and value lifecycle) plus ``--alliances - 1`` more alliances, each with
   four partners, a partner member per partner, the protagonists' 50/50 agreement, the default
   categories and a few entries. Every partner member gets an API token; each request is one partner
   member recording an entry for its own partner (costs, revenue, fees, contributions, settlements,
   dated inside the term, each with a unique reference).
2. In-process (Flask test client), the SQL statements one POST runs (``before_cursor_execute``);
   with ``--profile`` also a pyinstrument (or, without it, cProfile) profile of ``--profile-posts``
   POSTs, with the own time summed by area (psycopg, SQLAlchemy, ledger, Flask).
3. Two gunicorn processes on two loopback ports (``--server``: ``gthread:THREADS[/WORKERS]`` or
   ``sync[/WORKERS]``; repeat it to compare), a warm-up, then with the open-loop load generator of
   ``benchmarks/loadgen.py``:
   - unloaded latency: ``--sequential`` requests one after the other, alternating servers; its p95 is
     the "under 20 ms a request" figure;
   - ``--rate`` requests a second for ``--seconds``, spread over all the alliances;
   - the same rate on one alliance only (the demo alliance, its four partners posting).
   Latency is measured from each request's scheduled send time, so queueing shows. For each load the
   CPU time the servers' processes and the PostgreSQL backends used is read from /proc and divided by
   the answers: a cost per request that other work on the machine barely disturbs, and with it the
   rate two cores could sustain.
4. Afterwards, by SQL: every request answered 201 is recorded exactly once (by its reference), nothing
   refused or never sent is, and every loaded alliance's hash chain verifies.

    .venv/bin/python -m benchmarks.record_entry                  # 200 req/s for 30 s, 10 alliances
    .venv/bin/python -m benchmarks.record_entry --quick          # ~20 s in all (no demo alliance)
    .venv/bin/python -m benchmarks.record_entry --server sync --server gthread:4 --seconds 10
    .venv/bin/python -m benchmarks.record_entry --no-load --profile   # statements and profile only
    .venv/bin/python -m benchmarks.record_entry --json results.json

Exit status: 0 if every target is met, 1 if one is missed, 2 if an entry was lost or doubled or a chain
does not verify. The PostgreSQL database in ``--pg-url`` is wiped.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``ledger``, ``tests`` and ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from benchmarks.dataset import fresh_postgres
from benchmarks.loadgen import LoadResult, Target, http_request, run_open_loop, run_sequential
from ledger import create_app
from ledger.chain import verify_alliance
from ledger.clock import utcnow
from ledger.db import make_engine, make_session_factory
from ledger.demo import find_demo, load_demo
from ledger.domain.vocabulary import MemberRole
from ledger.migrate import upgrade
from ledger.models import Alliance, Category, Entry, Membership, Partner, Period
from ledger.services import agreements, alliances, entries, users
from tests.servers import GUNICORN, ServerProcess, running

TARGET_MS = 20.0
TARGET_RATE = 200.0
#: An open loop "sustains" the rate if it answered at least this share of it (the last answers trail).
RATE_TOLERANCE = 0.98
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_load"
#: Two processes of one gthread worker with 8 threads each: on 2 cores they sustained about twice the rate of
#: sync workers (threads overlap a request's database round trips and its commit's fsync with another's
#: Python work); 16 threads did no better than 8. With the 6-statement POST, 4 threads did as well as 8
#: within the machine's run-to-run noise, and 3 sync workers per process did worse.
DEFAULT_SERVER = "gthread:8"
PASSWORD = "load-benchmark-2026"  # the seeded users' password (never used: the load uses tokens)
#: How often each kind of entry is posted.
KIND_WEIGHTS = {"cost": 45, "revenue": 25, "service_fee": 12, "contribution": 12, "settlement": 6}
#: (name, role, type) of each extra alliance's partners; the first two share the pools 50/50.
PARTNERS = (("North", "protagonist", "other"), ("South", "protagonist", "commercial_laboratory"),
            ("Supply", "supplier", "supplier"), ("Market", "secondary", "customer"))
CURRENCIES = ("EUR", "USD", "GBP", "CHF")
SEED_ENTRIES = 30  # recorded through the services in each extra alliance before the load
WARMUP = 40  # requests sent to the fresh servers before anything is measured


# --- The set-up ---------------------------------------------------------------------------------------


@dataclass
class Book:
    """One alliance the load posts to: its partner members' tokens and what a valid entry may name."""

    alliance_id: int
    name: str
    #: (token, partner id) of each partner member.
    posters: list[tuple[str, int]]
    partner_ids: list[int]
    category_ids: list[int]
    first_day: date
    last_day: date


def _open_days(session: Session, alliance: Alliance, today: date) -> tuple[date, date]:
    """The last 90 days of the term up to today, after any closed period: where new entries go."""
    closed = session.scalar(select(func.max(Period.end_date)).where(Period.alliance_id == alliance.id))
    last = min(alliance.term_end, max(today, alliance.start_date))
    first = max(alliance.start_date, last - timedelta(days=90))
    if closed is not None:
        first = max(first, closed + timedelta(days=1))
    if first > last:
        raise SystemExit(f"{alliance.name} has no open day to record in")
    return first, last


def _book(session: Session, alliance: Alliance, today: date) -> Book:
    members = session.scalars(select(Membership).where(
        Membership.alliance_id == alliance.id, Membership.role == MemberRole.PARTNER_MEMBER)
        .order_by(Membership.id)).all()
    posters = []
    for membership in members:
        _, token = users.create_token(session, membership.user, "load benchmark")
        posters.append((token, membership.partner_id))
    first, last = _open_days(session, alliance, today)
    return Book(alliance.id, alliance.name, posters,
                list(session.scalars(select(Partner.id).where(Partner.alliance_id == alliance.id)
                                     .order_by(Partner.id))),
                list(session.scalars(select(Category.id).where(Category.alliance_id == alliance.id)
                                     .order_by(Category.id))), first, last)


def add_alliance(session: Session, n: int, rng: random.Random, today: date) -> Alliance:
    """Alliance ``n``: four partners, a partner member each, the protagonists' 50/50 agreement, a few entries."""
    coordinator = users.create_user(session, f"coordinator{n}@load.example", f"Coordinator {n}", PASSWORD)
    start = date(today.year - 1, 1, 1)
    alliance = alliances.create_alliance(session, coordinator, {
        "name": f"Load alliance {n}", "cause": f"Shared production line number {n}",
        "currency": CURRENCIES[n % len(CURRENCIES)], "start_date": start.isoformat(),
        "term_end": date(today.year + 2, 12, 31).isoformat()})
    coord_m = session.scalar(select(Membership).where(Membership.alliance_id == alliance.id,
                                                      Membership.user_id == coordinator.id))
    partners = [alliances.add_partner(session, coordinator, coord_m, {"name": name, "role": role, "type": type_})
                for name, role, type_ in PARTNERS]
    members = [alliances.add_member(session, coordinator, coord_m, {
        "email": f"{p.name.lower()}{n}@load.example", "name": f"{p.name} member {n}", "password": PASSWORD,
        "role": MemberRole.PARTNER_MEMBER.value, "partner_id": p.id}) for p in partners]
    shares = [{"partner_id": p.id, "weight": "1"} for p in partners[:2]]
    agreements.create_version(session, coordinator, coord_m, {
        "effective_from": start.isoformat(), "note": "Founding agreement: the protagonists share 50/50.",
        "pools": [{"name": "Shared costs", "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
                   "categories": "all", "shares": shares},
                  {"name": "Returns", "side": "returns", "kinds": ["revenue"], "categories": "all",
                   "shares": shares}]})
    categories = list(session.scalars(select(Category.id).where(Category.alliance_id == alliance.id)))
    for k in range(SEED_ENTRIES):
        member = members[k % len(members)]
        day = start + timedelta(days=rng.randint(0, (today - start).days))
        kind = rng.choice(["cost", "cost", "revenue", "service_fee", "contribution"])
        entries.record_entry(session, member.user, member, {
            "kind": kind, "date": day.isoformat(), "partner_id": member.partner_id,
            "category_id": rng.choice(categories), "amount": _amount(rng),
            "description": f"Opening {kind.replace('_', ' ')} {k + 1}", "reference": f"SEED-{n}-{k + 1}"})
    return alliance


def build(session: Session, count: int, seed: int, demo: bool = True) -> list[Book]:
    """The demo alliance and ``count - 1`` more (or ``count`` without the demo); commits. The first is the demo."""
    rng = random.Random(seed)
    today = utcnow().date()  # the UTC alliances' today (ledger.clock); the demo's Rome is at most a day on
    first = []
    if demo:
        load_demo(session)
        first = [find_demo(session)]
    extra = [add_alliance(session, n, rng, today) for n in range(1, count + 1 - len(first))]
    books = [_book(session, a, today) for a in [*first, *extra]]
    session.commit()
    return books


def _amount(rng: random.Random) -> str:
    cents = rng.randint(1_000, 2_500_000)
    return f"{cents // 100}.{cents % 100:02d}"


# --- The requests -------------------------------------------------------------------------------------


class Requests:
    """Request ``i``: a partner member of ``books[i % len(books)]`` recording an entry tagged ``<tag>-<i>``.

    Paths, headers and bodies are made before the run, so the load generator only joins bytes.
    """

    def __init__(self, books: list[Book], tag: str, count: int, seed: int) -> None:
        self.tag = tag
        rng = random.Random(seed)
        kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
        self.prepared: list[tuple[str, dict[str, str], bytes]] = []
        for i in range(count):
            book = books[i % len(books)]
            token, partner_id = book.posters[(i // len(books)) % len(book.posters)]
            kind = rng.choices(kinds, weights)[0]
            body = {"kind": kind, "date": (book.first_day + timedelta(
                        days=rng.randint(0, (book.last_day - book.first_day).days))).isoformat(),
                    "partner_id": partner_id, "amount": _amount(rng),
                    "description": f"Load test {kind.replace('_', ' ')} {i} for {book.name}",
                    "reference": f"{tag}-{i}"}
            if kind == "settlement":
                body["counterparty_id"] = rng.choice([p for p in book.partner_ids if p != partner_id])
            else:
                body["category_id"] = rng.choice(book.category_ids)
            self.prepared.append((f"/api/v1/alliances/{book.alliance_id}/entries",
                                  {"Authorization": f"Bearer {token}"}, json.dumps(body).encode()))

    def __call__(self, i: int, target: Target) -> bytes:
        path, headers, body = self.prepared[i]
        return http_request("POST", target, path, headers, body)


# --- The servers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    """``gthread:4`` (one worker, four threads), ``gthread:4/2`` (two such workers), ``sync``, ``sync/2``."""

    kind: str
    threads: int = 1
    workers: int = 1

    @classmethod
    def parse(cls, text_: str) -> ServerSpec:
        head, _, workers = text_.partition("/")
        kind, _, threads = head.partition(":")
        if kind not in ("gthread", "sync") or (kind == "sync" and threads):
            raise argparse.ArgumentTypeError(f"{text_!r}: use gthread:THREADS[/WORKERS] or sync[/WORKERS]")
        try:
            return cls(kind, int(threads or (4 if kind == "gthread" else 1)), int(workers or 1))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text_!r}: threads and workers are numbers") from None

    def __str__(self) -> str:
        core = f"gthread:{self.threads}" if self.kind == "gthread" else "sync"
        return core + (f"/{self.workers}" if self.workers != 1 else "")

    @property
    def label(self) -> str:
        each = f"{self.workers} {self.kind} worker{'s' if self.workers > 1 else ''}"
        if self.kind == "gthread":
            each += f" x {self.threads} threads"
        return f"2 x gunicorn ({each})"


class Server(ServerProcess):
    """:class:`tests.servers.ServerProcess` with a choice of gunicorn worker class.

    Each worker's pool keeps as many PostgreSQL connections as it has threads, so no request pays for
    opening an overflow connection; keep-alive connections live 5 s as in ``deploy/gunicorn.conf.py``.
    No access log (the deployment writes one to stdout: a little more CPU per request).
    """

    def __init__(self, database_url: str, instance_path: Path, spec: ServerSpec) -> None:
        super().__init__(database_url, instance_path, workers=spec.workers, threads=spec.threads,
                         env={"LEDGER_ENV": "production", "LEDGER_DB_POOL_SIZE": str(spec.threads)})
        self.spec = spec

    def command(self) -> list[str]:
        worker = ["-k", "gthread", "--threads", str(self.threads)] if self.spec.kind == "gthread" else ["-k", "sync"]
        return [str(GUNICORN), *worker, "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                "--keep-alive", "5", "--graceful-timeout", "10", "--backlog", "2048", "wsgi:app"]


# --- CPU accounting (Linux /proc): what a request costs the servers and PostgreSQL, whatever else runs ----


TICK = 1 / 100  # USER_HZ: /proc reports CPU time in 1/100 s on Linux


def _proc_cpu(pid: int) -> tuple[int, float] | None:
    """(process group, CPU seconds used so far) of ``pid``, or None if it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[2]), (int(fields[11]) + int(fields[12])) * TICK


def cpu_snapshot(server_groups: list[int], backend_pids: list[int]) -> dict[str, dict[int, float]]:
    """CPU seconds so far of every process of the servers' process groups, and of the PostgreSQL backends."""
    snapshot: dict[str, dict[int, float]] = {"servers": {}, "postgres": {}}
    proc = Path("/proc")
    if not proc.is_dir():
        return snapshot
    for entry in proc.iterdir():
        if entry.name.isdigit() and (found := _proc_cpu(int(entry.name))) and found[0] in server_groups:
            snapshot["servers"][int(entry.name)] = found[1]
    for pid in backend_pids:
        if found := _proc_cpu(pid):
            snapshot["postgres"][pid] = found[1]
    return snapshot


def backend_pids(sessions) -> list[int]:
    """The PostgreSQL backends connected to this database (the servers' pooled connections among them)."""
    with sessions() as session:
        return list(session.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND pid <> pg_backend_pid()")))


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds used between two snapshots (a backend that started in between counts from zero)."""
    return {kind: sum(seconds - before[kind].get(pid, 0.0) for pid, seconds in after[kind].items())
            for kind in after}


# --- The checks ---------------------------------------------------------------------------------------


@dataclass
class Check:
    """What the database holds for one load run's tag, against what the clients were told."""

    answered_201: int = 0
    recorded: int = 0
    doubled: int = 0
    #: Answered 201 but not in the database, or in it though refused / never sent.
    lost: int = 0
    phantom: int = 0
    #: Sent but unanswered (client timeout): may or may not be recorded; not counted as a problem.
    unknown: int = 0

    @property
    def exact(self) -> bool:
        return self.doubled == 0 and self.lost == 0 and self.phantom == 0

    def cell(self) -> str:
        text_ = f"{self.recorded} = {self.answered_201}" if self.exact else (
            f"{self.recorded} vs {self.answered_201}: {self.lost} lost, {self.doubled} doubled, "
            f"{self.phantom} unexpected")
        return text_ + (f" (+{self.unknown} unanswered)" if self.unknown else "")


def settle(sessions, tag: str, seconds: float = 60.0) -> None:
    """Wait until requests the client gave up on have finished in the servers (the tag's count is still)."""
    deadline, last, still_since = time.monotonic() + seconds, -1, time.monotonic()
    while time.monotonic() < deadline:
        with sessions() as session:
            now = session.scalar(select(func.count()).select_from(Entry).where(Entry.reference.like(f"{tag}-%")))
        if now != last:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since > 1.5:
            return
        time.sleep(0.25)


def check(sessions, tag: str, result: LoadResult, offset: int = 0) -> Check:
    """Every 201 is one entry with the request's reference; nothing else of this tag is recorded.

    Requests numbered below ``offset`` (a warm-up) are left out.
    """
    if result.unanswered:
        settle(sessions, tag)
    with sessions() as session:
        references = session.scalars(select(Entry.reference).where(Entry.reference.like(f"{tag}-%"))).all()
    counts = Counter(i for i in (int(r.rsplit("-", 1)[1]) for r in references) if i >= offset)
    created = {i for i, status in result.statuses.items() if status == 201 and i >= offset}
    unknown = {i for i in result.unanswered if i >= offset}
    return Check(answered_201=len(created), recorded=sum(counts.values()),
                 doubled=sum(n - 1 for n in counts.values() if n > 1),
                 lost=len(created - set(counts)), phantom=len(set(counts) - created - unknown),
                 unknown=len(unknown))


def verify_chains(sessions, books: list[Book]) -> list[str]:
    """The verdict of every loaded alliance's hash chain; problems first."""
    lines = []
    with sessions() as session:
        for book in books:
            verdict = verify_alliance(session, book.alliance_id)
            lines.append(f"{'OK' if verdict.intact else 'BROKEN'} #{book.alliance_id} {book.name}: "
                         f"{verdict.summary()}")
    return sorted(lines, key=lambda line: line.startswith("OK"))


# --- In-process: statements per POST and the profile ---------------------------------------------------


@dataclass
class Statements:
    per_post: list[int] = field(default_factory=list)
    commits_per_post: list[int] = field(default_factory=list)
    example: list[str] = field(default_factory=list)
    in_process_ms: list[float] = field(default_factory=list)
    #: CPU ms of this process per POST (the app's Python work, without PostgreSQL's).
    in_process_cpu_ms: list[float] = field(default_factory=list)

    @property
    def typical(self) -> int:
        return Counter(self.per_post).most_common(1)[0][0] if self.per_post else 0


def in_process(url: str, book: Book, posts: int, profile: bool, profile_posts: int, seed: int) -> Statements:
    """POSTs through the Flask test client on the same database: SQL statements counted, optionally profiled."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark", "ENV": "production"})
    engine = app.extensions["ledger.engine"]
    statements: list[str] = []
    commits = [0]

    def on_execute(_conn, _cursor, statement, _params, _context, _executemany) -> None:
        statements.append(statement)

    def on_commit(_conn) -> None:
        commits[0] += 1

    requests = Requests([book], f"PROF{seed}", posts + profile_posts, seed)
    client = app.test_client()

    def post(i: int) -> None:
        path, headers, body = requests.prepared[i]
        response = client.post(path, data=body, headers={**headers, "Content-Type": "application/json"})
        if response.status_code != 201:
            raise SystemExit(f"in-process POST {path}: HTTP {response.status_code}: {response.get_data()[:300]}")

    result = Statements()
    try:
        for i in range(3):  # warm-up: imports, caches, the first connection
            post(i)
        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine, "commit", on_commit)
        for i in range(3, posts):
            statements.clear()
            commits[0] = 0
            started, cpu_started = time.perf_counter(), time.process_time()
            post(i)
            result.in_process_ms.append((time.perf_counter() - started) * 1000)
            result.in_process_cpu_ms.append((time.process_time() - cpu_started) * 1000)
            result.per_post.append(len(statements))
            result.commits_per_post.append(commits[0])
            if not result.example:
                result.example = [" ".join(s.split())[:160] for s in statements]
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
        if profile:
            _profile(lambda: [post(i) for i in range(posts, posts + profile_posts)], profile_posts)
    finally:
        engine.dispose()
    return result


#: Where a profiled sample's own time goes, by the file it is in (first match wins).
AREAS = (("psycopg", "psycopg: driver and waiting for PostgreSQL"), ("sqlalchemy", "SQLAlchemy (ORM, Core)"),
         ("/ledger/", "ledger code"), ("flask", "Flask, Werkzeug (and the test client)"),
         ("werkzeug", "Flask, Werkzeug (and the test client)"), ("json", "json"))


def _profile(run, posts: int) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import pstats

        print(f"\n-- cProfile of {posts} in-process POSTs (pip install pyinstrument for a call tree)")
        profiler = cProfile.Profile()
        profiler.runcall(run)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return
    profiler = Profiler(interval=0.0005)
    profiler.start()
    run()
    session = profiler.stop()
    print(f"\n-- pyinstrument profile of {posts} in-process POSTs (wall clock, Flask test client): "
          f"{1000 * session.duration / posts:.1f} ms a POST, of which CPU {1000 * session.cpu_time / posts:.1f} ms")
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    areas: Counter = Counter()
    functions: Counter = Counter()
    # A frame's own time is its time less its children's; a built-in's (a socket wait, say) or a "[self]"
    # leaf's is charged to the nearest caller that has a file, so waiting in psycopg counts as psycopg.
    stack = [(session.root_frame(), "", "")]
    while stack:
        frame, caller_path, caller_name = stack.pop()
        path = (frame.file_path or "").replace("\\", "/")
        name = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        if frame.is_synthetic or not path or path.startswith("<"):
            path, name = caller_path, caller_name
        stack.extend((child, path, name) for child in frame.children)
        own = frame.time - sum(child.time for child in frame.children)
        if own > 0:
            areas[next((label for needle, label in AREAS if needle in path), "other")] += own
            functions[name] += own
    total = sum(areas.values()) or 1.0
    print("Own time by area (ms a POST, share):")
    for label, seconds in areas.most_common():
        print(f"  {1000 * seconds / posts:6.2f} ms  {100 * seconds / total:4.0f}%  {label}")
    print("Functions with the most own time (ms a POST):")
    for name, seconds in functions.most_common(12):
        print(f"  {1000 * seconds / posts:6.2f} ms  {name}")


# --- The run ------------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One measured load against one server configuration."""

    server: str
    name: str
    size: str
    result: LoadResult
    check: Check
    target: str
    met: bool
    #: CPU ms a 2xx answer cost the two server process groups, and the PostgreSQL backends (Linux only).
    server_cpu_ms: float = math.nan
    postgres_cpu_ms: float = math.nan

    @property
    def capacity(self) -> float:
        """Requests a second two cores could serve at this CPU cost per request (servers + PostgreSQL)."""
        cost = self.server_cpu_ms + self.postgres_cpu_ms
        return 2000 / cost if cost > 0 else math.nan


def run_server(spec: ServerSpec, url: str, books: list[Book], args: argparse.Namespace, workdir: Path,
               sessions) -> list[Phase]:
    servers = [Server(url, workdir, spec), Server(url, workdir, spec)]
    phases: list[Phase] = []
    print(f"\n== {spec.label} on ports {servers[0].port} and {servers[1].port}")
    with running(servers):
        targets = [Target("127.0.0.1", s.port) for s in servers]
        run_tag = f"LG{int(time.time())}{spec.kind[0]}{spec.threads}{spec.workers}"
        groups = [s.process.pid for s in servers]  # each server leads its own process group
        n = len(books)

        def measured(name: str, size: str, tag: str, run, target: str) -> Phase:
            before = cpu_snapshot(groups, backend_pids(sessions))
            result = run()
            used = cpu_used(before, cpu_snapshot(groups, backend_pids(sessions)))
            print(result.summary())
            if result.target_rate is None:
                met = result.p95 < TARGET_MS and result.error_count == 0
            else:
                met = result.achieved_rate >= RATE_TOLERANCE * result.target_rate and result.error_count == 0
            phase = Phase(str(spec), name, size, result, check(sessions, tag, result), target, met)
            if result.answered and used["servers"] > 0:
                phase.server_cpu_ms = 1000 * used["servers"] / result.answered
                phase.postgres_cpu_ms = 1000 * used["postgres"] / result.answered
                print(f"  CPU/request servers {phase.server_cpu_ms:.1f} ms, PostgreSQL {phase.postgres_cpu_ms:.1f} ms "
                      f"(two cores' worth: ~{phase.capacity:.0f} req/s)")
            return phase

        # Warm-up: each worker's first requests pay for lazy imports, the connection pool and caches.
        warmup = run_sequential(targets, Requests(books, f"{run_tag}-WARM", WARMUP, args.seed + 99), count=WARMUP)
        if warmup.error_count:
            raise SystemExit("the warm-up failed:\n" + warmup.summary())
        tag = f"{run_tag}-SEQ"
        requests = Requests(books, tag, args.sequential, args.seed)
        phases.append(measured(
            "sequential", f"{n} alliances", tag,
            lambda: run_sequential(targets, requests, count=args.sequential, label=f"sequential over {n} alliances"),
            f"p95 < {TARGET_MS:g} ms"))

        count = math.ceil(args.rate * args.seconds)
        for name, chosen in (("spread", books), ("one alliance", books[:1])):
            tag = f"{run_tag}-{'SPR' if chosen is books else 'ONE'}"
            size = f"{len(chosen)} alliance{'s' if len(chosen) > 1 else ''}"
            requests = Requests(chosen, tag, count, args.seed + len(chosen))
            phases.append(measured(
                name, size, tag,
                lambda requests=requests, name=name, size=size: run_open_loop(
                    targets, requests, rate=args.rate, seconds=args.seconds, connections=args.connections,
                    timeout=args.timeout, drain=args.drain, label=f"{args.rate:g} req/s, {name} ({size})"),
                f"{args.rate:g} req/s sustained (>= {RATE_TOLERANCE * args.rate:g}), 0 errors"))
    return phases


def report(phases: list[Phase], statements: Statements, chains: list[str]) -> None:
    print("\n| server | load | requests | achieved req/s | p50 ms | p95 ms | p99 ms | max ms | errors "
          "| recorded = 201s | CPU ms/req servers + PG | loadgen CPU | target |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
    for p in phases:
        r = p.result
        rate = "-" if r.target_rate is None else f"{r.achieved_rate:.1f}"
        print(f"| {p.server} | {p.name}, {p.size} | {r.scheduled} | {rate} | {r.p50:.1f} | {r.p95:.1f} "
              f"| {r.p99:.1f} | {r.max:.1f} | {r.error_count} | {p.check.cell()} "
              f"| {p.server_cpu_ms:.1f} + {p.postgres_cpu_ms:.1f} | {100 * r.cpu_share:.0f}% "
              f"| {p.target}: {'met' if p.met else 'MISSED'} |")
    if statements.per_post:
        spread = Counter(statements.per_post)
        print(f"\nSQL statements per POST (in-process, {len(statements.per_post)} POSTs): {statements.typical} "
              f"(seen: {dict(sorted(spread.items()))}), commits per POST: "
              f"{Counter(statements.commits_per_post).most_common(1)[0][0]}; in-process median "
              f"{statistics.median(statements.in_process_ms):.1f} ms, of which CPU "
              f"{statistics.median(statements.in_process_cpu_ms):.1f} ms")
    print("Hash chains: " + ("all intact" if all(c.startswith("OK") for c in chains) else "BROKEN"))
    for line in chains:
        if not line.startswith("OK"):
            print("  " + line)


def json_rows(phases: list[Phase], statements: Statements, several: bool) -> list[dict]:
    """The rows ``benchmarks/run_all.py`` collects; ``size`` is the number of alliances the load went to."""
    def row(size: int, measure: str, value: float, unit: str, target: str = "") -> dict:
        return {"benchmark": "record_entry", "engine": "postgresql", "size": size, "measure": measure,
                "value": float(value) if math.isnan(value) else round(float(value), 3), "unit": unit,
                "target": target}

    rows = []
    for p in phases:
        prefix = f"{p.server} " if several else ""
        r = p.result
        alliances = int(p.size.split()[0])
        if p.name == "sequential":
            rows.append(row(alliances, f"{prefix}single request p50", r.p50, "ms"))
            rows.append(row(alliances, f"{prefix}single request p95", r.p95, "ms", f"< {TARGET_MS:g} ms"))
            rows.append(row(alliances, f"{prefix}single request p99", r.p99, "ms"))
            rows.append(row(alliances, f"{prefix}single request errors", r.error_count, "count", "0"))
            continue
        name = f"{prefix}{r.target_rate:g} req/s {p.name}"
        rows.append(row(alliances, f"{name}: achieved rate", r.achieved_rate, "req/s",
                        f">= {RATE_TOLERANCE * r.target_rate:g} req/s"))
        for pct, value in (("p50", r.p50), ("p95", r.p95), ("p99", r.p99)):
            rows.append(row(alliances, f"{name}: {pct}", value, "ms"))
        rows.append(row(alliances, f"{name}: errors", r.error_count, "count", "0"))
        rows.append(row(alliances, f"{name}: lost or doubled", p.check.lost + p.check.doubled + p.check.phantom,
                        "count", "0"))
        rows.append(row(alliances, f"{name}: server CPU per request", p.server_cpu_ms, "ms"))
        rows.append(row(alliances, f"{name}: PostgreSQL CPU per request", p.postgres_cpu_ms, "ms"))
    if statements.per_post:
        rows.append(row(1, "SQL statements per POST", statements.typical, "count"))
        rows.append(row(1, "in-process CPU per POST", statistics.median(statements.in_process_cpu_ms), "ms"))
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="open-loop requests a second (default 200)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each open loop (default 30)")
    parser.add_argument("--alliances", type=int, default=10,
                        help="alliances the spread load goes over, the demo alliance included (default 10)")
    parser.add_argument("--sequential", type=int, default=200,
                        help="requests of the unloaded, one-at-a-time measurement (default 200)")
    parser.add_argument("--connections", type=int, default=32,
                        help="keep-alive connections of the open loop, half to each server (default 32)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a request may take (default 10)")
    parser.add_argument("--drain", type=float, default=5.0,
                        help="seconds after the last due time before unsent requests are dropped (default 5)")
    parser.add_argument("--server", action="append", type=ServerSpec.parse, default=None, metavar="SPEC",
                        help=f"gthread:THREADS[/WORKERS] or sync[/WORKERS], per process; repeat to compare "
                             f"(default {DEFAULT_SERVER})")
    parser.add_argument("--demo", action=argparse.BooleanOptionalAction, default=True,
                        help="include the demo alliance (the one-alliance load goes to it); default yes")
    parser.add_argument("--quick", action="store_true",
                        help="a small run (~20 s): 3 small alliances without the demo, 60 sequential requests, "
                             "4 s open loops")
    parser.add_argument("--profile", action="store_true", help="profile in-process POSTs (pyinstrument if installed)")
    parser.add_argument("--load", action=argparse.BooleanOptionalAction, default=True,
                        help="start the servers and run the load (--no-load: set-up, statements, profile only)")
    parser.add_argument("--profile-posts", type=int, default=200, help="POSTs profiled (default 200)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL database to WIPE and use")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write the result rows as JSON")
    parser.add_argument("--seed", type=int, default=7, help="seed of the set-up and the request bodies")
    args = parser.parse_args(argv)
    if args.quick:
        args.alliances, args.sequential, args.seconds = min(args.alliances, 3), min(args.sequential, 60), 4.0
        args.demo, args.drain, args.timeout = False, min(args.drain, 2.0), min(args.timeout, 5.0)
    args.server = args.server or [ServerSpec.parse(DEFAULT_SERVER)]
    if args.alliances < 1 or args.rate <= 0 or not 0 < args.seconds <= 600:
        parser.error("--alliances must be at least 1, --rate positive and --seconds at most 600")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    url = fresh_postgres(args.pg_url)
    print(f"== PostgreSQL: {url}")
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        with sessions() as session:
            books = build(session, args.alliances, args.seed, demo=args.demo)
            seeded = session.scalar(select(func.count()).select_from(Entry))
            session.execute(text("ANALYZE"))
            session.commit()
        print(f"  set-up: {len(books)} alliances, {sum(len(b.posters) for b in books)} posting partner members, "
              f"{seeded} entries, {time.perf_counter() - started:.1f} s (migrations and services)")

        statements = in_process(url, books[0], 53, args.profile, args.profile_posts, args.seed)
        print(f"  one POST runs {statements.typical} SQL statements; the first one's:")
        for number, statement in enumerate(statements.example, 1):
            print(f"    {number:2}. {statement}")

        phases: list[Phase] = []
        with tempfile.TemporaryDirectory(prefix="ledger-load-") as workdir:
            for spec in args.server if args.load else []:
                phases += run_server(spec, url, books, args, Path(workdir), sessions)
        chains = verify_chains(sessions, books)
    finally:
        engine.dispose()

    report(phases, statements, chains)
    if args.json:
        args.json.write_text(json.dumps(json_rows(phases, statements, len(args.server) > 1), indent=2) + "\n")
        print(f"Result rows written to {args.json}")
    print(f"Total {time.perf_counter() - started:.0f} s.")
    intact = all(p.check.exact for p in phases) and all(c.startswith("OK") for c in chains)
    if not intact:
        print("INTEGRITY: an entry was lost or doubled, or a chain is broken.")
        return 2
    return 0 if all(p.met for p in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
