"""One turn: lock -> dedupe -> load -> step -> commit -> replies.

Turns of one conversation never interleave: in this process an ``anyio.Lock`` per ``(channel, chat_id)``
(FIFO, dropped when nobody holds or waits for it), then the store's :meth:`~bot.store.Store.turn_lock`
across processes (a PostgreSQL advisory lock; nothing for SQLite, one process per file). The in-process
lock comes first so a busy chat queues here, not on database connections. Different conversations run
concurrently. Every store call runs in a worker thread, so the database never blocks the event loop.

Logs carry the channel, the platform message id and exception types and frames, never message text, chat ids
(an SMS chat id is a phone number), names, phones or emails, nor exception messages (they may quote them).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import anyio

from bot.locks import KeyedLocks
from bot.store import Store, StoredConversation
from bot.types import Clock, DialogStep, Inbound, Reply, system_clock

__all__ = ["Engine", "TurnResult", "default_fallback"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnResult:
    replies: tuple[Reply, ...]
    duplicate: bool = False
    """True when the message had been processed before: ``replies`` are the ones sent then."""
    superseded: bool = False
    """With ``duplicate``: a later message of the chat has been processed since, so ``replies`` are
    stale: a channel resuming an interrupted send sends only the :attr:`Reply.lasting` ones."""

    def to_send(self, *, resumed: bool) -> tuple[Reply, ...]:
        """What a channel sends: a new turn's replies; for a redelivery, nothing (they went out then);
        for a message resumed from the inbox, its replies again, since they may never have gone out, but
        only the lasting ones once the chat has moved on."""
        if not self.duplicate:
            return self.replies
        if not resumed:
            return ()
        return tuple(reply for reply in self.replies if reply.lasting) if self.superseded else self.replies


def default_fallback(inbound: Inbound) -> Reply:
    return Reply(text="Sorry, something went wrong on our side. Please try again.")


class Engine:
    def __init__(
        self,
        store: Store,
        step: DialogStep,
        *,
        clock: Clock = system_clock,
        idle_reset: timedelta = timedelta(days=1),
        fallback: Callable[[Inbound], Reply] = default_fallback,
    ) -> None:
        self._store, self._step, self._clock = store, step, clock
        self._idle_reset, self._fallback = idle_reset, fallback
        self._locks: KeyedLocks[tuple[str, str]] = KeyedLocks()

    async def handle(self, inbound: Inbound) -> TurnResult:
        ids = (inbound.channel, inbound.chat_id, inbound.message_id)
        # Dedupe happens once, under the lock: checking before it too would cost every turn a store
        # round trip to spare the rare redelivery a wait for the lock.
        async with (
            self._locks.hold((inbound.channel, inbound.chat_id)),
            self._store.turn_lock(inbound.channel, inbound.chat_id),
        ):
            stored = await anyio.to_thread.run_sync(self._load_if_new, *ids)
            if stored is None:
                return await self._done(*ids) or TurnResult((), duplicate=True)
            now = self._clock()
            idle = stored.updated_at is not None and now - stored.updated_at > self._idle_reset
            try:
                outcome = await self._step(None if idle else stored.state, stored.profile, inbound, now)
                replies = outcome.replies
                fresh = await anyio.to_thread.run_sync(
                    partial(self._store.commit_turn, *ids, outcome, now=now)
                )
            except Exception as exc:
                _log_failure(inbound, exc)
                # The old state stays as it was. A turn the bot started (a reminder, a check) says nothing:
                # the customer asked nothing, and "please try again" would make no sense to them.
                bot_started = inbound.reminder or inbound.checking
                replies = () if bot_started else (self._fallback(inbound),)
                fresh = await anyio.to_thread.run_sync(
                    partial(self._store.record_processed, *ids, replies, now=now)
                )
            if not fresh:  # another process committed this message first
                return await self._done(*ids) or TurnResult((), duplicate=True)
            return TurnResult(replies)

    def _load_if_new(self, channel: str, chat_id: str, message_id: str) -> StoredConversation | None:
        """The conversation, or None when this message was processed already: one worker-thread hop."""
        if self._store.is_processed(channel, chat_id, message_id):
            return None
        return self._store.load(channel, chat_id)

    async def _done(self, channel: str, chat_id: str, message_id: str) -> TurnResult | None:
        def read() -> TurnResult | None:
            replies = self._store.processed_replies(channel, chat_id, message_id)
            if replies is None:
                return None
            superseded = self._store.superseded(channel, chat_id, message_id)
            return TurnResult(replies, duplicate=True, superseded=superseded)

        return await anyio.to_thread.run_sync(read)


def _log_failure(inbound: Inbound, exc: Exception) -> None:
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "turn failed on %s message %s: %s\n%s",
        inbound.channel,
        inbound.message_id,
        type(exc).__qualname__,
        frames,
    )
