"""The outbox: replies waiting durably to be delivered, as ``send`` jobs the worker runs.

A channel (or the worker) that cannot deliver now schedules the replies instead of waiting in a turn:
``queue_send(store, outbox_job(...))``. The worker then tries again with capped waits (at most
:data:`MAX_WAIT` apart) until the job's deadline, hours later, so an outage of the platform or a long
throttle delays a reply instead of dropping it, and holds no turn slot meanwhile. After the deadline the
replies are dropped, logged and counted.

Replies to one chat go out in the order they were queued, even though each job keeps its own backoff
and the worker runs a batch concurrently: :func:`queue_send` chains a chat's sends (each job's payload
names the one queued before it, ``after``), and the worker runs a send only once that one is no longer
pending, else defers it to just after it. The chat's newest send is found through a small register per
chat, the job ``send_lane:<channel>:<hash>`` (its payload is the newest send's key): the store has no
query for "this chat's pending sends". It is finished with the line's newest send (:func:`line_moved`),
or at the latest when that send's deadline has passed (it is due then, and the worker just finishes it).
Keys carry a hash of the chat, never the chat id (keys are logged; an SMS chat id is a phone number).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from bot.store import Job, Store
from bot.types import PlannedJob, Reply

__all__ = [
    "LANE",
    "MAX_WAIT",
    "SEND",
    "Delivery",
    "lane",
    "lane_key",
    "line_moved",
    "next_try",
    "outbox_job",
    "queue_send",
]

SEND: Final = "send"
"""The job kind."""
LANE: Final = "send_lane"
"""The kind of a chat's register of its newest send (:func:`queue_send`); the worker just finishes it."""
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
    after: str | None = None
    """The key of the send queued before this one for the same chat; this one waits for it."""


def lane(channel: str, chat_id: str) -> str:
    """A short stable hash naming one chat's line of sends in keys and payloads without the chat id."""
    return hashlib.blake2b(f"{channel}\0{chat_id}".encode(), digest_size=8).hexdigest()


def lane_key(channel: str, chat_id: str) -> str:
    """The key of the chat's register of its newest send."""
    return f"{LANE}:{channel}:{lane(channel, chat_id)}"


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
        "lane": lane(channel, chat_id),
    }
    return PlannedJob(key=f"{SEND}:{channel}:{suffix}", kind=SEND, run_at=run_at or now, payload=payload)


def next_try(attempts: int, now: datetime, deadline: datetime) -> datetime | None:
    """When to try a send that failed ``attempts`` times: doubling waits from :data:`FIRST_WAIT`, capped
    at :data:`MAX_WAIT`, and a last try at the deadline; None once the deadline has passed."""
    if now >= deadline:
        return None
    wait = min(MAX_WAIT, FIRST_WAIT * (1 << min(max(attempts - 1, 0), 16)))
    return min(now + wait, deadline)


_queueing = threading.Lock()
"""Serialises :func:`queue_send` in this process, so two sends queued at once for one chat (a turn's
reply and a notification) both land in its line, one after the other."""


def queue_send(store: Store, job: PlannedJob) -> bool:
    """Add the send ``job`` (from :func:`outbox_job`) behind the chat's newest pending send, and make it
    the newest; False when a job with its key was already added (the same ``dedupe``), which changes
    nothing. Blocking, like the store.

    Two processes queueing for one chat at the same instant may both chain behind the same send; each
    still goes out after it, only their own order is then open."""
    payload = job.payload
    register = f"{LANE}:{payload['channel']}:{payload['lane']}"
    deadline = datetime.fromisoformat(str(payload["deadline"]))
    with _queueing:
        newest = store.get_job(register)  # None once done: every send of the line had its deadline
        after = str(newest.payload["tail"]) if newest is not None and newest.kind == LANE else None
        if not store.add_job(job.key, job.kind, job.run_at, {**payload, "after": after}):
            return False
        # Due when no send of the line can still be pending: the later of the deadlines.
        due = max(deadline, newest.run_at) if newest is not None else deadline
        store.schedule_job(register, LANE, due, {"tail": job.key})
        return True


def line_moved(store: Store, done: Job) -> None:
    """The send ``done`` is finished (delivered or dropped): when it was its chat's newest, the line is
    empty and its register is finished too, so nothing of an empty line stays pending. Under the same
    lock as :func:`queue_send`, so a send queued meanwhile in this process is never left unchained."""
    register = f"{LANE}:{done.payload.get('channel')}:{done.payload.get('lane')}"
    with _queueing:
        newest = store.get_job(register)
        if newest is not None and newest.payload.get("tail") == done.key:
            store.finish_job(register)
