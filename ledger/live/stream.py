"""``GET /a/<id>/events``: the alliance's events as Server-Sent Events, for its members only.

A page renders with the alliance's current event number and connects with
``?after=N``; the browser's automatic reconnects send ``Last-Event-ID``. Both
mean "everything after N, in order", read from the database, so a page that
slept, lost the network or outlived a server restart catches up exactly.

The generator holds no database session between reads, re-checks the
membership on every read (a removed member stops receiving), sends a comment
as a heartbeat so dead connections are noticed, and ends after
``LIVE_STREAM_SECONDS`` so long-lived connections are recycled (the browser
reconnects at once, with its Last-Event-ID).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, request
from flask_login import current_user
from sqlalchemy import select

from ledger.domain.text import whole_number
from ledger.live.broker import Broker
from ledger.live.feed import BATCH, Feed
from ledger.live.listener import Listener
from ledger.live.publish import install
from ledger.models import Activity, Membership
from ledger.web.access import membership_or_404

bp = Blueprint("live", __name__)



def _start_after(alliance_seq: int) -> int:
    """Where to resume: Last-Event-ID (a reconnect) wins over ?after= (the page's first connect)."""
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("after")):
        number = whole_number(raw, 2**63 - 1, smallest=0)
        if number is not None:
            return min(number, alliance_seq)
    return alliance_seq


@bp.route("/a/<id:alliance_id>/events")
def events(alliance_id: int):
    membership = membership_or_404(alliance_id)
    after = _start_after(membership.alliance.event_seq)
    app = current_app._get_current_object()
    listener: Listener | None = app.extensions.get("ledger.listener")
    if listener is not None:
        listener.ensure_started()
    stream = _stream(app, current_user.id, alliance_id, after)
    return Response(stream, mimetype="text/event-stream", headers={
        "Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _stream(app: Flask, user_id: int, alliance_id: int, after: int) -> Iterator[str]:
    broker: Broker = app.extensions["ledger.broker"]
    feed: Feed = app.extensions["ledger.feed"]
    sessions = app.extensions["ledger.sessions"]
    heartbeat = float(app.config["LIVE_HEARTBEAT_SECONDS"])
    deadline = time.monotonic() + float(app.config["LIVE_STREAM_SECONDS"])
    checked = time.monotonic()
    recheck = False
    yield f"retry: {int(app.config['LIVE_RETRY_MS'])}\n\n"
    while time.monotonic() < deadline:
        events = feed.since(alliance_id, after, recheck=recheck)
        # Membership changes only through member.* events, so it is checked when one passes (after
        # the read: a check before it could pass and the read then hold events committed after the
        # removal), and once a heartbeat in any case.
        if any(e.action.startswith("member.") for e in events) or time.monotonic() - checked >= heartbeat:
            if not _is_member(sessions, user_id, alliance_id):
                yield "event: revoked\ndata: {}\n\n"
                return
            checked = time.monotonic()
        for event in events:
            after = event.seq
            yield event.message
        if len(events) == BATCH:
            recheck = False
            continue
        # A timeout re-reads the database: writes by processes that cannot notify (SQLite) or
        # notifications lost while the listener reconnected still arrive, a heartbeat late.
        recheck = not broker.wait(alliance_id, after, timeout=heartbeat)
        if recheck:
            yield ": keep-alive\n\n"


def _is_member(sessions, user_id: int, alliance_id: int) -> bool:
    with sessions() as session:
        return session.scalar(select(Membership.id).where(
            Membership.user_id == user_id, Membership.alliance_id == alliance_id)) is not None


def _message(row: Activity) -> str:
    entry = row.entry
    data = {
        "seq": row.seq,
        "action": row.action,
        "summary": row.summary,
        "actor": row.actor.name if row.actor else None,
        "at": row.created_at.isoformat(),
        "entry": None if entry is None else {
            "id": entry.id,
            "kind": entry.kind.value,
            "partner_id": entry.partner_id,
            "partner": entry.partner.name,
            "category": entry.category.name if entry.category else None,
            "amount": entry.amount,
            "reverses_id": entry.reverses_id,
        },
    }
    return f"id: {row.seq}\nevent: activity\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def init_app(app: Flask) -> None:
    app.config.setdefault("LIVE_HEARTBEAT_SECONDS", 15.0)
    app.config.setdefault("LIVE_STREAM_SECONDS", 300.0)
    app.config.setdefault("LIVE_RETRY_MS", 1000)
    broker = Broker()
    app.extensions["ledger.broker"] = broker
    app.extensions["ledger.feed"] = Feed(app.extensions["ledger.sessions"], broker, _message)
    install(app.extensions["ledger.sessions"], broker)
    engine = app.extensions["ledger.engine"]
    if engine.dialect.name == "postgresql":
        app.extensions["ledger.listener"] = Listener(engine, broker)
    app.register_blueprint(bp)


