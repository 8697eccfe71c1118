"""Importing a spreadsheet: upload -> map the columns -> dry-run preview -> import.

The uploaded bytes are kept between the steps in the instance folder under
their SHA-256 (content-addressed, so a re-upload of the same file lands on the
same name and nothing user-named reaches the file system). The import itself
reads that file again, so what is imported is exactly what was previewed.
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
from ledger.imports.reading import MAX_ROWS, ImportFileError, Sheet, column_letter, read_upload
from ledger.models import Membership
from ledger.services import imports as service
from ledger.web.access import membership_or_404
from ledger.web.common import me

bp = Blueprint("imports", __name__)

#: Upload limit for imports only; the app-wide MAX_CONTENT_LENGTH (2 MB) stays for every other form.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
#: Staged uploads older than this are deleted at the next upload.
STAGE_SECONDS = 24 * 3600
_SHA = re.compile(r"^[0-9a-f]{64}$")
_PREVIEW_ROWS = 500


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


def _stage(alliance_id: int, sha: str, data: bytes) -> None:
    folder = _stage_dir()
    cutoff = time.time() - STAGE_SECONDS
    for old in folder.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    target = _staged(alliance_id, sha)
    temp = target.with_suffix(f".{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, target)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def _clean_name(name: str | None) -> str:
    base = os.path.basename((name or "").replace("\\", "/"))
    return "".join(ch for ch in base if ch.isprintable())[:200] or "upload"


def _context(membership: Membership, **extra) -> dict:
    return {"membership": membership, "alliance": membership.alliance, "section": "import", **extra}


def _upload_page(membership: Membership, message: str | None = None, status: int = 200, notice: str | None = None):
    return render_template("alliance/import.html", form=UploadForm(formdata=None), message=message,
                           notice=notice, max_rows=MAX_ROWS, **_context(membership)), status


@bp.route("/a/<id:alliance_id>/import", methods=["GET", "POST"])
@csrf.exempt  # checked below, once the larger upload limit is set: the app-wide check would parse with 2 MB
def upload(alliance_id: int):
    membership = _recorder(alliance_id)
    if request.method == "GET":
        return _upload_page(membership)
    request.max_content_length = current_app.config.get("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)
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
        read_upload(filename, data)
    except ImportFileError as exc:
        return _upload_page(membership, str(exc), 422)
    sha = hashlib.sha256(data).hexdigest()
    batch = service.find_batch(get_session(), membership, sha)
    if batch is not None:
        return _upload_page(membership, notice=service.already_imported_message(batch))
    _stage(alliance_id, sha, data)
    return redirect(url_for("imports.mapping", alliance_id=alliance_id, sha=sha, name=filename))


def _load(alliance_id: int, sha: str, filename: str) -> Sheet:
    path = _staged(alliance_id, sha)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        abort(404, "The uploaded file is no longer here (uploads are kept for a day); upload it again.")
    try:
        return read_upload(filename, data)
    except ImportFileError as exc:  # it was readable at upload: only an edited file name in the URL gets here
        abort(422, str(exc))


def _mapping_page(membership: Membership, sheet: Sheet, sha: str, filename: str, chosen: dict[str, str],
                  errors: dict[str, str] | None = None, status: int = 200):
    return render_template(
        "alliance/import_mapping.html", form=StepForm(formdata=None), sheet=sheet, sha=sha, filename=filename,
        fields=mappings.FIELDS, chosen=chosen, errors=errors or {}, sample=sheet.rows[:3],
        letters=[column_letter(i) for i in range(len(sheet.header))], **_context(membership)), status


@bp.route("/a/<id:alliance_id>/import/<sha>")
def mapping(alliance_id: int, sha: str):
    membership = _recorder(alliance_id)
    filename = _clean_name(request.args.get("name"))
    sheet = _load(alliance_id, sha, filename)
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
        result = service.dry_run(session, me(), membership, sheet, columns)
    finally:
        session.rollback()  # a dry run: every row was really recorded, and none of it is kept
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
        result = service.import_sheet(session, me(), membership, sheet, columns, sha, filename)
    except service.ImportRefused as exc:
        session.rollback()
        return _preview_page(membership, sheet, sha, filename, names, exc.result, 422, refused=True)
    session.commit()
    _staged(alliance_id, sha).unlink(missing_ok=True)
    flash(f"Imported {result.created} entries from {filename}.", "success")
    return redirect(url_for("ledger.index", alliance_id=alliance_id))
