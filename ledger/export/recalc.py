"""Recalculating a workbook in LibreOffice headless, and reading back the Summary it computed.

Used by the tests and by ``benchmarks/export.py --verify`` to prove the
workbook's formulas give the app's figures in a real spreadsheet engine.
LibreOffice trusts the results stored in an .xlsx by default; the profile
written here sets OOXMLRecalcMode to 0 ("always recalculate"); the tests
overwrite the stored results first, so every number read back was computed.
``soffice`` exits 0 even when it converted nothing, so the converted file's
existence is checked instead.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from openpyxl import load_workbook

from ledger.export.workbook import SUMMARY_FIGURES

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


class RecalcFailed(RuntimeError):
    pass


def recalculate(source: Path, workdir: Path, timeout: float = 600) -> Path:
    """``source`` opened, recalculated and saved again as .xlsx by LibreOffice; the new file's path."""
    binary = soffice()
    if binary is None:
        raise RecalcFailed("LibreOffice (soffice) is not installed")
    profile = workdir / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE)
    out = workdir / "recalculated"
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603 - a fixed argument list, no shell; paths are ours
        [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=timeout, check=False)
    converted = out / source.name
    if not converted.exists():
        raise RecalcFailed(f"LibreOffice did not convert {source.name}: {result.stdout} {result.stderr}")
    return converted


def summary_figures(path: Path) -> dict[str, dict[str, int]]:
    """Partner (and "Total") -> figure -> whole minor units, as the Summary sheet's formulas computed them.

    Each figure is read twice, as the minor-unit formula and as the major-unit one, and both must agree.
    """
    book = load_workbook(path, data_only=True, read_only=True)
    rows = list(book["Summary"].iter_rows(values_only=True))
    book.close()
    header = next(i for i, row in enumerate(rows) if row and row[0] == "Partner id")
    names = rows[header]
    result: dict[str, dict[str, int]] = {}
    for row in rows[header + 1:]:
        if not row or row[1] is None:
            break
        figures = {}
        for figure in SUMMARY_FIGURES:
            minor = row[names.index(f"{figure} (minor units)")]
            major = row[names.index(figure)]
            if not isinstance(minor, int | float) or minor != int(minor):
                raise RecalcFailed(f"{row[1]} {figure}: {minor!r} is not a whole number of minor units")
            if not isinstance(major, int | float):
                raise RecalcFailed(f"{row[1]} {figure}: {major!r} is not a number")
            figures[figure] = int(minor)
        result[row[1]] = figures
    return result
