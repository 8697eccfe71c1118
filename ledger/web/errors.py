"""Error pages, and turning the domain's refusals into HTTP answers.

A service raises ``NotAllowed``/``NotFound``/``Conflict``; here they become
403/404/409 pages (or JSON under ``/api``), so no view needs try/except for
them and no refusal ever surfaces as a 500.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ledger.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _render(status: int, title: str, message: str):
    if _wants_json():
        return jsonify({"error": {"status": status, "message": message}}), status
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(NotAllowed)
    def not_allowed(exc: NotAllowed):
        return _render(403, "Not allowed", str(exc) or "Your role does not allow this.")

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound):
        return _render(404, "Not found", str(exc) or "There is nothing here.")

    @app.errorhandler(Conflict)
    def conflict(exc: Conflict):
        return _render(409, "Could not do that", str(exc))

    @app.errorhandler(InvalidInput)
    def invalid(exc: InvalidInput):
        if _wants_json():
            return jsonify({"error": {"status": 422, "message": "Some fields are not valid.",
                                      "fields": exc.errors}}), 422
        return _render(422, "Not valid", "; ".join(exc.errors.values()))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _render(400, "Form expired", "The form was stale or incomplete (CSRF check failed). "
                       "Go back, reload the page and submit again.")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge):
        # Registered by code, so it also answers under /api (in the API's JSON shape) before the API's
        # catch-all. The body was refused before anything read it: nothing was saved.
        limits = []
        if request.max_content_length:
            limits.append(f"{request.max_content_length / (1024 * 1024):g} MB in all")
        if request.max_form_memory_size and not _wants_json():
            limits.append(f"{request.max_form_memory_size / 1000:g} KB in one form field")
        accepts = f" (at most {' and '.join(limits)})" if limits else ""
        message = f"The request is larger than this server accepts{accepts}; nothing was saved."
        if not _wants_json():
            message += " Send less at once; a spreadsheet goes through Import, which takes larger files."
        return _render(413, "Too large", message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        body, status = _render(exc.code or 500, exc.name, exc.description or exc.name)
        # Keep what the exception says about itself, e.g. the Allow header of a 405.
        extra = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return body, status, extra
