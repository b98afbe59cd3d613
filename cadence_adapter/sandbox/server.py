"""Serving the sandbox over real HTTP: ``cadence-bot sandbox`` (:func:`run`) and, for integration
tests, :func:`serving` (uvicorn in a background thread on a free port).

Both bind the listening socket themselves before uvicorn starts, so the real port is known even when
0 ("any free port") was asked for, and a port already in use is a clear error rather than a log line.
"""

from __future__ import annotations

import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from cadence_adapter.sandbox.app import create_app
from cadence_adapter.sandbox.seed import SeedError, load_seed

__all__ = ["run", "serving"]

_STARTUP_TIMEOUT = 10.0


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off only on sockets that say they are TCP,
    # and with it on, every answer with a body waited about 40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        # Listening now means a client that reads the printed URL can connect at once: the kernel
        # queues its connection until uvicorn starts accepting.
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _config(app: ASGIApp, *, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="on",
        log_level=log_level,
        access_log=False,
        loop="asyncio",
        timeout_graceful_shutdown=3,
    )


@contextmanager
def serving(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread and yield its base URL (``http://127.0.0.1:54321``).

    Returns once the server accepts connections; on exit asks it to shut down and waits for it (open
    keep-alive connections are given a few seconds). Raises ``RuntimeError`` if it fails to start.
    """
    sock = _bind(host, port)
    server = uvicorn.Server(_config(app, log_level="warning"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{_url(host, sock)}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the sandbox server on {_url(host, sock)} did not start")
            time.sleep(0.01)
        yield _url(host, sock)
    finally:
        server.should_exit = True
        thread.join(timeout=_STARTUP_TIMEOUT)
        sock.close()


def run(host: str, port: int, db: Path | None, seed: Path | None) -> int:
    """``cadence-bot sandbox``: serve until interrupted. Prints where it listens (and, for the built-in
    demo, the org keys); returns 0 after a clean shutdown, 2 for a bad seed, 1 when it cannot open the
    database or listen."""
    try:
        valid_seed = load_seed(seed)
    except SeedError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        app = create_app(db=db, seed=valid_seed)
    except sqlite3.Error as exc:
        print(f"cannot use database {db}: {exc}", file=sys.stderr)
        return 1
    try:
        sock = _bind(host, port)
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    tenants = ", ".join(org.slug for org in valid_seed.orgs)
    print(f"Cadence sandbox on {_url(host, sock)}/api/v1 (tenants: {tenants})", flush=True)
    if seed is None:
        keys = "  ".join(f"{org.slug}: {org.api_keys[0]}" for org in valid_seed.orgs if org.api_keys)
        print(f"Demo org keys (Authorization: Bearer ...)  {keys}", flush=True)
    try:
        uvicorn.Server(_config(app, log_level="warning")).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal it captured.
        pass
    finally:
        sock.close()
    return 0
