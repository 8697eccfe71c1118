"""An open-loop HTTP/1.1 load generator: a fixed request rate, bounded in count and time, honest latencies.

Requests are scheduled at a fixed rate (request ``i`` is due at ``start + i / rate``) whatever the
servers do, and sent over a pool of keep-alive connections spread over one or more targets (e.g. two
server processes). A request's latency is measured from the time it was *due*, not from the time a
connection was free to send it, so a server that falls behind shows its queue in the percentiles
instead of quietly slowing the load down (no coordinated omission).

It speaks raw HTTP/1.1 over asyncio streams with hand-built requests: no HTTP library per request, so
it costs little CPU on a machine it shares with the servers (its own CPU time is part of the result).
A server that answers ``Connection: close`` (gunicorn's sync workers do) gets a new connection for the
next request; a connection idle for longer than ``idle_reconnect`` seconds is replaced before use, so a
POST never races a server closing its idle keep-alive connection. Nothing is ever retried: a POST
that fails is counted as an error, never sent twice.

Only loopback targets are accepted (127.0.0.0/8, ::1, localhost): this is for servers on this machine.

As a library::

    from benchmarks.loadgen import Target, http_request, run_open_loop
    targets = [Target.parse("http://127.0.0.1:8001/api/v1/alliances/1/entries"), ...]
    result = run_open_loop(targets, lambda i, t: http_request("POST", t, body=...), rate=200, seconds=30)
    print(result.summary())

From the command line (GET unless --data is given)::

    .venv/bin/python -m benchmarks.loadgen http://127.0.0.1:8001/login http://127.0.0.1:8002/login \\
        --rate 100 --seconds 10 --connections 16
    .venv/bin/python -m benchmarks.loadgen http://127.0.0.1:8001/api/v1/alliances/1/entries -X POST \\
        -H "Authorization: Bearer lgr_..." --data '{"kind": "cost", ...}' --rate 50 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: What a request factory is given: the request's number and the target its connection is open to.
RequestFactory = Callable[[int, "Target"], bytes]
#: How many error answers (status and start of the body) a result keeps as examples.
ERROR_SAMPLES = 5


@dataclass(frozen=True)
class Target:
    """One server address (and the path the command line sends to it)."""

    host: str
    port: int
    path: str = "/"

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url}: only plain http://host:port/... URLs are supported")
        host = parts.hostname
        if not _is_loopback(host):
            raise ValueError(f"{url}: only loopback targets (127.0.0.0/8, ::1, localhost) are allowed")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return cls(host, parts.port or 80, path)

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.authority}{self.path}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def http_request(method: str, target: Target, path: str | None = None, headers: Mapping[str, str] | None = None,
                 body: bytes | str = b"", content_type: str = "application/json") -> bytes:
    """The bytes of one keep-alive HTTP/1.1 request (Host and Content-Length filled in)."""
    if isinstance(body, str):
        body = body.encode()
    lines = [f"{method} {path or target.path} HTTP/1.1", f"Host: {target.authority}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        if not any(name.lower() == "content-type" for name in headers or {}):
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 200 samples is the second largest); NaN without samples."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct * len(ordered) / 100) - 1)]


@dataclass
class LoadResult:
    """What one run did. Latencies are of the 2xx answers, in ms from each request's due time."""

    label: str
    #: Requests per second asked for (None: sequential, one request after the other).
    target_rate: float | None
    connections: int
    #: Requests whose due time fell inside the run (the count or the time limit ended the rest).
    scheduled: int = 0
    #: Requests written to a connection.
    sent: int = 0
    #: Requests that got a complete answer (any status).
    answered: int = 0
    #: Seconds from the first due time to the last answer.
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    status_counts: Counter = field(default_factory=Counter)
    #: Failures that are not an HTTP status: "timeout", "not sent", "connect: ConnectionRefusedError", ...
    errors: Counter = field(default_factory=Counter)
    #: Request number -> HTTP status, for every answered request.
    statuses: dict[int, int] = field(default_factory=dict)
    #: Requests sent (perhaps only in part) and never answered: the server may still have acted on them.
    unanswered: list[int] = field(default_factory=list)
    #: The most requests that were due and waiting for a free connection at once.
    max_backlog: int = 0
    #: The longest a due request waited for a free connection before it was written, ms.
    max_send_lag_ms: float = 0.0
    #: CPU seconds the load generator itself used (user + system, this process).
    cpu_s: float = 0.0
    #: TCP connections opened (more than ``connections`` when servers close them, e.g. sync workers).
    connects: int = 0
    error_samples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.status_counts.items() if 200 <= status < 300)

    @property
    def error_count(self) -> int:
        """Everything that is not a 2xx answer: non-2xx statuses, connection errors, timeouts, unsent."""
        return self.scheduled - self.ok

    @property
    def achieved_rate(self) -> float:
        """2xx answers per second over the run (first due time to last answer)."""
        return self.ok / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies_ms, 95)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    @property
    def max(self) -> float:
        return max(self.latencies_ms) if self.latencies_ms else math.nan

    @property
    def cpu_share(self) -> float:
        """The load generator's CPU use as a share of one core over the run."""
        return self.cpu_s / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        rate = "sequential" if self.target_rate is None else f"target {self.target_rate:g} req/s"
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(self.status_counts.items())) or "none"
        errors = ", ".join(f"{kind}: {n}" for kind, n in sorted(self.errors.items())) or "none"
        lines = [
            f"{self.label} ({rate}, {self.connections} connections)",
            f"  requests   scheduled {self.scheduled}, sent {self.sent}, answered {self.answered}, "
            f"2xx {self.ok}, errors {self.error_count}",
            f"  rate       achieved {self.achieved_rate:.1f} req/s over {self.elapsed_s:.2f} s",
            f"  latency    p50 {self.p50:.1f} ms, p95 {self.p95:.1f} ms, p99 {self.p99:.1f} ms, "
            f"max {self.max:.1f} ms",
            f"  statuses   {statuses}",
            f"  errors     {errors}",
            f"  queueing   max backlog {self.max_backlog}, max send lag {self.max_send_lag_ms:.1f} ms; "
            f"{self.connects} connections opened",
            f"  loadgen    {self.cpu_s:.2f} s CPU ({100 * self.cpu_share:.0f}% of one core)",
        ]
        lines += [f"  example    {sample}" for sample in self.error_samples]
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"label": self.label, "target_rate": self.target_rate, "connections": self.connections,
                "scheduled": self.scheduled, "sent": self.sent, "answered": self.answered, "ok": self.ok,
                "errors": self.error_count, "error_kinds": dict(self.errors),
                "status_counts": {str(k): v for k, v in self.status_counts.items()},
                "achieved_rate": self.achieved_rate, "elapsed_s": self.elapsed_s, "p50_ms": self.p50,
                "p95_ms": self.p95, "p99_ms": self.p99, "max_ms": self.max, "max_backlog": self.max_backlog,
                "max_send_lag_ms": self.max_send_lag_ms, "cpu_s": self.cpu_s, "unanswered": len(self.unanswered),
                "connects": self.connects}


class _Closed(Exception):
    """The server closed the connection before a complete answer."""


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """(status, keep-alive?, body) of one response; reads exactly the body the headers announce."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise _Closed("closed before the status line" if not exc.partial else "closed inside the headers") from None
    lines = head[:-4].split(b"\r\n")
    version, status_text = lines[0].split(b" ", 2)[:2]
    status = int(status_text)
    keep_alive = version == b"HTTP/1.1"
    length, chunked = None, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            value = value.strip().lower()
            keep_alive = value == b"keep-alive" if version != b"HTTP/1.1" else value != b"close"
    try:
        if chunked:
            body = bytearray()
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                if size == 0:
                    await _skip_trailers(reader)
                    break
                body += await reader.readexactly(size + 2)
                del body[-2:]
            return status, keep_alive, bytes(body)
        if length is not None:
            return status, keep_alive, await reader.readexactly(length)
        if status in (204, 304) or 100 <= status < 200:
            return status, keep_alive, b""
        return status, False, await reader.read()  # no length: the body runs to the end of the connection
    except asyncio.IncompleteReadError:
        raise _Closed("closed inside the body") from None


async def _skip_trailers(reader: asyncio.StreamReader) -> None:
    while (await reader.readuntil(b"\r\n")) != b"\r\n":
        pass


class _Connection:
    """One keep-alive connection to a target, opened when first needed and again after a close."""

    def __init__(self, target: Target, connect_timeout: float, idle_reconnect: float,
                 result: LoadResult | None = None) -> None:
        self.target = target
        self.result = result
        self.connect_timeout = connect_timeout
        self.idle_reconnect = idle_reconnect
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def ensure_open(self, now: float) -> None:
        if self.writer is not None and now - self.last_used > self.idle_reconnect:
            self.close()  # the server may be closing it right now: never send a POST into that race
        if self.writer is None:
            try:
                self.reader, self.writer = await asyncio.wait_for(
                    asyncio.open_connection(self.target.host, self.target.port), self.connect_timeout)
            except TimeoutError:
                raise ConnectionError("connect timed out") from None
            if self.result is not None:
                self.result.connects += 1

    async def exchange(self, data: bytes) -> tuple[int, bytes]:
        assert self.writer is not None
        assert self.reader is not None
        self.writer.write(data)
        await self.writer.drain()
        status, keep_alive, body = await _read_response(self.reader)
        self.last_used = time.perf_counter()
        if not keep_alive:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class _Recorder:
    def __init__(self, result: LoadResult) -> None:
        self.result = result

    def answer(self, i: int, status: int, body: bytes, latency_ms: float) -> None:
        r = self.result
        r.answered += 1
        r.status_counts[status] += 1
        r.statuses[i] = status
        if 200 <= status < 300:
            r.latencies_ms.append(latency_ms)
        elif len(r.error_samples) < ERROR_SAMPLES:
            r.error_samples.append(f"#{i} HTTP {status}: {body[:200].decode('utf-8', 'replace')}")

    def failure(self, i: int, kind: str, sent: bool) -> None:
        self.result.errors[kind] += 1
        if sent:
            self.result.unanswered.append(i)


async def _exchange(conn: _Connection, recorder: _Recorder, i: int, data: bytes, due: float,
                    timeout: float) -> None:
    """Send request ``i`` and record its answer or failure (closing the connection after a failure)."""
    sent = False
    try:
        await conn.ensure_open(time.perf_counter())
    except OSError as exc:
        recorder.failure(i, f"connect: {type(exc).__name__}", sent=False)
        conn.close()
        return
    recorder.result.sent += 1
    sent = True
    try:
        status, body = await asyncio.wait_for(conn.exchange(data), max(0.001, timeout))
    except TimeoutError:
        recorder.failure(i, "timeout", sent)
        conn.close()
    except (_Closed, OSError, ValueError, IndexError) as exc:
        kind = str(exc) if isinstance(exc, _Closed) else type(exc).__name__
        recorder.failure(i, f"connection: {kind}", sent)
        conn.close()
    else:
        recorder.answer(i, status, body, (time.perf_counter() - due) * 1000)


async def open_loop(targets: Sequence[Target], make_request: RequestFactory, *, rate: float,
                    seconds: float, count: int | None = None, connections: int = 16, timeout: float = 10.0,
                    drain: float = 10.0, connect_timeout: float = 5.0, idle_reconnect: float = 1.0,
                    label: str = "open loop") -> LoadResult:
    """Send request 0, 1, ... at ``rate`` per second for ``seconds`` (or until ``count``), then wait for answers.

    ``connections`` keep-alive connections are spread round-robin over ``targets``; a due request goes
    out on whichever connection is free first (FIFO), so a slow server gets less of the load. A request
    that waited ``timeout`` seconds for a free connection, or is still waiting ``drain`` seconds after
    the last due time, is dropped unsent ("not sent": no server saw it); one sent and unanswered
    ``timeout`` seconds later is a "timeout" (and in ``unanswered``: the server may still act on it).
    So the whole run takes at most ``seconds + drain + timeout``.
    """
    if rate <= 0 or seconds <= 0:
        raise ValueError("rate and seconds must be positive")
    if not targets:
        raise ValueError("no targets")
    count = math.ceil(rate * seconds) if count is None else min(count, math.ceil(rate * seconds))
    result = LoadResult(label, rate, connections)
    recorder = _Recorder(result)
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
    cpu_started = time.process_time()
    start = time.perf_counter() + 0.05
    deadline = start + count / rate + drain
    last_answer = start

    async def schedule() -> None:
        for i in range(count):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((i, due))  # due now, or overdue if the loop was late: the latency counts from due
            result.scheduled += 1
            result.max_backlog = max(result.max_backlog, queue.qsize())
        for _ in range(connections):
            queue.put_nowait(None)

    async def work(target: Target) -> None:
        nonlocal last_answer
        conn = _Connection(target, connect_timeout, idle_reconnect, result)
        try:
            while (item := await queue.get()) is not None:
                i, due = item
                now = time.perf_counter()
                if now >= deadline or now - due >= timeout:
                    recorder.failure(i, "not sent", sent=False)
                    continue
                result.max_send_lag_ms = max(result.max_send_lag_ms, (now - due) * 1000)
                await _exchange(conn, recorder, i, make_request(i, target), due, timeout)
                last_answer = max(last_answer, time.perf_counter())
        finally:
            conn.close()

    workers = [asyncio.create_task(work(targets[n % len(targets)])) for n in range(connections)]
    await schedule()
    await asyncio.gather(*workers)
    await asyncio.sleep(0)  # let the transports finish closing
    # The run lasts at least its schedule (the last request is due just before count / rate).
    result.elapsed_s = max(last_answer - start, result.scheduled / rate)
    result.cpu_s = time.process_time() - cpu_started
    return result


async def sequential(targets: Sequence[Target], make_request: RequestFactory, *, count: int, warmup: int = 0,
                     timeout: float = 10.0, seconds: float = 120.0, connect_timeout: float = 5.0,
                     idle_reconnect: float = 1.0, label: str = "sequential") -> LoadResult:
    """One request at a time, alternating over ``targets`` (one keep-alive connection each): unloaded latency.

    ``warmup`` requests go first and are not counted (request numbers ``0 .. warmup-1``; the counted ones
    follow from ``warmup``). Stops after ``seconds`` in all.
    """
    result = LoadResult(label, None, len(targets))
    recorder = _Recorder(LoadResult("warm-up", None, len(targets)))
    conns = [_Connection(t, connect_timeout, idle_reconnect, result) for t in targets]
    cpu_started = time.process_time()
    deadline = time.perf_counter() + seconds
    start = None
    try:
        for i in range(warmup + count):
            if i == warmup:
                recorder = _Recorder(result)
                start = time.perf_counter()
            if time.perf_counter() >= deadline:
                if i >= warmup:
                    result.scheduled += 1
                    recorder.failure(i, "not sent", sent=False)
                continue
            conn = conns[i % len(conns)]
            if i >= warmup:
                result.scheduled += 1
            due = time.perf_counter()
            await _exchange(conn, recorder, i, make_request(i, conn.target), due, timeout)
    finally:
        for conn in conns:
            conn.close()
    await asyncio.sleep(0)
    result.elapsed_s = time.perf_counter() - start if start is not None else 0.0
    result.cpu_s = time.process_time() - cpu_started
    return result


def run_open_loop(*args, **kwargs) -> LoadResult:
    """:func:`open_loop` from synchronous code (its own event loop)."""
    return asyncio.run(open_loop(*args, **kwargs))


def run_sequential(*args, **kwargs) -> LoadResult:
    """:func:`sequential` from synchronous code (its own event loop)."""
    return asyncio.run(sequential(*args, **kwargs))


# --- Command line ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+", help="target URLs (loopback only); connections are spread over them")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second (default 100)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to send (default 10, at most 600)")
    parser.add_argument("--count", type=int, default=None, help="at most this many requests (default rate x seconds)")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections in all (default 16)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a request may take (default 10)")
    parser.add_argument("--sequential", type=int, metavar="N", default=None,
                        help="instead of the open loop: N requests one after the other (unloaded latency)")
    parser.add_argument("-X", "--method", default=None, help="HTTP method (default GET, or POST with --data)")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--data", default=None, help="request body (JSON by default; see --content-type)")
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 600:
        parser.error("--seconds must be between 0 and 600")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        targets = [Target.parse(url) for url in args.urls]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    headers = {}
    for header in args.header:
        name, sep, value = header.partition(":")
        if not sep:
            print(f"error: header {header!r} is not 'Name: value'", file=sys.stderr)
            return 2
        headers[name.strip()] = value.strip()
    method = args.method or ("POST" if args.data is not None else "GET")
    body = (args.data or "").encode()
    prebuilt = {t: http_request(method, t, headers=headers, body=body, content_type=args.content_type)
                for t in targets}

    def make_request(_i: int, target: Target) -> bytes:
        return prebuilt[target]

    if args.sequential is not None:
        result = run_sequential(targets, make_request, count=args.sequential, timeout=args.timeout,
                                seconds=args.seconds)
    else:
        result = run_open_loop(targets, make_request, rate=args.rate, seconds=args.seconds, count=args.count,
                               connections=args.connections, timeout=args.timeout)
    print(json.dumps(result.as_dict(), indent=2) if args.json else result.summary())
    return 0 if result.error_count == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
