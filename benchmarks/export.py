"""How fast, and in how much memory, is the .xlsx export of 100,000 entries? (Target: under 10 s and 300 MB.)

For each engine this builds the same alliance as ``benchmarks.balance`` (the
demo alliance through the services, a second agreement version, then bulk
rows up to ``--entries``), then runs the export in a fresh child process,
so the peak resident memory (``ru_maxrss``) is the export's alone, Python
and the app included. The child times ``write_workbook`` (and the CSV) and
reports its peak; the parent prints one line per engine for the README.

    .venv/bin/python -m benchmarks.export                 # both engines, 100,000 entries
    .venv/bin/python -m benchmarks.export --no-pg --entries 20000
    .venv/bin/python -m benchmarks.export --verify        # and reconcile the big workbook in LibreOffice

The PostgreSQL database in ``--pg-url`` is wiped (schema ``public`` dropped).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``ledger`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from ledger import create_app
from ledger.migrate import upgrade
from ledger.models import Entry

TARGET_SECONDS = 10.0
TARGET_MB = 300.0
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"


def verify(session, alliance, period, source: Path, workdir: str) -> dict[str, float]:
    """Recalculate the big workbook in LibreOffice and compare every Summary figure with balance_sheet."""
    from ledger.export.recalc import recalculate, summary_figures
    from ledger.export.workbook import SUMMARY_FIGURES
    from ledger.queries import balance_sheet

    started = time.perf_counter()
    computed = summary_figures(recalculate(source, Path(workdir) / "verify"))
    seconds = time.perf_counter() - started
    sheet = balance_sheet(session, alliance, period.start, period.end)
    want = {p.name: dict(zip(SUMMARY_FIGURES, (r.borne, r.cost_share, r.received, r.return_share, r.net),
                             strict=True))
            for p in sheet.partners for r in [sheet.row(p.id)]}
    want["Total"] = {f: sum(v[f] for v in want.values()) for f in SUMMARY_FIGURES}
    if computed != want:
        raise SystemExit(f"MISMATCH between LibreOffice and balance_sheet:\n{computed}\n{want}")
    return {"verify_seconds": seconds, "verified": 1.0}


def child(url: str, alliance_id: int, workdir: str, check: bool = False) -> None:
    """Runs in its own process: export once as xlsx and once as CSV, print timings and peak memory as JSON."""
    from ledger.export.csv_export import write_csv
    from ledger.export.period import ExportPeriod
    from ledger.export.workbook import write_workbook
    from ledger.models import Alliance

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"})
    result: dict[str, float] = {}
    with app.extensions["ledger.sessions"]() as session:
        alliance = session.get(Alliance, alliance_id)
        assert alliance is not None
        period = ExportPeriod(alliance.start_date, alliance.term_end)
        target = Path(workdir) / "export.xlsx"
        result["baseline_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the app, before export
        started = time.perf_counter()
        write_workbook(session, alliance, period, target)
        result["xlsx_seconds"] = time.perf_counter() - started
        result["xlsx_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result["xlsx_size_mb"] = target.stat().st_size / 1e6
        started = time.perf_counter()
        with open(Path(workdir) / "export.csv", "w", newline="", encoding="utf-8") as out:
            write_csv(session, alliance, period, out)
        result["csv_seconds"] = time.perf_counter() - started
        if check:
            result.update(verify(session, alliance, period, target, workdir))
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    app.extensions["ledger.engine"].dispose()
    print(json.dumps(result))


def run(engine: str, url: str, args: argparse.Namespace, workdir: str) -> dict:
    from benchmarks.balance import build

    print(f"\n== {engine}: {url}")
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "benchmark"})
    try:
        with app.extensions["ledger.sessions"]() as session:
            alliance, steps = build(session, args.entries, args.seed)
            alliance_id = alliance.id
            entries = session.scalar(select(func.count()).select_from(Entry))
    finally:
        app.extensions["ledger.engine"].dispose()
    for step, seconds in steps.items():
        print(f"  {step:<32} {seconds:6.1f} s")
    command = [sys.executable, "-m", "benchmarks.export", "--child", url, str(alliance_id), workdir]
    out = subprocess.run([*command, "--verify"] if args.verify else command,
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(engine=engine, entries=entries)
    print(f"  xlsx {result['xlsx_seconds']:.1f} s ({result['xlsx_size_mb']:.1f} MB file), peak "
          f"{result['xlsx_mb']:.0f} MB; csv {result['csv_seconds']:.1f} s")
    if result.get("verified"):
        print(f"  LibreOffice recalculated it in {result['verify_seconds']:.0f} s: every Summary figure equals "
              "balance_sheet to the cent")
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child(argv[1], int(argv[2]), argv[3], check="--verify" in argv)
        return 0
    from benchmarks.balance import fresh_postgres, fresh_sqlite

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--pg", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL database to WIPE and use")
    parser.add_argument("--seed", type=int, default=100_000)
    parser.add_argument("--verify", action="store_true",
                        help="also recalculate the workbook in LibreOffice and compare it with the app (slow)")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="ledger-export-bench-") as workdir:
        if args.sqlite:
            results.append(run("SQLite", fresh_sqlite(Path(workdir)), args, workdir))
        if args.pg:
            results.append(run("PostgreSQL", fresh_postgres(args.pg_url), args, workdir))
    print("\n| engine | entries | xlsx export | peak memory (process) | of which before the export | CSV export |"
          "\n|---|---:|---:|---:|---:|---:|")
    ok = True
    for r in results:
        print(f"| {r['engine']} | {r['entries']:,} | {r['xlsx_seconds']:.1f} s | {r['xlsx_mb']:.0f} MB "
              f"| {r['baseline_mb']:.0f} MB | {r['csv_seconds']:.1f} s |")
        ok &= r["xlsx_seconds"] < TARGET_SECONDS and r["xlsx_mb"] < TARGET_MB
    print(f"\nTarget: under {TARGET_SECONDS:.0f} s and {TARGET_MB:.0f} MB: {'met' if ok else 'MISSED'}.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
