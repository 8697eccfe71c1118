"""Where the alliance is in its life, shown on every alliance page (renegotiating, ending, ended, expired).

A template global rather than a context value, so every page of the
alliance shows the same banner without each view having to remember it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint

from ledger.domain.renewal import alliance_state, is_read_only
from ledger.models import Alliance
from ledger.web.common import today

bp = Blueprint("state", __name__)


@dataclass(frozen=True)
class LifeState:
    state: str
    term_end: date
    ended_on: date | None
    renegotiate_from: date | None
    read_only: bool


@bp.app_template_global()
def life_state(alliance: Alliance) -> LifeState:
    day = today(alliance)
    return LifeState(alliance_state(day, alliance.term_end, alliance.ended_on, alliance.renegotiate_from),
                     alliance.term_end, alliance.ended_on, alliance.renegotiate_from,
                     is_read_only(day, alliance.ended_on))
