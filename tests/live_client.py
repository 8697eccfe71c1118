"""Plain HTTP clients for the live views: log in, read a Server-Sent Events stream, post through the API.

Written with ``http.client`` rather than a test client because what is
tested is the real thing: a server (in a thread or a gunicorn process)
streaming over a socket, with cookies, CSRF and timeouts like a browser has.
Used by the end-to-end tests and by ``benchmarks/live.py``.
"""

from __future__ import annotations

import http.client
import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from tests.builders import PASSWORD

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _connection(base_url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(base_url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def _cookies(response: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def login(base_url: str, who: str, password: str = PASSWORD, timeout: float = 10.0) -> str:
    """Log in through the form (with its CSRF token when the app has CSRF on); returns a Cookie header."""
    jar: dict[str, str] = {}
    conn = _connection(base_url, timeout)
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        _cookies(response, jar)
        form = {"email": f"{who}@example.org", "password": password}
        if match := _CSRF.search(page):
            form["csrf_token"] = match.group(1)
        conn.request("POST", "/login", body=urlencode(form), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(jar)})
        response = conn.getresponse()
        response.read()
        _cookies(response, jar)
        assert response.status == 302, f"log-in as {who} failed with {response.status}"
    finally:
        conn.close()
    return cookie_header(jar)


def post_form(base_url: str, path: str, cookie: str, form: dict[str, str] | None = None,
              timeout: float = 10.0) -> int:
    """POST a form as the browser holding ``cookie`` would (log-out, a new password); returns the status."""
    conn = _connection(base_url, timeout)
    try:
        conn.request("POST", path, body=urlencode(form or {}), headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def post_entry(base_url: str, token: str, alliance_id: int, body: dict, timeout: float = 10.0) -> dict:
    """POST /api/v1/alliances/<id>/entries with a bearer token; the created entry as JSON."""
    conn = _connection(base_url, timeout)
    try:
        conn.request("POST", f"/api/v1/alliances/{alliance_id}/entries", body=json.dumps(body),
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = conn.getresponse()
        payload = json.loads(response.read() or b"null")
    finally:
        conn.close()
    assert response.status == 201, (response.status, payload)
    return payload


@dataclass
class Message:
    """One SSE message; a comment (heartbeat) has ``comment`` set and nothing else."""

    event: str | None = None
    id: str | None = None
    data: str = ""
    comment: str | None = None
    retry: int | None = None

    @property
    def json(self) -> dict:
        return json.loads(self.data)

    @property
    def seq(self) -> int:
        return int(self.id or 0)


class StreamClosed(Exception):
    """The server ended the stream (or died)."""


class EventStream:
    """``GET /a/<id>/events`` read message by message; every read has a deadline."""

    def __init__(self, base_url: str, path: str, cookie: str | None = None, *, last_event_id: int | None = None,
                 timeout: float = 5.0) -> None:
        self.conn = _connection(base_url, timeout)
        headers = {"Accept": "text/event-stream"}
        if cookie:
            headers["Cookie"] = cookie
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = self.response.headers

    def read_message(self, timeout: float | None = None) -> Message:
        """The next message or comment; raises StreamClosed at the end and TimeoutError past ``timeout``."""
        if timeout is not None and self.conn.sock is not None:
            self.conn.sock.settimeout(timeout)
        message = Message()
        seen_any = False
        while True:
            raw = self.response.readline()
            if not raw:
                raise StreamClosed
            line = raw.decode().rstrip("\r\n")
            if line == "":
                if seen_any:
                    return message
                continue
            seen_any = True
            if line.startswith(":"):
                message.comment = line[1:].strip()
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                message.data = f"{message.data}\n{value}" if message.data else value
            elif field == "event":
                message.event = value
            elif field == "id":
                message.id = value
            elif field == "retry":
                message.retry = int(value)

    def events(self, count: int, timeout: float = 5.0) -> list[Message]:
        """The next ``count`` events (heartbeats and retry hints skipped)."""
        found: list[Message] = []
        while len(found) < count:
            message = self.read_message(timeout)
            if message.event is not None:
                found.append(message)
        return found

    def until_heartbeat(self, timeout: float = 5.0) -> list[Message]:
        """Every event up to the next heartbeat: with nothing pending, that is "all there is" for now."""
        found: list[Message] = []
        while True:
            message = self.read_message(timeout)
            if message.comment is not None:
                return found
            if message.event is not None:
                found.append(message)

    def settle(self, count: int, timeout: float = 5.0) -> list[Message]:
        """The next ``count`` events plus anything else sent before the stream fell quiet.

        For events written while the stream is open: a heartbeat may come
        first if the write was slow, so wait for the count, then check that
        nothing (a duplicate, a stranger) follows.
        """
        return self.events(count, timeout) + self.until_heartbeat(timeout)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
