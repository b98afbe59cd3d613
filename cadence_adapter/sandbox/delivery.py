"""Webhook delivery: sends the outbox (the ``deliveries`` table) in the background, with retries.

Each delivery is a POST of the event's stored bytes with ``Content-Type: application/json``,
``X-Cadence-Event: <type>`` and ``X-Cadence-Signature: sha256=<hmac of the body>`` (keyed by the
endpoint's secret). A 2xx answer marks it delivered; anything else (another status, a timeout, a refused
connection, an exception from an in-process transport) schedules the next attempt after the next of
``retry_delays``; when they run out the delivery is marked failed with the last status and error.

Why this shape:

- State lives in the database, not in memory: a sandbox restarted on the same file picks up what was
  still pending, and tests can read every attempt's outcome.
- The worker is an asyncio task started lazily from inside the running loop (by the first queued event,
  by app startup, or by the first request after a restart). ``httpx.ASGITransport`` never runs the
  lifespan, and an app may be driven from different loops over its life (one per test, or uvicorn in a
  thread), so the worker follows whichever loop is running when it is needed.
- Deliveries run concurrently, one task each, so a slow receiver never holds up another endpoint, and
  none of this ever delays an API response.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence

import httpx
from starlette.concurrency import run_in_threadpool

from cadence_adapter.sandbox.store import DeliveryRecord, Store
from cadence_adapter.webhooks import EVENT_HEADER, SIGNATURE_HEADER, sign

__all__ = ["DEFAULT_RETRY_DELAYS", "Deliverer"]

DEFAULT_RETRY_DELAYS: tuple[float, ...] = (0.5, 1, 2, 5, 10, 30, 60)

log = logging.getLogger(__name__)


def _finished(
    in_flight: dict[str, asyncio.Task[None]], delivery_id: str, wake: asyncio.Event
) -> Callable[[asyncio.Task[None]], None]:
    """Done-callback of one attempt: forget it and have the worker look again (it may be due later)."""

    def callback(_task: asyncio.Task[None]) -> None:
        in_flight.pop(delivery_id, None)
        wake.set()

    return callback


class Deliverer:
    """Owns the background task that sends pending deliveries."""

    def __init__(
        self,
        store: Store,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout: float = 10.0,
    ) -> None:
        if any(delay < 0 for delay in retry_delays):
            raise ValueError("retry delays must not be negative")
        self._store = store
        self._transport = transport
        self._retry_delays = tuple(float(delay) for delay in retry_delays)
        self._timeout = timeout
        self._lock = threading.Lock()  # the app may be driven from several threads' loops
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    def _running(self) -> bool:
        return (
            self._task is not None
            and not self._task.done()
            and self._loop is not None
            and self._loop.is_running()
        )

    def ensure_started(self) -> None:
        """Start the worker in the current event loop unless one is already running somewhere."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._running():
                return
            self._loop = loop
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._work(self._wake), name="cadence-sandbox-webhooks")

    def kick(self) -> None:
        """New deliveries were queued: make sure the worker runs, and have it look now."""
        self.ensure_started()
        with self._lock:
            loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        if loop is asyncio.get_running_loop():
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    async def aclose(self) -> None:
        """Stop the worker (pending deliveries stay pending in the database)."""
        with self._lock:
            task, loop = self._task, self._loop
            self._task = self._loop = self._wake = None
        if task is None or task.done():
            return
        if loop is asyncio.get_running_loop():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        elif loop is not None and loop.is_running():
            loop.call_soon_threadsafe(task.cancel)

    async def _work(self, wake: asyncio.Event) -> None:
        client = httpx.AsyncClient(transport=self._transport, timeout=self._timeout)
        in_flight: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                wake.clear()
                try:
                    due, next_at = await run_in_threadpool(self._due, set(in_flight))
                except Exception:  # a database hiccup must not end delivery for good
                    log.exception("cannot read pending webhook deliveries")
                    due, next_at = [], time.time() + 1.0
                for delivery in due:
                    task = asyncio.create_task(self._attempt(client, delivery))
                    in_flight[delivery.id] = task
                    task.add_done_callback(_finished(in_flight, delivery.id, wake))
                timeout = None if next_at is None else max(0.0, next_at - time.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout)
        finally:
            for task in in_flight.values():
                task.cancel()
            await asyncio.gather(*in_flight.values(), return_exceptions=True)
            if self._transport is None:
                await client.aclose()  # a transport the caller passed in is the caller's to close

    def _due(self, in_flight: set[str]) -> tuple[list[DeliveryRecord], float | None]:
        with self._store.read() as tx:
            return tx.due_deliveries(time.time(), exclude=in_flight)

    async def _attempt(self, client: httpx.AsyncClient, delivery: DeliveryRecord) -> None:
        status_code: int | None = None
        error: str | None = None
        if delivery.secret is None:
            error = "endpoint deleted"
        else:
            headers = {
                "Content-Type": "application/json",
                EVENT_HEADER: delivery.event_type,
                SIGNATURE_HEADER: sign(delivery.secret, delivery.body),
                "User-Agent": "cadence-sandbox-webhooks/1",
            }
            try:
                response = await client.post(delivery.url, content=delivery.body, headers=headers)
                status_code = response.status_code
                if not response.is_success:
                    error = f"HTTP {status_code}"
            except Exception as exc:  # any failure to get a 2xx is a failed attempt, never a crash
                error = f"{type(exc).__name__}: {exc}"[:500]
        attempt = delivery.attempts + 1
        if error is None:
            outcome, next_at = "delivered", time.time()
        elif delivery.secret is not None and attempt <= len(self._retry_delays):
            outcome, next_at = "pending", time.time() + self._retry_delays[attempt - 1]
        else:
            outcome, next_at = "failed", time.time()
        if outcome != "delivered":
            log.info(
                "webhook %s to %s: attempt %d %s (%s)",
                delivery.event_id,
                delivery.url,
                attempt,
                outcome,
                error,
            )
        await run_in_threadpool(self._record, delivery.id, outcome, next_at, status_code, error)

    def _record(
        self, delivery_id: str, outcome: str, next_at: float, status_code: int | None, error: str | None
    ) -> None:
        with self._store.write() as tx:
            tx.record_attempt(
                delivery_id,
                status=outcome,
                next_attempt_at=next_at,
                last_status=status_code,
                last_error=error,
            )
