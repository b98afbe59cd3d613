"""Talking to the Bot API within Telegram's flood limits.

- :class:`Pacer` keeps each chat to about one message a second: a token bucket per chat that lets a
  short burst through (a turn often answers with two messages) and then spaces messages out.
- :class:`Sender` makes every call: ``RetryAfter`` (Telegram's 429) is honoured by sleeping as long
  as Telegram asks and trying again, and a timeout or a dropped connection is retried with backoff,
  but only while one call's waits add up to at most ``max_wait`` seconds. A longer wait is not slept:
  :class:`Throttled` (with Telegram's ``retry_after``) or :class:`TelegramUnavailable` is raised at
  once, because the caller holds a turn slot and its chat's lock, and a chat throttled for two minutes
  must not keep other chats' turns waiting for a slot; the caller hands its replies to the durable
  outbox instead. A chat migrated to a supergroup is followed once.

Sleep and clock are parameters, so tests run the real logic without waiting for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import telegram
from telegram import LinkPreviewOptions, Message
from telegram.error import BadRequest, ChatMigrated, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from channels.telegram.render import Outgoing

__all__ = ["MAX_WAIT", "Pacer", "Sender", "Sleep", "TelegramUnavailable", "Throttled", "retry_after_seconds"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
Sleep = Callable[[float], Awaitable[None]]
MAX_WAIT = 5.0
"""Seconds one call may spend waiting on Telegram (RetryAfter, backoff) before it gives up for now."""


class TelegramUnavailable(ConnectionError):
    """Raised when the Bot API could not be reached (or kept answering 429) after every retry.

    A builtin ``ConnectionError``, so callers outside ``channels`` catch it without importing telegram.
    ``retry_after`` is how many seconds to wait before trying again, when Telegram said so."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Throttled(TelegramUnavailable):
    """Telegram's flood control asked for a wait longer than a call may spend (``retry_after``)."""

    def __init__(self, what: str, retry_after: float) -> None:
        super().__init__(f"telegram {what}: rate limited for {retry_after:g}s", retry_after)


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked us to wait (PTB 22 warns when its int form is read; we accept both)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass
class _Bucket:
    tokens: float
    at: float
    lock: asyncio.Lock


class Pacer:
    """About one message per ``interval`` seconds per chat, after a burst of ``burst``."""

    def __init__(
        self,
        interval: float = 1.0,
        burst: int = 3,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval, self.burst = interval, max(1, burst)
        self._sleep, self._clock = sleep, clock
        self._buckets: dict[str, _Bucket] = {}

    async def wait(self, chat: str) -> None:
        """Return when one more message may go to ``chat``; waiters go in arrival order."""
        if self.interval <= 0:
            return
        bucket = self._buckets.get(chat)
        if bucket is None:
            bucket = self._buckets[chat] = _Bucket(float(self.burst), self._clock(), asyncio.Lock())
        async with bucket.lock:
            while True:
                now = self._clock()
                bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) / self.interval)
                bucket.at = now
                if bucket.tokens >= 1:
                    bucket.tokens -= 1
                    break
                await self._sleep((1 - bucket.tokens) * self.interval)
        self._forget_idle()

    def _forget_idle(self) -> None:
        if len(self._buckets) < 1024:
            return
        now = self._clock()
        for chat, bucket in list(self._buckets.items()):
            full = bucket.tokens + (now - bucket.at) / self.interval >= self.burst
            if full and not bucket.lock.locked():
                del self._buckets[chat]


class Sender:
    """Bot API calls with pacing (messages only) and retries; see the module notes."""

    def __init__(
        self,
        tg: telegram.Bot,
        pacer: Pacer,
        *,
        sleep: Sleep = asyncio.sleep,
        retries: int = 5,
        backoff: float = 1.0,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.tg, self.pacer = tg, pacer
        self._sleep, self._retries, self._backoff = sleep, retries, backoff
        self.max_wait = max_wait

    async def call(self, make: Callable[[], Awaitable[T]], *, what: str, max_wait: float | None = None) -> T:
        """``make()``, again after a 429 or a network failure while the waits add up to at most
        ``max_wait`` seconds (default the sender's; background work with no slot to free may pass
        ``math.inf``). Raises :class:`Throttled` for a longer flood wait, :class:`TelegramUnavailable`
        when the retries or the wait run out, and Telegram's own error (BadRequest, Forbidden...) at once."""
        budget = self.max_wait if max_wait is None else max_wait
        waited = 0.0
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            try:
                return await make()
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                if last or waited + wait > budget:
                    log.warning("telegram %s: flood control for %gs; not waiting here", what, wait)
                    raise Throttled(what, wait) from exc
                log.warning("telegram %s: flood control, retrying in %gs", what, wait)
            except BadRequest:
                raise  # a subclass of NetworkError, but retrying will not change the answer
            except NetworkError as exc:  # includes TimedOut
                wait = min(30.0, self._backoff * 2**attempt)
                if last or waited + wait > budget:
                    raise TelegramUnavailable(f"telegram {what}: {type(exc).__name__}", wait) from exc
                log.warning("telegram %s: %s, retrying in %gs", what, type(exc).__name__, wait)
            await self._sleep(wait)
            waited += wait
        raise AssertionError("unreachable")  # pragma: no cover

    async def send_message(self, chat_id: int | str, message: Outgoing) -> Message:
        """Send one message, paced for its chat; a group that became a supergroup is followed."""
        await self.pacer.wait(str(chat_id))

        def make(target: int | str) -> Callable[[], Awaitable[Message]]:
            return lambda: self.tg.send_message(
                target,
                message.text,
                parse_mode="HTML",
                reply_markup=message.markup,
                link_preview_options=_NO_PREVIEW,
            )

        try:
            return await self.call(make(chat_id), what="sendMessage")
        except ChatMigrated as exc:
            log.warning("telegram chat migrated to a supergroup; update the configured chat id")
            return await self.call(make(exc.new_chat_id), what="sendMessage")
