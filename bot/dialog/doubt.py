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

from bot.dialog.state import Attempt, Stage, Turn
from bot.i18n import t
from bot.nlu.commands import CommandKind, detect_command
from bot.nlu.intents import BookingIntent, booking_intent
from bot.types import PlannedJob, Reply
from cadence_adapter import InvalidResponse, RateLimited, Unavailable

if TYPE_CHECKING:
    from bot.dialog import Dialog

__all__ = ["GIVE_UP_AFTER", "IN_DOUBT", "check", "hold", "waiting"]

IN_DOUBT = (Unavailable, InvalidResponse)
"""What leaves a change's outcome unknown: no answer, a server error, an answer that does not parse."""
FIRST_CHECK = timedelta(seconds=20)
LONGEST_WAIT = timedelta(minutes=10)
GIVE_UP_AFTER = timedelta(hours=24)


def hold(turn: Turn, attempt: Attempt) -> None:
    """``attempt``'s answer never came: keep it, tell the customer once, and ask Cadence again later."""
    conv = turn.conv
    news = conv.doubt is None or conv.doubt.key != attempt.key
    conv.doubt = attempt.model_copy(update={"since": attempt.since or turn.now})
    if news:
        turn.replies.append(Reply(text=_about(turn, conv.doubt, f"in_doubt_{attempt.action}")))
    wait = min(LONGEST_WAIT, FIRST_CHECK * 2 ** min(conv.doubt.checks, 10))
    again = turn.inbound.model_copy(
        update={
            "message_id": f"check:{attempt.key}:{conv.doubt.checks}",
            "text": "",
            "choice": None,
            "contact_phone": None,
            "reminder": None,
            "checking": attempt.key,
            "tenant": conv.tenant,
        }
    )
    turn.jobs.append(
        PlannedJob(
            key=again.message_id,
            kind="turn",
            run_at=turn.now + wait,
            payload={"inbound": again.model_dump(mode="json")},
        )
    )


async def check(dialog: Dialog, turn: Turn, key: str) -> None:
    """A bot-started turn: ask Cadence again about the attempt with ``key``; silent when it was answered
    since (a customer's "try again", an earlier check) or is still in doubt."""
    attempt = turn.conv.doubt
    if attempt is None or attempt.key != key:
        return
    await _ask_again(dialog, turn, attempt)


async def waiting(dialog: Dialog, turn: Turn, text: str) -> None:
    """A customer's message while an outcome is in doubt: "try again" asks Cadence at once, "my bookings"
    (or "did it go through?") lists the bookings with this one as waiting, anything else is answered with
    where things stand; the booking line resumes once Cadence has answered."""
    attempt = turn.conv.doubt
    assert attempt is not None
    command = detect_command(text, turn.languages) if text else None
    kind = command.kind if command is not None else None
    if kind is CommandKind.TRY_AGAIN:
        await _ask_again(dialog, turn, attempt)
        if turn.conv.doubt is not None:
            turn.replies.append(Reply(text=_about(turn, turn.conv.doubt, "still_checking")))
        return
    listing = kind in (CommandKind.MY_BOOKINGS, CommandKind.CANCEL_BOOKING, CommandKind.MOVE_BOOKING)
    if listing or (text and booking_intent(text, turn.languages) is BookingIntent.CHECK):
        await _list(dialog, turn, attempt)
    turn.replies.append(Reply(text=_about(turn, attempt, "still_checking")))


async def _ask_again(dialog: Dialog, turn: Turn, attempt: Attempt) -> None:
    asked = attempt.model_copy(update={"checks": attempt.checks + 1})
    turn.conv.doubt = asked
    try:
        await dialog.resend(turn, asked)
    except RateLimited:  # Cadence answered "not now": nothing was made, ask again later
        hold(turn, asked)
    held = turn.conv.doubt
    if held is not None and held.since is not None and turn.now - held.since >= GIVE_UP_AFTER:
        turn.jobs.clear()
        turn.conv.doubt = None
        turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()
        business = turn.tenant.org.name if turn.tenant else ""
        turn.replies.append(Reply(text=_about(turn, held, "doubt_gave_up", business=business), lasting=True))


async def _list(dialog: Dialog, turn: Turn, attempt: Attempt) -> None:
    """This chat's bookings as plain lines (nothing to tap while the line waits), then the one in doubt."""
    if turn.tenant is None:
        return
    lines = [
        t(turn.lang, "booking_line", service=b.service_name, when=turn.when(b.start))
        for b in await dialog.mine(turn)
    ]
    if lines:
        turn.replies.append(Reply(text="\n".join([t(turn.lang, "your_bookings"), *lines])))


def _about(turn: Turn, attempt: Attempt, key: str, **values: str) -> str:
    service = turn.service_name(attempt.service_id) if turn.tenant else attempt.service_id
    return t(turn.lang, key, service=service, when=turn.when(attempt.start), **values)
