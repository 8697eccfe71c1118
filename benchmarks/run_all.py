"""Run every benchmark at one size and print one table (``make bench`` runs it at the small size).

Each benchmark runs as its own process (``python -m benchmarks.<name> ... --json PATH``) and writes its
results as a JSON list of rows::

    {"benchmark": "pages", "engine": "sqlite" | "postgresql", "size": 100000, "measure": "dashboard: p95",
     "value": 23.1, "unit": "ms" | "s" | "MB" | "req/s" | "count", "target": "< 150 ms"}

(:func:`make_row` and :func:`write_rows` here write that format). This script collects every row and
prints one table: benchmark, engine, size, measure, value, unit, target and whether the value meets it.
A benchmark that is missing, crashes or writes no rows gets a line saying so, and the script then exits
2; a missed target makes it exit 1.

First it builds (or finds, see :mod:`benchmarks.dataset`) the data sets the size needs, so their build
times are rows of the table too and the benchmarks after it reuse them.

    .venv/bin/python -m benchmarks.run_all                        # --size small, ~3 minutes (make bench)
    .venv/bin/python -m benchmarks.run_all --size full --markdown results.md
    .venv/bin/python -m benchmarks.run_all --entries 250000 --only pages,export
    .venv/bin/python -m benchmarks.run_all --growth               # pages and export at 10k, 100k, 1M

``--growth`` runs the read-side benchmarks (pages, export) at 10,000, 100,000 and 1,000,000 entries
(``--growth-sizes``) and prints how each operation's time grows with the ledger: operation x size.

Sizes:

=========  ================  ================  ================================  ==================
size       one alliance      many alliances    record_entry                      import_rows
=========  ================  ================  ================================  ==================
small      10,000 entries    100 x 1,000       ``--quick``                       2,000 rows
medium     100,000           100 x 10,000      ``--seconds 10``                  20,000 rows
full       1,000,000         1,000 x 10,000    defaults (200 req/s for 30 s)     100,000 rows
=========  ================  ================  ================================  ==================

Above 2,000,000 entries (the full size's 10,000,000) the many-alliance books are built and timed on
PostgreSQL only unless ``--many-sqlite`` is given: on SQLite, whose ``entry_totals`` trigger runs once per
row, that build slows as the totals grow (14,000 rows/s down to 3,800): 45 to 50 minutes on the project's
2-core machine (PostgreSQL: 15 to 21 minutes). A built data set is kept, so
only the first run at a size pays for it; ``--fresh`` (``make bench``) builds its small data sets anew,
the SQLite ones in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a file: make ``ledger`` importable from the checkout
    sys.path.insert(0, str(ROOT))

from ledger.config import DEFAULTS  # noqa: E402 - after the path is set

UNITS = ("ms", "s", "MB", "req/s", "count")


# --- The row format every benchmark writes with --json ---------------------------------------------------


def make_row(benchmark: str, engine: str, size: int, measure: str, value: float, unit: str,
             target: str = "") -> dict:
    if unit not in UNITS:
        raise ValueError(f"unit {unit!r} is not one of {UNITS}")
    return {"benchmark": benchmark, "engine": engine, "size": int(size), "measure": measure,
            "value": float(value), "unit": unit, "target": target}


def write_rows(path: str | Path, rows: list[dict]) -> None:
    Path(path).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


def verdict(row: dict) -> str:
    """"pass", "FAIL", "-" (no target) or "?" (a target this script cannot read) for one row."""
    target = (row.get("target") or "").strip()
    if not target:
        return "-"
    found = re.fullmatch(r"(<=|>=|==|=|<|>|≤|≥)?\s*([0-9][0-9,_]*(?:\.[0-9]+)?)\s*(\S+)?", target)
    if not found or (found[3] and found[3] != row.get("unit")):
        return "?"
    op, bound = found[1] or "=", float(found[2].replace(",", "").replace("_", ""))
    value = row["value"]
    ok = {"<": value < bound, "<=": value <= bound, "≤": value <= bound, "=": value == bound, "==": value == bound,
          ">": value > bound, ">=": value >= bound, "≥": value >= bound}[op]
    return "pass" if ok else "FAIL"


# --- Running the benchmarks ---------------------------------------------------------------------------


@dataclass
class Size:
    entries: int
    alliances: int
    per_alliance: int
    record_entry: list[str]
    import_rows: int
    repeat: int


SIZES = {
    "small": Size(10_000, 100, 1_000, ["--quick"], 2_000, 5),
    "medium": Size(100_000, 100, 10_000, ["--seconds", "10"], 20_000, 20),
    "full": Size(1_000_000, 1_000, 10_000, [], 100_000, 30),
}
BENCHMARKS = ("dataset", "pages", "every_page", "balance", "export", "many_alliances", "record_entry",
              "import_rows")


@dataclass
class Step:
    benchmark: str
    argv: list[str]
    #: The engines it runs on as asked ("sqlite", "postgresql"); only for the "did not run" lines.
    engines: tuple[str, ...]
    size: int


def engine_flags(engines: tuple[str, ...]) -> list[str]:
    return [f"--no-{flag}" for engine, flag in (("sqlite", "sqlite"), ("postgresql", "pg")) if engine not in engines]


def plan(args: argparse.Namespace, size: Size) -> list[Step]:
    engines = tuple(e for e, on in (("sqlite", args.sqlite), ("postgresql", args.pg)) if on)
    many = size.alliances * size.per_alliance
    many_engines = engines if (args.many_sqlite or many <= 2_000_000) else tuple(e for e in engines if e != "sqlite")
    common = ["--data-dir", str(args.data_dir), "--seed", str(args.seed)]
    one = [*engine_flags(engines), *common, "--pg-url", args.pg_url]
    rebuild = ["--rebuild"] if args.rebuild else []
    steps = [Step("dataset", [*one, "--entries", str(size.entries), *rebuild], engines, size.entries)]
    # many_alliances compares the home page of a member of every alliance with one home page of alliances.
    page_alliances = min(DEFAULTS["HOME_PAGE_SIZE"], size.alliances)
    page_books = ["--many", f"{page_alliances}x{size.per_alliance}"] if page_alliances < size.alliances else []
    if many_engines:
        steps.append(Step("dataset", [*engine_flags(many_engines), *common, "--pg-many-url", args.pg_many_url,
                                      "--many", f"{size.alliances}x{size.per_alliance}",
                                      *page_books, "--many", f"1x{size.per_alliance}", *rebuild],
                          many_engines, many))
    repeat = ["--repeat", str(size.repeat)]
    steps += [
        Step("pages", [*one, "--entries", str(size.entries), *repeat], engines, size.entries),
        Step("every_page", [*one, "--entries", str(size.entries), "--repeat", "3"], engines, size.entries),
        Step("balance", [*one, "--entries", str(size.entries), *repeat], engines, size.entries),
        Step("export", [*one, "--entries", str(size.entries)], engines, size.entries),
    ]
    if many_engines:
        steps.append(Step("many_alliances", [*engine_flags(many_engines), *common, "--pg-url", args.pg_many_url,
                                             "--alliances", str(size.alliances), "--entries", str(size.per_alliance),
                                             *repeat], many_engines, many))
    if args.pg:
        steps.append(Step("record_entry", list(size.record_entry), ("postgresql",), 0))
    steps.append(Step("import_rows", ["--rows", str(size.import_rows), *([] if args.pg else ["--no-pg"])],
                      engines, size.import_rows))
    if args.only:
        wanted = set(args.only.split(",")) | {"dataset"}
        steps = [s for s in steps if s.benchmark in wanted]
    if args.skip:
        steps = [s for s in steps if s.benchmark not in set(args.skip.split(","))]
    names = {s.benchmark for s in steps}
    needed = {"--entries": bool(names & {"pages", "every_page", "balance", "export"}),
              "--many": "many_alliances" in names}
    return [s for s in steps if s.benchmark != "dataset" or needed["--many" if "--many" in s.argv else "--entries"]]


def run_step(step: Step, workdir: Path, number: int, log_dir: Path) -> tuple[list[dict], str | None]:
    """Run one benchmark process; its rows, and what went wrong if it did not produce them."""
    module = ROOT / "benchmarks" / f"{step.benchmark}.py"
    if not module.exists():
        return [], f"missing: there is no benchmarks/{step.benchmark}.py"
    out = workdir / f"{number:02d}-{step.benchmark}.json"
    command = [sys.executable, "-m", f"benchmarks.{step.benchmark}", *step.argv, "--json", str(out)]
    print(f"\n### {step.benchmark}: {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    log_path = log_dir / f"{number:02d}-{step.benchmark}.log"
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"})
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            print(f"  [{step.benchmark}] {line}", end="", flush=True)
        code = process.wait()
    print(f"### {step.benchmark}: exit {code} after {time.perf_counter() - started:.0f} s (log: {log_path})")
    rows: list[dict] = []
    if out.exists():
        try:
            rows = json.loads(out.read_text(encoding="utf-8"))
        except ValueError as exc:
            return [], f"wrote unreadable JSON ({exc})"
    if code not in (0, 1):  # 1 is "a target was missed": its rows say which
        return rows, f"failed: exit status {code} (see {log_path})"
    if not rows:
        return rows, f"wrote no rows (exit status {code}; see {log_path})"
    return rows, None


CONTRACT = ("benchmark", "engine", "size", "measure", "value", "unit", "target")
ENGINE_SPELLINGS = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql", "pg": "postgresql"}


def normalise(row: object, benchmark: str, notes: set[str]) -> dict | None:
    """The row as the table reads it; what does not follow the contract goes into ``notes`` (not fatal)."""
    if not isinstance(row, dict) or "measure" not in row or "value" not in row:
        notes.add(f"{benchmark}: a row without measure or value was left out")
        return None
    out = {k: row.get(k, "") for k in CONTRACT}
    engine = str(out["engine"])
    out["engine"] = ENGINE_SPELLINGS.get(engine.lower(), engine)
    if out["engine"] != engine:
        notes.add(f"{benchmark}: engine {engine!r} should be {out['engine']!r}")
    if not isinstance(out["size"], int):
        notes.add(f"{benchmark}: size {out['size']!r} is not a whole number")
        out["size_text"] = str(out["size"])
        found = re.match(r"\d[\d,_]*", str(out["size"]))
        out["size"] = int(re.sub(r"[,_]", "", found[0])) if found else 0
    extra = {k: v for k, v in row.items() if k not in CONTRACT}
    if extra:
        notes.add(f"{benchmark}: keys outside the contract ({', '.join(extra)}) are shown in the measure")
        out["measure"] = f"{out['measure']} ({', '.join(str(v) for v in extra.values())})"
    try:
        out["value"] = float(out["value"])
    except (TypeError, ValueError):
        notes.add(f"{benchmark}: value {out['value']!r} is not a number")
        out["value"] = math.nan
    if out["unit"] not in UNITS:
        notes.add(f"{benchmark}: unit {out['unit']!r} is not one of {', '.join(UNITS)}")
    if out["benchmark"] != benchmark and benchmark != "dataset":
        notes.add(f"{benchmark}: rows name the benchmark {out['benchmark']!r}")
    out["target"] = str(out["target"] or "")
    return out


def problem_row(step: Step, problem: str) -> dict:
    return {"benchmark": step.benchmark, "engine": ",".join(step.engines) or "-", "size": step.size,
            "measure": problem, "value": math.nan, "unit": "", "target": "", "result": "ERROR"}


# --- The tables -------------------------------------------------------------------------------------------


def fmt_value(value: float, unit: str) -> str:
    if value != value:  # NaN: did not run
        return "-"
    if unit == "count" or (unit == "s" and value >= 100) or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if unit in ("ms", "MB", "s", "req/s") else f"{value:g}"


ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def table(rows: list[dict]) -> list[list[str]]:
    body = []
    for r in rows:
        result = r.get("result") or verdict(r)
        size = r.get("size_text") or (f"{r['size']:,}" if r["size"] else "-")
        body.append([r["benchmark"], ENGINE_NAMES.get(r["engine"], r["engine"]), size,
                     r["measure"], fmt_value(r["value"], r["unit"]), r["unit"], r["target"] or "-", result])
    return body


HEADER = ["benchmark", "engine", "size", "measure", "value", "unit", "target", "result"]
RIGHT = {"size", "value"}


def print_table(body: list[list[str]]) -> None:
    widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h) for i, h in enumerate(HEADER)]
    line = "  ".join(h.rjust(w) if h in RIGHT else h.ljust(w) for h, w in zip(HEADER, widths, strict=True))
    print("\n" + line + "\n" + "-" * len(line))
    for row in body:
        print("  ".join(c.rjust(w) if h in RIGHT else c.ljust(w)
                        for h, c, w in zip(HEADER, row, widths, strict=True)))


def markdown(header: list[str], body: list[list[str]], right: set[str] = RIGHT) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if h in right else "---" for h in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return "\n".join(lines) + "\n"


def growth_table(rows: list[dict], sizes: list[int]) -> tuple[list[str], list[list[str]]]:
    """Operation x size: the median (p95) of each page, and the export's time and memory, per engine."""
    engines = [e for e in ("sqlite", "postgresql") if any(r["engine"] == e for r in rows)]
    header = ["operation", *[f"{ENGINE_NAMES[e]} {short(n)}" for e in engines for n in sizes]]
    index = {(r["engine"], r["size"], r["benchmark"], r["measure"]): r for r in rows}
    operations: list[tuple[str, str, str]] = []  # (benchmark, measure or measure stem, unit)
    # In the order of the biggest size's rows, pages first: a deep page exists only at the bigger sizes.
    for r in sorted(rows, key=lambda r: (r["benchmark"] != "pages", -r["size"])):
        stem = r["measure"].rsplit(": ", 1)[0] if r["benchmark"] == "pages" else r["measure"]
        key = (r["benchmark"], stem, r["unit"])
        if key not in operations and not r["measure"].startswith("build"):
            operations.append(key)
    body = []
    for benchmark, stem, unit in operations:
        cells = []
        for e in engines:
            for n in sizes:
                # A data set's real size can differ from the asked one by the demo's entries; match the nearest.
                near = min((r["size"] for r in rows if r["engine"] == e and r["benchmark"] == benchmark),
                           key=lambda s, n=n: abs(s - n), default=None)
                if benchmark == "pages":
                    med = index.get((e, near, benchmark, f"{stem}: median"))
                    p95 = index.get((e, near, benchmark, f"{stem}: p95"))
                    cells.append(f"{med['value']:.1f} ({p95['value']:.1f})" if med and p95 else "-")
                else:
                    row = index.get((e, near, benchmark, stem))
                    cells.append(fmt_value(row["value"], unit) if row else "-")
        name = f"{stem}, ms median (p95)" if benchmark == "pages" else f"{benchmark}: {stem}, {unit}"
        body.append([name, *cells])
    return header, body


def short(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}")


# --- The command line ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from benchmarks.dataset import DEFAULT_DATA_DIR, DEFAULT_PG_MANY_URL, DEFAULT_PG_URL, DEFAULT_SEED

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small", help="how big (default small)")
    parser.add_argument("--entries", type=int, help="entries of the one-alliance benchmarks (overrides --size's)")
    parser.add_argument("--alliances", type=int, help="alliances of many_alliances (overrides --size's)")
    parser.add_argument("--per-alliance", type=int, help="entries per alliance of many_alliances")
    parser.add_argument("--repeat", type=int, help="timed requests per page (overrides --size's)")
    parser.add_argument("--only", help="comma-separated benchmarks to run (of " + ", ".join(BENCHMARKS[1:]) + ")")
    parser.add_argument("--skip", help="comma-separated benchmarks to leave out")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--pg", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--many-sqlite", action="store_true",
                        help="build and time the many-alliance books on SQLite even above 2,000,000 entries")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--pg-many-url", default=DEFAULT_PG_MANY_URL)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where SQLite data sets are kept")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data sets even if kept")
    parser.add_argument("--fresh", action="store_true",
                        help="rebuild the data sets, the SQLite ones in a temporary directory removed afterwards")
    parser.add_argument("--growth", action="store_true",
                        help="instead: pages and export at each of --growth-sizes, and the operation x size table")
    parser.add_argument("--growth-sizes", default="10000,100000,1000000")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the table(s) as Markdown here")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every row as JSON here")
    parser.add_argument("--report", type=Path, nargs="+", metavar="JSON",
                        help="run nothing: print the table(s) of rows written earlier (by --json, here or by a "
                             "benchmark)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    temp = Path(tempfile.mkdtemp(prefix="ledger-run-all-"))
    if args.fresh:
        args.rebuild = True
        args.data_dir = temp / "data"
    size = SIZES[args.size]
    size = Size(args.entries or size.entries, args.alliances or size.alliances,
                args.per_alliance or size.per_alliance, size.record_entry, size.import_rows,
                args.repeat or size.repeat)
    if args.growth:
        sizes = [int(s) for s in args.growth_sizes.split(",")]
        steps = []
        for n in sizes:
            for step in plan(argparse.Namespace(**{**vars(args), "only": args.only or "pages,export"}),
                             Size(n, 1, 1, [], 0, size.repeat)):
                if step.benchmark != "dataset" or "--entries" in step.argv:
                    steps.append(step)
    else:
        steps = plan(args, size)
    if args.report:
        steps = []
    rows: list[dict] = []
    problems = 0
    notes: set[str] = set()
    for path in args.report or []:
        for row in json.loads(path.read_text(encoding="utf-8")):
            kept = normalise(row, str(row.get("benchmark", path.stem)), notes)
            if kept is not None:
                rows.append(kept)
    try:
        for number, step in enumerate(steps, 1):
            got, problem = run_step(step, temp, number, temp)
            rows += [r for r in (normalise(row, step.benchmark, notes) for row in got) if r is not None]
            if problem:
                problems += 1
                rows.append(problem_row(step, problem))
    finally:
        if args.fresh:
            shutil.rmtree(temp / "data", ignore_errors=True)
    body = table(rows)
    print_table(body)
    text = markdown(HEADER, body)
    if args.growth:
        header, grown = growth_table([r for r in rows if "result" not in r], sizes)
        print("\nHow the time of each operation grows with the ledger (median (p95) ms; export s and MB):\n")
        growth_md = markdown(header, grown, right=set(header[1:]))
        print(growth_md)
        text = growth_md + "\n" + text
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
        print(f"Markdown written to {args.markdown}")
    if args.json:
        write_rows(args.json, [r for r in rows if "result" not in r])
    if notes:
        print("\nRows that do not follow the --json contract (shown as best read):\n  " + "\n  ".join(sorted(notes)))
    failed = sum(1 for row in body if row[-1] == "FAIL")
    where = f" Logs and JSON: {temp}" if steps else ""
    if not steps:
        shutil.rmtree(temp, ignore_errors=True)
    print(f"\n{len(rows)} rows in {time.perf_counter() - started:.0f} s; {failed} missed target(s); "
          f"{problems} benchmark(s) did not run or failed.{where}")
    return 2 if problems else (1 if failed else 0)


if __name__ == "__main__":
    sys.exit(main())
