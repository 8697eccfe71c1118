"""``GET /a/<id>/events``: the alliance's events as Server-Sent Events, for its members only.

A page renders with the alliance's current event number and connects with
``?after=N``; the browser's automatic reconnects send ``Last-Event-ID``. Both
mean "everything after N, in order", read from the database, so a page that
slept, lost the network or outlived a server restart catches up exactly.

The generator holds no database session between reads, re-checks the
membership and the log-in session (a removed member, a logged-out session or
one ended by a password change stops receiving: at once when this process
hears of it, within a heartbeat in any case), sends a comment as a heartbeat
so dead connections are noticed, and ends after ``LIVE_STREAM_SECONDS`` so
long-lived connections are recycled (the browser reconnects at once, with its
Last-Event-ID). Each stream takes a slot (``ledger.live.slots``): past
``LIVE_STREAMS_PER_USER`` or ``LIVE_STREAMS_PER_ADDRESS`` in this process the
oldest one gives way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, request
from flask_login import current_user
from sqlalchemy import select

from ledger.db import MAX_SEQ
from ledger.domain.text import whole_number
from ledger.live.broker import Broker
from ledger.live.feed import BATCH, Feed
from ledger.live.listener import Listener
from ledger.live.publish import install
from ledger.live.slots import Slots
from ledger.models import Activity, LoginSession, Membership
from ledger.web.access import membership_or_404

bp = Blueprint("live", __name__)


def _start_after(alliance_seq: int) -> int:
    """Where to resume: Last-Event-ID (a reconnect) wins over ?after= (the page's first connect)."""
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("after")):
        number = whole_number(raw, MAX_SEQ, smallest=0)
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
    caps = {f"user:{current_user.id}": int(app.config["LIVE_STREAMS_PER_USER"]),
            f"addr:{request.remote_addr}": int(app.config["LIVE_STREAMS_PER_ADDRESS"])}
    stream = _stream(app, _Viewer(current_user.id, current_user.login_session_id, caps), alliance_id, after)
    return Response(stream, mimetype="text/event-stream", headers={
        "Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@dataclass(frozen=True, slots=True)
class _Viewer:
    user_id: int
    login_session_id: int
    caps: dict[str, int]


def _stop(event: str, reason: str) -> str:
    return f"event: {event}\ndata: {json.dumps({'reason': reason})}\n\n"


def _stream(app: Flask, viewer: _Viewer, alliance_id: int, after: int) -> Iterator[str]:
    """Takes its slot on the first read (a generator never started never runs its ``finally``)."""
    slots: Slots = app.extensions["ledger.slots"]
    slot = slots.take(viewer.caps)
    try:
        yield from _events(app, viewer, alliance_id, after, lambda: slot.given_up)
    finally:
        slots.release(slot)


def _events(app: Flask, viewer: _Viewer, alliance_id: int, after: int,
            given_up: Callable[[], bool]) -> Iterator[str]:
    broker: Broker = app.extensions["ledger.broker"]
    feed: Feed = app.extensions["ledger.feed"]
    sessions = app.extensions["ledger.sessions"]
    heartbeat = float(app.config["LIVE_HEARTBEAT_SECONDS"])
    deadline = time.monotonic() + float(app.config["LIVE_STREAM_SECONDS"])
    checked = time.monotonic()
    recheck = False
    yield f"retry: {int(app.config['LIVE_RETRY_MS'])}\n\n"
    while time.monotonic() < deadline:
        if given_up():
            yield _stop("superseded", "too-many-streams")
            return
        if broker.session_ended(viewer.login_session_id):
            yield _stop("revoked", "logged-out")
            return
        events = feed.since(alliance_id, after, recheck=recheck)
        # Membership changes only through member.* events, so it is checked when one passes (after
        # the read: a check before it could pass and the read then hold events committed after the
        # removal), and once a heartbeat in any case, with the log-in session (whose end this process
        # may not have heard of: a notification lost while the listener reconnected).
        if any(e.action.startswith("member.") for e in events) or time.monotonic() - checked >= heartbeat:
            refused = _refusal(sessions, viewer, alliance_id)
            if refused:
                yield _stop("revoked", refused)
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


def _refusal(sessions, viewer: _Viewer, alliance_id: int) -> str | None:
    """Why the stream must stop ("logged-out", "not-member"), or None; one query for both."""
    with sessions() as session:
        row = session.execute(
            select(LoginSession.ended_at, Membership.id)
            .outerjoin(Membership, (Membership.user_id == LoginSession.user_id)
                       & (Membership.alliance_id == alliance_id))
            .where(LoginSession.id == viewer.login_session_id, LoginSession.user_id == viewer.user_id)).first()
    if row is None or row.ended_at is not None:
        return "logged-out"
    return "not-member" if row.id is None else None


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
    app.config.setdefault("LIVE_STREAMS_PER_USER", 6)
    app.config.setdefault("LIVE_STREAMS_PER_ADDRESS", 12)
    broker = Broker()
    app.extensions["ledger.broker"] = broker
    app.extensions["ledger.slots"] = Slots(broker)
    app.extensions["ledger.feed"] = Feed(app.extensions["ledger.sessions"], broker, _message)
    install(app.extensions["ledger.sessions"], broker)
    engine = app.extensions["ledger.engine"]
    if engine.dialect.name == "postgresql":
        app.extensions["ledger.listener"] = Listener(engine, broker)
    app.register_blueprint(bp)


