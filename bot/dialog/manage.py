"""Managing bookings, those made in this chat only::

    bookings -> booking -> cancel -> (cancelled)
                        +-> when -> slot -> confirm (a move) -> booked

The list of this chat's bookings, one booking's actions (keep, move, cancel), the reminder that offers
them, and the same asked in plain words ("please cancel it", "can I push it to 4pm?", "did that go
through?"). A move goes back onto the booking line with the booking's service and practitioner.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.dialog import doubt
from bot.dialog.booking import advance, ask_again, parse_request, still_on, want_of
from bot.dialog.doubt import IN_DOUBT
from bot.dialog.state import Attempt, Pick, PickKind, Stage, Turn
from bot.i18n import t
from bot.nlu.commands import CommandKind
from bot.nlu.intents import BookingIntent, booking_intent, shift_of
from bot.nlu.when import When
from bot.nlu.yesno import interpret_yes_no
from bot.offers import Want
from bot.types import OwnedBooking, Reply
from cadence_adapter import APIError, Booking, NotFound, RateLimited

if TYPE_CHECKING:
    from bot.dialog import Dialog

# -- free text in the managing stages ------------------------------------------------------------


async def in_cancel(dialog: Dialog, turn: Turn, text: str) -> None:
    answer = interpret_yes_no(text, turn.languages)
    if answer is True:
        await cancel(dialog, turn)
    elif answer is False:
        await keep(turn)
    else:
        await ask_again(dialog, turn, prefix="ask_yes_no")


async def in_choice_only(dialog: Dialog, turn: Turn, text: str) -> None:
    """The list of bookings and one booking's actions: an option, or what to do in plain words
    ("cancel that one please") when it is clear which booking is meant."""
    conv = turn.conv
    listed = [p.value for p in conv.picks if p.kind is PickKind.BOOKING]
    target = conv.target if conv.stage is Stage.BOOKING else listed[0] if len(listed) == 1 else None
    intent = booking_intent(text, turn.languages)
    if target is not None and intent is BookingIntent.CANCEL:
        await ask_cancel(dialog, turn, target)
    elif target is not None and intent is BookingIntent.MOVE:
        await start_move(dialog, turn, target, parse_request(turn, text).when, shift_of(text))
    else:
        await ask_again(dialog, turn, prefix="ask_yes_no")


async def in_words(
    dialog: Dialog, turn: Turn, intent: BookingIntent, when: When, shift: timedelta | None = None
) -> None:
    """ "please cancel it", "can I push it to 4pm?", "did that go through?", "cancel my 3pm": about the
    booking the message names by its day or time, else the one just made, else the one this chat has;
    with several, the customer picks from the list."""
    mine = await dialog.mine(turn)
    just_made = turn.conv.booked.id if turn.conv.booked else None
    target = next((b for b in mine if b.booking_id == just_made), mine[0] if len(mine) == 1 else None)
    if intent is not BookingIntent.MOVE and not when.is_empty:  # a move's day and time are the new ones
        named = [b for b in mine if _named_by(turn, b, when)]
        target = named[0] if len(named) == 1 else None if len(mine) > 1 else target
    if intent is BookingIntent.CHECK:
        if target is None:
            await list_bookings(dialog, turn, CommandKind.MY_BOOKINGS)
        else:
            turn.say("still_booked", service=target.service_name, when=turn.when(target.start))
        return
    if target is None:
        kind = CommandKind.CANCEL_BOOKING if intent is BookingIntent.CANCEL else CommandKind.MOVE_BOOKING
        await list_bookings(dialog, turn, kind)
    elif intent is BookingIntent.CANCEL:
        await ask_cancel(dialog, turn, target.booking_id)
    else:
        await start_move(dialog, turn, target.booking_id, when, shift)


def _named_by(turn: Turn, booking: OwnedBooking, when: When) -> bool:
    """Whether "my 3pm", "the friday one", "friday at 3" is this booking (a day alone, a time alone, or
    both must match)."""
    local = booking.start.astimezone(turn.zone)
    days = set(when.dates) | (set(Want(date_range=when.date_range).days) if when.date_range else set())
    if days and local.date() not in days:
        return False
    if when.time is not None and local.time().replace(tzinfo=None) != when.time:
        return False
    return bool(days) or when.time is not None


# -- the bookings and their actions --------------------------------------------------------------


async def list_bookings(dialog: Dialog, turn: Turn, intent: CommandKind) -> None:
    if turn.tenant is None:
        await advance(dialog, turn)
        return
    mine = await dialog.mine(turn)
    client = dialog.directory.keyed(turn.tenant.slug)
    current: list[tuple[OwnedBooking, datetime]] = []
    for owned in mine:
        if client is None:
            current.append((owned, owned.start))
        elif (booking := await still_on(client, owned.booking_id)) is not None:
            current.append((owned, booking.start))
    if not current:
        turn.say("no_bookings")
        turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()
        return
    if client is None:
        lines = [t(turn.lang, "booking_line", service=o.service_name, when=turn.when(s)) for o, s in current]
        turn.replies.append(Reply(text="\n".join([t(turn.lang, "your_bookings"), *lines])))
        turn.say("manage_elsewhere", business=turn.tenant.org.name)
        turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()
        return
    K = CommandKind
    if len(current) == 1 and intent is K.CANCEL_BOOKING:
        await ask_cancel(dialog, turn, current[0][0].booking_id)
        return
    if len(current) == 1 and intent is K.MOVE_BOOKING:
        await start_move(dialog, turn, current[0][0].booking_id)
        return
    picks = [
        Pick(
            kind=PickKind.BOOKING,
            value=o.booking_id,
            label=t(turn.lang, "booking_line", service=o.service_name, when=turn.when(s)),
        )
        for o, s in current
    ]
    turn.prompt(Stage.BOOKINGS, t(turn.lang, "your_bookings"), picks)


async def _managed(dialog: Dialog, turn: Turn, booking_id: str) -> Booking | None:
    """The booking, when it is this chat's, still on, and the tenant lets us manage it."""
    assert turn.tenant is not None
    client = dialog.directory.keyed(turn.tenant.slug)
    if client is None or not await dialog.owns(turn, booking_id):
        turn.say("booking_gone")
        turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()
        return None
    booking = await still_on(client, booking_id)
    if booking is None:
        turn.say("booking_gone")
        turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()
    return booking


async def remind(dialog: Dialog, turn: Turn, booking_id: str) -> None:
    """The bot speaks first: the booking is coming up; keep, move or cancel it."""
    assert turn.tenant is not None
    mine = {b.booking_id: b for b in await dialog.mine(turn)}
    if booking_id not in mine:
        return  # cancelled or moved away since the reminder was set
    client = dialog.directory.keyed(turn.tenant.slug)
    if turn.conv.doubt is not None:  # the line waits for Cadence: remind without offering anything
        owned = mine[booking_id]
        turn.say("reminder_plain", service=owned.service_name, when=turn.when(owned.start))
        return
    if client is None:
        owned = mine[booking_id]
        turn.say("reminder_plain", service=owned.service_name, when=turn.when(owned.start))
        turn.say("manage_elsewhere", business=turn.tenant.org.name)
        return
    booking = await still_on(client, booking_id)
    if booking is None:
        return
    service = turn.service_name(booking.service_id)
    turn.conv.target = booking.id
    text = t(turn.lang, "reminder", service=service, when=turn.when(booking.start))
    turn.prompt(Stage.BOOKING, text, _booking_picks(turn, booking.id))


def _booking_picks(turn: Turn, booking_id: str) -> list[Pick]:
    return [
        Pick(kind=PickKind.KEEP, value=booking_id, label=t(turn.lang, "keep_it")),
        Pick(kind=PickKind.MOVE, value=booking_id, label=t(turn.lang, "move_it")),
        Pick(kind=PickKind.CANCEL, value=booking_id, label=t(turn.lang, "cancel_it")),
    ]


async def show_booking(dialog: Dialog, turn: Turn, booking_id: str) -> None:
    booking = await _managed(dialog, turn, booking_id)
    if booking is None:
        return
    picks = _booking_picks(turn, booking.id)
    text = t(
        turn.lang,
        "booking_actions",
        service=turn.service_name(booking.service_id),
        when=turn.when(booking.start),
    )
    turn.conv.target = booking.id
    turn.prompt(Stage.BOOKING, text, picks)


async def keep(turn: Turn) -> None:
    turn.say("kept")
    turn.conv.stage, turn.conv.picks = Stage.BOOKED, ()


# -- cancelling and moving -----------------------------------------------------------------------


async def ask_cancel(dialog: Dialog, turn: Turn, booking_id: str) -> None:
    booking = await _managed(dialog, turn, booking_id)
    if booking is None:
        return
    turn.conv.target = booking.id
    turn.conv.booked = booking
    picks = [
        Pick(kind=PickKind.CANCEL_YES, value=booking.id, label=t(turn.lang, "cancel_yes")),
        Pick(kind=PickKind.KEEP, value=booking.id, label=t(turn.lang, "keep_it")),
    ]
    service = turn.service_name(booking.service_id)
    turn.prompt(
        Stage.CANCEL,
        t(turn.lang, "confirm_cancel", service=service, when=turn.when(booking.start)),
        picks,
    )


async def cancel(dialog: Dialog, turn: Turn) -> None:
    booking = await _managed(dialog, turn, turn.conv.target or "")
    if booking is None:
        return
    attempt = Attempt(
        action="cancel",
        key=f"cb-cancel-{booking.id}",  # cancelling is the same act however often it is asked for
        service_id=booking.service_id,
        start=booking.start,
        target=booking.id,
        service_name=turn.service_name(booking.service_id),
        business=turn.tenant.org.name if turn.tenant else "",
    )
    await send_cancel(dialog, turn, attempt)


async def send_cancel(dialog: Dialog, turn: Turn, attempt: Attempt) -> None:
    """Cancel, and say so only once Cadence has: in doubt, it is said so and asked again later."""
    conv = turn.conv
    client = dialog.directory.keyed(turn.tenant.slug) if turn.tenant else None
    try:
        if client is None or attempt.target is None:
            raise NotFound("the booking can no longer be managed here")
        await client.cancel_booking(attempt.target, idempotency_key=attempt.key)
    except IN_DOUBT:
        doubt.hold(turn, attempt)
        return
    except RateLimited:  # "not now": nothing was done; said as an outage, or asked again by a check
        raise
    except APIError as exc:
        if attempt.checks and not isinstance(exc, NotFound):
            raise  # asked again after a missed answer: a refusal now says nothing of the first try
        # Refused at the first try (cancelled already, not ours to manage), or gone: nothing changed.
        conv.doubt = None
        turn.say("booking_gone")
        conv.stage, conv.picks, conv.target = Stage.BOOKED, (), None
        return
    conv.doubt = None
    # Asked again after a missed answer: if Cadence's webhook got here first, the customer has been
    # told already (the worker's notice) and the booking is no longer theirs in the store.
    told = attempt.checks > 0 and not await dialog.owns(turn, attempt.target)
    turn.released.append(attempt.target)
    if not told:
        turn.say("cancelled", service=turn.service_name(attempt.service_id), when=turn.when(attempt.start))
    conv.stage, conv.picks, conv.target = Stage.BOOKED, (), None
    if conv.booked is not None and conv.booked.id == attempt.target:
        conv.booked = None  # never again "you're booked" for it


async def start_move(
    dialog: Dialog,
    turn: Turn,
    booking_id: str,
    when: When | None = None,
    shift: timedelta | None = None,
) -> None:
    """Move a booking; a day or time said with it ("move it to wednesday, same time") refines the
    booking's own, so what is not said stays; an amount alone ("an hour later") moves it by that."""
    booking = await _managed(dialog, turn, booking_id)
    if booking is None:
        return
    if shift is not None and (when is None or when.is_empty):
        moved = booking.start.astimezone(turn.zone) + shift
        when = When(dates=(moved.date(),), time=moved.time().replace(tzinfo=None))
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
        conv.want = current.merged(want_of(when))
    await advance(dialog, turn)
