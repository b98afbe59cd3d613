"""The values that cross the bot's edges: what a channel hands in, what the dialog hands back.

Channels build :class:`Inbound` from platform traffic and render :class:`Reply`; the store keeps
:class:`Profile` and :class:`OwnedBooking`; the engine runs a :data:`DialogStep` once per turn.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "Channel",
    "Clock",
    "DialogStep",
    "Inbound",
    "Option",
    "Outcome",
    "OwnedBooking",
    "PlannedJob",
    "Profile",
    "Reply",
    "system_clock",
]


class Clock(Protocol):
    """Where the bot gets the time: injected everywhere, so tests fix it instead of patching."""

    def __call__(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


def system_clock() -> datetime:
    return datetime.now(UTC)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


_UNPRINTABLE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LONE_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")


class Inbound(_Value):
    """One customer message, whatever the platform.

    Control characters (but tab and line breaks) are dropped and lone surrogates become U+FFFD on the way
    in: they mean nothing to the dialog, and neither UTF-8 nor PostgreSQL text can hold them all."""

    channel: str
    """``telegram``, ``sms`` or ``console``."""
    chat_id: str
    message_id: str
    """The platform's id for this message (update_id, MessageSid); redeliveries repeat it."""
    text: str = ""
    choice: str | None = None
    """The value of a tapped option (Telegram callback data), instead of text."""
    contact_phone: str | None = None
    """A phone number the customer shared with one tap (Telegram contact)."""
    sender_name: str | None = None
    """The name the platform knows (Telegram profile); a default, never asked-for truth."""
    sender_phone: str | None = None
    """The number the message came from (SMS)."""
    language: str | None = None
    """The platform's language for this customer (Telegram ``language_code``)."""
    tenant: str | None = None
    """The business the channel already knows (deep-link payload, the SMS number texted)."""
    timezone: str | None = None
    """The customer's zone when the channel knows it (the terminal chat's ``--tz``)."""
    reminder: str | None = None
    """Not a message but a reminder due for this booking id: the bot speaks first."""
    checking: str | None = None
    """Not a message but a booking, move or cancel whose answer never came, to ask Cadence about again
    (the idempotency key it was sent with): the bot speaks first once it knows."""
    tap_callback: str | None = None
    """With ``choice``: the platform's handle for answering the tap (Telegram callback query id). Kept
    with the message, like the three below, so a tap resumed from the inbox after a restart is answered
    and its keyboard retired as a live one is."""
    tap_message_id: str | None = None
    """With ``choice``: the message carrying the tapped option, whose keyboard is retired after the turn."""
    tap_question: str | None = None
    """With ``choice``: that message's text, to write the choice taken into it."""
    tap_label: str | None = None
    """With ``choice``: the tapped option's label as the customer saw it."""

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _LONE_SURROGATE.sub("\ufffd", _UNPRINTABLE.sub("", value))
        return value


class Option(_Value):
    """One choice offered with a reply: a button on Telegram, a numbered line elsewhere."""

    value: str
    """Opaque, short (Telegram callback data is at most 64 bytes), echoed back in Inbound.choice."""
    label: str


class Reply(_Value):
    text: str
    options: tuple[Option, ...] = ()
    request_contact: bool = False
    """Ask for the customer's phone (Telegram shows a share-contact button)."""
    link: str | None = None
    lasting: bool = False
    """Tells of a change in the world (a booking made, moved or cancelled): still worth sending when it
    could not be delivered before the customer wrote again, unlike a question that has gone stale."""
    expired: bool = False
    """Answers a tapped option that is no longer on offer: a channel leaves that message as it was
    instead of marking the option as taken."""


class Profile(_Value):
    """What we remember about a customer between conversations, per channel and chat."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: str | None = None
    language: str | None = None


class OwnedBooking(_Value):
    """A booking this chat made through the bot: only its owner may see, cancel or move it."""

    tenant: str
    booking_id: str
    channel: str
    chat_id: str
    start: datetime
    service_name: str = ""


class PlannedJob(_Value):
    """Work for later that a turn schedules (a reminder of the booking it made); it replaces any job
    with the same key."""

    key: str
    kind: str
    run_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)


class Outcome(_Value):
    """What one dialog step produced; the engine commits it all in one transaction."""

    state: dict[str, Any]
    replies: tuple[Reply, ...] = ()
    profile: Profile = Field(default_factory=Profile)
    owned: tuple[OwnedBooking, ...] = ()
    """Bookings made (or moved) in this step; recorded as owned by the chat."""
    released: tuple[str, ...] = ()
    """Booking ids cancelled in this step."""
    jobs: tuple[PlannedJob, ...] = ()
    """Jobs to schedule, committed with the turn."""
    dropped_jobs: tuple[str, ...] = ()
    """Keys of pending jobs this turn makes pointless (a cancelled booking's reminder)."""


DialogStep = Callable[[dict[str, Any] | None, Profile, Inbound, datetime], Awaitable[Outcome]]
"""``(state or None for a fresh conversation, profile, inbound, now) -> Outcome``."""


class Channel(Protocol):
    """One messaging platform as ``serve`` and the worker see it (implementations live in ``channels/``)."""

    name: str
    """The ``Inbound.channel`` value this channel produces: ``telegram``, ``sms``."""

    def routes(self) -> Sequence[Any]:
        """Starlette routes to mount."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(
        self, chat_id: str, replies: Sequence[Reply], *, tenant: str | None = None, job: str | None = None
    ) -> bool:
        """Deliver messages the customer did not ask for; False when they can't be (opted out). ``job`` is
        the key of the job they belong to (a reminder, a notification, a queued reply), so a delivery
        receipt that comes later (Twilio's status callback) can be marked on it."""
        ...
