"""Importing a spreadsheet: upload -> map the columns -> dry-run preview -> import.

The uploaded bytes are kept between the steps in the instance folder under
their SHA-256 (content-addressed, so a re-upload of the same file lands on the
same name and nothing user-named reaches the file system), and beside them what
the upload read from them (``<name>.<xlsx|csv>.json``, and its first rows for
the mapping page): a 100,000-row workbook takes openpyxl 6 s or more to read, so
the later steps load that instead. Both are derived from the same bytes, so what
is imported is exactly what was previewed. A preview without errors also leaves
its verdict (``<name>.verdict``), which the import uses instead of checking
every row again if nothing has changed since (``services.imports.import_sheet``).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import RequestEntityTooLarge

from ledger.domain.errors import Conflict, InvalidInput, NotAllowed
from ledger.domain.permissions import can_record
from ledger.extensions import csrf, get_session
from ledger.imports import mapping as mappings
from ledger.imports.reading import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    ImportFileError,
    Sheet,
    column_letter,
    dump_sheet,
    file_kind,
    load_sheet,
    read_upload,
)
from ledger.models import Membership
from ledger.services import imports as service
from ledger.web.access import membership_or_404
from ledger.web.common import me

bp = Blueprint("imports", __name__)

#: Upload limit for imports only; the app-wide MAX_CONTENT_LENGTH (2 MB) stays for every other form.
#: A file may hold MAX_ROWS (100,000) rows. As the app's own CSV export (18 columns) that is about 15 MB with
#: short descriptions and 25 MB with 100-character ones, over the former 16 MB; a partner's plain sheet (eight
#: columns) is about 8 MB of CSV or 4 MB of .xlsx. 64 MB leaves room for long descriptions and references and
#: still bounds what one request holds in memory (the upload is read whole, then parsed).
DEFAULT_MAX_BYTES = MAX_FILE_BYTES
#: Staged uploads older than this are deleted at the next upload.
STAGE_SECONDS = 24 * 3600
_SHA = re.compile(r"^[0-9a-f]{64}$")
_PREVIEW_ROWS = 500
#: Rows the mapping page shows.
_SAMPLE_ROWS = 3


class UploadForm(FlaskForm):
    file = FileField("Spreadsheet (.xlsx or .csv)")


class StepForm(FlaskForm):
    """Only the CSRF token: the mapping's selects are built from the file's header, outside WTForms."""


def _recorder(alliance_id: int) -> Membership:
    membership = membership_or_404(alliance_id)
    if not can_record(membership.role):
        raise NotAllowed(f"As {membership.role.label} you can read the books but not import entries.")
    return membership


def _stage_dir() -> Path:
    folder = Path(current_app.config.get("IMPORT_FOLDER") or Path(current_app.instance_path) / "imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _staged(alliance_id: int, sha: str) -> Path:
    if not _SHA.match(sha):
        abort(404)
    return _stage_dir() / f"{alliance_id}-{sha}"


def _parsed(alliance_id: int, sha: str, kind: str, part: str = "json") -> Path:
    """Where the sheet read from the staged file is kept, per way of reading it (the file name's extension):
    whole (``json``) and its first rows for the mapping page (``head.json``)."""
    return _staged(alliance_id, sha).with_name(f"{alliance_id}-{sha}.{kind}.{part}")


def _verdict(alliance_id: int, sha: str) -> Path:
    """Where the preview keeps its verdict (the plan of a sheet without errors) for the import."""
    return _staged(alliance_id, sha).with_name(f"{alliance_id}-{sha}.verdict")


def _write(target: Path, data: bytes) -> None:
    temp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, target)


def _stage(alliance_id: int, sha: str, data: bytes, filename: str, sheet: Sheet) -> None:
    folder = _stage_dir()
    cutoff = time.time() - STAGE_SECONDS
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    _write(_staged(alliance_id, sha), data)
    try:
        parsed, head = dump_sheet(sheet), dump_sheet(sheet, head=_SAMPLE_ROWS)
    except (TypeError, ValueError):  # a cell JSON cannot hold: the later steps read the upload itself
        return
    kind = file_kind(filename)
    _write(_parsed(alliance_id, sha, kind), parsed)
    _write(_parsed(alliance_id, sha, kind, "head.json"), head)


def _unstage(alliance_id: int, sha: str) -> None:
    _staged(alliance_id, sha).unlink(missing_ok=True)
    _verdict(alliance_id, sha).unlink(missing_ok=True)
    for kind in ("xlsx", "csv"):
        for part in ("json", "head.json"):
            _parsed(alliance_id, sha, kind, part).unlink(missing_ok=True)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def _clean_name(name: str | None) -> str:
    base = os.path.basename((name or "").replace("\\", "/"))
    return "".join(ch for ch in base if ch.isprintable())[:200] or "upload"


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "alliance": membership.alliance, "section": "import", **extra}


def _upload_page(membership: Membership, message: str | None = None, status: int = 200, notice: str | None = None):
    return render_template("alliance/import.html", form=UploadForm(formdata=None), message=message,
                           notice=notice, max_rows=MAX_ROWS, max_size=_size(_max_bytes()),
                           **_context(membership)), status


def _max_bytes() -> int:
    return current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


@bp.route("/a/<id:alliance_id>/import", methods=["GET", "POST"])
@csrf.exempt  # checked below, once the larger upload limit is set: the app-wide check would parse with 2 MB
def upload(alliance_id: int):
    membership = _recorder(alliance_id)
    if request.method == "GET":
        return _upload_page(membership)
    request.max_content_length = _max_bytes()
    try:
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        form = UploadForm()
        if not form.validate_on_submit():
            abort(400)
        file = request.files.get("file")
    except RequestEntityTooLarge:
        return _upload_page(membership, f"The file is larger than {_size(request.max_content_length)}; split it "
                                        f"into smaller files.", 413)
    if file is None or not file.filename:
        return _upload_page(membership, "Choose a file to upload.", 422)
    data = file.read()
    filename = _clean_name(file.filename)
    try:
        sheet = read_upload(filename, data)
    except ImportFileError as exc:
        return _upload_page(membership, str(exc), 422)
    sha = hashlib.sha256(data).hexdigest()
    batch = service.find_batch(get_session(), membership, sha)
    if batch is not None:
        return _upload_page(membership, notice=service.already_imported_message(batch))
    _stage(alliance_id, sha, data, filename, sheet)
    return redirect(url_for("imports.mapping", alliance_id=alliance_id, sha=sha, name=filename))


def _load(alliance_id: int, sha: str, filename: str, part: str = "json") -> Sheet:
    """The staged file's sheet (``part="head.json"``: its first rows and the count of all, if kept)."""
    path = _staged(alliance_id, sha)
    if not path.exists():
        abort(404, "The uploaded file is no longer here (uploads are kept for a day); upload it again.")
    try:
        kind = file_kind(filename)
        try:
            sheet = load_sheet(_parsed(alliance_id, sha, kind, part).read_bytes())
        except FileNotFoundError:
            sheet = None
        return sheet if sheet is not None else read_upload(filename, path.read_bytes())
    except FileNotFoundError:
        abort(404, "The uploaded file is no longer here (uploads are kept for a day); upload it again.")
    except ImportFileError as exc:  # it was readable at upload: only an edited file name in the URL gets here
        abort(422, str(exc))


def _mapping_page(membership: Membership, sheet: Sheet, sha: str, filename: str, chosen: dict[str, str],
                  errors: dict[str, str] | None = None, status: int = 200):
    return render_template(
        "alliance/import_mapping.html", form=StepForm(formdata=None), sheet=sheet, sha=sha, filename=filename,
        fields=mappings.FIELDS, chosen=chosen, errors=errors or {}, sample=sheet.rows[:_SAMPLE_ROWS],
        letters=[column_letter(i) for i in range(len(sheet.header))], **_context(membership)), status


@bp.route("/a/<id:alliance_id>/import/<sha>")
def mapping(alliance_id: int, sha: str):
    membership = _recorder(alliance_id)
    filename = _clean_name(request.args.get("name"))
    sheet = _load(alliance_id, sha, filename, "head.json")
    chosen = mappings.guess(sheet.header, service.remembered_mapping(get_session(), membership))
    return _mapping_page(membership, sheet, sha, filename, chosen)


def _submitted(membership: Membership, sha: str):
    form = StepForm()
    if not form.validate_on_submit():
        abort(400)
    batch = service.find_batch(get_session(), membership, sha)
    if batch is not None:  # a stale preview page: the staged file is gone, say why
        raise Conflict(service.already_imported_message(batch))
    filename = _clean_name(request.form.get("filename"))
    sheet = _load(membership.alliance_id, sha, filename)
    raw = {f.key: request.form.get(f"map_{f.key}", "") for f in mappings.FIELDS}
    return sheet, filename, raw


def _preview_page(membership: Membership, sheet: Sheet, sha: str, filename: str, names: dict[str, str],
                  result: service.ImportResult, status: int = 200, refused: bool = False):
    errors = result.errors
    return render_template(
        "alliance/import_preview.html", form=StepForm(formdata=None), sheet=sheet, sha=sha, filename=filename,
        names=names, result=result, rows=result.rows[:_PREVIEW_ROWS], error_rows=errors[:_PREVIEW_ROWS],
        refused=refused, sign_mode=not names.get("kind"), display_amount=service.display_amount,
        **_context(membership)), status


@bp.route("/a/<id:alliance_id>/import/<sha>/preview", methods=["POST"])
def preview(alliance_id: int, sha: str):
    membership = _recorder(alliance_id)
    sheet, filename, raw = _submitted(membership, sha)
    try:
        names, columns = mappings.resolve(raw, sheet.header)
    except InvalidInput as exc:
        return _mapping_page(membership, sheet, sha, filename, raw, exc.errors, 422)
    session = get_session()
    service.save_mapping(session, me(), membership, names)
    session.commit()
    try:
        result = service.dry_run(session, me(), membership, sheet, columns, sha)
    finally:
        session.rollback()  # a dry run writes nothing; end its read transaction
    if result.verdict is not None:
        _write(_verdict(alliance_id, sha), result.verdict)
    return _preview_page(membership, sheet, sha, filename, names, result)


@bp.route("/a/<id:alliance_id>/import/<sha>/run", methods=["POST"])
def run(alliance_id: int, sha: str):
    membership = _recorder(alliance_id)
    sheet, filename, raw = _submitted(membership, sha)
    try:
        names, columns = mappings.resolve(raw, sheet.header)
    except InvalidInput as exc:
        return _mapping_page(membership, sheet, sha, filename, raw, exc.errors, 422)
    session = get_session()
    try:
        verdict = _verdict(alliance_id, sha).read_bytes()
    except FileNotFoundError:
        verdict = None
    try:
        result = service.import_sheet(session, me(), membership, sheet, columns, sha, filename, verdict)
    except service.ImportRefused as exc:
        session.rollback()
        return _preview_page(membership, sheet, sha, filename, names, exc.result, 422, refused=True)
    session.commit()
    _unstage(alliance_id, sha)
    flash(f"Imported {result.created} entries from {filename}.", "success")
    return redirect(url_for("ledger.index", alliance_id=alliance_id))
