"""The durable inbox's runner, shared by the Telegram and SMS channels: what the two did alike.

A channel stores each accepted message (``store.enqueue_inbound``) before acknowledging it, then
processes it. :class:`InboxRunner` owns the rest of the message's life in the inbox:

- **leases**: every ``resume_every`` seconds the leases on the messages in progress here are renewed,
  on a thread of their own, so a busy default executor (turns' database calls, Twilio's blocking
  client) never starves the renewal and lets another process take over a message still being handled;
- **the resume sweep**: messages whose lease ran out (their process died, or their retry wait is over)
  are claimed and handed back to the channel to process again;
- **attempts**, counted by the store (the enqueue and every claim): a message handed out
  ``max_attempts`` times whose last attempt did not finish either is a **dead letter**: it leaves the
  inbox, its customer gets an apology (the catalog's ``went_wrong``), and
  ``cadence_bot_dead_letters_total{channel}`` counts it. A message that crashes the process or its turn
  every time is therefore tried ``max_attempts`` times, not for ever;
- **the retry wait**: a message whose processing failed waits ``retry_after`` before its next attempt.

What differs stays in the channel: how a message is processed and answered (Telegram's turn slots and
taps; SMS's reply budget and TwiML). The grace period on stop belongs to the app's lifespan, whose task
group runs the turns (:mod:`bot.turns`); once it stops accepting, the sweep only renews leases, so a
message is neither claimed (an attempt spent) nor buried while the process winds down.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TypeVar

from bot.i18n import supported, t
from bot.outbox import outbox_job, queue_send
from bot.service import Bot
from bot.turns import Turns
from bot.types import Inbound, Reply

__all__ = ["InboxOptions", "InboxRunner"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Send = Callable[[str, Sequence[Reply], str | None], Awaitable[bool]]
"""``channel.send(chat_id, replies, tenant)``."""


@dataclass(frozen=True)
class InboxOptions:
    resume_every: float = 2.0
    """Seconds between sweeps (renew our leases, bury dead letters, resume what nobody holds)."""
    resume_lease: timedelta = timedelta(seconds=10)
    """How long a message accepted or resumed here is ours unless renewed: the longest a process that
    died keeps its messages from its successor (or another process)."""
    retry_after: timedelta = timedelta(minutes=2)
    """How long a message whose processing failed waits before its next attempt."""
    max_attempts: int = 5
    """Attempts (the first, then each resume) before a message is a dead letter."""


class InboxRunner:
    """One channel's view of the inbox; ``resume(inbound)`` starts processing a claimed message and
    ``send`` delivers the apology for a dead letter."""

    def __init__(
        self, bot: Bot, channel: str, options: InboxOptions, *, resume: Callable[[Inbound], None], send: Send
    ) -> None:
        self.bot, self.channel, self.options = bot, channel, options
        self._resume, self._send = resume, send
        self._inflight: set[str] = set()
        self._settling: set[str] = set()
        """Failed here, their retry wait being written: still ours, not renewed."""
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        """Who this runner is, on every lease it takes: it renews only those (a message another process
        claimed after our lease ran out stays theirs)."""
        self._leases = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{channel}-inbox-leases")
        self._loop: asyncio.Task[None] | None = None
        self.turns: Turns | None = None
        """The lifespan's turns, when the channel runs its turns there (see the module notes)."""

    # -- what the channel calls -----------------------------------------------------------------------

    def holds(self, message_id: str) -> bool:
        """Being processed here, or its failure not yet written back (its retry wait set)."""
        return message_id in self._inflight or message_id in self._settling

    def hold(self, message_id: str) -> None:
        """The message is being processed here: its lease is renewed until :meth:`finish` or
        :meth:`retry_later`."""
        self._inflight.add(message_id)

    async def finish(self, message_id: str) -> None:
        """Answered (or never answerable): the message leaves the inbox. It is ours (and renewed) until
        it is gone, so no sweep here or elsewhere resumes it in between."""
        try:
            await asyncio.to_thread(self.bot.store.finish_inbound, self.channel, message_id)
        finally:
            self._inflight.discard(message_id)

    async def retry_later(self, message_id: str) -> None:
        """Processing failed: no more renewals, and the next attempt waits ``retry_after``."""
        self._inflight.discard(message_id)  # first: a sweep's renewal must not shorten the wait again
        self._settling.add(message_id)
        try:
            await self._on_lease_thread(
                partial(
                    self.bot.store.renew_inbound,
                    self.channel,
                    [message_id],
                    lease=self.options.retry_after,
                    holder=self.holder,
                )
            )
        finally:
            self._settling.discard(message_id)

    def release(self, message_id: str) -> None:
        """Stop renewing without a verdict (a cancelled turn): its lease runs out and it is resumed."""
        self._inflight.discard(message_id)

    def start(self) -> None:
        self._loop = asyncio.create_task(self._sweep_loop(), name=f"{self.channel}-inbox")

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None

    def close(self) -> None:
        self._leases.shutdown(wait=False, cancel_futures=True)

    # -- the sweep ------------------------------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:
                log.error("%s inbox sweep failed: %s", self.channel, type(exc).__name__)
            await asyncio.sleep(self.options.resume_every)

    async def sweep(self) -> int:
        """Renew our leases, answer dead letters, resume what nobody holds; returns how many resumed."""
        await self.renew()
        if self.turns is not None and not self.turns.accepting:
            return 0  # shutting down: what is stored waits for the next start
        for dead in await asyncio.to_thread(
            partial(self.bot.store.dead_inbound, channel=self.channel, max_attempts=self.options.max_attempts)
        ):
            await self._bury(dead)
        claimed = await asyncio.to_thread(
            partial(
                self.bot.store.claim_inbound,
                channel=self.channel,
                lease=self.options.resume_lease,
                max_attempts=self.options.max_attempts,
                holder=self.holder,
            )
        )
        resumed = 0
        for inbound in claimed:
            if inbound.channel == self.channel and inbound.message_id not in self._inflight:
                self._resume(inbound)
                resumed += 1
        if resumed:
            log.info("%s resumed %d stored message(s)", self.channel, resumed)
        return resumed

    async def renew(self) -> None:
        if self._inflight:
            await self._on_lease_thread(
                partial(
                    self.bot.store.renew_inbound,
                    self.channel,
                    sorted(self._inflight),
                    lease=self.options.resume_lease,
                    holder=self.holder,
                )
            )

    async def _on_lease_thread(self, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._leases, call)

    # -- dead letters ---------------------------------------------------------------------------------

    async def _bury(self, inbound: Inbound) -> None:
        """A message tried ``max_attempts`` times: apologise to its customer and count it. Logged by id
        only. The apology waits in the outbox when the platform can't take it now."""
        log.error(
            "%s message %s is a dead letter after %d attempts; the customer is told",
            self.channel,
            inbound.message_id,
            self.options.max_attempts,
        )
        self.bot.metrics.inc("cadence_bot_dead_letters_total", channel=self.channel)
        apology = (Reply(text=t(await self._language(inbound), "went_wrong")),)
        try:
            await self._send(inbound.chat_id, apology, inbound.tenant)
        except Exception as exc:
            log.warning(
                "%s dead letter %s: apology queued (%s)", self.channel, inbound.message_id, type(exc).__name__
            )
            job = outbox_job(
                self.channel,
                inbound.chat_id,
                inbound.tenant,
                apology,
                self.bot.clock(),
                dedupe=f"dead-{inbound.message_id}",
            )
            await asyncio.to_thread(queue_send, self.bot.store, job)

    async def _language(self, inbound: Inbound) -> str:
        stored = await asyncio.to_thread(self.bot.store.load, inbound.channel, inbound.chat_id)
        chosen = stored.state.get("language") if stored.state else None
        return (
            supported(chosen if isinstance(chosen, str) else None)
            or supported(inbound.language)
            or supported(stored.profile.language)
            or supported(self.bot.settings.tenant(inbound.tenant).language if inbound.tenant else None)
            or self.bot.settings.default_language
        )
