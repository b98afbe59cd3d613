"""What the stores hand back and how values become columns: shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from bot.types import Profile, Reply

__all__ = [
    "ACTIVE",
    "CANCELLED",
    "DELIVERY_RANKS",
    "DELIVERY_RANK_SQL",
    "PROFILE_FIELDS",
    "EventState",
    "Job",
    "SchemaError",
    "StoredConversation",
    "aware",
    "delivery_rank",
    "dump_replies",
    "load_replies",
    "timestamp",
]

ACTIVE: Final = "active"
CANCELLED: Final = "cancelled"

PROFILE_FIELDS: Final = tuple(Profile.model_fields)
"""Profile columns, in the model's order. A new Profile field needs a migration adding its column."""


class SchemaError(RuntimeError):
    """The database was written by a newer version of the bot than this one."""


@dataclass(frozen=True)
class StoredConversation:
    state: dict[str, Any] | None
    """The dialog's state, or None when this chat has never completed a turn."""
    updated_at: datetime | None
    """When the state was last written (UTC)."""
    profile: Profile


@dataclass(frozen=True)
class Job:
    """Work to do at ``run_at``: a reminder, a notification, a webhook event to process."""

    key: str
    """Unique per piece of work (``reminder:movela:bk_1``, ``event:evt_9``); scheduling again replaces it."""
    kind: str
    run_at: datetime
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class EventState:
    """What Cadence's events have made of an owned booking, and how one more event changes it. Both
    stores apply events with this, so they agree."""

    start: datetime
    status: str
    event_at: datetime | None
    """``created_at`` of the newest event applied (None before the first, or when events carry none)."""

    def apply(self, at: datetime | None, *, start: datetime | None, cancelled: bool) -> EventState | None:
        """The state after an event created at ``at`` (None: unknown, applied in arrival order), or None
        when it is stale: older than the newest applied. Events of one second are not ordered by time
        (Cadence's ``created_at`` has whole seconds): the caller re-reads the booking when it can. A cancel
        is final: nothing that comes after brings the booking back."""
        if at is not None and self.event_at is not None and at < self.event_at:
            return None
        newest = at if at is not None else self.event_at
        if self.status == CANCELLED or cancelled:
            return EventState(self.start, CANCELLED, newest)
        return EventState(start if start is not None else self.start, self.status, newest)

    def changed_from(self, before: EventState) -> bool:
        """Whether the booking itself changed (what the customer is told about), not just ``event_at``."""
        return (self.start, self.status) != (before.start, before.status)


DELIVERY_RANKS: Final = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
"""Where a Twilio status stands in a message's life. Twilio's callbacks may arrive out of order (a late
``sent`` after ``delivered``): a status never replaces one further on. Equal ranks replace each other (the
last final word wins); a status not listed ranks 0, as does no status yet."""

DELIVERY_RANK_SQL: Final = (
    "CASE status "
    + " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in DELIVERY_RANKS.items())
    + " ELSE 0 END"
)
"""The stored status's rank, in SQL both databases read (the literals are the constants above)."""


def delivery_rank(status: str) -> int:
    return DELIVERY_RANKS.get(status, 0)


def aware(moment: datetime) -> datetime:
    """``moment``, refused when it is naive: a naive time in the database would mean whatever the
    reader's zone is."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment


def timestamp(moment: datetime) -> str:
    """UTC, fixed width, so text order is time order (SQLite compares these strings)."""
    return aware(moment).astimezone(UTC).isoformat(timespec="microseconds")


def dump_replies(replies: Sequence[Reply]) -> str:
    return json.dumps([reply.model_dump(mode="json") for reply in replies], ensure_ascii=False)


def load_replies(text: str) -> tuple[Reply, ...]:
    return tuple(Reply.model_validate(item) for item in json.loads(text))
