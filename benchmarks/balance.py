"""How fast are the dashboard and the balance API, and ``balance_sheet()`` alone? (Target: under 150 ms each.)

The books come from :mod:`benchmarks.dataset`: the demo alliance through the services (users, partners,
the 50/50 agreement, ~300 entries), a renegotiated agreement version, then bulk rows up to ``--entries``
(valid rows the services could have written). It times real WSGI requests through the Flask test client
(a logged-in browser session for the dashboard, a bearer token for the API) and also
``queries.balance_sheet`` alone, whole term and a half year, and prints median and p95 per engine.
:mod:`benchmarks.pages` times these two pages among all the others; this one adds the query alone, so
the share of the page that is SQL shows.

    .venv/bin/python -m benchmarks.balance                 # both engines, 100,000 entries
    .venv/bin/python -m benchmarks.balance --no-pg --entries 20000 --repeat 10
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``ledger`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dataset import (
    Books,
    Timing,
    add_dataset_arguments,
    logged_in,
    one_alliance_app,
    run_engines,
    timed,
)
from benchmarks.run_all import make_row
from ledger.models import Alliance
from ledger.queries import balance_sheet
from ledger.services import users

TARGET_MS = 150.0
BENCHMARK = "balance"
HALF_YEAR = (date(2021, 1, 1), date(2021, 6, 30))
MEASURES = ("dashboard", "balance API", "balance_sheet()", "balance_sheet(), half a year")


def measure(app, books: Books, repeat: int, warmup: int) -> dict[str, Timing]:
    alliance_id = books.alliance_ids[0]
    sessions = app.extensions["ledger.sessions"]
    browser = logged_in(app, books.coordinator, books.password)
    with sessions() as session:
        _, token = users.create_token(session, users.user_by_email(session, books.coordinator), "benchmark")
        session.commit()
    api = app.test_client()

    def get(client, url: str, **kwargs):
        def call() -> None:
            response = client.get(url, **kwargs)
            if response.status_code != 200:
                raise SystemExit(f"GET {url}: HTTP {response.status_code}")
        return call

    def direct(*period: date):
        def call() -> None:
            with sessions() as session:
                balance_sheet(session, session.get(Alliance, alliance_id), *period)
        return call

    return {
        "dashboard": timed(get(browser, f"/a/{alliance_id}/"), repeat, warmup),
        "balance API": timed(get(api, f"/api/v1/alliances/{alliance_id}/balance",
                                 headers={"Authorization": f"Bearer {token}"}), repeat, warmup),
        "balance_sheet()": timed(direct(), repeat, warmup),
        "balance_sheet(), half a year": timed(direct(*HALF_YEAR), repeat, warmup),
    }


def run(engine: str, args: argparse.Namespace) -> list[dict]:
    with one_alliance_app(engine, args) as (books, app):
        timings = measure(app, books, args.repeat, args.warmup)
    rows = []
    for name, timing in timings.items():
        print(f"  {name:<30} median {timing.median:7.1f} ms   p95 {timing.p95:7.1f} ms")
        for stat, value in (("median", timing.median), ("p95", timing.p95)):
            rows.append(make_row(BENCHMARK, engine, books.entries, f"{name}: {stat}", value, "ms",
                                 f"< {TARGET_MS:g} ms"))
    return rows


def report(rows: list[dict]) -> bool:
    """The one-line-per-engine table for the README; True if every p95 is under the target."""
    print("\n| engine | entries | " + " | ".join(f"{m} median / p95 ms" for m in MEASURES) + " |\n|---|---:|"
          + "---:|" * len(MEASURES))
    value = {(r["engine"], r["measure"]): r["value"] for r in rows}
    ok = True
    for engine in dict.fromkeys(r["engine"] for r in rows):
        size = next(r["size"] for r in rows if r["engine"] == engine)
        cells = [f"{value[(engine, f'{m}: median')]:.1f} / {value[(engine, f'{m}: p95')]:.1f}" for m in MEASURES]
        print(f"| {engine} | {size:,} | " + " | ".join(cells) + " |")
        ok &= all(value[(engine, f"{m}: p95")] < TARGET_MS for m in MEASURES)
    print(f"\nTarget: under {TARGET_MS:.0f} ms (p95) each: {'met' if ok else 'MISSED'}.")
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the alliance (default 100000)")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per measurement (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first (default 3)")
    add_dataset_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_engines(args, lambda engine, parsed, _errors: run(engine, parsed), report)


if __name__ == "__main__":
    sys.exit(main())
