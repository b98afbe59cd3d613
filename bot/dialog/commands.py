"""Commands, which work in every stage (help, start over, my bookings, time zone, language, try again;
earlier, later and another day while times are on offer), and what changes the conversation wholesale:
showing the question again in a new zone or language, starting over, finding or switching the business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.dialog.booking import advance, ask_again, confirm, offer_slots, other_days, page
from bot.dialog.manage import list_bookings
from bot.dialog.state import Conversation, Stage, Turn
from bot.i18n import supported, t
from bot.nlu.commands import Command, CommandKind

if TYPE_CHECKING:
    from bot.dialog import Dialog


async def on_command(dialog: Dialog, turn: Turn, command: Command) -> bool:
    """Handle a command; False hands the text on to the stage (e.g. "later" outside an offer)."""
    kind, conv = command.kind, turn.conv
    K = CommandKind
    if kind is K.HELP:
        turn.say("help", example=t(turn.lang, "help_example"))
        await ask_again(dialog, turn)
    elif kind is K.RESTART:
        await restart(dialog, turn)
    elif kind in (K.MY_BOOKINGS, K.CANCEL_BOOKING, K.MOVE_BOOKING):
        await list_bookings(dialog, turn, intent=kind)
    elif kind is K.TIMEZONE:
        if not command.argument:
            turn.say("timezone_ask")
            return True
        turn.choose_zone(command.argument)
        await refresh(dialog, turn)
    elif kind is K.LANGUAGE:
        language = supported(command.argument)
        if language is None:
            return False
        turn.choose_language(language)
        await refresh(dialog, turn)
    elif kind is K.TRY_AGAIN:
        retry = conv.retry
        if retry is None or not (retry.text or retry.choice):
            await ask_again(dialog, turn)
            return True
        conv.retry = None
        replay = turn.inbound.model_copy(update={"text": retry.text, "choice": retry.choice})
        turn.inbound = replay
        await dialog.dispatch(turn)
    elif kind in (K.EARLIER, K.LATER) and conv.stage in (Stage.SLOT, Stage.CONFIRM):
        if conv.stage is Stage.CONFIRM and conv.slot is not None:
            conv.slots = (conv.slot,)  # page from the time on the summary
        await page(dialog, turn, "earlier" if kind is K.EARLIER else "later")
    elif kind is K.ANOTHER_DAY and conv.stage in (Stage.SLOT, Stage.CONFIRM):
        await other_days(dialog, turn)
    else:
        return False
    return True


async def refresh(dialog: Dialog, turn: Turn) -> None:
    """Show the current question again in a new zone or language (slot labels change)."""
    if turn.conv.stage is Stage.SLOT and turn.conv.slots:
        offer_slots(turn, turn.conv.slots, turn.conv.question)
    elif turn.conv.stage is Stage.CONFIRM and turn.conv.slot is not None:
        await confirm(turn)
    else:
        await ask_again(dialog, turn)


async def restart(dialog: Dialog, turn: Turn) -> None:
    old = turn.conv
    turn.conv = Conversation(id=old.id + "r", tenant=old.tenant, language=old.language, timezone=old.timezone)
    turn.conv.greeted = old.greeted
    if old.greeted:
        turn.say("restarted")
    await advance(dialog, turn)


# -- the business --------------------------------------------------------------------------------


async def in_tenant(dialog: Dialog, turn: Turn, text: str) -> None:
    if not turn.conv.question:  # the first "hi": ask before guessing a business from it
        turn.prompt(Stage.TENANT, t(turn.lang, "ask_tenant"), ())
        return
    info = await dialog.directory.find(text)
    if info is None:
        turn.say("unknown_tenant", text=text[:60])
        turn.prompt(Stage.TENANT, t(turn.lang, "ask_tenant"), ())
        return
    await use_tenant(dialog, turn, info.slug, from_channel=True)
    await advance(dialog, turn)


async def use_tenant(dialog: Dialog, turn: Turn, slug: str, *, from_channel: bool) -> bool:
    """Load the tenant; switching business starts the booking afresh. False when it's unknown."""
    slug = slug.strip().lower()
    info = await dialog.directory.get(slug)
    if info is None:
        if from_channel or turn.conv.tenant:
            turn.say("unknown_tenant", text=slug[:60])
        turn.conv.tenant = None
        turn.prompt(Stage.TENANT, t(turn.lang, "ask_tenant"), ())
        return False
    if turn.conv.tenant != slug:
        fresh = Conversation(id=turn.conv.id, tenant=slug, language=turn.conv.language)
        fresh.timezone, fresh.language_chosen = turn.conv.timezone, turn.conv.language_chosen
        if turn.conv.tenant is None:
            fresh.retry = turn.conv.retry  # the business was just found: keep what to replay
        turn.conv = fresh
    if turn.conv.stage is Stage.TENANT:
        turn.conv.stage = Stage.SERVICE
    turn.tenant = info
    return True
