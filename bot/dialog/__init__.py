"""The conversation as an explicit state machine: ``(state, inbound) -> (state, replies)``.

Booking (:mod:`bot.dialog.booking`)::

    tenant -> service -> (practitioner) -> when -> slot -> details -> confirm -> booked
                                            ^        |                   |
                                            +--------+ another day       +-- 409 / 422: back to slot

Managing a booking, bookings made in this chat only (:mod:`bot.dialog.manage`)::

    bookings -> booking -> cancel -> (cancelled)
                        +-> when -> slot -> confirm (a move) -> booked

One step: a reminder, a tapped option, a shared contact, or text. Text is tried as a command first
(:mod:`bot.dialog.commands`: help, start over, my bookings, time zone, language, try again work in
every stage), then, outside the booking line (whose stages read the whole message themselves), as one
of the options on offer; what is left goes to the stage's handler in :data:`TEXT_HANDLERS`. An option
taken goes to its handler in :data:`PICK_HANDLERS`. Both tables are at the end of this module: together
they are the transitions (``README.md`` beside this file draws them).

:func:`bot.dialog.booking.advance` is the one place that decides what to ask next: it walks the booking
line and asks for the first thing still missing, so a message that fills several steps at once ("a
haircut with Ana tomorrow at 3pm") skips straight to the first gap. Cadence being unreachable never
loses the conversation: the step returns the state it was given, remembers the message, and "try
again" replays it; a booking, move or cancel whose answer never came is kept and checked again until
Cadence answers (:mod:`bot.dialog.doubt`). The state itself is in :mod:`bot.dialog.state`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.dialog import booking, commands, doubt, manage
from bot.dialog.state import Attempt, Conversation, OwnedLookup, Pick, PickKind, Retry, Stage, Turn
from bot.i18n import LANGUAGES, supported, t
from bot.nlu.commands import CommandKind, detect_command
from bot.nlu.contact import extract_phone
from bot.nlu.intents import BookingIntent
from bot.nlu.language import written_in
from bot.nlu.when import When
from bot.render import language_of_phone, region_of
from bot.tenants import TenantDirectory
from bot.types import Inbound, Outcome, OwnedBooking, Profile, Reply
from cadence_adapter import CadenceError, InvalidResponse, RateLimited, Unavailable

__all__ = ["Conversation", "Dialog", "OwnedLookup", "Pick", "PickKind", "Stage"]

MAX_TEXT = 2000
"""Longer messages are cut before understanding: nobody books in an essay, and it bounds the cost."""


class Dialog:
    """The booking conversation; :meth:`step` is the engine's :data:`bot.types.DialogStep`.

    It holds what the handlers need from outside (the tenant directory, this chat's bookings in the
    store, the defaults); the handlers are functions of ``(dialog, turn, ...)`` in the submodules."""

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
        _notice_language(turn, " ".join(inbound.text[:MAX_TEXT].split()))
        try:
            await self.dispatch(turn)
        except CadenceError as exc:
            kept = Conversation.model_validate(state) if state else self._fresh(profile, inbound)
            if inbound.checking:  # a check that could not ask, or met a refusal nothing expected
                return self._check_later(kept, profile, inbound, now)
            if not isinstance(exc, (Unavailable, RateLimited, InvalidResponse)):
                raise
            # Keep what we had, remember the message, and let "try again" replay it. A "try again" that
            # failed too (before or during its replay) keeps the message it was meant to replay.
            kept.language = turn.conv.language  # the apology in the language the customer writes
            command = detect_command(" ".join(inbound.text[:MAX_TEXT].split()), turn.languages)
            if kept.retry is None or command is None or command.kind is not CommandKind.TRY_AGAIN:
                kept.retry = Retry(text=inbound.text[:MAX_TEXT], choice=inbound.choice)
            apology = Reply(text=t(kept.language, "unavailable"))
            return Outcome(state=kept.model_dump(mode="json"), replies=(apology,))
        if not (inbound.checking or inbound.reminder):  # the customer said something new
            turn.conv.retry = None
        replies = tuple(turn.replies)
        if turn.owned or turn.released:
            replies = tuple(reply.model_copy(update={"lasting": True}) for reply in replies)
        # A reminder for a booking that is gone, or a check still in doubt, says nothing; a customer's
        # message always gets a reply.
        silent = inbound.reminder or inbound.checking
        return Outcome(
            state=turn.conv.model_dump(mode="json"),
            replies=replies or (() if silent else (Reply(text=t(turn.lang, "not_understood")),)),
            profile=Profile.model_validate(turn.learned),
            owned=tuple(turn.owned),
            released=tuple(turn.released),
            jobs=tuple(turn.jobs),
        )

    def _check_later(self, kept: Conversation, profile: Profile, inbound: Inbound, now: datetime) -> Outcome:
        turn = Turn(conv=kept, profile=profile, inbound=inbound, now=now)
        doubt.check_later(turn)
        return Outcome(
            state=turn.conv.model_dump(mode="json"), replies=tuple(turn.replies), jobs=tuple(turn.jobs)
        )

    def _fresh(self, profile: Profile, inbound: Inbound) -> Conversation:
        # Priors, strongest first; what the customer writes then decides (_notice_language).
        language = (
            supported(inbound.language)
            or supported(profile.language)
            or supported(language_of_phone(inbound.sender_phone))
            or self.default_language
        )
        seed = f"{inbound.channel}:{inbound.chat_id}:{inbound.message_id}"
        conv_id = hashlib.sha256(seed.encode()).hexdigest()[:16]
        return Conversation(id=conv_id, language=language, timezone=_zone_name(inbound.timezone))

    async def dispatch(self, turn: Turn) -> None:
        """One inbound, to the handler it is for; "try again" comes back here with the message it replays."""
        inbound = turn.inbound
        # A check is about the business of the attempt in doubt, and while one is in doubt the chat stays
        # with its business (a deep link to another waits until Cadence has answered).
        stays = inbound.checking is not None or turn.conv.doubt is not None
        tenant_slug = (
            (turn.conv.tenant if stays else inbound.tenant) or turn.conv.tenant or self.default_tenant
        )
        from_channel = bool(inbound.tenant) and not stays
        if tenant_slug and not await commands.use_tenant(self, turn, tenant_slug, from_channel=from_channel):
            return
        conv = turn.conv  # after use_tenant: a new business means a new conversation
        if inbound.reminder:
            if turn.tenant is not None:
                await manage.remind(self, turn, inbound.reminder)
            return
        if inbound.checking:
            await doubt.check(self, turn)
            return
        if conv.doubt is not None:  # the booking line waits for Cadence's answer
            await doubt.waiting(self, turn, " ".join(inbound.text[:MAX_TEXT].split()))
            return
        if (
            turn.tenant
            and not conv.greeted
            and supported(turn.tenant.config.language)
            and not inbound.language
            and not supported(turn.profile.language)
            and not supported(language_of_phone(inbound.sender_phone))
            and turn.written_in is None
        ):
            conv.language = supported(turn.tenant.config.language) or conv.language
        if inbound.choice is not None:
            pick = _resolve_choice(conv, inbound.choice)
            if pick is None:
                turn.replies.append(Reply(text=t(turn.lang, "expired"), expired=True))
                await booking.ask_again(self, turn)
            else:
                await self.pick(turn, pick)
            return
        if inbound.contact_phone:
            conv.phone = extract_phone(inbound.contact_phone, region_of(turn.zone)) or inbound.contact_phone
            turn.learned["phone"] = conv.phone
            await booking.advance(self, turn)
            return
        text = " ".join(inbound.text[:MAX_TEXT].split())
        if not text:
            await booking.ask_again(self, turn, prefix="not_understood")
            return
        command = detect_command(text, turn.languages)
        if command is not None and await commands.on_command(self, turn, command):
            return
        if conv.stage not in _REQUEST_FIRST and (pick := booking.match_pick(turn, text)) is not None:
            await self.pick(turn, pick)
            return
        await TEXT_HANDLERS[conv.stage](self, turn, text)

    async def pick(self, turn: Turn, pick: Pick) -> None:
        """An option taken: tapped, or named in a message."""
        await PICK_HANDLERS[pick.kind](self, turn, pick)

    async def manage_in_words(
        self, turn: Turn, intent: BookingIntent, when: When, shift: timedelta | None = None
    ) -> None:
        """A message on the booking line about a booking already made ("cancel it", "did that go
        through?", "an hour later"): read there, acted on by the managing path."""
        await manage.in_words(self, turn, intent, when, shift)

    async def resend(self, turn: Turn, attempt: Attempt) -> None:
        """Send an attempt in doubt again, with its key, and say what became of it."""
        if attempt.action == "cancel":
            await manage.send_cancel(self, turn, attempt)
        else:
            await booking.send(self, turn, attempt, restore=True)

    # -- this chat's bookings ------------------------------------------------------------------

    async def mine(self, turn: Turn) -> list[OwnedBooking]:
        """The bookings this chat made at this business that are still to come."""
        assert turn.tenant is not None
        owned = await self.owned_bookings(turn.inbound.channel, turn.inbound.chat_id, turn.tenant.slug)
        return [b for b in owned if b.start > turn.now]

    async def owns(self, turn: Turn, booking_id: str) -> bool:
        return any(b.booking_id == booking_id for b in await self.mine(turn))


def _notice_language(turn: Turn, text: str) -> None:
    """Speak the customer's language: the one their first message is in, or one they clearly switch to."""
    conv = turn.conv
    if not text or conv.language_chosen or text.startswith("/"):  # chosen, or a command ("/start salon")
        return
    turn.written_in = supported(written_in(text, conv.language, tuple(LANGUAGES), first=not conv.greeted))
    if turn.written_in is not None and turn.written_in != conv.language:
        conv.language = turn.learned["language"] = turn.written_in


def _resolve_choice(conv: Conversation, value: str) -> Pick | None:
    seq, _, index = value.partition(".")
    if seq != str(conv.seq) or not index.isdigit() or int(index) >= len(conv.picks):
        return None
    return conv.picks[int(index)]


def _zone_name(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return ZoneInfo(name).key
    except (ValueError, KeyError):
        return None


# -- the transitions -----------------------------------------------------------------------------

TextHandler = Callable[[Dialog, Turn, str], Awaitable[None]]
PickHandler = Callable[[Dialog, Turn, Pick], Awaitable[None]]

_REQUEST_FIRST = frozenset(
    {Stage.SERVICE, Stage.PRACTITIONER, Stage.WHEN, Stage.SLOT, Stage.DETAILS, Stage.CONFIRM, Stage.BOOKED}
)
"""Stages whose handler reads the whole message itself, the options on offer included."""

TEXT_HANDLERS: dict[Stage, TextHandler] = {
    Stage.TENANT: commands.in_tenant,
    Stage.SERVICE: booking.in_booking,
    Stage.PRACTITIONER: booking.in_booking,
    Stage.WHEN: booking.in_booking,
    Stage.SLOT: booking.in_booking,
    Stage.DETAILS: booking.in_booking,
    Stage.CONFIRM: booking.in_booking,
    Stage.BOOKED: booking.in_booking,
    Stage.BOOKINGS: manage.in_choice_only,
    Stage.BOOKING: manage.in_choice_only,
    Stage.CANCEL: manage.in_cancel,
}
"""Free text in each stage goes here (after commands and the options on offer had their chance)."""

PICK_HANDLERS: dict[PickKind, PickHandler] = {
    # The booking line: take the answer, then ask for the first thing still missing.
    PickKind.SERVICE: lambda dialog, turn, pick: booking.take_service(dialog, turn, pick.value),
    PickKind.PRACTITIONER: lambda dialog, turn, pick: booking.take_practitioner(dialog, turn, pick.value),
    PickKind.SLOT: lambda dialog, turn, pick: booking.take_slot(dialog, turn, pick.value),
    PickKind.DAY: lambda dialog, turn, pick: booking.take_day(dialog, turn, pick.value),
    PickKind.USE_NAME: lambda dialog, turn, pick: booking.take_name(dialog, turn, pick.value),
    # Other times than the ones on offer.
    PickKind.EARLIER: lambda dialog, turn, _: booking.page(dialog, turn, "earlier"),
    PickKind.LATER: lambda dialog, turn, _: booking.page(dialog, turn, "later"),
    PickKind.ANOTHER_DAY: lambda dialog, turn, _: booking.other_days(dialog, turn),
    # On the summary.
    PickKind.BOOK: lambda dialog, turn, _: booking.book(dialog, turn),
    PickKind.CHANGE_TIME: lambda dialog, turn, _: booking.change_time(dialog, turn),
    PickKind.CHANGE_DETAILS: lambda dialog, turn, _: booking.change_details(turn),
    PickKind.RESTART: lambda dialog, turn, _: commands.restart(dialog, turn),
    # Managing a booking: the value is its id.
    PickKind.BOOKING: lambda dialog, turn, pick: manage.show_booking(dialog, turn, pick.value),
    PickKind.MOVE: lambda dialog, turn, pick: manage.start_move(dialog, turn, pick.value),
    PickKind.CANCEL: lambda dialog, turn, pick: manage.ask_cancel(dialog, turn, pick.value),
    PickKind.CANCEL_YES: lambda dialog, turn, _: manage.cancel(dialog, turn),
    PickKind.KEEP: lambda dialog, turn, _: manage.keep(turn),
}
"""What each option does, tapped or named in a message (see :meth:`Dialog.pick`)."""
