"""One export as a file: to a temporary file for a download, or into the project's ``exports/`` directory.

The web page, the API and the command line all go through here, so the
three produce the same bytes under the same name for the same period.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from flask import Response, send_file
from sqlalchemy.orm import Session

from ledger.chain import head_of
from ledger.clock import utcnow
from ledger.domain.chain import fingerprint
from ledger.export.csv_export import write_csv
from ledger.export.period import ExportPeriod, file_name
from ledger.export.workbook import write_workbook
from ledger.models import Alliance
from ledger.statements import CommentRule

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}
#: Kept in memory up to this size, then spilled to disk: a big ledger never sits in RAM.
SPOOL_BYTES = 4 * 1024 * 1024


@dataclass
class ExportFile:
    name: str
    mimetype: str
    content: IO[bytes]
    chain_head: str = ""


def chain_head(session: Session, alliance: Alliance) -> str:
    """The fingerprint of the alliance's hash chain, named in every export (file name, Summary, header)."""
    return fingerprint(head_of(session, alliance.id))


def write_export(session: Session, alliance: Alliance, period: ExportPeriod, fmt: str, target: IO[bytes],
                 exported_at: datetime, head: str | None, may_read_comments: CommentRule) -> None:
    if fmt == "xlsx":
        write_workbook(session, alliance, period, target, exported_at, head, may_read_comments)
        return
    # UTF-8 with a byte-order mark, so Excel opens accented names correctly.
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=True)
    write_csv(session, alliance, period, text)
    text.flush()
    text.detach()


def export_file(session: Session, alliance: Alliance, period: ExportPeriod, fmt: str,
                may_read_comments: CommentRule, exported_at: datetime | None = None) -> ExportFile:
    exported_at = exported_at or utcnow()
    head = chain_head(session, alliance)
    # Not a with-block: the file outlives this call, and send_file closes it with the response.
    content = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        write_export(session, alliance, period, fmt, content, exported_at, head, may_read_comments)
    except BaseException:
        content.close()
        raise
    content.seek(0)
    return ExportFile(file_name(alliance, period, exported_at, fmt, head), MIMETYPES[fmt], content, head)


def download(session: Session, alliance: Alliance, period: ExportPeriod, fmt: str,
             may_read_comments: CommentRule) -> Response:
    """The export as an attachment; the temporary file is closed when the response is."""
    export = export_file(session, alliance, period, fmt, may_read_comments)
    response = send_file(export.content, mimetype=export.mimetype, as_attachment=True,
                         download_name=export.name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Chain-Head"] = export.chain_head
    return response


def save_export(session: Session, alliance: Alliance, period: ExportPeriod, fmt: str, directory: Path,
                may_read_comments: CommentRule, exported_at: datetime | None = None) -> Path:
    exported_at = exported_at or utcnow()
    head = chain_head(session, alliance)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(alliance, period, exported_at, fmt, head)
    partial = path.with_suffix(path.suffix + ".part")
    with open(partial, "wb") as target:
        write_export(session, alliance, period, fmt, target, exported_at, head, may_read_comments)
    partial.replace(path)  # never leave a half-written file under the final name
    return path
