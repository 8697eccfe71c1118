"""The API blueprint, shared by every API module."""

from __future__ import annotations

from flask import Blueprint

from ledger.db import MAX_ID

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)

__all__ = ["MAX_ID", "PREFIX", "bp"]
