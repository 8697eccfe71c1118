"""Gunicorn settings for one host of Alliance Ledger: ``.venv/bin/gunicorn -c deploy/gunicorn.conf.py``.

Every value comes from the environment, so the same file serves one small host or several behind a
load balancer (tests/e2e/test_multiple_processes.py runs two copies of it against one PostgreSQL):

=========================  =================  ====================================================
variable                   default            what
=========================  =================  ====================================================
``LEDGER_BIND``            ``127.0.0.1:8000`` address gunicorn listens on (``0.0.0.0:8000`` behind a
                                              load balancer on another host)
``LEDGER_WORKERS``         ``2``              worker processes (about one per core)
``LEDGER_THREADS``         ``32``             threads per worker: each open page's live stream holds
                                              one for as long as it is open
``LEDGER_TIMEOUT``         ``30``             seconds a silent worker lives before it is restarted
``LEDGER_GRACEFUL_TIMEOUT`` ``10``            seconds a stopping worker has to finish; live streams
                                              are cut then and the browsers resume exactly
``LEDGER_KEEPALIVE``       ``5``              seconds an idle keep-alive connection is kept
``LEDGER_ACCESS_LOG``      ``-`` (stdout)     access log file; empty for none
``LEDGER_CONTROL_SOCKET``  (none: off)        path of the control socket for ``gunicornc``
=========================  =================  ====================================================

The app's own settings (``DATABASE_URL``, ``LEDGER_SECRET_KEY``, ``LEDGER_DB_POOL_SIZE`` ...,
``LEDGER_RATELIMIT_STORAGE_URI``) are read by each worker; at start the master logs how many
PostgreSQL connections this host may open at most, to add up against ``max_connections``.
"""

from __future__ import annotations

import os
from pathlib import Path


def _number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: a whole number is needed") from None
    if value < 1:
        raise SystemExit(f"{name}={raw!r}: at least 1 is needed")
    return value


wsgi_app = "wsgi:app"
chdir = str(Path(__file__).resolve().parents[1])  # the project root, where wsgi.py is
bind = [address.strip() for address in os.environ.get("LEDGER_BIND", "127.0.0.1:8000").split(",")
        if address.strip()]
# Threads, not async workers: the app and its database driver block, and a live stream waits on a
# condition variable, which costs a thread and no connection.
worker_class = "gthread"
workers = _number("LEDGER_WORKERS", 2)
threads = _number("LEDGER_THREADS", 32)
# Off, so that each worker builds the app after the fork: its own connection pool and its own LISTEN
# connection. An engine created in the master and inherited by every worker would share sockets.
preload_app = False
timeout = _number("LEDGER_TIMEOUT", 30)
graceful_timeout = _number("LEDGER_GRACEFUL_TIMEOUT", 10)
keepalive = _number("LEDGER_KEEPALIVE", 5)
accesslog = os.environ.get("LEDGER_ACCESS_LOG", "-") or None
errorlog = "-"
proc_name = "alliance-ledger"
# Gunicorn 25.1+ opens a control socket for ``gunicornc`` at one fixed path per user, which a second
# instance on the same host would take over: off unless LEDGER_CONTROL_SOCKET names a path of its own.
if os.environ.get("LEDGER_CONTROL_SOCKET", "").strip():
    control_socket = os.environ["LEDGER_CONTROL_SOCKET"].strip()
else:
    control_socket_disable = True


def _pool_setting(name: str, default: int) -> str:
    return os.environ.get(f"LEDGER_DB_{name}", "").strip() or str(default)


def on_starting(server) -> None:
    """Log the most PostgreSQL connections this host's workers can hold (see the README's arithmetic)."""
    from ledger.config import DEFAULTS

    size, overflow = _pool_setting("POOL_SIZE", DEFAULTS["DB_POOL_SIZE"]), _pool_setting(
        "MAX_OVERFLOW", DEFAULTS["DB_MAX_OVERFLOW"])
    if not (size.isdigit() and overflow.isdigit()):
        return  # the workers refuse these settings with a clear message of their own
    each = int(size) + int(overflow) + 1  # the pool, plus one LISTEN connection for live events
    server.log.info(
        "%d workers x %d threads; each worker holds at most %s + %s pooled PostgreSQL connections and 1 "
        "listener: up to %d connections from this host", workers, threads, size, overflow, workers * each)
