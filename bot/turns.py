"""Turns in flight in this process, run under one task group that the app's lifespan owns.

A channel that runs its turns here (:class:`RunsTurns`) leaves the grace period on stop to the lifespan
(``bot.app.create_app``): on shutdown it stops accepting (:meth:`Turns.spawn` refuses, so a message
accepted from now on stays in the durable inbox for the next start), lets the turns in flight finish
for at most ``grace`` seconds, cancels what is left (those messages stay in the inbox too, and are
resumed), and only then stops the worker and closes the store, which the turns still use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any, Protocol, runtime_checkable

__all__ = ["RunsTurns", "Turns"]

log = logging.getLogger(__name__)


class Turns:
    """The turns (and other short work a channel starts, such as answering a tap) in flight."""

    def __init__(self, grace: float = 5.0) -> None:
        self.grace = grace
        """Seconds the turns in flight at shutdown have to finish before they are cancelled."""
        self._group: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def accepting(self) -> bool:
        """True between the start of :meth:`running` and the shutdown."""
        return self._group is not None

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str | None = None) -> asyncio.Task[None] | None:
        """Run ``work`` in the group; None (``work`` closed, never started) when not accepting, so the
        caller leaves its message in the inbox for the next start."""
        if self._group is None:
            work.close()
            return None
        task = self._group.create_task(_guarded(work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Accept turns while the body runs; on the way out, stop accepting and wait for the turns in
        flight, at most ``grace`` seconds, then cancel the rest (the task group does, and waits for
        them to unwind)."""
        deadline = asyncio.timeout(None)  # no limit while serving; the grace is set at shutdown
        try:
            async with deadline, asyncio.TaskGroup() as group:
                self._group = group
                try:
                    yield
                finally:
                    self._group = None
                    if self._tasks:
                        log.info("waiting up to %gs for %d turn(s) in flight", self.grace, len(self._tasks))
                    deadline.reschedule(asyncio.get_running_loop().time() + self.grace)
        except TimeoutError:
            log.warning(
                "turns still running after the %gs grace were cancelled; the inbox keeps them", self.grace
            )


async def _guarded(work: Coroutine[Any, Any, None]) -> None:
    """A turn's failure is its channel's to handle; one that escapes is logged here, because in a task
    group it would otherwise cancel every other turn and the lifespan itself."""
    try:
        await work
    except Exception:
        log.exception("a turn failed outside its channel's handling")


@runtime_checkable
class RunsTurns(Protocol):
    """A channel that runs its turns in the lifespan's :class:`Turns` (the lifespan owns their grace)."""

    def run_turns_in(self, turns: Turns) -> None: ...
