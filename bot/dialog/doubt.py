"""Outcomes in doubt: a booking, move or cancel sent to Cadence whose answer never came.

A timeout, a dropped connection, a 5xx or an answer that does not parse leaves it unknown whether Cadence
made the change. "I can't reach the booking system" would be untrue when it did, and a second request
beside it could make two. So the :class:`Attempt` is kept on the conversation, the customer is told the
truth (no answer yet; I'll confirm), and a bot-started turn (a ``turn`` job whose inbound carries
:attr:`~bot.types.Inbound.checking`) sends the same attempt again, with the same idempotency key, until
Cadence answers: made once or not at all, and the customer told which. Meanwhile the booking line waits:
"my bookings" shows the attempt as waiting, "try again" asks at once, anything else hears where things
stand. After :data:`GIVE_UP_AFTER` (longer than Cadence is sure to keep a key) the bot stops asking and
says plainly that it could not find out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.dialog.state import Attempt, Turn
from bot.i18n import supported, t
from bot.nlu.commands import CommandKind, detect_command
from bot.nlu.intents import BookingIntent, booking_intent
from bot.types import Inbound, PlannedJob, Reply
from cadence_adapter import APIError, InvalidResponse, RateLimited, Unavailable

if TYPE_CHECKING:
    from bot.dialog import Dialog

__all__ = ["GIVE_UP_AFTER", "IN_DOUBT", "check", "check_later", "hold", "waiting"]

IN_DOUBT = (Unavailable, InvalidResponse)
"""What leaves a change's outcome unknown: no answer, a server error, an answer that does not parse."""
FIRST_CHECK = timedelta(seconds=20)
LONGEST_WAIT = timedelta(minutes=10)
GIVE_UP_AFTER = timedelta(hours=12)
"""Cadence does not say how long it keeps an idempotency key; a day is the usual (Stripe's), so resending
stops well within it: a resend after the key is forgotten could make a second booking."""


def hold(turn: Turn, attempt: Attempt) -> None:
    """``attempt``'s answer never came: keep it, tell the customer once, and ask Cadence again later."""
    conv = turn.conv
    news = conv.doubt is None or conv.doubt.key != attempt.key
    conv.doubt = attempt.model_copy(update={"since": attempt.since or turn.now})
    if news:
        turn.replies.append(Reply(text=_about(turn, conv.doubt, f"in_doubt_{attempt.action}")))
    _plan_check(turn, conv.doubt)


def _plan_check(turn: Turn, attempt: Attempt) -> None:
    """The next check: a turn the bot starts, named after the attempt and how often it was asked, so
    only the latest planned check runs (a "try again" meanwhile plans its own)."""
    wait = min(LONGEST_WAIT, FIRST_CHECK * 2 ** min(attempt.checks, 10))
    inbound = turn.inbound
    again = Inbound(
        channel=inbound.channel,
        chat_id=inbound.chat_id,
        message_id=_check_id(attempt),
        checking=attempt.key,
        # what the customer's zone and language are read from (an SMS customer's zone: their number)
        sender_phone=inbound.sender_phone,
        language=inbound.language,
        timezone=inbound.timezone,
    )
    turn.jobs.append(
        PlannedJob(
            key=again.message_id,
            kind="turn",
            run_at=turn.now + wait,
            payload={"inbound": again.model_dump(mode="json", exclude_defaults=True)},
        )
    )


def _check_id(attempt: Attempt) -> str:
    return f"check:{attempt.key}:{attempt.checks}"


async def check(dialog: Dialog, turn: Turn) -> None:
    """A bot-started turn: ask Cadence again about the attempt in doubt; silent when it was answered
    since, when a later check was planned (this one is stale), or when it is still in doubt."""
    attempt = turn.conv.doubt
    if attempt is None or turn.inbound.message_id != _check_id(attempt):
        return
    await _ask_again(dialog, turn, attempt)


def check_later(turn: Turn) -> None:
    """A check that could not ask (the business could not be loaded, or Cadence refused in a way no
    handler expected): counted, and planned again, or given up when overdue."""
    attempt = turn.conv.doubt
    if attempt is None or turn.inbound.message_id != _check_id(attempt):
        return
    counted = attempt.model_copy(update={"checks": attempt.checks + 1})
    turn.conv.doubt = counted
    _plan_check(turn, counted)
    _give_up_if_overdue(turn)


async def waiting(dialog: Dialog, turn: Turn, text: str) -> None:
    """A customer's message while an outcome is in doubt: "try again" asks Cadence at once, "my bookings"
    (or "did it go through?") lists the bookings and says where this one stands, help, language and
    time zone work; anything else (a new request, a tapped option) hears where things stand: the
    booking line resumes once Cadence has answered."""
    attempt = turn.conv.doubt
    assert attempt is not None
    command = detect_command(text, turn.languages) if text else None
    kind = command.kind if command is not None else None
    if kind is CommandKind.TRY_AGAIN:
        await _ask_again(dialog, turn, attempt)
        if turn.conv.doubt is None:
            return
    elif kind in (CommandKind.MY_BOOKINGS, CommandKind.CANCEL_BOOKING, CommandKind.MOVE_BOOKING) or (
        text and booking_intent(text, turn.languages) is BookingIntent.CHECK
    ):
        await _list(dialog, turn)
    elif kind is CommandKind.HELP:
        turn.say("help", example=t(turn.lang, "help_example"))
    elif command is not None and kind is CommandKind.LANGUAGE and (language := supported(command.argument)):
        turn.choose_language(language)
    elif command is not None and kind is CommandKind.TIMEZONE and command.argument:
        turn.choose_zone(command.argument)
    # A tapped option did nothing: said so, so the channel leaves its message as it was.
    tapped = turn.inbound.choice is not None
    held = turn.conv.doubt
    assert held is not None
    turn.replies.append(Reply(text=_about(turn, held, "still_checking"), expired=tapped))


async def _ask_again(dialog: Dialog, turn: Turn, attempt: Attempt) -> None:
    asked = attempt.model_copy(update={"checks": attempt.checks + 1})
    turn.conv.doubt = asked
    try:
        await dialog.resend(turn, asked)
    except RateLimited:  # "not now" (the client raises a missed answer over it): ask again later
        hold(turn, asked)
    except APIError:  # refused (a revoked key...): says nothing of the first try, and asking won't either
        _give_up(turn)
        return
    _give_up_if_overdue(turn)


def _give_up_if_overdue(turn: Turn) -> None:
    """Still no answer after :data:`GIVE_UP_AFTER`: stop asking and say so plainly."""
    held = turn.conv.doubt
    if held is not None and held.since is not None and turn.now - held.since >= GIVE_UP_AFTER:
        _give_up(turn)


def _give_up(turn: Turn) -> None:
    held = turn.conv.doubt
    if held is None:
        return
    turn.jobs[:] = [job for job in turn.jobs if job.kind != "turn"]
    turn.conv.doubt = None
    turn.conv.clear_line()
    business = turn.tenant.org.name if turn.tenant else held.business
    turn.replies.append(Reply(text=_about(turn, held, "doubt_gave_up", business=business), lasting=True))


async def _list(dialog: Dialog, turn: Turn) -> None:
    """This chat's bookings as plain lines (nothing to tap while the line waits); where the one in doubt
    stands is said after them."""
    if turn.tenant is None:
        return
    lines = [
        t(turn.lang, "booking_line", service=b.service_name, when=turn.when(b.start))
        for b in await dialog.mine(turn)
    ]
    if lines:
        turn.replies.append(Reply(text="\n".join([t(turn.lang, "your_bookings"), *lines])))


def _about(turn: Turn, attempt: Attempt, key: str, **values: str) -> str:
    service = attempt.service_name or (turn.service_name(attempt.service_id) if turn.tenant else "")
    return t(turn.lang, key, service=service, when=turn.when(attempt.start), **values)
