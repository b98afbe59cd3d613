"""The conversation as an explicit state machine: ``(state, inbound) -> (state, replies)``.

Booking::

    tenant -> service -> (practitioner) -> when -> slot -> details -> confirm -> booked
                                            ^        |                   |
                                            +--------+ another day       +-- 409 / 422: back to slot

Managing a booking (bookings made in this chat only)::

    bookings -> booking -> cancel -> (cancelled)
                        +-> when -> slot -> confirm (a move) -> booked

``_advance`` is the one place that decides what to ask next: it walks the booking line and asks for
the first thing still missing, so a message that fills several steps at once ("a haircut with Ana
tomorrow at 3pm") skips straight to the first gap. Commands (help, start over, my bookings, time zone,
language, try again) work in every stage. Cadence being unreachable never loses the conversation: the
step returns the state it was given, remembers the message, and "try again" replays it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot.i18n import supported, t
from bot.nlu import daymath
from bot.nlu.choices import Choice, match_choice, position
from bot.nlu.commands import Command, CommandKind, detect_command
from bot.nlu.contact import extract_phone
from bot.nlu.details import Details, bare_name, read_details
from bot.nlu.intents import BookingIntent, booking_intent
from bot.nlu.language import detect_language
from bot.nlu.lexicon import WORDS
from bot.nlu.request import Request, extract_request
from bot.nlu.text import fold
from bot.nlu.timezones import find_zone
from bot.nlu.when import When
from bot.nlu.yesno import interpret_yes_no
from bot.offers import (
    Offer,
    Reach,
    Want,
    fetch_range,
    lookaround_range,
    page,
    page_range,
    plan_offer,
)
from bot.render import (
    customer_zone,
    day_first,
    format_day,
    format_duration,
    format_slot,
    format_time_of_day,
    region_of,
    zone_city,
)
from bot.tenants import TenantDirectory, TenantInfo
from bot.types import Inbound, Option, Outcome, OwnedBooking, Profile, Reply
from cadence_adapter import (
    BadRequest,
    Booking,
    CadenceClient,
    CadenceError,
    Customer,
    NotFound,
    RateLimited,
    Slot,
    SlotNotOpen,
    SlotTaken,
    Unavailable,
)

__all__ = ["Conversation", "Dialog", "OwnedLookup", "Pick", "Stage"]

MAX_TEXT = 2000
"""Longer messages are cut before understanding: nobody books in an essay, and it bounds the cost."""


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


class Pick(BaseModel):
    """One option on offer: what it does (``kind``), its payload, and what the customer sees."""

    kind: str
    value: str = ""
    label: str


class Retry(BaseModel):
    text: str = ""
    choice: str | None = None


class Conversation(BaseModel):
    """Everything the dialog remembers between turns; stored as JSON by the engine."""

    id: str
    stage: Stage = Stage.TENANT
    tenant: str | None = None
    language: str = "en"
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
    """A second service asked for in the same breath ("a haircut and a beard trim"): offered right
    after the first is booked."""
    made: int = 0
    """Bookings made in this conversation: part of the idempotency key, so a new request after a
    booking is a new booking, never the old one replayed."""
    retry: Retry | None = None


OwnedLookup = Callable[[str, str, str], Awaitable[Sequence[OwnedBooking]]]
"""``(channel, chat_id, tenant) -> bookings this chat made``: the store, seen from the dialog."""


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
    chosen: bool = False
    """A slot was chosen this turn: the next question first says what was understood."""

    @property
    def lang(self) -> str:
        return self.conv.language

    @property
    def languages(self) -> tuple[str, ...]:
        # English is always understood too: customers mix it in everywhere.
        return (self.conv.language, "en") if self.conv.language != "en" else ("en",)

    def say(self, key: str, **values: Any) -> None:
        self.replies.append(Reply(text=t(self.lang, key, **values)))

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


class Dialog:
    """The booking conversation; :meth:`step` is the engine's :data:`bot.types.DialogStep`."""

    def __init__(
        self,
        directory: TenantDirectory,
        owned_bookings: OwnedLookup,
        *,
        default_tenant: str | None = None,
        default_language: str = "en",
    ) -> None:
        self.directory = directory
        self.owned_bookings = owned_bookings
        self.default_tenant = default_tenant
        self.default_language = default_language

    # -- the turn ------------------------------------------------------------------------------

    async def step(
        self, state: dict[str, Any] | None, profile: Profile, inbound: Inbound, now: datetime
    ) -> Outcome:
        conv = Conversation.model_validate(state) if state else self._fresh(profile, inbound)
        turn = Turn(conv=conv, profile=profile, inbound=inbound, now=now)
        try:
            await self._dispatch(turn)
        except (Unavailable, RateLimited):
            # Keep what we had, remember the message, and let "try again" replay it. A "try again" that
            # failed too (before or during its replay) keeps the message it was meant to replay.
            kept = Conversation.model_validate(state) if state else self._fresh(profile, inbound)
            command = detect_command(" ".join(inbound.text[:MAX_TEXT].split()), turn.languages)
            if kept.retry is None or command is None or command.kind is not CommandKind.TRY_AGAIN:
                kept.retry = Retry(text=inbound.text[:MAX_TEXT], choice=inbound.choice)
            apology = Reply(text=t(kept.language, "unavailable"))
            return Outcome(state=kept.model_dump(mode="json"), replies=(apology,))
        turn.conv.retry = None
        replies = tuple(turn.replies)
        if turn.owned or turn.released:
            replies = tuple(reply.model_copy(update={"lasting": True}) for reply in replies)
        return Outcome(
            state=turn.conv.model_dump(mode="json"),
            # A reminder for a booking that is gone says nothing; a customer's message always gets a reply.
            replies=replies or (() if inbound.reminder else (Reply(text=t(turn.lang, "not_understood")),)),
            profile=Profile.model_validate(turn.learned),
            owned=tuple(turn.owned),
            released=tuple(turn.released),
        )

    def _fresh(self, profile: Profile, inbound: Inbound) -> Conversation:
        language = supported(inbound.language) or supported(profile.language) or self.default_language
        seed = f"{inbound.channel}:{inbound.chat_id}:{inbound.message_id}"
        conv_id = hashlib.sha256(seed.encode()).hexdigest()[:16]
        return Conversation(id=conv_id, language=language, timezone=_zone_name(inbound.timezone))

    async def _dispatch(self, turn: Turn) -> None:
        inbound = turn.inbound
        tenant_slug = inbound.tenant or turn.conv.tenant or self.default_tenant
        if tenant_slug and not await self._use_tenant(turn, tenant_slug, from_channel=bool(inbound.tenant)):
            return
        conv = turn.conv  # after _use_tenant: a new business means a new conversation
        if inbound.reminder:
            if turn.tenant is not None:
                await self._remind(turn, inbound.reminder)
            return
        if (
            turn.tenant
            and not conv.greeted
            and supported(turn.tenant.config.language)
            and not inbound.language
        ):
            conv.language = supported(turn.tenant.config.language) or conv.language
        if inbound.choice is not None:
            pick = self._resolve_choice(conv, inbound.choice)
            if pick is None:
                turn.say("expired")
                await self._ask_again(turn)
            else:
                await self._on_pick(turn, pick)
            return
        if inbound.contact_phone:
            conv.phone = extract_phone(inbound.contact_phone, region_of(turn.zone)) or inbound.contact_phone
            turn.learned["phone"] = conv.phone
            await self._advance(turn)
            return
        text = " ".join(inbound.text[:MAX_TEXT].split())
        if not text:
            await self._ask_again(turn, prefix="not_understood")
            return
        command = detect_command(text, turn.languages)
        if command is not None and await self._on_command(turn, command):
            return
        if conv.stage not in _REQUEST_FIRST and (pick := self._match_pick(turn, text)) is not None:
            await self._on_pick(turn, pick)
            return
        await _HANDLERS[conv.stage](self, turn, text)

    # -- stages: free text in each ---------------------------------------------------------------

    async def _in_tenant(self, turn: Turn, text: str) -> None:
        if not turn.conv.question:  # the first "hi": ask before guessing a business from it
            self._prompt(turn, Stage.TENANT, t(turn.lang, "ask_tenant"), ())
            return
        info = await self.directory.find(text)
        if info is None:
            turn.say("unknown_tenant", text=text[:60])
            self._prompt(turn, Stage.TENANT, t(turn.lang, "ask_tenant"), ())
            return
        await self._use_tenant(turn, info.slug, from_channel=True)
        await self._advance(turn)

    def _parse_request(self, turn: Turn, text: str) -> Request:
        """Service, practitioner and when, read in the conversation's language and, when the message
        is in another one ("mardi prochain"), in that one first: a day word is never dropped."""
        assert turn.tenant is not None
        languages = turn.languages
        written = detect_language(text, (*languages, *WORDS))
        if written is not None and written not in languages:
            languages = (written, *languages)
        return extract_request(
            text,
            [(s.id, s.name) for s in turn.tenant.services],
            [(p.id, p.name) for p in turn.tenant.practitioners],
            turn.now,
            turn.zone,
            languages,
            day_first=day_first(turn.zone),
        )

    def _apply_request(self, turn: Turn, request: Request) -> bool:
        """Take service, practitioner and time from one message; True when it named any.

        A day or time refines what was asked before ("actually make it 4" keeps the day, "no,
        Tuesday" keeps the time); a move keeps its service."""
        assert turn.tenant is not None
        tenant, conv = turn.tenant, turn.conv
        took = False
        if request.service_index is not None and not conv.moving:
            self._choose_service(turn, tenant.services[request.service_index].id)
            conv.also = tenant.services[request.also].id if request.also is not None else None
            took = True
        if request.practitioner_index is not None:
            practitioner = tenant.practitioners[request.practitioner_index]
            staff = tenant.practitioners_for(conv.service_id) if conv.service_id else ()
            if conv.service_id and all(p.id != practitioner.id for p in staff):
                # "pilates with Ana", and Ana doesn't do Pilates: say who does, never ask Cadence for it.
                who = ", ".join(p.name for p in staff)
                turn.say(
                    "not_offered_by",
                    practitioner=practitioner.name,
                    service=self._service_name(turn),
                    who=who,
                )
            elif conv.practitioner_id != practitioner.id:
                conv.practitioner_id, conv.slot = practitioner.id, None
                conv.practitioner_asked = True
            else:
                conv.practitioner_asked = True
            took = True
        if not request.when.is_empty or request.earliest:
            wanted = _want(request.when).model_copy(update={"earliest": request.earliest})
            conv.want, conv.slot = (conv.want or Want()).merged(wanted), None
            took = True
        return took

    def _choose_service(self, turn: Turn, service_id: str) -> None:
        conv = turn.conv
        if conv.service_id == service_id:
            return
        conv.service_id, conv.slot, conv.slots = service_id, None, ()
        staff = turn.tenant.practitioners_for(service_id) if turn.tenant else ()
        if conv.practitioner_id and all(p.id != conv.practitioner_id for p in staff):
            conv.practitioner_id, conv.practitioner_asked = None, False

    @staticmethod
    def _regions(turn: Turn) -> tuple[str | None, ...]:
        """Where a local phone number is read: the customer's country, then the business's."""
        business = turn.tenant.zone if turn.tenant else turn.zone
        return (region_of(turn.zone), region_of(business))

    def _fits(self, turn: Turn, pick: Pick, when: When, text: str) -> bool:
        """Whether an option matched in a message is what it asks for: "change the time to 5pm" is
        not the "Change time" button, and "monday at 10" is not Tuesday's 10:00 on the list."""
        if when.is_empty or position(text, len(turn.conv.picks), turn.languages) is not None:
            return True
        if pick.kind != "slot":
            return False
        day = Slot.model_validate_json(pick.value).start.astimezone(turn.zone).date()
        return not (when.dates or when.date_range) or day in when.dates

    def _take_details(self, turn: Turn, details: Details) -> bool:
        """Keep the name and contact a message carries, whatever was asked; True when it had any."""
        conv = turn.conv
        for key, value in (("name", details.name), ("email", details.email), ("phone", details.phone)):
            if value:
                setattr(conv, key, value)
                turn.learned[key] = value
        if details.email and not details.phone:
            conv.phone = None  # the contact given now is the one to use
        elif details.phone and not details.email:
            conv.email = None
        return bool(details.name or details.email or details.phone)

    async def _in_booking(self, turn: Turn, text: str) -> None:
        """Every stage of the booking line: any message may carry any of service, practitioner,
        day and time, name and contact, or an answer to what was asked; all of it is kept and the
        next question is the first thing still missing (``_advance``)."""
        conv = turn.conv
        if (zone := find_zone(text)) is not None and zone != conv.timezone:
            # "I'm in New York this week", "6am São Paulo time": the times in it are that zone's.
            conv.timezone = turn.learned["timezone"] = zone
        name_asked = conv.stage is Stage.DETAILS and self._name(turn) is None
        details = read_details(text, self._regions(turn), name_asked=name_asked)
        rest = details.rest
        request = self._parse_request(turn, rest)
        # Asked for a name, a message that is nothing else is one ("Beatriz Costa", "Sam", "June").
        name = bare_name(rest) if name_asked and details.name is None and _may_be_a_name(request) else None
        if name is not None:
            details, rest = replace(details, name=name), ""
        took_details = self._take_details(turn, details)
        if (
            conv.picks
            and rest.strip()
            and request.service_index is None
            and request.practitioner_index is None
            and (pick := self._match_pick(turn, rest)) is not None
            and self._fits(turn, pick, request.when, rest)
        ):
            await self._on_pick(turn, pick)
            return
        intent = booking_intent(rest, turn.languages) if request.service_index is None else None
        if intent is BookingIntent.NEVER_MIND:
            await self._never_mind(turn)
            return
        if conv.stage is Stage.BOOKED and intent is not None:
            await self._manage_in_words(turn, intent, request.when)
            return
        took_request = self._apply_request(turn, request)
        if request.when.passed is not None:
            await self._passed(turn, request.when.passed)
            return
        if took_request or took_details:
            if conv.stage is Stage.BOOKED and not took_request:
                turn.say("after_booking")
                return
            await self._advance(turn)
            return
        answer = interpret_yes_no(rest, turn.languages) if rest.strip() else None
        if conv.stage is Stage.CONFIRM and answer is True:
            await self._book(turn)
        elif conv.stage is Stage.CONFIRM and answer is False:
            self._prompt(turn, Stage.CONFIRM, t(turn.lang, "ask_change"), self._change_picks(turn))
        elif conv.stage is Stage.BOOKED:
            if answer is True and conv.booked is not None:
                service = self._service_name(turn, conv.booked.service_id)
                turn.say("already_booked", service=service, when=turn.when(conv.booked.start))
            else:
                turn.say("after_booking")
        elif details.number_like:
            turn.say("bad_phone")
            await self._ask_again(turn)
        elif conv.stage is Stage.DETAILS:
            turn.say("bad_name" if name_asked else "bad_contact")
            await self._advance(turn)
        elif conv.stage in (Stage.WHEN, Stage.SLOT) or _looks_like_when(rest, turn.languages):
            turn.say("not_understood_when")
            await self._ask_again(turn)
        else:
            await self._ask_again(turn, prefix="not_understood" if conv.greeted else None)

    async def _in_cancel(self, turn: Turn, text: str) -> None:
        answer = interpret_yes_no(text, turn.languages)
        if answer is True:
            await self._cancel(turn)
        elif answer is False:
            turn.say("kept")
            turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()
        else:
            await self._ask_again(turn, prefix="ask_yes_no")

    async def _in_choice_only(self, turn: Turn, text: str) -> None:
        """The list of bookings and one booking's actions: an option, or what to do in plain words
        ("cancel that one please") when it is clear which booking is meant."""
        conv = turn.conv
        listed = [p.value for p in conv.picks if p.kind == "booking"]
        target = conv.target if conv.stage is Stage.BOOKING else listed[0] if len(listed) == 1 else None
        intent = booking_intent(text, turn.languages)
        if target is not None and intent is BookingIntent.CANCEL:
            await self._ask_cancel(turn, target)
        elif target is not None and intent is BookingIntent.MOVE:
            await self._start_move(turn, target, self._parse_request(turn, text).when)
        else:
            await self._ask_again(turn, prefix="ask_yes_no")

    # -- options ---------------------------------------------------------------------------------

    def _prompt(self, turn: Turn, stage: Stage, question: str, picks: Sequence[Pick]) -> None:
        """Ask ``question`` with ``picks`` as the options; a new offer retires every older button."""
        conv = turn.conv
        conv.stage, conv.question, conv.picks = stage, question, tuple(picks)
        conv.seq += 1
        turn.replies.append(Reply(text=question, options=self._options(conv)))

    @staticmethod
    def _options(conv: Conversation) -> tuple[Option, ...]:
        return tuple(Option(value=f"{conv.seq}.{i}", label=p.label) for i, p in enumerate(conv.picks))

    @staticmethod
    def _resolve_choice(conv: Conversation, value: str) -> Pick | None:
        seq, _, index = value.partition(".")
        if seq != str(conv.seq) or not index.isdigit() or int(index) >= len(conv.picks):
            return None
        return conv.picks[int(index)]

    def _match_pick(self, turn: Turn, text: str) -> Pick | None:
        picks = turn.conv.picks
        if not picks:
            return None
        choices = [
            Choice(
                label=p.label,
                time=Slot.model_validate_json(p.value).start.astimezone(turn.zone).time().replace(tzinfo=None)
                if p.kind == "slot"
                else None,
                is_any=p.kind == "practitioner" and not p.value,
            )
            for p in picks
        ]
        index = match_choice(text, choices, turn.languages)
        return picks[index] if index is not None else None

    async def _ask_again(self, turn: Turn, prefix: str | None = None) -> None:
        """Repeat the current question (after help, a language change, an expired button...)."""
        if prefix:
            turn.say(prefix)
        conv = turn.conv
        if (
            conv.stage in (Stage.SLOT, Stage.BOOKINGS, Stage.BOOKING, Stage.CANCEL, Stage.CONFIRM)
            and conv.picks
        ):
            turn.replies.append(Reply(text=conv.question, options=self._options(conv)))
        elif conv.stage is Stage.BOOKED:
            turn.say("after_booking")
        else:
            await self._advance(turn)

    async def _on_pick(self, turn: Turn, pick: Pick) -> None:
        conv = turn.conv
        match pick.kind:
            case "service":
                self._choose_service(turn, pick.value)
            case "practitioner":
                conv.practitioner_id, conv.practitioner_asked = pick.value or None, True
            case "slot":
                self._choose_slot(turn, Slot.model_validate_json(pick.value))
            case "day":
                conv.want = (conv.want or Want()).merged(
                    Want(dates=(datetime.fromisoformat(pick.value).date(),))
                )
            case "earlier" | "later":
                await self._page(turn, pick.kind)
                return
            case "another_day":
                await self._other_days(turn)
                return
            case "book":
                await self._book(turn)
                return
            case "change_time":
                # Another time, same day: the day stays unless the customer names another.
                days = (conv.slot.start.astimezone(turn.zone).date(),) if conv.slot else ()
                conv.want = Want(dates=days) if days else None
                conv.slot = None
            case "change_details":
                conv.name = conv.email = conv.phone = None
                conv.stage = Stage.DETAILS
                self._prompt(turn, Stage.DETAILS, t(turn.lang, "ask_name"), ())
                return
            case "restart":
                await self._restart(turn)
                return
            case "use_name":
                conv.name = pick.value
                turn.learned["name"] = pick.value
            case "booking":
                await self._show_booking(turn, pick.value)
                return
            case "move":
                await self._start_move(turn, pick.value)
                return
            case "cancel":
                await self._ask_cancel(turn, pick.value)
                return
            case "cancel_yes":
                await self._cancel(turn)
                return
            case "keep":
                turn.say("kept")
                conv.stage, conv.picks = Stage.BOOKED, ()
                return
        await self._advance(turn)

    async def _passed(self, turn: Turn, day: date) -> None:
        """A date that has passed is said so, with the next one like it offered, never rolled over
        silently. The rest of the message (service, practitioner, time) is kept."""
        conv = turn.conv
        if conv.service_id is None and turn.tenant is not None and len(turn.tenant.services) > 1:
            turn.say("day_passed", day=format_day(day, turn.lang, with_year=True))
            await self._advance(turn)
            return
        picks = []
        next_year = daymath.safe_date(day.year + 1, day.month, day.day)
        if next_year is not None and Reach.at(turn.now, turn.zone).last >= next_year:
            picks.append(
                Pick(
                    kind="day",
                    value=next_year.isoformat(),
                    label=format_day(next_year, turn.lang, with_year=True),
                )
            )
        picks.append(Pick(kind="another_day", label=t(turn.lang, "another_day")))
        conv.slot = None
        conv.want = Want(at=conv.want.at if conv.want else None)
        text = t(turn.lang, "day_passed", day=format_day(day, turn.lang, with_year=True))
        self._prompt(turn, Stage.SLOT, text, picks)

    def _choose_slot(self, turn: Turn, slot: Slot) -> None:
        """The slot is taken as the request too, so "actually 4pm" keeps its day."""
        local = slot.start.astimezone(turn.zone)
        turn.conv.slot = slot
        turn.conv.want = Want(dates=(local.date(),), at=local.time().replace(tzinfo=None))
        turn.chosen = True

    def _change_picks(self, turn: Turn) -> list[Pick]:
        return [
            Pick(kind="change_time", label=t(turn.lang, "change_time")),
            Pick(kind="another_day", label=t(turn.lang, "another_day")),
            Pick(kind="change_details", label=t(turn.lang, "change_details")),
            Pick(kind="book", label=t(turn.lang, "book_it")),
            Pick(kind="restart", label=t(turn.lang, "start_over")),
        ]

    # -- what to ask next ------------------------------------------------------------------------

    async def _advance(self, turn: Turn) -> None:
        conv, tenant = turn.conv, turn.tenant
        if tenant is None:
            self._prompt(turn, Stage.TENANT, t(turn.lang, "ask_tenant"), ())
            return
        if not conv.greeted:
            conv.greeted = True
            turn.say("greeting", business=tenant.org.name)
        if not tenant.services:
            turn.say("no_services", business=tenant.org.name)
            return
        service = tenant.service(conv.service_id)
        if service is None and len(tenant.services) == 1:
            service = tenant.services[0]
            conv.service_id = service.id
        if service is None:
            picks = [Pick(kind="service", value=s.id, label=s.name) for s in tenant.services]
            self._prompt(turn, Stage.SERVICE, t(turn.lang, "ask_service"), picks)
            return
        staff = tenant.practitioners_for(service.id)
        if tenant.config.ask_practitioner and not conv.practitioner_asked and len(staff) > 1:
            picks = [Pick(kind="practitioner", value=p.id, label=p.name) for p in staff]
            picks.append(Pick(kind="practitioner", value="", label=t(turn.lang, "any_practitioner")))
            self._prompt(
                turn, Stage.PRACTITIONER, t(turn.lang, "ask_practitioner", service=service.name), picks
            )
            return
        if conv.slot is None:
            if conv.want is None:
                key = "ask_when_move" if conv.moving else "ask_when"
                self._prompt(turn, Stage.WHEN, t(turn.lang, key, service=service.name), ())
                return
            if not await self._offer(turn):
                return
        if conv.moving:
            await self._confirm(turn)
            return
        if (clash := await self._clash(turn)) is not None and conv.slot is not None:
            # The customer's own booking at that time: say so before anything is booked twice.
            local = conv.slot.start.astimezone(turn.zone)
            conv.want, conv.slot = Want(dates=(local.date(),), at=local.time().replace(tzinfo=None)), None
            intro = t(turn.lang, "already_have", service=clash.service_name, when=turn.when(clash.start))
            await self._offer(turn, intro=intro)
            return
        # Say what was understood before asking for what is missing.
        said = t(turn.lang, "slot_open", summary=self._summary(turn)) + "\n" if turn.chosen else ""
        if self._name(turn) is None:
            default = turn.inbound.sender_name
            picks = (
                [Pick(kind="use_name", value=default, label=t(turn.lang, "use_name", name=default))]
                if default
                else []
            )
            self._prompt(turn, Stage.DETAILS, said + t(turn.lang, "ask_name"), picks)
            return
        if self._contact(turn) is None:
            self._prompt(turn, Stage.DETAILS, said + t(turn.lang, "ask_contact"), ())
            turn.replies[-1] = turn.replies[-1].model_copy(update={"request_contact": True})
            return
        await self._confirm(turn)

    async def _clash(self, turn: Turn) -> OwnedBooking | None:
        """A booking this chat has that overlaps the slot chosen, if any."""
        slot, tenant = turn.conv.slot, turn.tenant
        if slot is None or tenant is None:
            return None
        service = tenant.service(turn.conv.service_id)
        end = slot.end or slot.start + timedelta(minutes=service.duration_minutes if service else 30)
        for owned in await self._mine(turn):
            theirs = next((s for s in tenant.services if s.name == owned.service_name), None)
            owned_end = owned.start + timedelta(minutes=theirs.duration_minutes if theirs else 30)
            if owned.start < end and slot.start < owned_end:
                return owned
        return None

    @staticmethod
    def _name(turn: Turn) -> str | None:
        return turn.conv.name or turn.profile.name

    @staticmethod
    def _contact(turn: Turn) -> Customer | None:
        conv, profile = turn.conv, turn.profile
        email = conv.email or (None if conv.phone else profile.email)
        phone = conv.phone or (None if conv.email else profile.phone) or turn.inbound.sender_phone
        name = conv.name or profile.name
        if not name or not (email or phone):
            return None
        return Customer(name=name, email=email, phone=phone)

    # -- offering slots --------------------------------------------------------------------------

    async def _availability(self, turn: Turn, start: datetime, end: datetime) -> list[Slot]:
        assert turn.tenant is not None and turn.conv.service_id is not None
        availability = await self.directory.public(turn.tenant.slug).get_availability(
            turn.conv.service_id, start=start, end=end, practitioner_id=turn.conv.practitioner_id
        )
        return sorted(availability.slots, key=lambda s: s.start)

    async def _offer(self, turn: Turn, intro: str | None = None) -> bool:
        """Offer slots for the request; True when the exact slot asked for is open (and now chosen)."""
        conv = turn.conv
        reach = Reach.at(turn.now, turn.zone)
        want = reach.fit(conv.want or Want())
        if not isinstance(want, Want):  # past, or beyond the horizon: say so rather than search
            conv.want = None
            last = format_day(reach.last, turn.lang, with_year=True)
            self._prompt(turn, Stage.WHEN, t(turn.lang, f"day_{want}", day=last), ())
            return False
        if conv.want is not None:
            conv.want = want  # kept cut to the reachable days: a follow-up ("at 5pm?") refines those
        slots = await self._availability(turn, *fetch_range(want, turn.zone, turn.now))
        offer = plan_offer(slots, want, turn.zone, turn.now)
        if not (offer.slots or offer.exact):  # nothing fits the days asked for: look around them
            slots = await self._availability(turn, *lookaround_range(want, turn.zone, turn.now))
            offer = plan_offer(slots, want, turn.zone, turn.now)
        if offer.exact is not None and intro is None:
            self._choose_slot(turn, offer.exact)
            return True
        if offer.exact is not None:  # not that very time after all (taken, or the customer's own): the day
            offer = plan_offer(slots, Want(dates=want.dates, date_range=want.date_range), turn.zone, turn.now)
        self._present(turn, offer, want, intro)
        return False

    def _present(self, turn: Turn, offer: Offer, want: Want, intro: str | None) -> None:
        conv, service = turn.conv, self._service_name(turn)
        if intro:
            turn.replies.append(Reply(text=intro))
        if offer.slots:
            days = {s.start.astimezone(turn.zone).date() for s in offer.slots}
            at_time = want.at is not None and all(
                s.start.astimezone(turn.zone).time().replace(tzinfo=None) == want.at for s in offer.slots
            )
            if at_time and len(days) > 1 and intro is None:
                heading = t(turn.lang, "offer_at_time", time=turn.clock(offer.slots[0].start))
                self._offer_slots(turn, offer.slots, heading)
            elif want.at is not None and offer.exact is None and intro is None:
                asked = datetime.combine(want.days[0] if want.days else turn.now.date(), want.at, turn.zone)
                heading = t(turn.lang, "offer_nearest", time=format_time_of_day(asked, turn.lang))
                self._offer_slots(turn, offer.slots, heading)
            elif len(days) == 1:
                heading = t(turn.lang, "offer_on", service=service, day=turn.day(days.pop()))
                self._offer_slots(turn, offer.slots, heading, day_in_heading=True)
            else:
                self._offer_slots(turn, offer.slots, t(turn.lang, "offer", service=service))
        elif offer.nearest_days:
            days_text = ", ".join(turn.day(d) for d in want.days[:3])
            picks = [Pick(kind="day", value=d.isoformat(), label=turn.day(d)) for d in offer.nearest_days]
            picks.append(Pick(kind="another_day", label=t(turn.lang, "another_day")))
            self._prompt(turn, Stage.SLOT, t(turn.lang, "nothing_on", days=days_text), picks)
            conv.slots = ()
        else:
            conv.want = None
            self._prompt(turn, Stage.WHEN, t(turn.lang, "nothing_at_all"), ())

    def _offer_slots(
        self, turn: Turn, slots: Sequence[Slot], heading: str, *, day_in_heading: bool = False
    ) -> None:
        """Offer ``slots`` under ``heading``; when the heading names their one day, only the times."""
        turn.conv.slots = tuple(slots)
        one_day = len({s.start.astimezone(turn.zone).date() for s in slots}) == 1
        label = turn.clock if one_day and day_in_heading else turn.when
        picks = [Pick(kind="slot", value=s.model_dump_json(), label=label(s.start)) for s in slots]
        picks += [
            Pick(kind="earlier", label=t(turn.lang, "earlier")),
            Pick(kind="later", label=t(turn.lang, "later")),
            Pick(kind="another_day", label=t(turn.lang, "another_day")),
        ]
        self._prompt(turn, Stage.SLOT, heading, picks)

    async def _other_days(self, turn: Turn) -> None:
        """ "none of those work": the next days with openings after the one offered, and any day said."""
        conv = turn.conv
        shown = sorted(
            {s.start.astimezone(turn.zone).date() for s in (*conv.slots, *([conv.slot] if conv.slot else []))}
        )
        conv.want = Want(window=conv.want.window) if conv.want and conv.want.window else None
        conv.slot = None
        picks: list[Pick] = []
        if shown and conv.service_id is not None:
            after = datetime.combine(shown[-1] + timedelta(days=1), datetime.min.time(), turn.zone)
            days = Want(date_range=(after.date(), after.date() + timedelta(days=13)))
            found = await self._availability(turn, *fetch_range(days, turn.zone, turn.now))
            open_days = sorted({s.start.astimezone(turn.zone).date() for s in found} - set(shown))[:3]
            picks = [Pick(kind="day", value=d.isoformat(), label=turn.day(d)) for d in open_days]
        stage = Stage.SLOT if picks else Stage.WHEN
        self._prompt(turn, stage, t(turn.lang, "ask_day"), picks)

    async def _page(self, turn: Turn, direction: str) -> None:
        conv = turn.conv
        if not conv.slots:
            await self._ask_again(turn)
            return
        anchor = conv.slots[0].start if direction == "earlier" else conv.slots[-1].start
        window = page_range(anchor, direction, turn.zone, turn.now)
        slots = await self._availability(turn, *window) if window else []
        found = page(slots, anchor, direction, turn.now, turn.zone)
        if found:
            self._offer_slots(turn, found, t(turn.lang, f"offer_{direction}"))
        else:
            self._offer_slots(turn, conv.slots, t(turn.lang, f"no_{direction}"))

    # -- confirming and booking ------------------------------------------------------------------

    def _confirm_picks(self, turn: Turn) -> list[Pick]:
        if turn.conv.moving:
            return [
                Pick(kind="book", label=t(turn.lang, "move_it_yes")),
                Pick(kind="change_time", label=t(turn.lang, "change_time")),
                Pick(kind="keep", label=t(turn.lang, "keep_it")),
            ]
        return [
            Pick(kind="book", label=t(turn.lang, "book_it")),
            Pick(kind="change_time", label=t(turn.lang, "change_time")),
            Pick(kind="change_details", label=t(turn.lang, "change_details")),
            Pick(kind="restart", label=t(turn.lang, "start_over")),
        ]

    async def _confirm(self, turn: Turn) -> None:
        conv, tenant = turn.conv, turn.tenant
        assert tenant is not None and conv.slot is not None
        service = tenant.service(conv.service_id)
        assert service is not None
        when = turn.when(conv.slot.start)
        if conv.moving and conv.booked is not None:
            text = t(
                turn.lang, "confirm_move", service=service.name, old=turn.when(conv.booked.start), when=when
            )
        else:
            customer = self._contact(turn)
            assert customer is not None
            text = t(
                turn.lang,
                "confirm",
                service=service.name,
                duration=format_duration(service.duration_minutes, turn.lang),
                when=when,
                practitioner=self._practitioner_name(turn),
                name=customer.name,
                contact=customer.email or customer.phone,
            )
        self._prompt(turn, Stage.CONFIRM, text, self._confirm_picks(turn))

    def _summary(self, turn: Turn) -> str:
        """ "Sports massage with Bruno Reis on Wed 3 Mar, 10:00 AM": what was understood."""
        conv = turn.conv
        assert conv.slot is not None
        practitioner = turn.tenant.practitioner(conv.practitioner_id) if turn.tenant else None
        key = "summary_with" if practitioner else "summary"
        return t(
            turn.lang,
            key,
            service=self._service_name(turn),
            practitioner=practitioner.name if practitioner else "",
            when=turn.when(conv.slot.start),
        )

    def _practitioner_name(self, turn: Turn, practitioner_id: str | None = None) -> str:
        assert turn.tenant is not None
        practitioner = turn.tenant.practitioner(practitioner_id or turn.conv.practitioner_id)
        return practitioner.name if practitioner else t(turn.lang, "anyone")

    def _service_name(self, turn: Turn, service_id: str | None = None) -> str:
        assert turn.tenant is not None
        service = turn.tenant.service(service_id or turn.conv.service_id)
        return service.name if service else ""

    def _idempotency_key(self, turn: Turn) -> str:
        """Derived from the conversation, the slot and how many bookings it has made: a repeated
        "yes" or a redelivered message presents the same key, so Cadence answers with the same booking
        instead of a second one; a new request after a booking is a new key, never the old booking."""
        conv = turn.conv
        assert conv.slot is not None
        parts = [conv.id, conv.service_id or "", conv.practitioner_id or "", conv.slot.start.isoformat()]
        parts += [conv.target or "", "move" if conv.moving else "book", str(conv.made)]
        return "cb-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]

    async def _book(self, turn: Turn) -> None:
        conv, tenant = turn.conv, turn.tenant
        if tenant is None or conv.slot is None or conv.service_id is None:
            await self._ask_again(turn)
            return
        key = self._idempotency_key(turn)
        try:
            if conv.moving and conv.target:
                client = self.directory.keyed(tenant.slug)
                if client is None or not await self._owns(turn, conv.target):
                    turn.say("booking_gone")
                    conv.stage, conv.picks = Stage.BOOKED, ()
                    return
                booking = await client.reschedule_booking(conv.target, conv.slot.start, idempotency_key=key)
            else:
                customer = self._contact(turn)
                if customer is None:
                    await self._advance(turn)
                    return
                booking = await self.directory.public(tenant.slug).create_booking(
                    conv.service_id,
                    conv.slot.start,
                    customer,
                    practitioner_id=conv.practitioner_id,
                    idempotency_key=key,
                )
        except SlotTaken:
            await self._retry_offer(turn, "slot_taken")
            return
        except SlotNotOpen:
            await self._retry_offer(turn, "slot_not_open")
            return
        except NotFound:
            self.directory.invalidate(tenant.slug)
            conv.service_id = conv.slot = conv.want = None
            conv.moving, conv.target = False, None
            turn.tenant = await self.directory.get(tenant.slug)
            turn.say("service_gone")
            await self._advance(turn)
            return
        except BadRequest:
            conv.email = conv.phone = None
            self._prompt(turn, Stage.DETAILS, t(turn.lang, "details_refused"), ())
            return
        also = turn.conv.also if not turn.conv.moving else None
        self._booked(turn, booking)
        if also is not None and tenant.service(also) is not None:
            # The second service asked for: right after the first, same practitioner when free.
            local = (booking.end or booking.start).astimezone(turn.zone)
            conv = turn.conv
            staff = {p.id for p in tenant.practitioners_for(also)}
            conv.service_id = also
            conv.practitioner_id = booking.practitioner_id if booking.practitioner_id in staff else None
            conv.practitioner_asked = True
            conv.want = Want(dates=(local.date(),), at=local.time().replace(tzinfo=None))
            turn.say("next_service", service=self._service_name(turn, also))
            try:
                await self._advance(turn)
            except CadenceError:  # the booking is made and said; the next one can be asked for again
                conv.stage, conv.picks = Stage.BOOKED, ()

    def _booked(self, turn: Turn, booking: Booking) -> None:
        conv = turn.conv
        assert turn.tenant is not None
        service = self._service_name(turn, booking.service_id)
        when = turn.when(booking.start)
        if conv.moving:
            turn.say("moved", service=service, when=when)
        else:
            practitioner = self._practitioner_name(turn, booking.practitioner_id)
            turn.say("booked", service=service, when=when, practitioner=practitioner, reference=booking.id)
            if booking.customer:
                turn.learned.update(
                    {k: v for k, v in booking.customer.model_dump().items() if isinstance(v, str) and v}
                )
        turn.owned.append(
            OwnedBooking(
                tenant=turn.tenant.slug,
                booking_id=booking.id,
                channel=turn.inbound.channel,
                chat_id=turn.inbound.chat_id,
                start=booking.start,
                service_name=service,
            )
        )
        conv.booked, conv.also = booking, None
        conv.made += 1
        conv.stage, conv.picks, conv.slots = Stage.BOOKED, (), ()
        conv.slot = conv.want = conv.target = None
        conv.moving = False
        conv.service_id = conv.practitioner_id = None
        conv.practitioner_asked = False

    async def _retry_offer(self, turn: Turn, reason: str) -> None:
        """After a 409 or 422: the nearest open alternatives to the time that was lost."""
        conv = turn.conv
        assert conv.slot is not None
        local = conv.slot.start.astimezone(turn.zone)
        conv.want = Want(dates=(local.date(),), at=local.time().replace(tzinfo=None))
        conv.slot = None
        await self._offer(turn, intro=t(turn.lang, reason))

    # -- commands --------------------------------------------------------------------------------

    async def _on_command(self, turn: Turn, command: Command) -> bool:
        """Handle a command; False hands the text on to the stage (e.g. "later" outside an offer)."""
        kind, conv = command.kind, turn.conv
        K = CommandKind
        if kind is K.HELP:
            turn.say("help", example=t(turn.lang, "help_example"))
            await self._ask_again(turn)
        elif kind is K.RESTART:
            await self._restart(turn)
        elif kind in (K.MY_BOOKINGS, K.CANCEL_BOOKING, K.MOVE_BOOKING):
            await self._list_bookings(turn, intent=kind)
        elif kind is K.TIMEZONE:
            if not command.argument:
                turn.say("timezone_ask")
                return True
            conv.timezone = command.argument
            turn.learned["timezone"] = command.argument
            turn.say("timezone_set", city=zone_city(ZoneInfo(command.argument), turn.lang))
            await self._refresh(turn)
        elif kind is K.LANGUAGE:
            language = supported(command.argument)
            if language is None:
                return False
            conv.language = language
            turn.learned["language"] = language
            turn.say("language_set")
            await self._refresh(turn)
        elif kind is K.TRY_AGAIN:
            retry = conv.retry
            if retry is None or not (retry.text or retry.choice):
                await self._ask_again(turn)
                return True
            conv.retry = None
            replay = turn.inbound.model_copy(update={"text": retry.text, "choice": retry.choice})
            turn.inbound = replay
            await self._dispatch(turn)
        elif kind in (K.EARLIER, K.LATER) and conv.stage in (Stage.SLOT, Stage.CONFIRM):
            if conv.stage is Stage.CONFIRM and conv.slot is not None:
                conv.slots = (conv.slot,)  # page from the time on the summary
            await self._page(turn, "earlier" if kind is K.EARLIER else "later")
        elif kind is K.ANOTHER_DAY and conv.stage in (Stage.SLOT, Stage.CONFIRM):
            await self._on_pick(turn, Pick(kind="another_day", label=""))
        else:
            return False
        return True

    async def _refresh(self, turn: Turn) -> None:
        """Show the current question again in a new zone or language (slot labels change)."""
        if turn.conv.stage is Stage.SLOT and turn.conv.slots:
            self._offer_slots(turn, turn.conv.slots, turn.conv.question)
        elif turn.conv.stage is Stage.CONFIRM and turn.conv.slot is not None:
            await self._confirm(turn)
        else:
            await self._ask_again(turn)

    async def _restart(self, turn: Turn) -> None:
        old = turn.conv
        turn.conv = Conversation(
            id=old.id + "r", tenant=old.tenant, language=old.language, timezone=old.timezone
        )
        turn.conv.greeted, turn.conv.made = old.greeted, old.made
        if old.greeted:
            turn.say("restarted")
        await self._advance(turn)

    async def _use_tenant(self, turn: Turn, slug: str, *, from_channel: bool) -> bool:
        """Load the tenant; switching business starts the booking afresh. False when it's unknown."""
        slug = slug.strip().lower()
        info = await self.directory.get(slug)
        if info is None:
            if from_channel or turn.conv.tenant:
                turn.say("unknown_tenant", text=slug[:60])
            turn.conv.tenant = None
            self._prompt(turn, Stage.TENANT, t(turn.lang, "ask_tenant"), ())
            return False
        if turn.conv.tenant != slug:
            fresh = Conversation(id=turn.conv.id, tenant=slug, language=turn.conv.language)
            fresh.timezone = turn.conv.timezone
            if turn.conv.tenant is None:
                fresh.retry = turn.conv.retry  # the business was just found: keep what to replay
            turn.conv = fresh
        if turn.conv.stage is Stage.TENANT:
            turn.conv.stage = Stage.SERVICE
        turn.tenant = info
        return True

    # -- managing bookings -----------------------------------------------------------------------

    async def _mine(self, turn: Turn) -> list[OwnedBooking]:
        assert turn.tenant is not None
        owned = await self.owned_bookings(turn.inbound.channel, turn.inbound.chat_id, turn.tenant.slug)
        return [b for b in owned if b.start > turn.now]

    async def _owns(self, turn: Turn, booking_id: str) -> bool:
        return any(b.booking_id == booking_id for b in await self._mine(turn))

    async def _fetch_booking(self, turn: Turn, client: CadenceClient, booking_id: str) -> Booking | None:
        try:
            booking = await client.get_booking(booking_id)
        except NotFound:
            return None
        return booking if booking.status != "cancelled" else None

    async def _list_bookings(self, turn: Turn, intent: CommandKind) -> None:
        if turn.tenant is None:
            await self._advance(turn)
            return
        mine = await self._mine(turn)
        client = self.directory.keyed(turn.tenant.slug)
        current: list[tuple[OwnedBooking, datetime]] = []
        for owned in mine:
            if client is None:
                current.append((owned, owned.start))
            elif (booking := await self._fetch_booking(turn, client, owned.booking_id)) is not None:
                current.append((owned, booking.start))
        if not current:
            turn.say("no_bookings")
            turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()
            return
        if client is None:
            lines = [
                t(turn.lang, "booking_line", service=o.service_name, when=turn.when(s)) for o, s in current
            ]
            turn.replies.append(Reply(text="\n".join([t(turn.lang, "your_bookings"), *lines])))
            turn.say("manage_elsewhere", business=turn.tenant.org.name)
            turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()
            return
        K = CommandKind
        if len(current) == 1 and intent is K.CANCEL_BOOKING:
            await self._ask_cancel(turn, current[0][0].booking_id)
            return
        if len(current) == 1 and intent is K.MOVE_BOOKING:
            await self._start_move(turn, current[0][0].booking_id)
            return
        picks = [
            Pick(
                kind="booking",
                value=o.booking_id,
                label=t(turn.lang, "booking_line", service=o.service_name, when=turn.when(s)),
            )
            for o, s in current
        ]
        self._prompt(turn, Stage.BOOKINGS, t(turn.lang, "your_bookings"), picks)

    async def _managed(self, turn: Turn, booking_id: str) -> Booking | None:
        """The booking, when it is this chat's, still on, and the tenant lets us manage it."""
        assert turn.tenant is not None
        client = self.directory.keyed(turn.tenant.slug)
        if client is None or not await self._owns(turn, booking_id):
            turn.say("booking_gone")
            turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()
            return None
        booking = await self._fetch_booking(turn, client, booking_id)
        if booking is None:
            turn.say("booking_gone")
            turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()
        return booking

    async def _remind(self, turn: Turn, booking_id: str) -> None:
        """The bot speaks first: the booking is coming up; keep, move or cancel it."""
        assert turn.tenant is not None
        mine = {b.booking_id: b for b in await self._mine(turn)}
        if booking_id not in mine:
            return  # cancelled or moved away since the reminder was set
        client = self.directory.keyed(turn.tenant.slug)
        if client is None:
            owned = mine[booking_id]
            turn.say("reminder_plain", service=owned.service_name, when=turn.when(owned.start))
            turn.say("manage_elsewhere", business=turn.tenant.org.name)
            return
        booking = await self._fetch_booking(turn, client, booking_id)
        if booking is None:
            return
        service = self._service_name(turn, booking.service_id)
        turn.conv.target = booking.id
        text = t(turn.lang, "reminder", service=service, when=turn.when(booking.start))
        self._prompt(turn, Stage.BOOKING, text, self._booking_picks(turn, booking.id))

    def _booking_picks(self, turn: Turn, booking_id: str) -> list[Pick]:
        return [
            Pick(kind="keep", value=booking_id, label=t(turn.lang, "keep_it")),
            Pick(kind="move", value=booking_id, label=t(turn.lang, "move_it")),
            Pick(kind="cancel", value=booking_id, label=t(turn.lang, "cancel_it")),
        ]

    async def _show_booking(self, turn: Turn, booking_id: str) -> None:
        booking = await self._managed(turn, booking_id)
        if booking is None:
            return
        picks = self._booking_picks(turn, booking.id)
        text = t(
            turn.lang,
            "booking_actions",
            service=self._service_name(turn, booking.service_id),
            when=turn.when(booking.start),
        )
        turn.conv.target = booking.id
        self._prompt(turn, Stage.BOOKING, text, picks)

    async def _ask_cancel(self, turn: Turn, booking_id: str) -> None:
        booking = await self._managed(turn, booking_id)
        if booking is None:
            return
        turn.conv.target = booking.id
        turn.conv.booked = booking
        picks = [
            Pick(kind="cancel_yes", value=booking.id, label=t(turn.lang, "cancel_yes")),
            Pick(kind="keep", value=booking.id, label=t(turn.lang, "keep_it")),
        ]
        service = self._service_name(turn, booking.service_id)
        self._prompt(
            turn,
            Stage.CANCEL,
            t(turn.lang, "confirm_cancel", service=service, when=turn.when(booking.start)),
            picks,
        )

    async def _cancel(self, turn: Turn) -> None:
        conv = turn.conv
        booking = await self._managed(turn, conv.target or "")
        if booking is None:
            return
        client = self.directory.keyed(turn.tenant.slug) if turn.tenant else None
        assert client is not None
        await client.cancel_booking(booking.id, idempotency_key=f"cb-cancel-{booking.id}")
        turn.released.append(booking.id)
        turn.say(
            "cancelled", service=self._service_name(turn, booking.service_id), when=turn.when(booking.start)
        )
        conv.stage, conv.picks, conv.target = Stage.BOOKED, (), None

    async def _never_mind(self, turn: Turn) -> None:
        """ "never mind", "ignore me": the booking in progress is dropped, and nothing was booked."""
        conv = turn.conv
        if conv.stage is Stage.BOOKED:
            turn.say("after_booking")
            return
        conv.service_id = conv.practitioner_id = None
        conv.want = conv.slot = None
        conv.slots, conv.picks, conv.practitioner_asked = (), (), False
        conv.moving, conv.target = False, None
        conv.stage = Stage.BOOKED if conv.booked else Stage.SERVICE
        turn.say("nothing_booked")

    async def _manage_in_words(self, turn: Turn, intent: BookingIntent, when: When) -> None:
        """ "please cancel it", "can I push it to 4pm?", "did that go through?": about the booking
        just made, or the one this chat has; with several, the customer picks from the list."""
        mine = await self._mine(turn)
        just_made = turn.conv.booked.id if turn.conv.booked else None
        target = next((b for b in mine if b.booking_id == just_made), mine[0] if len(mine) == 1 else None)
        if intent is BookingIntent.CHECK:
            if target is None:
                await self._list_bookings(turn, CommandKind.MY_BOOKINGS)
            else:
                turn.say("still_booked", service=target.service_name, when=turn.when(target.start))
            return
        if target is None:
            kind = CommandKind.CANCEL_BOOKING if intent is BookingIntent.CANCEL else CommandKind.MOVE_BOOKING
            await self._list_bookings(turn, kind)
        elif intent is BookingIntent.CANCEL:
            await self._ask_cancel(turn, target.booking_id)
        else:
            await self._start_move(turn, target.booking_id, when)

    async def _start_move(self, turn: Turn, booking_id: str, when: When | None = None) -> None:
        """Move a booking; a day or time said with it ("move it to wednesday, same time") refines the
        booking's own, so what is not said stays."""
        booking = await self._managed(turn, booking_id)
        if booking is None:
            return
        conv = turn.conv
        conv.moving, conv.target, conv.booked = True, booking.id, booking
        conv.service_id, conv.practitioner_id, conv.practitioner_asked = (
            booking.service_id,
            booking.practitioner_id,
            True,
        )
        conv.want = conv.slot = None
        if when is not None and not when.is_empty:
            local = booking.start.astimezone(turn.zone)
            current = Want(dates=(local.date(),), at=local.time().replace(tzinfo=None))
            conv.want = current.merged(_want(when))
        await self._advance(turn)


def _zone_name(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return ZoneInfo(name).key
    except (ValueError, KeyError):
        return None


_DAY_WORDS = frozenset(
    w
    for table in WORDS.values()
    for w, c in table.items()
    if len(w) > 3 and re.fullmatch(r"w?(?:wd|mo)\d+", c)
)


def _looks_like_when(text: str, languages: Sequence[str]) -> bool:
    """A weekday or month name, in any language, or a clock-like number: a day or time the customer
    said but that could not be read, which is asked about, never replaced by another day."""
    words = fold(text).replace("-", " ").split()
    return any(w.strip(".,!?") in _DAY_WORDS for w in words) or bool(_CLOCKISH.search(text))


_CLOCKISH = re.compile(r"\b\d{1,2}(?:[:h.]\d{2}|\s?(?:am|pm|h|uhr))\b", re.IGNORECASE)


def _may_be_a_name(request: Request) -> bool:
    """Nothing in it but words that may also be dates: a name's words ("Sam", "June") are."""
    return (
        request.service_index is None
        and request.practitioner_index is None
        and request.when.time is None
        and request.when.passed is None
        and not request.earliest
    )


def _want(when: When) -> Want:
    return Want(dates=when.dates, date_range=when.date_range, at=when.time, window=when.window)


_REQUEST_FIRST = frozenset(
    {Stage.SERVICE, Stage.PRACTITIONER, Stage.WHEN, Stage.SLOT, Stage.DETAILS, Stage.CONFIRM, Stage.BOOKED}
)
"""Stages whose handler reads the whole message itself, the options on offer included."""

_Handler = Callable[[Dialog, Turn, str], Awaitable[None]]

_HANDLERS: dict[Stage, _Handler] = {
    Stage.TENANT: Dialog._in_tenant,
    Stage.SERVICE: Dialog._in_booking,
    Stage.PRACTITIONER: Dialog._in_booking,
    Stage.WHEN: Dialog._in_booking,
    Stage.SLOT: Dialog._in_booking,
    Stage.DETAILS: Dialog._in_booking,
    Stage.CONFIRM: Dialog._in_booking,
    Stage.BOOKED: Dialog._in_booking,
    Stage.BOOKINGS: Dialog._in_choice_only,
    Stage.BOOKING: Dialog._in_choice_only,
    Stage.CANCEL: Dialog._in_cancel,
}
"""Free text in each stage goes here (after commands and the options on offer had their chance)."""
