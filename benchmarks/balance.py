"""How fast are the dashboard and the balance API with 100,000 entries? (Target: under 100 ms each.)

For each engine this script starts from an empty database, runs the real
Alembic migrations, loads the demo alliance through the services (users,
partners, the 50/50 agreement, ~300 entries), adds a renegotiated agreement
version, then bulk-inserts the remaining entries with one executemany, which
is the only way to get 100,000 rows in seconds. The bulk rows are valid rows
the services could have written: each sits in the pool of the version in
force on its date, settlements have a counterparty, and some are reversals.
It then times real WSGI requests through the Flask test client (a logged-in
browser session for the dashboard, a bearer token for the API) and also
``queries.balance_sheet`` alone, and prints median and p95 per engine.

    .venv/bin/python -m benchmarks.balance                 # both engines, 100,000 entries
    .venv/bin/python -m benchmarks.balance --no-pg --entries 20000 --repeat 10

The PostgreSQL database in ``--pg-url`` is wiped (schema ``public`` dropped).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``ledger`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from ledger import create_app
from ledger.db import make_engine, normalise_url, utcnow
from ledger.demo import COORDINATOR_EMAIL, DEMO_PASSWORD, find_demo, load_demo
from ledger.domain.vocabulary import EntryKind, PoolSide
from ledger.migrate import upgrade
from ledger.models import AgreementVersion, Alliance, Category, Entry, Membership, Partner, Pool
from ledger.queries import balance_sheet
from ledger.services import agreements, users

TARGET_MS = 100.0
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
BATCH = 5_000
#: How often each kind appears among the bulk rows (reversals come on top, ~3%).
KIND_WEIGHTS = {EntryKind.COST: 40, EntryKind.CONTRIBUTION: 8, EntryKind.SERVICE_FEE: 15,
                EntryKind.REVENUE: 30, EntryKind.SETTLEMENT: 4}
REVERSAL_RATE = 0.03


@dataclass
class Timing:
    samples_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        """Nearest-rank 95th percentile: with 30 samples, the second slowest."""
        ordered = sorted(self.samples_ms)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]

    def cell(self) -> str:
        return f"{self.median:7.1f} / {self.p95:7.1f}" if self.samples_ms else "      n/a       "


@dataclass
class Result:
    engine: str
    entries: int = 0
    build_seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    timings: dict[str, Timing] = field(default_factory=dict)


MEASURES = ("dashboard", "api_balance", "balance_sheet")


# --- The database -----------------------------------------------------------------------------------


def fresh_sqlite(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'bench.db'}"


def fresh_postgres(url: str) -> str:
    url = normalise_url(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def build(session: Session, entries: int, seed: int) -> tuple[Alliance, dict[str, float]]:
    """The demo alliance through the services, then bulk rows up to ``entries`` in total."""
    steps: dict[str, float] = {}
    started = time.perf_counter()
    load_demo(session)
    alliance = find_demo(session)
    coordinator_m = session.scalar(select(Membership).join(Membership.user).where(
        Membership.alliance_id == alliance.id, Membership.user.has(email=COORDINATOR_EMAIL)))
    partners = {p.name: p.id for p in session.scalars(select(Partner).where(Partner.alliance_id == alliance.id))}
    shares = [{"partner_id": partners["Alpha"], "weight": "55"}, {"partner_id": partners["Beta"], "weight": "45"}]
    agreements.create_version(session, coordinator_m.user, coordinator_m, {
        "effective_from": "2021-01-01", "note": "Renegotiated at the nine-month review: 55/45",
        "pools": [{"name": "Shared costs", "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
                   "categories": "all", "shares": shares},
                  {"name": "Returns", "side": "returns", "kinds": ["revenue"], "categories": "all",
                   "shares": shares}]})
    session.commit()
    steps["services (demo alliance)"] = time.perf_counter() - started

    started = time.perf_counter()
    existing = session.scalar(select(func.count()).select_from(Entry).where(Entry.alliance_id == alliance.id))
    rows = list(bulk_rows(session, alliance, coordinator_m.user_id, max(0, entries - existing), seed))
    connection = session.connection()
    for i in range(0, len(rows), BATCH):
        connection.execute(insert(Entry), rows[i:i + BATCH])
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT setval(pg_get_serial_sequence('entries', 'id'), "
                                "(SELECT max(id) FROM entries))"))
    session.commit()
    steps[f"bulk insert ({len(rows):,} rows)"] = time.perf_counter() - started

    if connection.dialect.name == "postgresql":
        # Autovacuum would analyze the table soon after such a load; SQLite never does by itself,
        # so it is measured without statistics, as a real SQLite install runs.
        started = time.perf_counter()
        session.execute(text("ANALYZE"))
        session.commit()
        steps["analyze"] = time.perf_counter() - started
    return alliance, steps


def bulk_rows(session: Session, alliance: Alliance, recorder_id: int, count: int, seed: int) -> Iterator[dict]:
    """``count`` valid entry rows spread over the whole term, with explicit ids so reversals can point back."""
    rng = random.Random(seed)
    partner_ids = list(session.scalars(select(Partner.id).where(Partner.alliance_id == alliance.id)))
    category_ids = list(session.scalars(select(Category.id).where(Category.alliance_id == alliance.id)))
    versions = session.execute(
        select(AgreementVersion.effective_from, Pool.side, Pool.id, Pool.version_id)
        .join(Pool, Pool.version_id == AgreementVersion.id)
        .where(AgreementVersion.alliance_id == alliance.id)
        .order_by(AgreementVersion.effective_from.desc())).all()
    next_id = (session.scalar(select(func.max(Entry.id))) or 0) + 1
    days = (alliance.term_end - alliance.start_date).days
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    now = utcnow()
    reversible: list[dict] = []
    for _ in range(count):
        if reversible and rng.random() < REVERSAL_RATE:
            original = reversible.pop(rng.randrange(len(reversible)))
            day = min(original["entry_date"] + timedelta(days=rng.randint(0, 30)), alliance.term_end)
            row = dict(original, id=next_id, entry_date=day, amount=-original["amount"],
                       reverses_id=original["id"], description=f"Reversal of #{original['id']}: wrong amount")
        else:
            kind = rng.choices(kinds, weights)[0]
            day = alliance.start_date + timedelta(days=rng.randint(0, days))
            partner = rng.choice(partner_ids)
            row = {"id": next_id, "alliance_id": alliance.id, "entry_date": day, "partner_id": partner, "kind": kind,
                   "amount": rng.randint(1_000, 5_000_000), "description": f"Bulk {kind.label} {next_id}",
                   "reference": "", "reverses_id": None, "recorded_by_id": recorder_id, "recorded_at": now,
                   "category_id": None, "counterparty_id": None, "version_id": None, "pool_id": None}
            if kind is EntryKind.SETTLEMENT:
                row["counterparty_id"] = rng.choice([p for p in partner_ids if p != partner])
            else:
                side = PoolSide.RETURNS if kind is EntryKind.REVENUE else PoolSide.COSTS
                _, _, pool_id, version_id = next(v for v in versions if v[0] <= day and v[1] is side)
                row.update(category_id=rng.choice(category_ids), pool_id=pool_id, version_id=version_id)
            reversible.append(row)
        next_id += 1
        yield row


# --- The measurements --------------------------------------------------------------------------------


def timed(call: Callable[[], object], repeat: int, warmup: int = 3) -> Timing:
    for _ in range(warmup):
        call()
    timing = Timing()
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timing.samples_ms.append((time.perf_counter() - started) * 1000)
    return timing


def has_route(app, path: str) -> bool:
    """Whether some view answers GET ``path`` (the pages and the API are still being written)."""
    try:
        app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return False
    return True


def measure(app, alliance_id: int, repeat: int) -> dict[str, Timing]:
    sessions = app.extensions["ledger.sessions"]
    timings: dict[str, Timing] = {}
    browser = app.test_client()
    login = browser.post("/login", data={"email": COORDINATOR_EMAIL, "password": DEMO_PASSWORD})
    if login.status_code != 302:
        raise SystemExit(f"log-in failed with HTTP {login.status_code}")
    with sessions() as session:
        _, token = users.create_token(session, users.user_by_email(session, COORDINATOR_EMAIL), "benchmark")
        session.commit()

    def get(client, url: str, **kwargs) -> Callable[[], object]:
        def call() -> None:
            response = client.get(url, **kwargs)
            if response.status_code != 200:
                raise SystemExit(f"GET {url}: HTTP {response.status_code}")
        return call

    dashboard, balance = f"/a/{alliance_id}/", f"/api/v1/alliances/{alliance_id}/balance"
    if has_route(app, dashboard):
        timings["dashboard"] = timed(get(browser, dashboard), repeat)
    else:
        print(f"  (no page at {dashboard} yet: skipped)")
    if has_route(app, balance):
        timings["api_balance"] = timed(get(app.test_client(), balance,
                                           headers={"Authorization": f"Bearer {token}"}), repeat)
    else:
        print(f"  (no API at {balance} yet: skipped)")

    def direct() -> None:
        with sessions() as session:
            balance_sheet(session, session.get(Alliance, alliance_id))
    timings["balance_sheet"] = timed(direct, repeat)
    return timings


def run(engine: str, url: str, args: argparse.Namespace) -> Result:
    print(f"\n== {engine}: {url}")
    result = Result(engine)
    started = time.perf_counter()
    upgrade(url)
    result.steps["migrations"] = time.perf_counter() - started
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark", "WTF_CSRF_ENABLED": False})
    try:
        with app.extensions["ledger.sessions"]() as session:
            alliance, steps = build(session, args.entries, args.seed)
            alliance_id = alliance.id
            result.entries = session.scalar(select(func.count()).select_from(Entry))
        result.steps.update(steps)
        result.build_seconds = sum(result.steps.values())
        for step, seconds in result.steps.items():
            print(f"  {step:<32} {seconds:6.1f} s")
        print(f"  {result.entries:,} entries; timing {args.repeat} requests each ...")
        result.timings = measure(app, alliance_id, args.repeat)
    finally:
        app.extensions["ledger.engine"].dispose()
    for name, timing in result.timings.items():
        print(f"  {name:<14} median {timing.median:7.1f} ms   p95 {timing.p95:7.1f} ms")
    return result


def report(results: list[Result]) -> bool:
    """The one-line-per-engine table for the README; True if every figure is under the target."""
    print("\n| engine | entries | build | dashboard median / p95 ms | balance API median / p95 ms "
          "| balance_sheet() median / p95 ms |\n|---|---:|---:|---:|---:|---:|")
    ok = True
    for r in results:
        cells = [r.timings[m].cell() if m in r.timings else "n/a" for m in MEASURES]
        print(f"| {r.engine} | {r.entries:,} | {r.build_seconds:.0f} s | " + " | ".join(cells) + " |")
        ok &= all(t.p95 < TARGET_MS for t in r.timings.values())
    print(f"\nTarget: under {TARGET_MS:.0f} ms (p95) each: {'met' if ok else 'MISSED'}.")
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the alliance (default 100000)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per measurement (default 30)")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True, help="run on SQLite")
    parser.add_argument("--pg", action=argparse.BooleanOptionalAction, default=True, help="run on PostgreSQL")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL database to WIPE and use")
    parser.add_argument("--seed", type=int, default=100_000, help="seed of the bulk rows")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as workdir:
        if args.sqlite:
            results.append(run("SQLite", fresh_sqlite(Path(workdir)), args))
        if args.pg:
            results.append(run("PostgreSQL", fresh_postgres(args.pg_url), args))
    if not results:
        print("Nothing to do: both --no-sqlite and --no-pg given.")
        return 2
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
