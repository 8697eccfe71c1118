"""Valid books at scale for the benchmarks: one alliance of N entries, or A alliances of E entries each.

Every benchmark that needs a big ledger gets it here, built once and kept:

- :func:`one_alliance` loads the demo alliance through the services (users,
  partners, the 50/50 agreement, ~300 entries, the value lifecycle), adds a
  renegotiated 55/45 agreement version from 2021-01-01, then bulk-inserts
  rows up to N entries in all;
- :func:`many_alliances` creates A alliances through the services (each with
  the demo's four partners, the default categories, a founding 50/50
  agreement, a coordinator and a partner member who belong to *all* of them,
  and a third user in the first one only), then bulk-inserts E entries into
  each, dealt in turn, so no alliance's rows sit together on disk.

The bulk rows are rows the services could have written: each sits in the
pool of the agreement version in force on its date, settlements (rare,
~0.5%) have a counterparty, ~3% are reversals of an earlier row of the same
alliance (same pool, opposite amount). They are generated from a seed, so
both engines get the same rows, and inserted with ``INSERT`` executemany in
batches of :data:`BATCH` (never COPY, never with triggers off), so whatever
the schema maintains on insert (summary tables by trigger) is maintained.

A built database is kept and reused while its parameters, this generator
(:data:`GENERATOR_VERSIONS`) and the migrations' head are unchanged; a marker
table ``bench_dataset`` in it records them. One built before migrations were
added (the earlier ones unchanged) is upgraded in place and its totals checked,
as a production database would be. ``--rebuild`` forces a new build.
SQLite databases are files in ``--data-dir`` (default ``$LEDGER_BENCH_DIR`` or
``~/.cache/ledger-bench``); on PostgreSQL each data set is a schema of the
database (``bench`` for one alliance, ``bench_many`` for many), selected by
the connection's ``search_path``, so several sizes are kept side by side.

    .venv/bin/python -m benchmarks.dataset --entries 1000000            # build (or find) both engines
    .venv/bin/python -m benchmarks.dataset --many 1000x10000 --no-sqlite
    .venv/bin/python -m benchmarks.dataset --list                       # what is kept, and its size
    .venv/bin/python -m benchmarks.dataset --drop all                   # free the disk
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import itertools
import json
import os
import queue
import random
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``ledger`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ledger import create_app
from ledger.db import make_engine, normalise_url, utcnow
from ledger.demo import COORDINATOR_EMAIL, DEMO_PASSWORD, find_demo, load_demo
from ledger.domain.vocabulary import EntryKind, MemberRole, PoolSide
from ledger.migrate import alembic_config, upgrade
from ledger.models import AgreementVersion, Alliance, Category, Entry, Membership, Partner, Pool, User
from ledger.services import agreements, alliances, chain, users

#: Bump when the rows this module generates change, so kept databases are rebuilt; one per kind of data set,
#: so a change to one kind does not throw away the other's (the many-alliance build takes half an hour).
#: "one" 3: its bulk rows are hash-chained.
GENERATOR_VERSIONS = {"one": 3, "many": 2}
CHAIN_BATCH = 50_000
BATCH = 10_000
DEFAULT_SEED = 100_000
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
DEFAULT_PG_URL = f"{PG_SERVER}/bench"
DEFAULT_PG_MANY_URL = f"{PG_SERVER}/bench_many"
DEFAULT_DATA_DIR = Path(os.environ.get("LEDGER_BENCH_DIR") or Path.home() / ".cache" / "ledger-bench")
ENGINES = ("sqlite", "postgresql")
MARKER = "bench_dataset"  # the table that says what a kept database holds

#: How often each kind appears among the bulk rows (reversals come on top, ~3%). Settlements are rare,
#: as in real books (a few transfers a month against hundreds of costs), which makes "kind = settlement"
#: the ledger filter that has to skip the most rows.
KIND_WEIGHTS = {EntryKind.COST: 40, EntryKind.CONTRIBUTION: 8, EntryKind.SERVICE_FEE: 15,
                EntryKind.REVENUE: 30, EntryKind.SETTLEMENT: 0.5}
REVERSAL_RATE = 0.03
#: Reversals pick their original among this many recent rows of the alliance (bounded memory at 10M rows).
REVERSIBLE_WINDOW = 200

#: The users of the many-alliance books (password :data:`PASSWORD`).
PASSWORD = DEMO_PASSWORD
MANY_DOMAIN = "bench.example"
MANY_COORDINATOR = f"coordinator@{MANY_DOMAIN}"  # created every alliance: coordinator of all of them
MANY_PARTNER = f"partner@{MANY_DOMAIN}"  # partner member for Alpha in every alliance
MANY_SOLO = f"solo@{MANY_DOMAIN}"  # partner member for Beta in the first alliance only
MANY_PARTNERS = (("Alpha", "protagonist", "commercial_laboratory"), ("Beta", "protagonist", "other"),
                 ("Gamma", "supplier", "supplier"), ("Omega", "secondary", "customer"))
TERM = ("2020-04-01", "2022-03-31")
RENEGOTIATED = "2021-01-01"


@dataclass
class Books:
    """A built database, as the benchmarks need to know it."""

    engine: str  # "sqlite" or "postgresql"
    url: str
    key: str
    alliances: int
    per_alliance: int
    entries: int  # in the whole database
    alliance_ids: list[int]
    coordinator: str  # a coordinator of every alliance
    member_all: str  # a partner member of every alliance
    member_one: str  # a partner member of the first alliance only
    password: str = PASSWORD
    #: How long the build took (when it was built, in an earlier run if reused).
    built_seconds: float = 0.0
    reused: bool = False
    steps: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        how = (f"kept from an earlier run (built in {self.built_seconds:.0f} s)" if self.reused
               else f"built in {self.built_seconds:.1f} s")
        return f"{self.entries:,} entries in {self.alliances:,} alliance{'s' if self.alliances != 1 else ''}, {how}"


# --- Where a data set lives ---------------------------------------------------------------------------


def dataset_key(kind: str, alliances: int, per_alliance: int, seed: int) -> str:
    size = f"{per_alliance}" if kind == "one" else f"{alliances}x{per_alliance}"
    return f"{kind}_{size}_s{seed}"


def schema_url(base: str, schema: str) -> str:
    """The PostgreSQL URL whose connections see only ``schema`` (libpq ``options=-csearch_path=...``)."""
    url = make_url(normalise_url(base))
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def ensure_pg_database(base: str) -> None:
    """Create the database of ``base`` if the server lacks it (connecting to ``postgres`` to do so)."""
    url = make_url(normalise_url(base))
    server = url.set(database="postgres").render_as_string(hide_password=False)
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}):
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()


#: Databases a benchmark that wipes its own must never be pointed at: the tests' and the data sets'.
SHARED_DATABASES = ("test", "test_gw0", "test_gw1", "bench", "bench_many")


def fresh_postgres(url: str) -> str:
    """Create ``url``'s database if missing and empty its ``public`` schema; return the normalised URL.

    For benchmarks that build their own database from scratch (``record_entry``, ``import_rows``).
    """
    url = normalise_url(url)
    database = make_url(url).database
    if database in SHARED_DATABASES:
        raise SystemExit(f"refusing to wipe {database!r}: it belongs to the tests or the other benchmarks")
    ensure_pg_database(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return url


def location(engine: str, key: str, data_dir: Path, pg_base: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{Path(data_dir) / (key + '.db')}"
    return schema_url(pg_base, key)


def wipe(engine: str, key: str, data_dir: Path, pg_base: str) -> None:
    if engine == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(data_dir, key + ".db" + suffix).unlink(missing_ok=True)
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        return
    ensure_pg_database(pg_base)
    admin = make_engine(pg_base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{key}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{key}"'))
    finally:
        admin.dispose()


def migration_states() -> list[str]:
    """The migrations' state (a data set marker's ``head``) after each migration in turn, oldest first.

    Each is the revision and a digest of the text of every migration up to it (one edited in place counts
    too), so a kept data set whose marker holds an earlier state differs only by the migrations added
    since, and is brought up to date by running them, as a production database would be.
    """
    from alembic.script import ScriptDirectory

    from ledger import PROJECT_ROOT

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revision_of = {Path(s.path).name: s.revision for s in script.walk_revisions()}
    digest = hashlib.sha256()
    states = []
    for path in sorted((PROJECT_ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        states.append(f"{revision_of.get(path.name, '')}:{digest.hexdigest()[:16]}")
    return states


def _marker(url: str) -> dict | None:
    if url.startswith("sqlite"):
        path = make_url(url).database
        if not path or not Path(path).exists():
            return None
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(MARKER):
                return None
            raw = conn.scalar(text("SELECT params FROM bench_dataset"))
            return json.loads(raw) if raw else None
    except Exception:  # a half-built or foreign database is simply not reusable
        return None
    finally:
        engine.dispose()


def _write_marker(session: Session, params: dict) -> None:
    session.execute(text("CREATE TABLE IF NOT EXISTS bench_dataset (params TEXT NOT NULL)"))
    session.execute(text("DELETE FROM bench_dataset"))
    session.execute(text("INSERT INTO bench_dataset (params) VALUES (:p)"), {"p": json.dumps(params)})
    session.commit()


def _obtain(kind: str, engine: str, alliances: int, per_alliance: int, *, seed: int, data_dir: Path,
            pg_base: str, rebuild: bool, builder: Callable[[Session, int, int, int], dict[str, float]],
            log: Callable[[str], None]) -> Books:
    key = dataset_key(kind, alliances, per_alliance, seed)
    url = location(engine, key, data_dir, pg_base)
    states = migration_states()
    params = {"kind": kind, "alliances": alliances, "per_alliance": per_alliance, "seed": seed,
              "generator": GENERATOR_VERSIONS[kind], "head": states[-1]}
    found = None if rebuild else _marker(url)
    if (found is not None and found.get("head") in states[:-1]
            and all(found.get(k) == v for k, v in params.items() if k != "head")):
        log(f"  {engine}: {key}: kept at migration {found['head'].split(':')[0]}: upgrading it in place")
        found = {**found, "head": params["head"]}
        _upgrade_kept(url, found, log)
    if found is not None and {k: found.get(k) for k in params} == params:
        books = Books(**found["books"])
        books.reused, books.steps, books.url = True, {}, url
        log(f"  {engine}: {key}: {books.describe()}")
        return books
    if found is not None:
        log(f"  {engine}: {key} was built with other parameters or migrations: rebuilding")
    log(f"  {engine}: building {key} ...")
    wipe(engine, key, data_dir, pg_base)
    steps: dict[str, float] = {}
    started = time.perf_counter()
    upgrade(url)
    steps["migrations"] = time.perf_counter() - started
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"})
    try:
        with app.extensions["ledger.sessions"]() as session:
            steps.update(builder(session, alliances, per_alliance, seed))
            started = time.perf_counter()
            if check_totals(session):
                steps["check entry_totals against entries"] = time.perf_counter() - started
            books = _describe(session, engine, url, key, kind, alliances, per_alliance)
            books.steps, books.built_seconds = steps, sum(steps.values())
            _write_marker(session, {**params, "books": {k: v for k, v in asdict(books).items()
                                                        if k not in ("reused", "steps")}})
    finally:
        app.extensions["ledger.engine"].dispose()
    for step, seconds in steps.items():
        log(f"    {step:<40} {seconds:7.1f} s")
    log(f"  {engine}: {key}: {books.describe()}")
    return books


def _upgrade_kept(url: str, marker: dict, log: Callable[[str], None]) -> None:
    """Run the migrations added since ``url`` was built, check its totals, and mark it up to date."""
    started = time.perf_counter()
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"})
    try:
        with app.extensions["ledger.sessions"]() as session:
            check_totals(session)
            _write_marker(session, marker)
    finally:
        app.extensions["ledger.engine"].dispose()
    log(f"    upgraded and checked in {time.perf_counter() - started:.1f} s")


def check_totals(session: Session) -> bool:
    """Every grain of ``entry_totals`` adds up to each alliance's entries (count and amount), else raise.

    The summary table is kept by triggers on INSERT into entries; this checks that the bulk load kept it
    right. Returns False (nothing checked) when the schema has no such table.
    """
    columns = {c["name"] for c in inspect(session.connection()).get_columns("entry_totals")} \
        if inspect(session.connection()).has_table("entry_totals") else set()
    if not {"alliance_id", "grain", "entries", "amount"} <= columns:
        return False
    entries = {a: (int(n), int(t)) for a, n, t in session.execute(text(
        "SELECT alliance_id, count(*), sum(amount) FROM entries GROUP BY alliance_id"))}
    grains: dict[str, dict[int, tuple[int, int]]] = {}
    for a, grain, n, t in session.execute(text(
            "SELECT alliance_id, grain, sum(entries), sum(amount) FROM entry_totals GROUP BY alliance_id, grain")):
        grains.setdefault(grain, {})[a] = (int(n), int(t))
    wrong = [grain for grain, sums in grains.items() if sums != entries]
    if wrong or (entries and not grains):
        raise RuntimeError(f"entry_totals does not add up to the entries (grains {wrong or 'none'}): the bulk "
                           "load did not keep it right")
    return True


def _describe(session: Session, engine: str, url: str, key: str, kind: str, alliances: int,
              per_alliance: int) -> Books:
    ids = list(session.scalars(select(Alliance.id).order_by(Alliance.id)))
    total = session.scalar(select(func.count()).select_from(Entry))
    if kind == "one":
        return Books(engine, url, key, 1, per_alliance, total, ids, COORDINATOR_EMAIL, "alpha@ppe-masks.example",
                     "alpha@ppe-masks.example")
    return Books(engine, url, key, alliances, per_alliance, total, ids, MANY_COORDINATOR, MANY_PARTNER, MANY_SOLO)


def one_alliance(engine: str, entries: int, *, seed: int = DEFAULT_SEED, data_dir: Path = DEFAULT_DATA_DIR,
                 pg_url: str = DEFAULT_PG_URL, rebuild: bool = False,
                 log: Callable[[str], None] = print) -> Books:
    """The demo alliance with ``entries`` entries in all, on ``engine`` ("sqlite" or "postgresql")."""
    return _obtain("one", engine, 1, entries, seed=seed, data_dir=data_dir, pg_base=pg_url, rebuild=rebuild,
                   builder=_build_one, log=log)


def many_alliances(engine: str, alliances: int, per_alliance: int, *, seed: int = DEFAULT_SEED,
                   data_dir: Path = DEFAULT_DATA_DIR, pg_url: str = DEFAULT_PG_MANY_URL, rebuild: bool = False,
                   log: Callable[[str], None] = print) -> Books:
    """``alliances`` alliances of ``per_alliance`` bulk entries each, and users who belong to all or one."""
    return _obtain("many", engine, alliances, per_alliance, seed=seed, data_dir=data_dir, pg_base=pg_url,
                   rebuild=rebuild, builder=_build_many, log=log)


# --- Building -----------------------------------------------------------------------------------------


def _membership(session: Session, alliance_id: int, email: str) -> Membership:
    return session.scalar(select(Membership).join(Membership.user).where(
        Membership.alliance_id == alliance_id, User.email == email))


def _agree(session: Session, coordinator: Membership, founding: bool) -> None:
    """An agreement version: the founding 50/50 one, or the 55/45 one from 2021 (the demo has the former)."""
    partners = {p.name: p.id for p in session.scalars(
        select(Partner).where(Partner.alliance_id == coordinator.alliance_id))}
    plans = [("1", "1", TERM[0], "Founding agreement: 50/50") if founding
             else ("55", "45", RENEGOTIATED, "Renegotiated at the nine-month review: 55/45")]
    for alpha, beta, effective, note in plans:
        shares = [{"partner_id": partners["Alpha"], "weight": alpha},
                  {"partner_id": partners["Beta"], "weight": beta}]
        agreements.create_version(session, coordinator.user, coordinator, {
            "effective_from": effective, "note": note,
            "pools": [{"name": "Shared costs", "side": "costs", "kinds": ["cost", "contribution", "service_fee"],
                       "categories": "all", "shares": shares},
                      {"name": "Returns", "side": "returns", "kinds": ["revenue"], "categories": "all",
                       "shares": shares}]})


def _build_one(session: Session, _alliances: int, entries: int, seed: int) -> dict[str, float]:
    steps: dict[str, float] = {}
    started = time.perf_counter()
    load_demo(session)
    alliance = find_demo(session)
    _agree(session, _membership(session, alliance.id, COORDINATOR_EMAIL), founding=False)
    session.commit()
    steps["services (demo alliance)"] = time.perf_counter() - started
    existing = session.scalar(select(func.count()).select_from(Entry))
    first_bulk = (session.scalar(select(func.max(Entry.id))) or 0) + 1
    shape = Shape.of(session, alliance, _membership(session, alliance.id, COORDINATOR_EMAIL).user_id)
    steps.update(bulk_insert(session, [shape], max(0, entries - existing), seed))
    started = time.perf_counter()
    if chain_bulk(session, alliance, first_bulk):
        steps["hash chain of the bulk rows"] = time.perf_counter() - started
    return steps


def chain_bulk(session: Session, alliance: Alliance, first_id: int) -> int:
    """Chain the bulk rows from ``first_id`` on in id order, as the app chains an import; return how many.

    So the Verify page and the chain API are measured on a chain as long as the ledger, as in a real
    alliance. Only the one-alliance data sets are chained: the many-alliance benchmark reads no chain.
    """
    ids = list(session.scalars(select(Entry.id).where(Entry.alliance_id == alliance.id, Entry.id >= first_id)
                               .order_by(Entry.id)))
    for start in range(0, len(ids), CHAIN_BATCH):
        chain.append_links(session, alliance, "entry", ids[start:start + CHAIN_BATCH])
        session.commit()
    if ids and session.connection().dialect.name == "postgresql":
        session.execute(text("ANALYZE chain_links"))
        session.commit()
    return len(ids)


def _build_many(session: Session, count: int, per_alliance: int, seed: int) -> dict[str, float]:
    steps: dict[str, float] = {}
    started = time.perf_counter()
    coordinator = users.create_user(session, MANY_COORDINATOR, "Carla Coordinator", PASSWORD)
    partner = users.create_user(session, MANY_PARTNER, "Piero Partner", PASSWORD)
    users.create_user(session, MANY_SOLO, "Sofia Solo", PASSWORD)
    session.commit()
    shapes = []
    width = len(str(count))
    for n in range(1, count + 1):
        alliance = alliances.create_alliance(session, coordinator, {
            "name": f"Alliance {n:0{width}d}", "cause": "Benchmark alliance", "currency": "EUR",
            "start_date": TERM[0], "term_end": TERM[1]})
        coord_m = _membership(session, alliance.id, MANY_COORDINATOR)
        ids = {name: alliances.add_partner(session, coordinator, coord_m,
                                           {"name": name, "role": role, "type": type_}).id
               for name, role, type_ in MANY_PARTNERS}
        alliances.add_member(session, coordinator, coord_m, {
            "email": MANY_PARTNER, "role": MemberRole.PARTNER_MEMBER.value, "partner_id": ids["Alpha"]})
        if n == 1:
            alliances.add_member(session, coordinator, coord_m, {
                "email": MANY_SOLO, "role": MemberRole.PARTNER_MEMBER.value, "partner_id": ids["Beta"]})
        _agree(session, coord_m, founding=True)
        session.commit()
        shapes.append(Shape.of(session, alliance, partner.id))
        if n % 100 == 0 and count >= 200:
            print(f"    {n:,} / {count:,} alliances set up", file=sys.stderr, flush=True)
    steps[f"services ({count:,} alliance{'s' if count != 1 else ''})"] = time.perf_counter() - started
    steps.update(bulk_insert(session, shapes, per_alliance * count, seed))
    return steps


@dataclass
class Shape:
    """What a bulk row of one alliance may contain: its partners, categories and pool on each day."""

    alliance_id: int
    recorder_id: int
    start: date
    days: int
    partner_ids: list[int]
    category_ids: list[int]
    #: (pool_id, version_id) per day of the term, for each side.
    pools: dict[PoolSide, list[tuple[int, int]]]
    reversible: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, session: Session, alliance: Alliance, recorder_id: int) -> Shape:
        versions = session.execute(
            select(AgreementVersion.effective_from, Pool.side, Pool.id, Pool.version_id)
            .join(Pool, Pool.version_id == AgreementVersion.id)
            .where(AgreementVersion.alliance_id == alliance.id)
            .order_by(AgreementVersion.effective_from.desc(), Pool.position)).all()
        days = (alliance.term_end - alliance.start_date).days + 1
        pools = {side: [next((pool_id, version_id) for start, s, pool_id, version_id in versions
                             if s is side and start <= alliance.start_date + timedelta(days=d))
                        for d in range(days)] for side in PoolSide}
        return cls(alliance.id, recorder_id, alliance.start_date, days,
                   list(session.scalars(select(Partner.id).where(Partner.alliance_id == alliance.id)
                                        .order_by(Partner.id))),
                   list(session.scalars(select(Category.id).where(Category.alliance_id == alliance.id)
                                        .order_by(Category.id))),
                   pools)


def bulk_rows(shapes: list[Shape], total: int, seed: int, first_id: int) -> Iterator[dict]:
    """``total`` valid entry rows, dealt to the alliances in turn, with explicit ids (reversals point back)."""
    rng = random.Random(seed)
    kinds = list(KIND_WEIGHTS)
    cumulative = list(itertools.accumulate(KIND_WEIGHTS.values()))
    dates = {}
    now = utcnow()
    next_id = first_id
    for n in range(total):
        shape = shapes[n % len(shapes)]
        if shape.start not in dates:
            dates[shape.start] = [shape.start + timedelta(days=d) for d in range(shape.days)]
        days = dates[shape.start]
        pool = shape.reversible
        if pool and rng.random() < REVERSAL_RATE:
            i = rng.randrange(len(pool))
            original = pool[i]
            pool[i] = pool[-1]
            pool.pop()
            day = min(original["entry_date"] + timedelta(days=rng.randint(0, 30)), days[-1])
            row = dict(original, id=next_id, entry_date=day, amount=-original["amount"], reverses_id=original["id"],
                       description=f"Reversal of #{original['id']}: wrong amount")
        else:
            kind = kinds[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            d = rng.randrange(shape.days)
            partner = rng.choice(shape.partner_ids)
            row = {"id": next_id, "alliance_id": shape.alliance_id, "entry_date": days[d], "partner_id": partner,
                   "kind": kind, "amount": rng.randint(1_000, 5_000_000), "description": f"Bulk {kind.label} {next_id}",
                   "reference": "", "reverses_id": None, "recorded_by_id": shape.recorder_id, "recorded_at": now,
                   "category_id": None, "counterparty_id": None, "version_id": None, "pool_id": None}
            if kind is EntryKind.SETTLEMENT:
                row["counterparty_id"] = rng.choice([p for p in shape.partner_ids if p != partner])
            else:
                pool_id, version_id = shape.pools[PoolSide.RETURNS if kind is EntryKind.REVENUE
                                                  else PoolSide.COSTS][d]
                row.update(category_id=rng.choice(shape.category_ids), pool_id=pool_id, version_id=version_id)
            if len(pool) >= REVERSIBLE_WINDOW:
                pool[rng.randrange(len(pool))] = row
            else:
                pool.append(row)
        next_id += 1
        yield row


#: PostgreSQL: one ``INSERT ... SELECT FROM unnest(arrays)`` per batch (column, array type).
PG_COLUMNS = (("id", "int"), ("alliance_id", "int"), ("entry_date", "date"), ("partner_id", "int"),
              ("kind", "text"), ("category_id", "int"), ("amount", "bigint"), ("description", "text"),
              ("reference", "text"), ("counterparty_id", "int"), ("version_id", "int"), ("pool_id", "int"),
              ("reverses_id", "int"), ("recorded_by_id", "int"), ("recorded_at", "timestamp"))
PG_INSERT = ("INSERT INTO entries (" + ", ".join(c for c, _ in PG_COLUMNS) + ") SELECT * FROM unnest("  # noqa: S608
             + ", ".join(f"%s::{t}[]" for _, t in PG_COLUMNS) + ")")  # constants only


def _pg_arrays(batch: list[dict]) -> list[list]:
    arrays = [[row[column] for row in batch] for column, _ in PG_COLUMNS]
    arrays[4] = [kind.value for kind in arrays[4]]
    arrays[-1] = [at.astimezone(UTC).replace(tzinfo=None) for at in arrays[-1]]  # stored naive UTC (UTCDateTime)
    return arrays


def _batches(rows: Iterator[dict], convert: Callable[[list[dict]], object]) -> Iterator[object]:
    """The batches, generated by a thread while the database inserts the previous one."""
    ready: queue.Queue = queue.Queue(maxsize=2)

    def produce() -> None:
        try:
            while batch := list(itertools.islice(rows, BATCH)):
                ready.put((len(batch), convert(batch)))
        except BaseException as exc:  # handed to the consumer, which raises it
            ready.put(exc)
        ready.put(None)

    threading.Thread(target=produce, daemon=True, name="bulk-rows").start()
    while (item := ready.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item


#: From this many bulk rows on, PostgreSQL loads without the entries' secondary indexes and foreign keys,
#: which are put back afterwards exactly as they were (and the keys then check every row at once).
PG_DEFER_FROM = 500_000


def _pg_defer_indexes(session: Session) -> Callable[[], None]:
    """Drop the secondary indexes and foreign keys of ``entries``; return what puts them back, and checks it.

    Only what a bulk load may do without: the primary key and unique constraints stay (they are the
    rows' identity), and the INSERT triggers stay (``entry_totals`` is kept by them).
    """
    definitions = text(
        "SELECT 'index', c.relname, pg_get_indexdef(c.oid) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
        "WHERE x.indrelid = 'entries'::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) "
        "UNION ALL SELECT 'key', conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'entries'::regclass AND contype = 'f' ORDER BY 1, 2")
    before = session.execute(definitions).all()
    for what, name, _ in before:
        session.execute(text(f'DROP INDEX "{name}"' if what == "index"
                             else f'ALTER TABLE entries DROP CONSTRAINT "{name}"'))
    session.commit()

    def restore() -> None:
        session.rollback()
        session.execute(text("SET maintenance_work_mem = '256MB'"))
        for what, name, ddl in before:
            session.execute(text(ddl if what == "index" else f'ALTER TABLE entries ADD CONSTRAINT "{name}" {ddl}'))
        session.commit()
        if session.execute(definitions).all() != before:
            raise RuntimeError("the entries' indexes or foreign keys did not come back as they were")

    return restore


def bulk_insert(session: Session, shapes: list[Shape], count: int, seed: int) -> dict[str, float]:
    """Insert ``count`` bulk rows in batches of :data:`BATCH`, one commit each; then the statistics.

    Each batch is ONE statement on PostgreSQL (``INSERT ... SELECT FROM unnest``): an executemany
    there runs the INSERT once per row, and so fires the statement-level trigger of ``entry_totals``
    once per row (1,700 rows a second instead of thousands more). SQLite's trigger is per row anyway,
    so there it is SQLAlchemy's executemany. From :data:`PG_DEFER_FROM` rows on, PostgreSQL loads
    without the secondary indexes and foreign keys of ``entries`` and builds them once at the end.
    """
    steps: dict[str, float] = {}
    if count <= 0:
        return steps
    started = last = time.perf_counter()
    connection = session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if not postgresql:
        # A bigger page cache for the build's own connection: the entry indexes and entry_totals are written
        # in date order, not id order, and with SQLite's default 2 MB each batch re-reads pages from the OS.
        connection.exec_driver_sql("PRAGMA cache_size = -524288")
    first_id = (session.scalar(select(func.max(Entry.id))) or 0) + 1
    restore = _pg_defer_indexes(session) if postgresql and count >= PG_DEFER_FROM else None
    done = 0
    try:
        for size, batch in _batches(bulk_rows(shapes, count, seed, first_id), _pg_arrays if postgresql else list):
            if postgresql:
                with session.connection().connection.driver_connection.cursor() as cursor:
                    cursor.execute(PG_INSERT, batch)
            else:
                session.connection().execute(insert(Entry), batch)
            session.commit()
            done += size
            if time.perf_counter() - last > 15:
                last = time.perf_counter()
                rate = done / (last - started)
                print(f"    {done:,} / {count:,} entries ({rate:,.0f} a second, {(count - done) / rate:,.0f} s to go)",
                      file=sys.stderr, flush=True)
        if postgresql:
            session.execute(text("SELECT setval(pg_get_serial_sequence('entries', 'id'), "
                                 "(SELECT max(id) FROM entries))"))
            session.commit()
        steps[f"bulk insert ({count:,} rows)"] = time.perf_counter() - started
    finally:
        if restore is not None:  # also after a failure, so the schema is never left without them
            started = time.perf_counter()
            print("    putting the indexes and foreign keys of entries back ...", file=sys.stderr, flush=True)
            restore()
            steps["indexes and foreign keys of entries"] = time.perf_counter() - started
    if postgresql:
        # Autovacuum would analyze the table soon after such a load; SQLite never does by itself, so it
        # is measured without statistics, as a real SQLite install runs.
        started = time.perf_counter()
        session.execute(text("ANALYZE"))
        session.commit()
        steps["analyze"] = time.perf_counter() - started
    return steps


# --- Shared by the benchmarks: timing real requests ----------------------------------------------------


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


def timed(call: Callable[[], object], repeat: int, warmup: int = 3) -> Timing:
    for _ in range(warmup):
        call()
    timing = Timing()
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timing.samples_ms.append((time.perf_counter() - started) * 1000)
    return timing


def logged_in(app, email: str, password: str = PASSWORD):
    """A test client with a browser session of ``email``."""
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": password})
    if response.status_code != 302:
        raise SystemExit(f"log-in of {email} failed with HTTP {response.status_code}")
    return client


def bench_app(url: str):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark", "WTF_CSRF_ENABLED": False})


@contextmanager
def one_alliance_app(engine: str, args: argparse.Namespace) -> Iterator[tuple[Books, object]]:
    """The one-alliance books of ``args.entries`` on ``engine`` and an app on them, disposed of after."""
    print(f"\n== {engine}, {args.entries:,} entries")
    books = one_alliance(engine, args.entries, seed=args.seed, data_dir=args.data_dir, pg_url=args.pg_url,
                         rebuild=args.rebuild)
    app = bench_app(books.url)
    try:
        yield books, app
    finally:
        app.extensions["ledger.engine"].dispose()


def engines_from(args: argparse.Namespace) -> list[str]:
    return [e for e, on in (("sqlite", args.sqlite), ("postgresql", args.pg)) if on]


def run_engines(args: argparse.Namespace, run: Callable[[str, argparse.Namespace, list[str]], list[dict]],
                report: Callable[[list[dict]], bool]) -> int:
    """The shared ``main`` of the timing benchmarks: every engine asked for, the ``--json`` rows, the table.

    ``run(engine, args, errors)`` returns result rows and appends what failed to ``errors``; ``report``
    prints the table and says whether every target was met. Exit 2: nothing to do, or something failed;
    1: a target missed; 0: every target met.
    """
    from benchmarks.run_all import write_rows  # run_all is the collector; only its row format is needed here

    engines = engines_from(args)
    if not engines:
        print("Nothing to do: both --no-sqlite and --no-pg given.")
        return 2
    errors: list[str] = []
    rows = [row for engine in engines for row in run(engine, args, errors)]
    if args.json:
        write_rows(args.json, rows)
    ok = report(rows)
    if errors:
        print(f"\n{len(errors)} page(s) FAILED, left out of the table:\n  " + "\n  ".join(errors))
        return 2
    return 0 if ok else 1


def add_dataset_arguments(parser: argparse.ArgumentParser, pg_url: str = DEFAULT_PG_URL) -> None:
    """The options every benchmark shares: engines, where the data sets live, the seed, --rebuild, --json."""
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True, help="run on SQLite")
    parser.add_argument("--pg", action=argparse.BooleanOptionalAction, default=True, help="run on PostgreSQL")
    parser.add_argument("--pg-url", default=pg_url,
                        help=f"PostgreSQL database holding the data sets, one schema each (default {pg_url})")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"where SQLite data sets are kept (default {DEFAULT_DATA_DIR})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the bulk rows")
    parser.add_argument("--rebuild", action="store_true", help="build the data set even if a matching one is kept")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the result rows as JSON here")


# --- The command line: build, list, drop -------------------------------------------------------------------


def kept(data_dir: Path, pg_urls: list[str]) -> list[tuple[str, str, str]]:
    """(engine, place, size) of every kept data set."""
    found = []
    for path in sorted(Path(data_dir).glob("*.db")):
        found.append(("sqlite", str(path), f"{path.stat().st_size / 1e9:.2f} GB"))
    for base in pg_urls:
        engine = make_engine(base)
        try:
            with engine.connect() as conn:
                for schema, size in conn.execute(text(
                        "SELECT n.nspname, sum(pg_total_relation_size(c.oid)) FROM pg_namespace n "
                        "JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'm') "
                        "WHERE n.nspname ~ '^(one|many)_' GROUP BY n.nspname ORDER BY n.nspname")):
                    found.append(("postgresql", f"{make_url(base).database}/{schema}", f"{float(size) / 1e9:.2f} GB"))
        except Exception as exc:  # a missing database holds nothing
            found.append(("postgresql", base, f"unreachable: {type(exc).__name__}"))
        finally:
            engine.dispose()
    return found


def drop(which: str, data_dir: Path, pg_urls: list[str], engines: list[str]) -> None:
    for engine, place, _ in kept(data_dir, pg_urls):
        key = Path(place).stem if engine == "sqlite" else place.rsplit("/", 1)[-1]
        if engine not in engines or (which != "all" and key != which):
            continue
        if engine == "sqlite":
            wipe("sqlite", key, data_dir, "")
            Path(data_dir, key + ".db").unlink(missing_ok=True)
        else:
            base = next(u for u in pg_urls if make_url(u).database == place.split("/")[0])
            admin = make_engine(base)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{key}" CASCADE'))
            admin.dispose()
        print(f"dropped {engine} {place}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, help="build one alliance of this many entries")
    parser.add_argument("--many", metavar="AxE", action="append", default=[],
                        help="build A alliances of E entries each, e.g. 1000x10000 (repeatable)")
    parser.add_argument("--pg-many-url", default=DEFAULT_PG_MANY_URL)
    parser.add_argument("--list", action="store_true", help="list the kept data sets and their size on disk")
    parser.add_argument("--drop", metavar="KEY|all", help="drop a kept data set (or all of them)")
    add_dataset_arguments(parser)
    args = parser.parse_args(argv)
    urls = [args.pg_url, args.pg_many_url]
    if args.list:
        for row in kept(args.data_dir, urls):
            print("  ".join(row))
        return 0
    if args.drop:
        drop(args.drop, args.data_dir, urls, engines_from(args))
        return 0
    if args.entries is None and not args.many:
        parser.error("say what to build: --entries N and/or --many AxE (or --list, --drop)")
    many = []
    for spec in args.many:
        match = re.fullmatch(r"(\d+)x(\d+)", spec)
        if not match:
            parser.error("--many takes AxE, e.g. 1000x10000")
        many.append((int(match[1]), int(match[2])))
    rows = []
    for engine in engines_from(args):
        built = []
        if args.entries is not None:
            built.append(one_alliance(engine, args.entries, seed=args.seed, data_dir=args.data_dir,
                                      pg_url=args.pg_url, rebuild=args.rebuild))
        for count, per_alliance in many:
            built.append(many_alliances(engine, count, per_alliance, seed=args.seed, data_dir=args.data_dir,
                                        pg_url=args.pg_many_url, rebuild=args.rebuild))
        rows += [build_row(books) for books in built]
    if args.json:
        from benchmarks.run_all import write_rows

        write_rows(args.json, rows)
    return 0


def build_row(books: Books) -> dict:
    from benchmarks.run_all import make_row

    plural = "s" if books.alliances != 1 else ""
    what = (f"build 1 alliance of {books.per_alliance:,} entries" if books.key.startswith("one_")
            else f"build {books.alliances:,} alliance{plural} x {books.per_alliance:,} entries")
    return make_row("dataset", books.engine, books.entries, what + (" (kept, built earlier)" if books.reused else ""),
                    books.built_seconds, "s")


if __name__ == "__main__":
    sys.exit(main())
