"""The outbox: replies waiting durably to be delivered, as ``send`` jobs the worker runs.

A channel (or the worker) that cannot deliver now schedules the replies instead of waiting in a turn:
``store.add_job(job.key, job.kind, job.run_at, job.payload)`` with :func:`outbox_job`. The worker then
tries again with capped waits (at most :data:`MAX_WAIT` apart) until the job's deadline, hours later, so
an outage of the platform or a long throttle delays a reply instead of dropping it, and holds no turn
slot meanwhile. After the deadline the replies are dropped, logged and counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from bot.types import PlannedJob, Reply

__all__ = ["MAX_WAIT", "SEND", "Delivery", "next_try", "outbox_job"]

SEND: Final = "send"
"""The job kind."""
MAX_WAIT: Final = timedelta(minutes=10)
"""The longest wait between two tries: a platform back after an outage hears from us within this."""
FIRST_WAIT: Final = timedelta(seconds=5)


class Delivery(BaseModel):
    """A ``send`` job's payload, read back."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    channel: str
    chat_id: str
    tenant: str | None = None
    replies: tuple[Reply, ...]
    deadline: datetime


def outbox_job(
    channel: str,
    chat_id: str,
    tenant: str | None,
    replies: Sequence[Reply],
    now: datetime,
    *,
    hold: timedelta = timedelta(hours=24),
    run_at: datetime | None = None,
    dedupe: str | None = None,
) -> PlannedJob:
    """A ``send`` job delivering ``replies`` to ``chat_id`` on ``channel``, first at ``run_at`` (default
    ``now``), tried until ``now + hold``.

    ``dedupe``: an id unique within the channel, such as the platform message id the replies answer;
    scheduling the same one again adds nothing (``add_job`` keeps the first). Without it every call is a
    new send. The key never holds the chat id: keys are logged, and an SMS chat id is a phone number.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    suffix = dedupe if dedupe is not None else uuid.uuid4().hex
    payload: dict[str, Any] = {
        "channel": channel,
        "chat_id": chat_id,
        "tenant": tenant,
        "replies": [reply.model_dump(mode="json") for reply in replies],
        "deadline": (now + hold).isoformat(),
    }
    return PlannedJob(key=f"{SEND}:{channel}:{suffix}", kind=SEND, run_at=run_at or now, payload=payload)


def next_try(attempts: int, now: datetime, deadline: datetime) -> datetime | None:
    """When to try a send that failed ``attempts`` times: doubling waits from :data:`FIRST_WAIT`, capped
    at :data:`MAX_WAIT`, and a last try at the deadline; None once the deadline has passed."""
    if now >= deadline:
        return None
    wait = min(MAX_WAIT, FIRST_WAIT * (1 << min(max(attempts - 1, 0), 16)))
    return min(now + wait, deadline)
