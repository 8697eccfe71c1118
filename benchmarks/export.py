"""How long, and in how much memory, is the .xlsx export of a big ledger? (Issue 7: 1,000,000 entries in
under 500 MB of peak memory.)

The books come from :mod:`benchmarks.dataset` (the demo alliance through the services, a second agreement
version, then bulk rows up to ``--entries``; kept between runs). The export runs in a fresh child process,
so the peak resident memory (``ru_maxrss``) is the export's alone, Python and the app included. The child
times ``write_workbook`` over the whole term (and then the CSV), reports its peak before the export, after
the workbook and after the CSV; the parent prints one line per engine for the README.

    .venv/bin/python -m benchmarks.export                 # both engines, 100,000 entries
    .venv/bin/python -m benchmarks.export --entries 1000000
    .venv/bin/python -m benchmarks.export --no-pg --entries 20000 --json /tmp/export.json
    .venv/bin/python -m benchmarks.export --verify        # and reconcile the big workbook in LibreOffice
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

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 500.0
BENCHMARK = "export"


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


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(url: str, alliance_id: int, workdir: str, check: bool = False) -> None:
    """Runs in its own process: export once as xlsx and once as CSV, print timings and peak memory as JSON."""
    from ledger import create_app
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
        result["baseline_mb"] = peak_mb()  # the app, before the export
        started = time.perf_counter()
        write_workbook(session, alliance, period, target)
        result["xlsx_seconds"] = time.perf_counter() - started
        result["xlsx_mb"] = peak_mb()
        result["xlsx_size_mb"] = target.stat().st_size / 1e6
        started = time.perf_counter()
        csv_path = Path(workdir) / "export.csv"
        with open(csv_path, "w", newline="", encoding="utf-8") as out:
            write_csv(session, alliance, period, out)
        result["csv_seconds"] = time.perf_counter() - started
        result["csv_size_mb"] = csv_path.stat().st_size / 1e6
        if check:
            result.update(verify(session, alliance, period, target, workdir))
    result["peak_mb"] = peak_mb()
    app.extensions["ledger.engine"].dispose()
    print(json.dumps(result))


def run(engine: str, args: argparse.Namespace) -> list[dict]:
    from benchmarks.dataset import one_alliance
    from benchmarks.run_all import make_row

    print(f"\n== {engine}, {args.entries:,} entries")
    books = one_alliance(engine, args.entries, seed=args.seed, data_dir=args.data_dir, pg_url=args.pg_url,
                         rebuild=args.rebuild)
    with tempfile.TemporaryDirectory(prefix="ledger-export-bench-") as workdir:
        command = [sys.executable, "-m", "benchmarks.export", "--child", books.url, str(books.alliance_ids[0]),
                   workdir]
        out = subprocess.run([*command, "--verify"] if args.verify else command, capture_output=True, text=True,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        if out.returncode != 0:
            print(out.stdout + out.stderr, file=sys.stderr)
            raise SystemExit(f"the export child failed with exit status {out.returncode}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  xlsx {r['xlsx_seconds']:.1f} s ({r['xlsx_size_mb']:.1f} MB file), peak {r['xlsx_mb']:.0f} MB "
          f"(of which {r['baseline_mb']:.0f} MB before the export); csv {r['csv_seconds']:.1f} s "
          f"({r['csv_size_mb']:.1f} MB file), peak after both {r['peak_mb']:.0f} MB")
    if r.get("verified"):
        print(f"  LibreOffice recalculated it in {r['verify_seconds']:.0f} s: every Summary figure equals "
              "balance_sheet to the cent")
    memory = f"< {TARGET_MB:g} MB"
    n = books.entries
    rows = [
        make_row(BENCHMARK, engine, n, "xlsx export", r["xlsx_seconds"], "s"),
        make_row(BENCHMARK, engine, n, "xlsx export: peak memory of the process", r["xlsx_mb"], "MB", memory),
        make_row(BENCHMARK, engine, n, "peak memory before the export began", r["baseline_mb"], "MB"),
        make_row(BENCHMARK, engine, n, "xlsx file size", r["xlsx_size_mb"], "MB"),
        make_row(BENCHMARK, engine, n, "CSV export", r["csv_seconds"], "s"),
        make_row(BENCHMARK, engine, n, "xlsx then CSV: peak memory of the process", r["peak_mb"], "MB", memory),
    ]
    if r.get("verified"):
        rows.append(make_row(BENCHMARK, engine, n, "LibreOffice recalculation (figures verified)",
                             r["verify_seconds"], "s"))
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child(argv[1], int(argv[2]), argv[3], check="--verify" in argv)
        return 0
    from benchmarks.dataset import add_dataset_arguments, engines_from
    from benchmarks.run_all import write_rows

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the alliance (default 100000)")
    parser.add_argument("--verify", action="store_true",
                        help="also recalculate the workbook in LibreOffice and compare it with the app (slow)")
    add_dataset_arguments(parser)
    args = parser.parse_args(argv)
    rows = [row for engine in engines_from(args) for row in run(engine, args)]
    if args.json:
        write_rows(args.json, rows)
    print("\n| engine | entries | xlsx export | peak memory (process) | of which before the export | CSV export |"
          "\n|---|---:|---:|---:|---:|---:|")
    value = {(r["engine"], r["measure"]): r["value"] for r in rows}
    ok = True
    for engine in dict.fromkeys(r["engine"] for r in rows):
        n = next(r["size"] for r in rows if r["engine"] == engine)
        print(f"| {engine} | {n:,} | {value[(engine, 'xlsx export')]:.1f} s "
              f"| {value[(engine, 'xlsx export: peak memory of the process')]:.0f} MB "
              f"| {value[(engine, 'peak memory before the export began')]:.0f} MB "
              f"| {value[(engine, 'CSV export')]:.1f} s |")
        ok &= value[(engine, "xlsx then CSV: peak memory of the process")] < TARGET_MB
    print(f"\nTarget: peak memory under {TARGET_MB:.0f} MB: {'met' if ok else 'MISSED'}.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
