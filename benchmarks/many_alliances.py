"""Are the pages as fast in a database of 1,000 alliances of 10,000 entries each as with one alliance? (Issue 7.)

Three books from :mod:`benchmarks.dataset` (kept between runs): ``--alliances`` alliances of ``--entries``
entries each (1,000 x 10,000 = 10,000,000 entries by default; every alliance with four partners, the
default categories and a 50/50 agreement, its rows dealt in turn with the others' so none sits together
on disk), the same books with ONE such alliance, and with one home page of them (``--page-alliances``,
the app's ``HOME_PAGE_SIZE``, 50). Three users: a coordinator of every alliance, a partner member (for
Alpha) of every alliance, and a partner member of the first alliance only.

Through real WSGI requests (Flask test client, logged-in sessions) it times, in each database:

- the home page of the coordinator of every alliance, of the partner member of every alliance (whose
  home page shows that partner's own balance in each alliance) and of the member of one alliance;
- the dashboard and the ledger's first page of the first, a middle and the last alliance (with one
  alliance, that one alliance's).

"As fast" is read as: the p95 with many alliances under 1.25 x the p95 of the same page in the small
books, plus 5 ms of noise; that bound is each row's target. The small books are the one alliance,
except for the home page of a member of every alliance: with one alliance it lists one, with a thousand
a page of fifty, so its cost in the big books is held to the same page (fifty alliances listed) in the
books of one page of alliances. The question is what a thousand alliances in the database cost, not
what fifty rows on the page cost; the table shows the one-alliance figure beside it.

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
from ledger.config import DEFAULTS

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


def measure(books: Books, repeat: int, warmup: int, errors: list[str],
            only: tuple[str, ...] | None = None) -> dict[str, Timing]:
    """Time every page (or those named in ``only``); one that fails is logged, added to ``errors`` and left out."""
    app = bench_app(books.url)
    try:
        clients = {who: logged_in(app, getattr(books, who), books.password)
                   for who in ("coordinator", "member_all", "member_one")}
        timings = {}
        for page in pages_of(books):
            if only is not None and page.name not in only:
                continue
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


#: The pages whose content grows with the user's alliances up to one page of them.
EVERY_ALLIANCE = ("home, coordinator of every alliance", "home, partner member of every alliance")


def run(engine: str, args: argparse.Namespace, errors: list[str]) -> list[dict]:
    page_size = min(args.page_alliances, args.alliances)
    print(f"\n== {engine}: {args.alliances:,} alliances x {args.entries:,} entries, {page_size} and 1 alliance")
    options = {"seed": args.seed, "data_dir": args.data_dir, "pg_url": args.pg_url, "rebuild": args.rebuild}
    many = many_alliances(engine, args.alliances, args.entries, **options)
    page = many if page_size == args.alliances else many_alliances(engine, page_size, args.entries, **options)
    one = many_alliances(engine, 1, args.entries, **options)
    print(f"  {args.alliances:,} alliances ({many.entries:,} entries):")
    in_many = measure(many, args.repeat, args.warmup, errors)
    if page is many:
        in_page = in_many
    else:
        print(f"  {page_size} alliances, one home page ({page.entries:,} entries):")
        in_page = measure(page, args.repeat, args.warmup, errors, only=EVERY_ALLIANCE)
    print(f"  1 alliance ({one.entries:,} entries):")
    in_one = measure(one, args.repeat, args.warmup, errors)
    rows = []
    label = f"{args.alliances:,} alliances"
    for name, timing in in_many.items():
        alone = in_one.get(name)
        baseline = in_page.get(name) if name in EVERY_ALLIANCE else alone
        if alone is None or baseline is None:
            continue
        bound = f"< {baseline.p95 * SLACK_FACTOR + SLACK_MS:.1f} ms"
        rows += [make_row(BENCHMARK, engine, one.entries, f"{name}, 1 alliance: median", alone.median, "ms"),
                 make_row(BENCHMARK, engine, one.entries, f"{name}, 1 alliance: p95", alone.p95, "ms")]
        if name in EVERY_ALLIANCE:
            rows += [make_row(BENCHMARK, engine, page.entries, f"{name}, one page: median", baseline.median, "ms"),
                     make_row(BENCHMARK, engine, page.entries, f"{name}, one page: p95", baseline.p95, "ms")]
        rows += [make_row(BENCHMARK, engine, many.entries, f"{name}, {label}: median", timing.median, "ms"),
                 make_row(BENCHMARK, engine, many.entries, f"{name}, {label}: p95", timing.p95, "ms", bound)]
    return rows


def report(rows: list[dict], alliances: int, page_alliances: int) -> bool:
    ok = True
    value = {(r["engine"], r["measure"]): r for r in rows}
    label = f"{alliances:,} alliances"
    page = f"{min(page_alliances, alliances)} alliances (one home page)"
    for engine in dict.fromkeys(r["engine"] for r in rows):
        print(f"\n{engine}\n\n| page | 1 alliance: median / p95 ms | {page}: median / p95 ms "
              f"| {label}: median / p95 ms | ratio of p95s (to the bold baseline) |\n|---|---:|---:|---:|---:|")
        names = dict.fromkeys(r["measure"].split(", 1 alliance:")[0] for r in rows
                              if r["engine"] == engine and ", 1 alliance:" in r["measure"])
        for name in names:
            figures = {}
            for books in ("1 alliance", "one page", label):
                if (engine, f"{name}, {books}: p95") in value:
                    figures[books] = tuple(value[(engine, f"{name}, {books}: {s}")]["value"] for s in ("median",
                                                                                                     "p95"))
            many_p95 = value[(engine, f"{name}, {label}: p95")]
            slow = many_p95["value"] >= float(many_p95["target"].split()[1])
            ok &= not slow
            baseline = "one page" if "one page" in figures else "1 alliance"
            cells = []
            for books in ("1 alliance", "one page", label):
                if books not in figures:
                    cells.append("")
                    continue
                text = f"{figures[books][0]:.1f} / {figures[books][1]:.1f}"
                cells.append(f"**{text}**" if books == baseline else text)
            print(f"| {name} | {cells[0]} | {cells[1]} | {cells[2]}{' **slower**' if slow else ''} "
                  f"| {many_p95['value'] / figures[baseline][1]:.2f} |")
    print(f"\nAs fast as with one alliance (p95 within {SLACK_FACTOR}x + {SLACK_MS:g} ms of the bold baseline): "
          f"{'yes' if ok else 'NO'}.")
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alliances", type=int, default=1_000, help="alliances in the big books (default 1000)")
    parser.add_argument("--entries", type=int, default=10_000, help="entries per alliance (default 10000)")
    parser.add_argument("--page-alliances", type=int, default=DEFAULTS["HOME_PAGE_SIZE"],
                        help="alliances in the books of one home page (default: HOME_PAGE_SIZE, 50)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first (default 3)")
    add_dataset_arguments(parser, pg_url=DEFAULT_PG_MANY_URL)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_engines(args, run, lambda rows: report(rows, args.alliances, args.page_alliances))


if __name__ == "__main__":
    sys.exit(main())
