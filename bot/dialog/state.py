"""What the dialog remembers between turns (:class:`Conversation`, stored as JSON by the engine) and what
one step works with (:class:`Turn`): no I/O here, so every handler in the package can import it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot.i18n import t
from bot.offers import Want
from bot.render import customer_zone, format_day, format_slot, zone_city
from bot.tenants import TenantInfo
from bot.types import Inbound, Option, OwnedBooking, PlannedJob, Profile, Reply
from cadence_adapter import Booking, Customer, Slot

__all__ = [
    "Attempt",
    "Conversation",
    "OwnedLookup",
    "Pick",
    "PickKind",
    "Retry",
    "Stage",
    "Turn",
    "options",
]


class Stage(StrEnum):
    TENANT = "tenant"
    SERVICE = "service"
    PRACTITIONER = "practitioner"
    WHEN = "when"
    SLOT = "slot"
    DETAILS = "details"
    CONFIRM = "confirm"
    BOOKED = "booked"
    BOOKINGS = "bookings"
    BOOKING = "booking"
    CANCEL = "cancel"


class PickKind(StrEnum):
    """What an option does when taken. The values are stored in conversations: never rename one."""

    # The booking line: an answer to what was asked.
    SERVICE = "service"
    PRACTITIONER = "practitioner"
    """The value is the practitioner's id; empty for "anyone"."""
    SLOT = "slot"
    """The value is the slot as JSON."""
    DAY = "day"
    """The value is an ISO date."""
    USE_NAME = "use_name"
    """The value is the name the platform knows the customer by."""
    # Other times than the ones offered.
    EARLIER = "earlier"
    LATER = "later"
    ANOTHER_DAY = "another_day"
    # On the summary.
    BOOK = "book"
    CHANGE_TIME = "change_time"
    CHANGE_DETAILS = "change_details"
    RESTART = "restart"
    # Managing a booking: the value is its id.
    BOOKING = "booking"
    MOVE = "move"
    CANCEL = "cancel"
    CANCEL_YES = "cancel_yes"
    KEEP = "keep"


class Pick(BaseModel):
    """One option on offer: what it does (``kind``), its payload, and what the customer sees."""

    kind: PickKind
    value: str = ""
    label: str


class Pair(BaseModel):
    """The second booking of a request for two: its service, start and practitioner, and which
    practitioner takes the first (``lead``), for the first booking's start ``with_start``."""

    service_id: str
    start: datetime
    practitioner_id: str | None = None
    lead: str | None = None
    with_start: datetime | None = None


class Retry(BaseModel):
    text: str = ""
    choice: str | None = None


class Attempt(BaseModel):
    """A booking, move or cancel as sent to Cadence, with the idempotency key made when the customer
    confirmed it. Kept on the conversation while its answer is in doubt (a timeout, a dropped
    connection, a 5xx or an answer that did not parse): it is sent again, exactly so and with the same
    key, until Cadence answers, so it is made once or not at all and the customer is told which."""

    action: Literal["book", "move", "cancel"]
    key: str
    service_id: str
    start: datetime
    """The start booked or moved to; for a cancel, the start of the booking cancelled."""
    practitioner_id: str | None = None
    customer: Customer | None = None
    target: str | None = None
    """The booking moved or cancelled."""
    service_name: str = ""
    business: str = ""
    """The service's and the business's names as the customer reads them, so the outcome can be told
    even when the business can't be loaded."""
    since: datetime | None = None
    """When the answer was first missed (set once it is in doubt)."""
    checks: int = 0
    """How many times Cadence has been asked again since."""


class Conversation(BaseModel):
    """Everything the dialog remembers between turns; stored as JSON by the engine."""

    id: str
    stage: Stage = Stage.TENANT
    tenant: str | None = None
    language: str = "en"
    language_chosen: bool = False
    """The customer chose the language ("language es"): it is no longer guessed from what they write."""
    timezone: str | None = None
    greeted: bool = False
    service_id: str | None = None
    practitioner_id: str | None = None
    practitioner_asked: bool = False
    want: Want | None = None
    slots: tuple[Slot, ...] = ()
    slot: Slot | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    picks: tuple[Pick, ...] = ()
    seq: int = 0
    question: str = ""
    target: str | None = None
    """The booking being moved or cancelled."""
    moving: bool = False
    booked: Booking | None = None
    also: str | None = None
    """A second service asked for in the same breath ("a haircut and a beard trim"): booked with the
    first (:mod:`bot.dialog.pair`), or offered right after it when no time fits both."""
    party: int = 1
    """How many people: 2 for "me and my son" (two bookings at one start)."""
    pair: Pair | None = None
    """The second booking, once a slot for the first is chosen."""
    mentioned: str | None = None
    """The practitioner last named or asked about, so "with her" is that one."""
    asked: str | None = None
    """The kind of question just answered, so "and the pilates?" is the same question about another."""
    own_details: bool = False
    """The customer asked to change their details: the name and contact remembered from before are
    not used, so the name asked for is read as one ("Beatriz Costa", not the practitioner Ana Costa)."""
    retry: Retry | None = None
    doubt: Attempt | None = None
    """A booking, move or cancel whose answer never came: while it is here the booking line waits
    (:mod:`bot.dialog.doubt`), so nothing is added beside it or told before Cadence answers."""

    def clear_line(self) -> None:
        """Nothing is being booked or moved any more (made, or given up): the next request starts afresh."""
        self.stage, self.picks, self.slots = Stage.BOOKED, (), ()
        self.slot = self.want = self.target = None
        self.also, self.party, self.pair = None, 1, None
        self.moving = False
        self.service_id = self.practitioner_id = None
        self.practitioner_asked = False


OwnedLookup = Callable[[str, str, str], Awaitable[Sequence[OwnedBooking]]]
"""``(channel, chat_id, tenant) -> bookings this chat made``: the store, seen from the dialog."""


def options(conv: Conversation) -> tuple[Option, ...]:
    """The options on offer as buttons; a value names the offer it belongs to, so an old one expires."""
    return tuple(Option(value=f"{conv.seq}.{i}", label=p.label) for i, p in enumerate(conv.picks))


@dataclass
class Turn:
    """One step's working set. Handlers mutate it; ``Dialog.step`` turns it into an Outcome."""

    conv: Conversation
    profile: Profile
    inbound: Inbound
    now: datetime
    tenant: TenantInfo | None = None
    replies: list[Reply] = field(default_factory=list)
    owned: list[OwnedBooking] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    learned: dict[str, str] = field(default_factory=dict)
    """Profile fields learned this turn (name, email, phone, timezone, language)."""
    jobs: list[PlannedJob] = field(default_factory=list)
    """Work for later, committed with the turn (asking Cadence again about an outcome in doubt)."""
    chosen: bool = False
    """A slot was chosen this turn: the next question first says what was understood."""
    written_in: str | None = None
    """The language this message is clearly in, if it says (then no prior overrides it)."""

    @property
    def lang(self) -> str:
        return self.conv.language

    @property
    def languages(self) -> tuple[str, ...]:
        # English is always understood too: customers mix it in everywhere.
        return (self.conv.language, "en") if self.conv.language != "en" else ("en",)

    def say(self, key: str, **values: Any) -> None:
        self.replies.append(Reply(text=t(self.lang, key, **values)))

    def choose_language(self, language: str) -> None:
        """ "language es": spoken from now on, no longer guessed from what the customer writes."""
        self.conv.language, self.conv.language_chosen = language, True
        self.learned["language"] = language
        self.say("language_set")

    def choose_zone(self, zone: str) -> None:
        """ "my time zone is Berlin": times are shown in it from now on."""
        self.conv.timezone = self.learned["timezone"] = zone
        self.say("timezone_set", city=zone_city(ZoneInfo(zone), self.lang))

    def prompt(self, stage: Stage, question: str, picks: Sequence[Pick]) -> None:
        """Ask ``question`` with ``picks`` as the options; a new offer retires every older button."""
        conv = self.conv
        conv.stage, conv.question, conv.picks = stage, question, tuple(picks)
        conv.seq += 1
        self.replies.append(Reply(text=question, options=options(conv)))

    @property
    def zone(self) -> ZoneInfo:
        business = self.tenant.zone if self.tenant else ZoneInfo("UTC")
        phone = self.conv.phone or self.profile.phone or self.inbound.sender_phone
        return customer_zone(self.conv.timezone or self.profile.timezone, phone, business)

    def when(self, start: datetime) -> str:
        """A start as the customer reads it: their zone, their language, the zone named if it differs."""
        business = self.tenant.zone if self.tenant else None
        return format_slot(start, self.zone, self.lang, business_zone=business, today=self.today)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def day(self, day: date) -> str:
        """A day as the customer reads it, with the year when it is not this one."""
        return format_day(day, self.lang, today=self.today)

    def clock(self, start: datetime) -> str:
        """Only the time of day (the day is in the heading), the zone named if it differs."""
        business = self.tenant.zone if self.tenant else None
        return format_slot(start, self.zone, self.lang, business_zone=business, with_day=False)

    def service_name(self, service_id: str | None = None) -> str:
        assert self.tenant is not None
        service = self.tenant.service(service_id or self.conv.service_id)
        return service.name if service else ""

    def practitioner_name(self, practitioner_id: str | None = None) -> str:
        assert self.tenant is not None
        practitioner = self.tenant.practitioner(practitioner_id or self.conv.practitioner_id)
        return practitioner.name if practitioner else t(self.lang, "anyone")
