"""How long does a hostile upload keep a worker, and how much memory does it take? (Target: refused in 1-2 s.)

Each case is a file small on disk that claims or holds far more than its size suggests (the import bombs of
issue 16: a claimed range of a million rows, a huge shared-strings part, a million distinct texts, a
million empty cells, a CSV two million columns wide or a hundred thousand lines long). Each is read
as the upload request reads it (``ledger.imports.reading.read_upload``, then ``dump_sheet`` to stage the
sheet for the mapping page), in a process of its own, so that its peak memory (``ru_maxrss``) is its own
and a reader that never finishes can be stopped at ``--limit``.

    .venv/bin/python -m benchmarks.import_bombs                    # this checkout
    .venv/bin/python -m benchmarks.import_bombs --ledger ../old    # the reader of another checkout, same files

``--ledger`` puts another checkout's ``ledger`` package first on the child's path: the same bombs, read by
an older reader, give the "before" figures. A case still running at ``--limit`` seconds is stopped and
shown as such.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``tests`` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.import_files import HEADER, claimed_dimension_bomb, csv_bytes, empty_cells_bomb, shared_strings_bomb

ROWS = [["2020-05-04", "Alpha", "cost", "production", "1234.56", "Blades", "", ""]]

CASES: dict[str, Callable[[], bytes]] = {
    "claimed.xlsx": lambda: claimed_dimension_bomb(b'<c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>'),
    "strings.xlsx": lambda: shared_strings_bomb(8_000_000),
    "texts.xlsx": lambda: shared_strings_bomb(1_000_001, noise=60_000),
    "empty.xlsx": lambda: empty_cells_bomb(1_000_016),
    "wide.csv": lambda: csv_bytes(ROWS, header=HEADER) + b"," * 2_000_000,
    "long.csv": lambda: csv_bytes(ROWS, header=HEADER) + b"\n" * 101_000,
}

#: Run in the child: read one file, report the outcome, the seconds and the peak memory as JSON.
CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from ledger.imports import reading
data = open(sys.argv[2], "rb").read()
started = time.perf_counter()
try:
    reading.dump_sheet(reading.read_upload(sys.argv[3], data))  # what the upload request stages
    outcome = "accepted"
except reading.ImportFileError as exc:  # what the upload page shows the person, with a 422
    outcome = "refused: " + str(exc)[:60]
print(json.dumps({"seconds": time.perf_counter() - started, "outcome": outcome,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_case(ledger: Path, name: str, data: bytes, limit: float) -> dict:
    """One bomb read in a process of its own; stopped at ``limit`` seconds."""
    with tempfile.NamedTemporaryFile(suffix=name) as handle:
        handle.write(data)
        handle.flush()
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", CHILD, str(ledger), handle.name, name],
                                  capture_output=True, text=True, timeout=limit, check=False)
        except subprocess.TimeoutExpired:
            return {"seconds": None, "outcome": f"still running at {limit:.0f} s: stopped", "peak_mb": None}
    if done.returncode != 0:
        return {"seconds": time.perf_counter() - started, "outcome": "failed: " + done.stderr.strip()[-70:],
                "peak_mb": None}
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the checkout whose reader is measured (default: this one)")
    parser.add_argument("--limit", type=float, default=60.0, help="seconds before a case is stopped")
    args = parser.parse_args(argv)
    print(f"{'file':<14}{'on disk':>10}{'seconds':>10}{'peak MB':>10}  outcome")
    for name, build in CASES.items():
        data = build()
        result = run_case(args.ledger.resolve(), name, data, args.limit)
        seconds = "-" if result["seconds"] is None else f"{result['seconds']:.2f}"
        peak = "-" if result["peak_mb"] is None else f"{result['peak_mb']:.0f}"
        print(f"{name:<14}{len(data) / 1024:>8.0f} K{seconds:>10}{peak:>10}  {result['outcome']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
