"""Does any page grow with the alliance? Every GET page and API route, timed on the big alliance.

``benchmarks/pages.py`` times the pages issue 7 names (dashboard, balance, ledger). This sweep times every
other one too, found from the app's own URL map, so a page added later is swept without being listed
here: the periods, a partner's statement, checkpoints and their review packs, targets, indicators, the
charter, the members, the Verify page, every API route. A page whose time grows with the number of
entries is a bug (issue 7: "anything that grows faster than the number of entries shown on the page").

Each route's ids are filled from the alliance's own rows (its first period, the partner Alpha, its first
checkpoint and target, the newest entry...). The data sets close no period, so the first sweep of one closes
the term's first quarter (April to June 2020) through the service, as an accountant would, and the data set
keeps it: that quarter's statement of Alpha at 1,000,000 entries covers about 30,000 entries. Web pages are
read with the coordinator's logged-in browser session, API routes with a bearer token, through the Flask
test client; ``--repeat`` timed requests after one warm-up (a page slower than ``--slow-ms`` is timed once
only). Left out, each for its reason:

- the live event stream (it never ends: ``benchmarks/live.py`` measures it);
- the export downloads (``benchmarks/export.py`` measures them, memory included);
- the import mapping page (it needs an uploaded file: ``benchmarks/import_rows.py``);
- the static files and the log-in page.

Every swept page must answer 200, and its p95 must be under ``--target-ms`` (150 ms, the issue's bar for
the dashboard), except:

- one segment of the hash chain's check (20,000 links; the Verify page walks a long chain a segment a
  request): under ``--segment-ms`` (2 s);
- the checks that read the whole ledger by design, timed and held to no bar: the whole chain in one request
  (``GET .../chain``) and the last step of a segmented check (records with no link, the running totals).

    .venv/bin/python -m benchmarks.every_page --entries 1000000
    .venv/bin/python -m benchmarks.every_page --no-pg --entries 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``ledger`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from benchmarks.dataset import (
    Timing,
    add_dataset_arguments,
    logged_in,
    one_alliance_app,
    run_engines,
    timed,
)
from benchmarks.run_all import make_row
from ledger.models import (
    AgreementVersion,
    Category,
    CharterVersion,
    Checkpoint,
    Entry,
    Membership,
    Partner,
    Period,
    Target,
    User,
)
from ledger.services import periods, users

BENCHMARK = "every_page"
TARGET_MS = 150.0
#: Endpoints not swept (see the module docstring for why).
SKIPPED = {"static", "auth.login", "live.events", "api.export", "imports.mapping"}
#: Endpoints that read the whole ledger by design: timed and reported, held to no target.
WHOLE_LEDGER = {"api.get_chain", "verify.rest", "api.get_chain_unlinked"}
#: One segment of the chain's check each: held to --segment-ms.
SEGMENTS = {"verify.segment", "api.get_chain_segment"}
SEGMENT_MS = 2_000.0
#: The period the sweep closes in a data set that has none: the term's first quarter (it starts 2020-04-01).
CLOSE_THROUGH = date(2020, 6, 30)
ARGUMENT = re.compile(r"<(?:[^:>]+:)?([^>]+)>")


@dataclass
class Swept:
    endpoint: str
    url: str
    status: int
    size: int
    timing: Timing
    target_ms: float | None

    @property
    def slow(self) -> bool:
        return self.target_ms is not None and self.timing.p95 >= self.target_ms


def ids_of(session, alliance_id: int, coordinator: str) -> dict[str, int]:
    """A value for every route argument: rows of the big alliance, picked the way a reader would open them."""
    def first(statement) -> int:
        found = session.scalar(statement.limit(1))
        if found is None:
            raise SystemExit(f"the data set has no row for {statement}")
        return found

    period = first(select(Period.id).where(Period.alliance_id == alliance_id).order_by(Period.start_date))
    return {
        "alliance_id": alliance_id,
        "entry_id": first(select(func.max(Entry.id)).where(Entry.alliance_id == alliance_id)),
        "period_id": period,
        "partner_id": first(select(Partner.id).where(Partner.alliance_id == alliance_id, Partner.name == "Alpha")),
        "checkpoint_id": first(select(Checkpoint.id).where(Checkpoint.alliance_id == alliance_id)
                               .order_by(Checkpoint.id)),
        "target_id": first(select(Target.id).where(Target.alliance_id == alliance_id).order_by(Target.id)),
        "number": first(select(CharterVersion.number).where(CharterVersion.alliance_id == alliance_id)
                        .order_by(CharterVersion.number)),
        "member_id": first(select(Membership.id).join(User).where(Membership.alliance_id == alliance_id,
                                                                  User.email == coordinator)),
        "version_id": first(select(AgreementVersion.id).where(AgreementVersion.alliance_id == alliance_id)
                            .order_by(AgreementVersion.id)),
        "category_id": first(select(Category.id).where(Category.alliance_id == alliance_id)
                             .order_by(Category.id)),
    }


def ensure_closed_period(session, alliance_id: int, coordinator: str) -> None:
    """Close the books through CLOSE_THROUGH if the alliance has no period yet, so statements can be swept."""
    if session.scalar(select(func.count()).select_from(Period).where(Period.alliance_id == alliance_id)):
        return
    user = users.user_by_email(session, coordinator)
    membership = session.scalar(select(Membership).where(Membership.alliance_id == alliance_id,
                                                         Membership.user_id == user.id))
    print(f"  closing the books through {CLOSE_THROUGH.isoformat()} (the data set has no period yet)")
    periods.close_period(session, user, membership, {"end_date": CLOSE_THROUGH.isoformat()},
                         datetime.now(UTC).date())
    session.commit()


def routes(app, ids: dict[str, int]) -> list[tuple[str, str]]:
    """(endpoint, URL) of every GET route to sweep, in URL order."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in SKIPPED:
            continue
        missing = [a for a in rule.arguments if a not in ids]
        if missing:
            raise SystemExit(f"{rule.endpoint} takes {missing}: give it a value in ids_of or a reason in SKIPPED")
        found.append((rule.endpoint, ARGUMENT.sub(lambda m: str(ids[m[1]]), rule.rule)))
    return found


def sweep(app, books, repeat: int, slow_ms: float, target_ms: float, segment_ms: float,
          errors: list[str]) -> list[Swept]:
    alliance_id = books.alliance_ids[0]
    browser = logged_in(app, books.coordinator, books.password)
    api = app.test_client()
    with app.extensions["ledger.sessions"]() as session:
        ensure_closed_period(session, alliance_id, books.coordinator)
        ids = ids_of(session, alliance_id, books.coordinator)
        _, token = users.create_token(session, users.user_by_email(session, books.coordinator), "sweep")
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    swept = []
    for endpoint, url in routes(app, ids):
        client, kwargs = (api, {"headers": headers}) if endpoint.startswith("api.") else (browser, {})
        call = partial(client.get, url, **kwargs)
        first = timed(call, 1, warmup=0)
        response = call()
        timing = first if first.median >= slow_ms else timed(call, repeat, warmup=0)
        target = None if endpoint in WHOLE_LEDGER else segment_ms if endpoint in SEGMENTS else target_ms
        row = Swept(endpoint, url, response.status_code, len(response.get_data()), timing, target)
        if response.status_code != 200:
            errors.append(f"GET {url}: HTTP {response.status_code}")
        mark = "  SLOW" if row.slow else ("" if response.status_code == 200 else f"  HTTP {response.status_code}")
        print(f"  {endpoint:<30} median {timing.median:9.1f} ms   p95 {timing.p95:9.1f} ms"
              f"   {row.size / 1024:8.1f} KiB{mark}")
        swept.append(row)
    return swept


def run(engine: str, args: argparse.Namespace, errors: list[str]) -> list[dict]:
    with one_alliance_app(engine, args) as (books, app):
        swept = sweep(app, books, args.repeat, args.slow_ms, args.target_ms, args.segment_ms, errors)
    rows = []
    for page in swept:
        target = "" if page.target_ms is None else f"< {page.target_ms:g} ms"
        rows.append(make_row(BENCHMARK, engine, books.entries, f"GET {page.endpoint}: p95", page.timing.p95, "ms",
                             target))
    return rows


def report(rows: list[dict]) -> bool:
    engines = [e for e in ("sqlite", "postgresql") if any(r["engine"] == e for r in rows)]
    value = {(r["engine"], r["measure"]): r for r in rows}
    measures = list(dict.fromkeys(r["measure"] for r in rows))
    print("\n| route | target | " + " | ".join(f"{e} p95 ms" for e in engines) + " |")
    print("|---|---:|" + "---:|" * len(engines))
    ok = True
    for measure in measures:
        cells, target = [], ""
        for e in engines:
            row = value.get((e, measure))
            if row is None:
                cells.append("n/a")
                continue
            target = row["target"] or target
            slow = bool(row["target"]) and row["value"] >= float(row["target"].split()[1])
            ok &= not slow
            cells.append(f"{row['value']:.1f}" + (" **slow**" if slow else ""))
        print(f"| {measure.removesuffix(': p95')} | {target or '-'} | " + " | ".join(cells) + " |")
    print(f"\nTargets (p95): {'met' if ok else 'MISSED'}.")
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the alliance (default 100000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per route (default 5)")
    parser.add_argument("--slow-ms", type=float, default=2_000.0,
                        help="a route whose first request takes this long is timed once only (default 2000)")
    parser.add_argument("--target-ms", type=float, default=TARGET_MS, help="p95 bar of every swept route")
    parser.add_argument("--segment-ms", type=float, default=SEGMENT_MS, help="p95 bar of one segment of the chain")
    add_dataset_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return run_engines(parse_args(argv), run, report)


if __name__ == "__main__":
    sys.exit(main())
