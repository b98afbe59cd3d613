"""Per-client token buckets for the keyless public surface (the quickstart: "abuse is bounded by the
platform rate limiter").

Each client host has a bucket of ``burst`` tokens refilled at ``per_second``; a request takes one, and
an empty bucket answers 429 ``rate_limited`` with ``Retry-After`` (whole seconds, at least 1) saying
when a token will be back. Time is the monotonic clock, not the sandbox's injectable clock: a test that
freezes "now" for availability must not freeze the refill too.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from cadence_adapter.sandbox.problems import error_response

__all__ = ["DEFAULT_RATE_LIMIT", "RateLimit", "RateLimitMiddleware", "TokenBuckets"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``per_second`` tokens refilled per second, up to ``burst`` saved."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a rate limit needs per_second > 0 and burst >= 1")


DEFAULT_RATE_LIMIT = RateLimit(per_second=50.0, burst=200)
"""Generous: a busy bot, or a test suite, is never throttled by accident."""


class TokenBuckets:
    """One bucket per key (the client host). Thread-safe."""

    _PRUNE_AT = 10_000  # forget clients whose buckets have refilled once there are this many

    def __init__(self, limit: RateLimit, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when last counted)

    def take(self, key: str) -> float:
        """Spend a token for ``key``: 0.0 when granted, else the seconds until one will be available."""
        now = self._monotonic()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.limit.burst), now))
            tokens = min(float(self.limit.burst), tokens + (now - then) * self.limit.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > self._PRUNE_AT:
                    self._prune(now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.limit.per_second

    def _prune(self, now: float) -> None:
        full_after = self.limit.burst / self.limit.per_second
        for key, (_, then) in list(self._buckets.items()):
            if now - then >= full_after:
                del self._buckets[key]


class RateLimitMiddleware:
    """ASGI middleware answering 429 when the client's bucket is empty."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.buckets.take(client[0] if client else "unknown")
        if wait > 0:
            retry_after = str(max(1, math.ceil(wait)))
            response = error_response(
                429,
                "rate_limited",
                f"too many requests; retry in {retry_after} s",
                headers={"Retry-After": retry_after},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
