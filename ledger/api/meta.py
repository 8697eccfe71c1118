"""The API's description of itself, readable without a token so tools can discover the API."""

from __future__ import annotations

from flask import jsonify

from ledger.api.blueprint import bp
from ledger.api.openapi import document


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
