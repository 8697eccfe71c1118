"""Are the pages as fast in a database of 1,000 alliances of 10,000 entries each as with one alliance? (Issue 7.)

Two books from :mod:`benchmarks.dataset` (kept between runs): ``--alliances`` alliances of ``--entries``
entries each (1,000 x 10,000 = 10,000,000 entries by default; every alliance with four partners, the
default categories and a 50/50 agreement, its rows dealt in turn with the others' so none sits together
on disk), and the same books with ONE such alliance. Three users: a coordinator of every alliance, a
partner member (for Alpha) of every alliance, and a partner member of the first alliance only.

Through real WSGI requests (Flask test client, logged-in sessions) it times, in both databases:

- the home page of the coordinator of every alliance, of the partner member of every alliance (whose
  home page shows that partner's own balance in each alliance) and of the member of one alliance;
- the dashboard and the ledger's first page of the first, a middle and the last alliance (with one
  alliance, that one alliance's).

"As fast" is read as: the p95 with many alliances under 1.25 x the p95 with one, plus 5 ms of noise;
that bound is each row's target.

    .venv/bin/python -m benchmarks.many_alliances --no-sqlite                  # 1,000 x 10,000 on PostgreSQL
    .venv/bin/python -m benchmarks.many_alliances --alliances 100 --entries 1000 --repeat 10
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``ledger`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.dataset import (
    DEFAULT_PG_MANY_URL,
    Books,
    Timing,
    add_dataset_arguments,
    bench_app,
    logged_in,
    many_alliances,
    run_engines,
    timed,
)
from benchmarks.run_all import make_row

BENCHMARK = "many_alliances"
SLACK_FACTOR, SLACK_MS = 1.25, 5.0


@dataclass
class Page:
    name: str
    who: str  # "coordinator", "member_all" or "member_one": which of the books' users asks
    url: str


def pages_of(books: Books) -> list[Page]:
    ids = books.alliance_ids
    chosen = {"first": ids[0], "middle": ids[len(ids) // 2], "last": ids[-1]}
    pages = [Page("home, coordinator of every alliance", "coordinator", "/"),
             Page("home, partner member of every alliance", "member_all", "/"),
             Page("home, member of one alliance", "member_one", "/")]
    pages += [Page(f"dashboard, {which} alliance", "coordinator", f"/a/{alliance_id}/")
              for which, alliance_id in chosen.items()]
    pages += [Page(f"ledger, {which} alliance", "coordinator", f"/a/{alliance_id}/ledger")
              for which, alliance_id in chosen.items()]
    return pages


def measure(books: Books, repeat: int, warmup: int, errors: list[str]) -> dict[str, Timing]:
    """Time every page; one that fails is logged, added to ``errors`` and left out."""
    app = bench_app(books.url)
    try:
        clients = {who: logged_in(app, getattr(books, who), books.password)
                   for who in ("coordinator", "member_all", "member_one")}
        timings = {}
        for page in pages_of(books):
            client = clients[page.who]

            def call(client=client, url=page.url) -> None:
                response = client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {url}: HTTP {response.status_code}")

            try:
                timings[page.name] = timed(call, repeat, warmup)
            except RuntimeError as exc:
                errors.append(f"{books.key}: {page.name}: {exc}")
                print(f"    {page.name:<42} ERROR: {exc}", flush=True)
                continue
            t = timings[page.name]
            print(f"    {page.name:<42} median {t.median:8.1f} ms   p95 {t.p95:8.1f} ms", flush=True)
        return timings
    finally:
        app.extensions["ledger.engine"].dispose()


def run(engine: str, args: argparse.Namespace, errors: list[str]) -> list[dict]:
    print(f"\n== {engine}: {args.alliances:,} alliances x {args.entries:,} entries, and 1 alliance")
    options = {"seed": args.seed, "data_dir": args.data_dir, "pg_url": args.pg_url, "rebuild": args.rebuild}
    many = many_alliances(engine, args.alliances, args.entries, **options)
    one = many_alliances(engine, 1, args.entries, **options)
    print(f"  {args.alliances:,} alliances ({many.entries:,} entries):")
    in_many = measure(many, args.repeat, args.warmup, errors)
    print(f"  1 alliance ({one.entries:,} entries):")
    in_one = measure(one, args.repeat, args.warmup, errors)
    rows = []
    for name, timing in in_many.items():
        alone = in_one.get(name)
        if alone is None:
            continue
        bound = f"< {alone.p95 * SLACK_FACTOR + SLACK_MS:.1f} ms"
        label = f"{args.alliances:,} alliances"
        rows += [make_row(BENCHMARK, engine, one.entries, f"{name}, 1 alliance: median", alone.median, "ms"),
                 make_row(BENCHMARK, engine, one.entries, f"{name}, 1 alliance: p95", alone.p95, "ms"),
                 make_row(BENCHMARK, engine, many.entries, f"{name}, {label}: median", timing.median, "ms"),
                 make_row(BENCHMARK, engine, many.entries, f"{name}, {label}: p95", timing.p95, "ms", bound)]
    return rows


def report(rows: list[dict], alliances: int) -> bool:
    ok = True
    value = {(r["engine"], r["measure"]): r for r in rows}
    label = f"{alliances:,} alliances"
    for engine in dict.fromkeys(r["engine"] for r in rows):
        print(f"\n{engine}\n\n| page | 1 alliance: median / p95 ms | {label}: median / p95 ms | ratio of p95s |"
              "\n|---|---:|---:|---:|")
        names = dict.fromkeys(r["measure"].split(", 1 alliance:")[0] for r in rows
                              if r["engine"] == engine and ", 1 alliance:" in r["measure"])
        for name in names:
            one_med, one_p95 = (value[(engine, f"{name}, 1 alliance: {s}")]["value"] for s in ("median", "p95"))
            many_med = value[(engine, f"{name}, {label}: median")]["value"]
            many_p95 = value[(engine, f"{name}, {label}: p95")]
            slow = many_p95["value"] >= float(many_p95["target"].split()[1])
            ok &= not slow
            print(f"| {name} | {one_med:.1f} / {one_p95:.1f} | {many_med:.1f} / {many_p95['value']:.1f}"
                  f"{' **slower**' if slow else ''} | {many_p95['value'] / one_p95:.2f} |")
    print(f"\nAs fast as with one alliance (p95 within {SLACK_FACTOR}x + {SLACK_MS:g} ms): "
          f"{'yes' if ok else 'NO'}.")
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alliances", type=int, default=1_000, help="alliances in the big books (default 1000)")
    parser.add_argument("--entries", type=int, default=10_000, help="entries per alliance (default 10000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first (default 3)")
    add_dataset_arguments(parser, pg_url=DEFAULT_PG_MANY_URL)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_engines(args, run, lambda rows: report(rows, args.alliances))


if __name__ == "__main__":
    sys.exit(main())
