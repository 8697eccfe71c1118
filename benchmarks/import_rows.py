"""How fast is the spreadsheet import of 100,000 rows, preview and import? (Target: under 60 s in all.)

For each engine and each file format this starts from an empty database, runs the real Alembic
migrations and loads the demo alliance through the services, then writes a sheet as a partner would
export it from the spreadsheet it kept (date, partner, kind, category, amount, description, reference,
"paid to" for settlements; in the .xlsx dates are date cells and amounts number cells, the .csv is
UTF-8 with ISO dates), and takes it through the import's pages with a logged-in coordinator (the Flask
test client, so every request runs the real WSGI app): upload, the column mapping page, the preview,
the import. It times each step, checks that every row became an entry and that the hash chain
verifies, and prints a table.

    .venv/bin/python -m benchmarks.import_rows                       # both engines, 100,000 rows
    .venv/bin/python -m benchmarks.import_rows --no-pg --rows 2000   # a quick run
    .venv/bin/python -m benchmarks.import_rows --json results.json

"preview" and "import" are those two requests; "total" is upload + mapping page + preview + import, what
the person importing waits for. The PostgreSQL database in ``--pg-url`` is wiped (schema ``public``
dropped) before each run.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``ledger`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook
from sqlalchemy import func, select

from benchmarks.dataset import fresh_postgres
from ledger import create_app
from ledger.chain import verify_alliance
from ledger.demo import COORDINATOR_EMAIL, DEMO_PASSWORD, find_demo, load_demo
from ledger.migrate import upgrade
from ledger.models import Entry

TARGET_SECONDS = 60.0
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_import"
HEADER = ["Date", "Partner", "Kind", "Category", "Amount", "Description", "Reference", "Paid to"]
MAPPING = {"date": "Date", "partner": "Partner", "kind": "Kind", "category": "Category", "amount": "Amount",
           "description": "Description", "reference": "Reference", "counterparty": "Paid to"}
PARTNERS = ("Alpha", "Beta", "Gamma", "Omega")
CATEGORIES = ("production", "trading", "waste", "raw materials", "machinery")
#: How often each kind appears, as the demo's partners write them in their sheets.
KINDS = {"cost": 45, "contribution": 8, "service fee": 15, "revenue": 28, "settlement": 4}
FIRST_DAY, DAYS = date(2020, 4, 1), 800
MEASURES = ("upload", "mapping", "preview", "import", "total")


@dataclass
class Result:
    engine: str
    fmt: str
    rows: int
    size: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    entries: int = 0
    chain: str = ""


# --- The sheets ----------------------------------------------------------------------------------------------


def sheet_rows(count: int, seed: int) -> list[list[object]]:
    """``count`` rows a partner's bookkeeper could have typed: every one valid for the demo alliance."""
    rng = random.Random(seed)
    kinds, weights = list(KINDS), list(KINDS.values())
    rows = []
    for n in range(1, count + 1):
        kind = rng.choices(kinds, weights)[0]
        partner = rng.choice(PARTNERS)
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        amount = Decimal(rng.randint(100, 2_500_000)) / 100
        if kind == "settlement":
            paid_to = rng.choice([p for p in PARTNERS if p != partner])
            rows.append([day, partner, kind, "", amount, f"Transfer to {paid_to}", f"BANK-{n:06d}", paid_to])
        else:
            what = {"revenue": "Masks sold", "contribution": "In-kind", "service fee": "Services"}.get(kind, "Costs")
            rows.append([day, partner, kind, rng.choice(CATEGORIES), amount, f"{what}, batch {n}",
                         f"INV-{n:06d}" if rng.random() < 0.7 else "", ""])
    return rows


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    """Date cells and number cells, as Excel or LibreOffice save a typed sheet (write-only: fast and small)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Entries")
    sheet.append(HEADER)
    for day, partner, kind, category, amount, description, reference, paid_to in rows:
        sheet.append([day, partner, kind, category or None, float(amount), description, reference or None,
                      paid_to or None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[object]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for day, partner, kind, category, amount, description, reference, paid_to in rows:
        writer.writerow([day.isoformat(), partner, kind, category, f"{amount:.2f}", description, reference, paid_to])
    return out.getvalue().encode("utf-8")


# --- One run -------------------------------------------------------------------------------------------------


def run(engine: str, url: str, fmt: str, data: bytes, rows: int, workdir: Path) -> Result:
    result = Result(engine, fmt, rows, len(data))
    print(f"\n== {engine}, {rows:,}-row .{fmt} ({len(data) / 1e6:.1f} MB)")
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark", "WTF_CSRF_ENABLED": False,
                      "IMPORT_FOLDER": str(workdir / f"imports-{engine}-{fmt}"), "RATELIMIT_ENABLED": False})
    try:
        with app.extensions["ledger.sessions"]() as session:
            load_demo(session)
            session.commit()
            alliance_id = find_demo(session).id
            before = session.scalar(select(func.count()).select_from(Entry).where(Entry.alliance_id == alliance_id))
        client = app.test_client()
        login = client.post("/login", data={"email": COORDINATOR_EMAIL, "password": DEMO_PASSWORD})
        if login.status_code != 302:
            raise SystemExit(f"log-in failed with HTTP {login.status_code}")
        name = f"partner-sheet.{fmt}"
        sha = hashlib.sha256(data).hexdigest()
        form = {"filename": name, **{f"map_{k}": v for k, v in MAPPING.items()}}

        def timed(measure: str, call, status: int):
            started = time.perf_counter()
            response = call()
            result.seconds[measure] = time.perf_counter() - started
            if response.status_code != status:
                body = response.get_data(as_text=True)
                raise SystemExit(f"{measure}: HTTP {response.status_code}, expected {status}\n{body[:3000]}")
            print(f"  {measure:<8} {result.seconds[measure]:6.1f} s")
            return response

        uploaded = timed("upload", lambda: client.post(
            f"/a/{alliance_id}/import", data={"file": (io.BytesIO(data), name)},
            content_type="multipart/form-data"), 302)
        timed("mapping", lambda: client.get(uploaded.headers["Location"]), 200)
        preview = timed("preview", lambda: client.post(f"/a/{alliance_id}/import/{sha}/preview", data=form), 200)
        if f"All {rows:,} rows are valid" not in preview.get_data(as_text=True):
            raise SystemExit("the preview found errors:\n" + preview.get_data(as_text=True)[:3000])
        timed("import", lambda: client.post(f"/a/{alliance_id}/import/{sha}/run", data=form), 302)
        result.seconds["total"] = sum(result.seconds[m] for m in MEASURES[:-1])
        with app.extensions["ledger.sessions"]() as session:
            result.entries = session.scalar(
                select(func.count()).select_from(Entry).where(Entry.alliance_id == alliance_id)) - before
            started = time.perf_counter()
            verdict = verify_alliance(session, alliance_id)
            result.chain = verdict.summary()
            print(f"  {result.entries:,} entries imported; chain {result.chain} "
                  f"(verified in {time.perf_counter() - started:.1f} s)")
        if result.entries != rows or not verdict.intact:
            raise SystemExit("the import did not create every row, or the chain does not verify")
    finally:
        app.extensions["ledger.engine"].dispose()
    return result


def report(results: list[Result]) -> bool:
    print("\n| engine | file | rows | size | upload | mapping | preview | import | total |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        cells = " | ".join(f"{r.seconds[m]:.1f} s" for m in MEASURES)
        print(f"| {r.engine} | .{r.fmt} | {r.rows:,} | {r.size / 1e6:.1f} MB | {cells} |")
    ok = all(r.seconds["total"] < TARGET_SECONDS for r in results)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nTarget: upload to imported under {TARGET_SECONDS:.0f} s: {'met' if ok else 'MISSED'}. "
          f"Peak memory of this process (app, files and all): {peak:,.0f} MB.")
    return ok


def write_json(path: str, results: list[Result]) -> None:
    """Rows of ``benchmarks.run_all``'s contract, plus the file's format (which run_all shows with the measure)."""
    rows = [{"benchmark": "import", "engine": r.engine.lower(), "size": r.rows, "measure": measure,
             "value": round(r.seconds[measure], 3), "unit": "s", "target": f"< {TARGET_SECONDS:.0f} s",
             "format": r.fmt}
            for r in results for measure in ("preview", "import", "total")]
    Path(path).write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {path}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows in each sheet (default 100000)")
    parser.add_argument("--formats", default="xlsx,csv", help="which files to import (default xlsx,csv)")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True, help="run on SQLite")
    parser.add_argument("--pg", action=argparse.BooleanOptionalAction, default=True, help="run on PostgreSQL")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL database to WIPE and use")
    parser.add_argument("--seed", type=int, default=7, help="seed of the sheet's rows")
    parser.add_argument("--json", metavar="PATH", help="also write the preview/import/total seconds as JSON rows")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    started = time.perf_counter()
    rows = sheet_rows(args.rows, args.seed)
    files = {"xlsx": xlsx_bytes, "csv": csv_bytes}
    data = {fmt: files[fmt](rows) for fmt in formats}
    print(f"wrote {', '.join(f'.{f} {len(d) / 1e6:.1f} MB' for f, d in data.items())} of {args.rows:,} rows "
          f"in {time.perf_counter() - started:.1f} s")
    results = []
    with tempfile.TemporaryDirectory(prefix="ledger-bench-import-") as workdir:
        for fmt in formats:
            if args.sqlite:
                url = f"sqlite:///{Path(workdir) / f'import-{fmt}.db'}"
                results.append(run("SQLite", url, fmt, data[fmt], args.rows, Path(workdir)))
            if args.pg:
                results.append(run("PostgreSQL", fresh_postgres(args.pg_url), fmt, data[fmt], args.rows,
                                   Path(workdir)))
    if not results:
        print("Nothing to do: both --no-sqlite and --no-pg given.")
        return 2
    if args.json:
        write_json(args.json, results)
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
