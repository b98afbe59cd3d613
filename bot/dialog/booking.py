"""The booking line: tenant -> service -> (practitioner) -> when -> slot -> details -> confirm -> booked.

:func:`in_booking` reads a message whole at every stage of it; :func:`advance` is the one place that
decides what to ask next: it walks the line and asks for the first thing still missing, so a message
that fills several steps at once ("a haircut with Ana tomorrow at 3pm") skips straight to the first gap.
Then slots are offered (paged, other days, a passed date said so), confirmed and booked; after a 409 or
422 the nearest open alternatives are offered instead.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.dialog import answers, doubt, pair
from bot.dialog.doubt import IN_DOUBT
from bot.dialog.state import Attempt, Pair, Pick, PickKind, Stage, Turn, options
from bot.i18n import t
from bot.nlu import daymath
from bot.nlu.choices import Choice, match_choice, position
from bot.nlu.details import Details, bare_name, read_details
from bot.nlu.intents import BookingIntent, booking_intent, shift_of
from bot.nlu.language import detect_language
from bot.nlu.lexicon import WORDS
from bot.nlu.questions import QuestionKind, detect_question
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
    page_range,
    plan_offer,
)
from bot.offers import page as page_slots
from bot.render import day_first, format_day, format_duration, format_time_of_day, region_of
from bot.types import OwnedBooking, Profile, Reply
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
)

if TYPE_CHECKING:
    from bot.dialog import Dialog

log = logging.getLogger(__name__)

# -- free text at every booking stage ------------------------------------------------------------


async def in_booking(dialog: Dialog, turn: Turn, text: str) -> None:
    """Every stage of the booking line: any message may carry any of service, practitioner,
    day and time, name and contact, or an answer to what was asked; all of it is kept and the
    next question is the first thing still missing (:func:`advance`)."""
    conv = turn.conv
    if (zone := find_zone(text)) is not None and zone != conv.timezone:
        # "I'm in New York this week", "6am São Paulo time": the times in it are that zone's.
        conv.timezone = turn.learned["timezone"] = zone
    name_asked = conv.stage is Stage.DETAILS and _name(turn) is None
    details = read_details(text, _regions(turn), name_asked=name_asked)
    if details.name is not None and not name_asked and _names_the_business(turn, details.name):
        details = replace(details, name=None)  # "Sports Massage", "Ana Costa": the service, the practitioner
    rest = details.rest
    request = parse_request(turn, rest)
    if request.practitioner_index is None and conv.mentioned and _WITH_THEM.search(rest):
        # "a follow-up with her on wednesday": the practitioner just talked about
        staff = [p.id for p in turn.tenant.practitioners] if turn.tenant else []
        if conv.mentioned in staff:
            request = replace(request, practitioner_index=staff.index(conv.mentioned))
    if request.practitioner_index is not None and turn.tenant is not None:
        conv.mentioned = turn.tenant.practitioners[request.practitioner_index].id
    # Asked for a name, a message that is nothing else is one ("Beatriz Costa", "Sam", "June").
    name = bare_name(rest) if name_asked and details.name is None and _may_be_a_name(request) else None
    if name is not None:  # and so the words are not a month too ("Marco", "June")
        details, rest, request = replace(details, name=name), "", Request(None, None, When())
    took_details = _take_details(turn, details)
    asked, conv.asked = conv.asked, None
    kind = detect_question(rest, turn.languages) if rest.strip() else None
    if kind is None and asked is not None and _follow_up_question(rest, request):
        kind = QuestionKind(asked)  # "how long is a massage?" ... "and the pilates?"
    if kind is not None:
        # "are you open on Saturdays?", "how long is a massage?": answered, then on where we were; a
        # service asked about is taken ("do you do beard trims?" is the start of booking one).
        # "what services do you have? and how much is a beard trim?": each question answered on its own
        parts = [p for p in re.split(r"(?<=\?)", rest) if p.strip()]
        asked_here = [(k, p) for p in parts if (k := detect_question(p, turn.languages)) is not None]
        for each, part in asked_here or [(kind, rest)]:
            await answers.answer(
                dialog, turn, each, parse_request(turn, part) if asked_here else request, part
            )
        conv.asked = kind
        offered = request.service_index is not None and _offered_by_them(turn, request.service_index)
        if offered and request.also is None and _apply_request(turn, request):
            await advance(dialog, turn)
        else:
            await ask_again(dialog, turn)
        return
    if details.number_like and details.phone is None:
        turn.say("bad_phone")  # "555-0100": said, never read as a time, and the rest still kept
    if (
        conv.picks
        and rest.strip()
        and request.service_index is None
        and request.practitioner_index is None
        and (pick := match_pick(turn, rest)) is not None
        and _fits(turn, pick, request.when, rest)
    ):
        await dialog.pick(turn, pick)
        return
    intent = booking_intent(rest, turn.languages)
    if intent is None and conv.stage is Stage.BOOKED and shift_of(rest) is not None:
        intent = BookingIntent.MOVE  # "30 minutes earlier please", right after booking
    if (
        request.service_index is not None
        and intent is not BookingIntent.CHECK
        and conv.stage is not Stage.BOOKED
    ):
        intent = None  # a service named is a request, unless it asks about a booking made
    if intent is BookingIntent.NEVER_MIND and request.service_index is None:
        await never_mind(turn)
        return
    # About a booking they have: right after booking, or before starting another ("I can't make it").
    if intent not in (None, BookingIntent.NEVER_MIND) and (
        conv.stage is Stage.BOOKED or (conv.service_id is None and await dialog.mine(turn))
    ):
        await dialog.manage_in_words(turn, intent, request.when, shift_of(rest))
        return
    took_request = _apply_request(turn, request)
    if request.when.passed is not None:
        await _passed(dialog, turn, request.when.passed)
        return
    if took_request or took_details:
        if conv.stage is Stage.BOOKED and not took_request:
            turn.say("after_booking")
            return
        await advance(dialog, turn)
        return
    answer = interpret_yes_no(rest, turn.languages) if rest.strip() else None
    if conv.stage is Stage.CONFIRM and answer is True:
        await book(dialog, turn)
    elif conv.stage is Stage.CONFIRM and answer is False:
        turn.prompt(Stage.CONFIRM, t(turn.lang, "ask_change"), _change_picks(turn))
    elif conv.stage is Stage.BOOKED:
        if answer is True and conv.booked is not None:
            service = turn.service_name(conv.booked.service_id)
            turn.say("already_booked", service=service, when=turn.when(conv.booked.start))
        else:
            turn.say("after_booking")
    elif details.number_like:
        await ask_again(dialog, turn)
    elif conv.stage is Stage.DETAILS:
        turn.say("bad_name" if name_asked else "bad_contact")
        await advance(dialog, turn)
    elif conv.stage in (Stage.WHEN, Stage.SLOT) or _looks_like_when(rest, turn.languages):
        turn.say("not_understood_when")
        await ask_again(dialog, turn)
    else:
        # "I'd like to book an appointment" is understood: it asks for what comes next
        wants_to_book = _BOOK_WORDS.search(fold(rest)) is not None
        await ask_again(dialog, turn, prefix="not_understood" if conv.greeted and not wants_to_book else None)


def parse_request(turn: Turn, text: str) -> Request:
    """Service, practitioner and when, read in the conversation's language and, when the message
    is in another one ("mardi prochain"), in that one first: a day word is never dropped."""
    assert turn.tenant is not None
    languages = turn.languages
    written = detect_language(text, (*languages, *WORDS))
    if written is not None and written not in languages:
        languages = (written, *languages)
    services = turn.tenant.services
    aliases = turn.tenant.config.aliases
    return extract_request(
        text,
        [(s.id, s.name) for s in services],
        [(p.id, p.name) for p in turn.tenant.practitioners],
        turn.now,
        turn.zone,
        languages,
        day_first=day_first(turn.zone),
        aliases={i: aliases[s.id] for i, s in enumerate(services) if s.id in aliases},
    )


def _apply_request(turn: Turn, request: Request) -> bool:
    """Take service, practitioner and time from one message; True when it named any.

    A day or time refines what was asked before ("actually make it 4" keeps the day, "no,
    Tuesday" keeps the time); a move keeps its service."""
    assert turn.tenant is not None
    tenant, conv = turn.tenant, turn.conv
    took = False
    if request.again and conv.service_id is None and conv.booked is not None and not request.when.is_empty:
        # "and another one on the 23rd, same time": the service just booked, at its time unless said
        booked = conv.booked
        local = booked.start.astimezone(turn.zone)
        _choose_service(turn, booked.service_id)
        conv.want = Want(at=local.time().replace(tzinfo=None))
    if (
        request.right_after
        and request.service_index is not None
        and conv.booked is not None
        and conv.service_id is None
        and request.when.is_empty
    ):
        # "can I also get a beard trim right after that?": when the booking just made ends
        end = (conv.booked.end or conv.booked.start).astimezone(turn.zone)
        conv.want = Want(dates=(end.date(),), at=end.time().replace(tzinfo=None))
        doing = {p.id for p in tenant.practitioners_for(tenant.services[request.service_index].id)}
        if conv.booked.practitioner_id in doing:
            conv.practitioner_id, conv.practitioner_asked = conv.booked.practitioner_id, True
    if request.service_index is not None and not conv.moving:
        _choose_service(turn, tenant.services[request.service_index].id)
        conv.also = tenant.services[request.also].id if request.also is not None else None
        conv.party, conv.pair = request.party, None
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
                service=turn.service_name(),
                who=who,
            )
        elif conv.practitioner_id != practitioner.id:
            conv.practitioner_id, conv.slot = practitioner.id, None
            conv.practitioner_asked = True
        else:
            conv.practitioner_asked = True
        took = True
    if not request.when.is_empty or request.earliest:
        wanted = want_of(request.when).model_copy(update={"earliest": request.earliest})
        if request.same_time and wanted.at is None and conv.booked is not None and conv.want is None:
            # "a follow-up on the 22nd, same time?": the time of the booking just made
            wanted = wanted.model_copy(
                update={"at": conv.booked.start.astimezone(turn.zone).time().replace(tzinfo=None)}
            )
        # "the earliest you have" starts afresh: the days asked about before had nothing
        base = Want() if request.earliest else conv.want or Want()
        conv.want, conv.slot = base.merged(wanted), None
        took = True
    return took


def _choose_service(turn: Turn, service_id: str) -> None:
    conv = turn.conv
    if conv.service_id == service_id:
        return
    conv.service_id, conv.slot, conv.slots = service_id, None, ()
    staff = turn.tenant.practitioners_for(service_id) if turn.tenant else ()
    if conv.practitioner_id and all(p.id != conv.practitioner_id for p in staff):
        conv.practitioner_id, conv.practitioner_asked = None, False


def _regions(turn: Turn) -> tuple[str | None, ...]:
    """Where a local phone number is read: the customer's country, then the business's."""
    business = turn.tenant.zone if turn.tenant else turn.zone
    return (region_of(turn.zone), region_of(business))


def _fits(turn: Turn, pick: Pick, when: When, text: str) -> bool:
    """Whether an option matched in a message is what it asks for: "change the time to 5pm" is
    not the "Change time" button, and "monday at 10" is not Tuesday's 10:00 on the list."""
    if when.is_empty or position(text, len(turn.conv.picks), turn.languages) is not None:
        return True
    if pick.kind is not PickKind.SLOT:
        return False
    day = Slot.model_validate_json(pick.value).start.astimezone(turn.zone).date()
    return not (when.dates or when.date_range) or day in when.dates


def _take_details(turn: Turn, details: Details) -> bool:
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


async def never_mind(turn: Turn) -> None:
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


async def _passed(dialog: Dialog, turn: Turn, day: date) -> None:
    """A date that has passed is said so, with the next one like it offered, never rolled over
    silently. The rest of the message (service, practitioner, time) is kept."""
    conv = turn.conv
    if conv.service_id is None and turn.tenant is not None and len(turn.tenant.services) > 1:
        turn.say("day_passed", day=format_day(day, turn.lang, with_year=True))
        await advance(dialog, turn)
        return
    picks = []
    next_year = daymath.safe_date(day.year + 1, day.month, day.day)
    if next_year is not None and Reach.at(turn.now, turn.zone).last >= next_year:
        picks.append(
            Pick(
                kind=PickKind.DAY,
                value=next_year.isoformat(),
                label=format_day(next_year, turn.lang, with_year=True),
            )
        )
    picks.append(Pick(kind=PickKind.ANOTHER_DAY, label=t(turn.lang, "another_day")))
    conv.slot = None
    conv.want = Want(at=conv.want.at if conv.want else None)
    text = t(turn.lang, "day_passed", day=format_day(day, turn.lang, with_year=True))
    turn.prompt(Stage.SLOT, text, picks)


# -- options taken -------------------------------------------------------------------------------


def match_pick(turn: Turn, text: str) -> Pick | None:
    """The option on offer that a message names ("the second one", "3pm", "Ana"), if any."""
    picks = turn.conv.picks
    if not picks:
        return None
    choices = [
        Choice(
            label=p.label,
            time=Slot.model_validate_json(p.value).start.astimezone(turn.zone).time().replace(tzinfo=None)
            if p.kind is PickKind.SLOT
            else None,
            is_any=p.kind is PickKind.PRACTITIONER and not p.value,
        )
        for p in picks
    ]
    index = match_choice(text, choices, turn.languages)
    if index is None:  # "oh great, I'll take the earliest one", "le premier, c'est parfait"
        index = position(text, len(picks), turn.languages)
    return picks[index] if index is not None else None


async def take_service(dialog: Dialog, turn: Turn, service_id: str) -> None:
    _choose_service(turn, service_id)
    await advance(dialog, turn)


async def take_practitioner(dialog: Dialog, turn: Turn, practitioner_id: str) -> None:
    """An empty id is "anyone"."""
    turn.conv.practitioner_id, turn.conv.practitioner_asked = practitioner_id or None, True
    await advance(dialog, turn)


async def take_slot(dialog: Dialog, turn: Turn, slot: str) -> None:
    _choose_slot(turn, Slot.model_validate_json(slot))
    await advance(dialog, turn)


async def take_day(dialog: Dialog, turn: Turn, day: str) -> None:
    conv = turn.conv
    conv.want = (conv.want or Want()).merged(Want(dates=(datetime.fromisoformat(day).date(),)))
    await advance(dialog, turn)


async def take_name(dialog: Dialog, turn: Turn, name: str) -> None:
    turn.conv.name = name
    turn.learned["name"] = name
    await advance(dialog, turn)


async def change_time(dialog: Dialog, turn: Turn) -> None:
    conv = turn.conv
    # Another time, same day: the day stays unless the customer names another.
    days = (conv.slot.start.astimezone(turn.zone).date(),) if conv.slot else ()
    conv.want = Want(dates=days) if days else None
    conv.slot = None
    await advance(dialog, turn)


async def change_details(turn: Turn) -> None:
    conv = turn.conv
    conv.name = conv.email = conv.phone = None
    conv.own_details = True
    conv.stage = Stage.DETAILS
    turn.prompt(Stage.DETAILS, t(turn.lang, "ask_name"), ())


def _choose_slot(turn: Turn, slot: Slot) -> None:
    """The slot is taken as the request too, so "actually 4pm" keeps its day."""
    local = slot.start.astimezone(turn.zone)
    turn.conv.slot = slot
    turn.conv.want = Want(dates=(local.date(),), at=local.time().replace(tzinfo=None))
    turn.chosen = True


def _change_picks(turn: Turn) -> list[Pick]:
    return [
        Pick(kind=PickKind.CHANGE_TIME, label=t(turn.lang, "change_time")),
        Pick(kind=PickKind.ANOTHER_DAY, label=t(turn.lang, "another_day")),
        Pick(kind=PickKind.CHANGE_DETAILS, label=t(turn.lang, "change_details")),
        Pick(kind=PickKind.BOOK, label=t(turn.lang, "book_it")),
        Pick(kind=PickKind.RESTART, label=t(turn.lang, "start_over")),
    ]


# -- what to ask next ----------------------------------------------------------------------------


async def ask_again(dialog: Dialog, turn: Turn, prefix: str | None = None) -> None:
    """Repeat the current question (after help, a language change, an expired button...)."""
    if prefix:
        turn.say(prefix)
    conv = turn.conv
    if conv.stage in (Stage.SLOT, Stage.BOOKINGS, Stage.BOOKING, Stage.CANCEL, Stage.CONFIRM) and conv.picks:
        turn.replies.append(Reply(text=conv.question, options=options(conv)))
    elif conv.stage is Stage.BOOKED:
        turn.say("after_booking")
    else:
        await advance(dialog, turn)


async def advance(dialog: Dialog, turn: Turn) -> None:
    """Ask for the first thing still missing on the booking line, or confirm when nothing is."""
    conv, tenant = turn.conv, turn.tenant
    if tenant is None:
        turn.prompt(Stage.TENANT, t(turn.lang, "ask_tenant"), ())
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
        picks = [Pick(kind=PickKind.SERVICE, value=s.id, label=s.name) for s in tenant.services]
        turn.prompt(Stage.SERVICE, t(turn.lang, "ask_service"), picks)
        return
    staff = tenant.practitioners_for(service.id)
    if tenant.config.ask_practitioner and not conv.practitioner_asked and len(staff) > 1:
        picks = [Pick(kind=PickKind.PRACTITIONER, value=p.id, label=p.name) for p in staff]
        picks.append(Pick(kind=PickKind.PRACTITIONER, value="", label=t(turn.lang, "any_practitioner")))
        turn.prompt(Stage.PRACTITIONER, t(turn.lang, "ask_practitioner", service=service.name), picks)
        return
    if conv.slot is None:
        if conv.want is None:
            key = "ask_when_move" if conv.moving else "ask_when"
            turn.prompt(Stage.WHEN, t(turn.lang, key, service=service.name), ())
            return
        if not await _offer(dialog, turn):
            return
    if conv.moving:
        await confirm(turn)
        return
    if conv.slot is not None and not await _pair_up(dialog, turn):
        return
    if (clash := await _clash(dialog, turn)) is not None and conv.slot is not None:
        # The customer's own booking at that time: say so before anything is booked twice.
        local = conv.slot.start.astimezone(turn.zone)
        conv.want, conv.slot = Want(dates=(local.date(),), at=local.time().replace(tzinfo=None)), None
        intro = t(turn.lang, "already_have", service=clash.service_name, when=turn.when(clash.start))
        await _offer(dialog, turn, intro=intro)
        return
    # Say what was understood before asking for what is missing.
    said = t(turn.lang, "slot_open", summary=_summary(turn)) + "\n" if turn.chosen else ""
    if _name(turn) is None:
        default = turn.inbound.sender_name
        picks = (
            [Pick(kind=PickKind.USE_NAME, value=default, label=t(turn.lang, "use_name", name=default))]
            if default
            else []
        )
        turn.prompt(Stage.DETAILS, said + t(turn.lang, "ask_name"), picks)
        return
    if _contact(turn) is None:
        turn.prompt(Stage.DETAILS, said + t(turn.lang, "ask_contact"), ())
        turn.replies[-1] = turn.replies[-1].model_copy(update={"request_contact": True})
        return
    await confirm(turn)


async def _pair_up(dialog: Dialog, turn: Turn) -> bool:
    """With a second booking asked for, how it goes with the slot chosen; False (and other times
    offered) when it no longer can."""
    conv = turn.conv
    wanted = pair.companion(turn)
    if wanted is None or conv.slot is None:
        conv.pair = None
        return True
    if conv.pair is not None and conv.pair.with_start == conv.slot.start:
        return True
    service_id, together = wanted
    day = conv.slot.start.astimezone(turn.zone).date()
    start = datetime.combine(day, datetime.min.time(), turn.zone)
    others = await _availability(dialog, turn, start, start + timedelta(days=1), service_id)
    service = turn.tenant.service(conv.service_id) if turn.tenant else None
    minutes = service.duration_minutes if service else 30
    lead = conv.practitioner_id
    conv.pair = pair.pairing(conv.slot, others, service_id, together=together, minutes=minutes, lead=lead)
    if conv.pair is not None:
        return True
    local = conv.slot.start.astimezone(turn.zone)
    conv.want, conv.slot = Want(dates=(local.date(),), at=local.time().replace(tzinfo=None)), None
    intro = t(turn.lang, "no_pair_at", service=turn.service_name(service_id))
    await _offer(dialog, turn, intro=intro)
    return False


async def _clash(dialog: Dialog, turn: Turn) -> OwnedBooking | None:
    """A booking this chat has that overlaps the slot chosen, if any."""
    slot, tenant = turn.conv.slot, turn.tenant
    if slot is None or tenant is None:
        return None
    service = tenant.service(turn.conv.service_id)
    end = slot.end or slot.start + timedelta(minutes=service.duration_minutes if service else 30)
    client = dialog.directory.keyed(tenant.slug)
    for owned in await dialog.mine(turn):
        theirs = next((s for s in tenant.services if s.name == owned.service_name), None)
        length = timedelta(minutes=theirs.duration_minutes if theirs else 30)
        if not (owned.start < end and slot.start < owned.start + length):
            continue
        if client is not None:  # never "you already have" a booking the business cancelled or moved
            booking = await still_on(client, owned.booking_id)
            if booking is None:
                turn.released.append(owned.booking_id)  # a cancel is final: forget it here too
                continue
            if not (booking.start < end and slot.start < booking.start + length):
                continue
            return owned.model_copy(update={"start": booking.start})
        return owned
    return None


async def still_on(client: CadenceClient, booking_id: str) -> Booking | None:
    """The booking as Cadence has it now; None when it is cancelled or gone."""
    try:
        booking = await client.get_booking(booking_id)
    except NotFound:
        return None
    return booking if booking.status != "cancelled" else None


def _name(turn: Turn) -> str | None:
    return turn.conv.name or (None if turn.conv.own_details else turn.profile.name)


def _contact(turn: Turn) -> Customer | None:
    conv = turn.conv
    profile = Profile() if conv.own_details else turn.profile
    email = conv.email or (None if conv.phone else profile.email)
    phone = conv.phone or (None if conv.email else profile.phone) or turn.inbound.sender_phone
    name = _name(turn)
    if not name or not (email or phone):
        return None
    return Customer(name=name, email=email, phone=phone)


# -- offering slots ------------------------------------------------------------------------------


async def _availability(
    dialog: Dialog, turn: Turn, start: datetime, end: datetime, companion: str | None = None
) -> list[Slot]:
    """Open slots of the service asked for (with the practitioner asked for), or of a ``companion``
    service (with anyone)."""
    assert turn.tenant is not None and turn.conv.service_id is not None
    service_id = companion or turn.conv.service_id
    practitioner_id = None if companion else turn.conv.practitioner_id
    availability = await dialog.directory.public(turn.tenant.slug).get_availability(
        service_id, start=start, end=end, practitioner_id=practitioner_id
    )
    return sorted(availability.slots, key=lambda s: s.start)


async def _with_companion(dialog: Dialog, turn: Turn, start: datetime, end: datetime) -> list[Slot]:
    """The open slots in [start, end) for the first booking; with a second one asked for, only those
    it can go with. When none can, the customer is told, and the first is offered alone."""
    slots = await _availability(dialog, turn, start, end)
    wanted = pair.companion(turn)
    if wanted is None or not slots:
        return slots
    service_id, together = wanted
    others = await _availability(dialog, turn, start, end, service_id)
    service = turn.tenant.service(turn.conv.service_id) if turn.tenant else None
    minutes = service.duration_minutes if service else 30
    both = pair.fits(
        slots, others, service_id, together=together, minutes=minutes, lead=turn.conv.practitioner_id
    )
    if both or end - start < timedelta(days=7):  # a short window may just be the wrong days
        return both
    turn.say("no_pair", service=turn.service_name(service_id))
    turn.conv.party = 1  # the second is offered once the first is booked (a second service only)
    return slots


async def _offer(dialog: Dialog, turn: Turn, intro: str | None = None) -> bool:
    """Offer slots for the request; True when the exact slot asked for is open (and now chosen)."""
    conv = turn.conv
    reach = Reach.at(turn.now, turn.zone)
    want = reach.fit(conv.want or Want())
    if not isinstance(want, Want):  # past, or beyond the horizon: say so rather than search
        # the time stays: "oops, I meant the 7th" keeps the 10:30 said with the wrong day
        asked = conv.want or Want()
        conv.want = Want(at=asked.at, window=asked.window) if asked.at or asked.window else None
        last = format_day(reach.last, turn.lang, with_year=True)
        turn.prompt(Stage.WHEN, t(turn.lang, f"day_{want}", day=last), ())
        return False
    if conv.want is not None:
        conv.want = want  # kept cut to the reachable days: a follow-up ("at 5pm?") refines those
    slots = await _with_companion(dialog, turn, *fetch_range(want, turn.zone, turn.now))
    offer = plan_offer(slots, want, turn.zone, turn.now)
    if not (offer.slots or offer.exact):  # nothing fits the days asked for: look around them
        slots = await _with_companion(dialog, turn, *lookaround_range(want, turn.zone, turn.now))
        offer = plan_offer(slots, want, turn.zone, turn.now)
    if offer.exact is not None and intro is None:
        _choose_slot(turn, offer.exact)
        return True
    if offer.exact is not None:  # not that very time after all (taken, or the customer's own): the day
        offer = plan_offer(slots, Want(dates=want.dates, date_range=want.date_range), turn.zone, turn.now)
    _present(turn, offer, want, intro)
    return False


def _present(turn: Turn, offer: Offer, want: Want, intro: str | None) -> None:
    conv, service = turn.conv, turn.service_name()
    if intro:
        turn.replies.append(Reply(text=intro))
    if offer.slots:
        days = {s.start.astimezone(turn.zone).date() for s in offer.slots}
        at_time = want.at is not None and all(
            s.start.astimezone(turn.zone).time().replace(tzinfo=None) == want.at for s in offer.slots
        )
        if at_time and len(days) > 1 and intro is None:
            heading = t(turn.lang, "offer_at_time", time=turn.clock(offer.slots[0].start))
            offer_slots(turn, offer.slots, heading)
        elif want.at is not None and offer.exact is None and intro is None:
            asked = datetime.combine(want.days[0] if want.days else turn.now.date(), want.at, turn.zone)
            heading = t(turn.lang, "offer_nearest", time=format_time_of_day(asked, turn.lang))
            offer_slots(turn, offer.slots, heading)
        elif len(days) == 1:
            heading = t(turn.lang, "offer_on", service=service, day=turn.day(days.pop()))
            offer_slots(turn, offer.slots, heading, day_in_heading=True)
        else:
            offer_slots(turn, offer.slots, t(turn.lang, "offer", service=service))
    elif offer.nearest_days:
        days_text = ", ".join(turn.day(d) for d in want.days[:3])
        picks = [Pick(kind=PickKind.DAY, value=d.isoformat(), label=turn.day(d)) for d in offer.nearest_days]
        picks.append(Pick(kind=PickKind.ANOTHER_DAY, label=t(turn.lang, "another_day")))
        turn.prompt(Stage.SLOT, t(turn.lang, "nothing_on", days=days_text), picks)
        conv.slots = ()
    else:
        conv.want = None
        turn.prompt(Stage.WHEN, t(turn.lang, "nothing_at_all"), ())


def offer_slots(turn: Turn, slots: Sequence[Slot], heading: str, *, day_in_heading: bool = False) -> None:
    """Offer ``slots`` under ``heading``; when the heading names their one day, only the times."""
    turn.conv.slots = tuple(slots)
    one_day = len({s.start.astimezone(turn.zone).date() for s in slots}) == 1
    label = turn.clock if one_day and day_in_heading else turn.when
    picks = [Pick(kind=PickKind.SLOT, value=s.model_dump_json(), label=label(s.start)) for s in slots]
    picks += [
        Pick(kind=PickKind.EARLIER, label=t(turn.lang, "earlier")),
        Pick(kind=PickKind.LATER, label=t(turn.lang, "later")),
        Pick(kind=PickKind.ANOTHER_DAY, label=t(turn.lang, "another_day")),
    ]
    turn.prompt(Stage.SLOT, heading, picks)


async def other_days(dialog: Dialog, turn: Turn) -> None:
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
        found = await _availability(dialog, turn, *fetch_range(days, turn.zone, turn.now))
        open_days = sorted({s.start.astimezone(turn.zone).date() for s in found} - set(shown))[:3]
        picks = [Pick(kind=PickKind.DAY, value=d.isoformat(), label=turn.day(d)) for d in open_days]
    stage = Stage.SLOT if picks else Stage.WHEN
    turn.prompt(stage, t(turn.lang, "ask_day"), picks)


async def page(dialog: Dialog, turn: Turn, direction: str) -> None:
    """The times just before the first one offered ("earlier") or after the last ("later")."""
    conv = turn.conv
    if not conv.slots:
        await ask_again(dialog, turn)
        return
    anchor = conv.slots[0].start if direction == "earlier" else conv.slots[-1].start
    window = page_range(anchor, direction, turn.zone, turn.now)
    slots = await _availability(dialog, turn, *window) if window else []
    found = page_slots(slots, anchor, direction, turn.now, turn.zone)
    if found:
        offer_slots(turn, found, t(turn.lang, f"offer_{direction}"))
    else:
        offer_slots(turn, conv.slots, t(turn.lang, f"no_{direction}"))


# -- confirming and booking ----------------------------------------------------------------------


def _confirm_picks(turn: Turn) -> list[Pick]:
    if turn.conv.moving:
        return [
            Pick(kind=PickKind.BOOK, label=t(turn.lang, "move_it_yes")),
            Pick(kind=PickKind.CHANGE_TIME, label=t(turn.lang, "change_time")),
            Pick(kind=PickKind.KEEP, label=t(turn.lang, "keep_it")),
        ]
    return [
        Pick(kind=PickKind.BOOK, label=t(turn.lang, "book_it")),
        Pick(kind=PickKind.CHANGE_TIME, label=t(turn.lang, "change_time")),
        Pick(kind=PickKind.CHANGE_DETAILS, label=t(turn.lang, "change_details")),
        Pick(kind=PickKind.RESTART, label=t(turn.lang, "start_over")),
    ]


async def confirm(turn: Turn) -> None:
    conv, tenant = turn.conv, turn.tenant
    assert tenant is not None and conv.slot is not None
    service = tenant.service(conv.service_id)
    assert service is not None
    when = turn.when(conv.slot.start)
    if conv.moving and conv.booked is not None:
        text = t(turn.lang, "confirm_move", service=service.name, old=turn.when(conv.booked.start), when=when)
    else:
        customer = _contact(turn)
        assert customer is not None
        lead = conv.pair.lead if conv.pair is not None and conv.pair.lead else conv.practitioner_id
        text = t(
            turn.lang,
            "confirm",
            service=service.name,
            duration=format_duration(service.duration_minutes, turn.lang),
            when=when,
            practitioner=turn.practitioner_name(lead),
            name=customer.name,
            contact=customer.email or customer.phone,
        )
        if conv.pair is not None and (second := tenant.service(conv.pair.service_id)) is not None:
            together = conv.pair.start == conv.slot.start
            text += "\n" + t(
                turn.lang,
                "confirm_second_person" if together else "confirm_then",
                service=second.name,
                duration=format_duration(second.duration_minutes, turn.lang),
                when=turn.clock(conv.pair.start),
                practitioner=turn.practitioner_name(conv.pair.practitioner_id),
            )
    turn.prompt(Stage.CONFIRM, text, _confirm_picks(turn))


def _summary(turn: Turn) -> str:
    """ "Sports massage with Bruno Reis on Wed 3 Mar, 10:00 AM": what was understood."""
    conv = turn.conv
    assert conv.slot is not None
    practitioner = turn.tenant.practitioner(conv.practitioner_id) if turn.tenant else None
    key = "summary_with" if practitioner else "summary"
    return t(
        turn.lang,
        key,
        service=turn.service_name(),
        practitioner=practitioner.name if practitioner else "",
        when=turn.when(conv.slot.start),
    )


def attempt_key(turn: Turn, action: str) -> str:
    """The idempotency key of what the customer just confirmed: made from the message that confirmed
    it, so a redelivery of that message (or a turn re-run after a crash) presents the same key and
    Cadence answers with the booking already made, while any later request, even for the same slot
    (after a cancel, "book another"), is a new key and never the old booking replayed."""
    inbound = turn.inbound
    parts = [turn.conv.id, inbound.channel, inbound.chat_id, inbound.message_id, action]
    return "cb-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


async def book(dialog: Dialog, turn: Turn) -> None:
    """The customer confirmed: what the summary says is sent to Cadence as one :class:`Attempt`."""
    conv, tenant = turn.conv, turn.tenant
    if tenant is None or conv.slot is None or conv.service_id is None:
        await ask_again(dialog, turn)
        return
    if conv.moving and conv.target:
        if dialog.directory.keyed(tenant.slug) is None or not await dialog.owns(turn, conv.target):
            turn.say("booking_gone")
            conv.stage, conv.picks = Stage.BOOKED, ()
            return
        attempt = Attempt(
            action="move",
            key=attempt_key(turn, "move"),
            service_id=conv.service_id,
            start=conv.slot.start,
            practitioner_id=conv.practitioner_id,
            target=conv.target,
            service_name=turn.service_name(),
            business=tenant.org.name,
        )
    else:
        customer = _contact(turn)
        if customer is None:
            await advance(dialog, turn)
            return
        lead = conv.pair.lead if conv.pair is not None and conv.pair.lead else conv.practitioner_id
        attempt = Attempt(
            action="book",
            key=attempt_key(turn, "book"),
            service_id=conv.service_id,
            start=conv.slot.start,
            practitioner_id=lead,
            customer=customer,
            service_name=turn.service_name(),
            business=tenant.org.name,
        )
    await send(dialog, turn, attempt)


async def send(dialog: Dialog, turn: Turn, attempt: Attempt, *, restore: bool = False) -> None:
    """Send a booking or a move and say what became of it: made (and what comes with it: the second
    of a pair, the next service asked for), refused (the nearest open times instead), or in doubt
    (said so, and asked again later: :mod:`bot.dialog.doubt`). With ``restore`` (sent again after a
    doubt) the conversation is first put back on the attempt, should it not be there (a second booking
    of a pair, or a conversation started over)."""
    conv, tenant = turn.conv, turn.tenant
    assert tenant is not None
    on_it = conv.slot is not None and conv.slot.start == attempt.start
    if restore and not (on_it and conv.service_id == attempt.service_id):
        conv.service_id, conv.practitioner_id = attempt.service_id, attempt.practitioner_id
        conv.slot = Slot(start=attempt.start, end=attempt.start)
        conv.moving, conv.target, conv.pair, conv.also = attempt.action == "move", attempt.target, None, None
    try:
        booking = await _sent(dialog, turn, attempt)
    except IN_DOUBT:
        doubt.hold(turn, attempt)
        return
    except (SlotTaken, SlotNotOpen) as exc:
        conv.doubt = None
        await _retry_offer(dialog, turn, "slot_taken" if isinstance(exc, SlotTaken) else "slot_not_open")
        return
    except NotFound:
        conv.doubt = None
        if attempt.action == "move":
            turn.say("booking_gone")
            conv.stage, conv.picks, conv.moving, conv.target = Stage.BOOKED, (), False, None
            return
        dialog.directory.invalidate(tenant.slug)
        conv.service_id = conv.slot = conv.want = None
        conv.moving, conv.target = False, None
        turn.tenant = await dialog.directory.get(tenant.slug)
        turn.say("service_gone")
        await advance(dialog, turn)
        return
    except BadRequest:
        conv.doubt = None
        conv.email = conv.phone = None
        turn.prompt(Stage.DETAILS, t(turn.lang, "details_refused"), ())
        return
    conv.doubt = None
    if not _is_the_one(booking, attempt):
        # An idempotent replay of something else, or of a booking cancelled since: never "booked".
        log.warning(
            "Cadence answered %s with %s (%s), not the one sent", attempt.action, booking.id, booking.status
        )
        await _retry_offer(dialog, turn, "not_booked")
        return
    second = conv.pair if attempt.action == "book" else None
    also = conv.also if attempt.action == "book" and second is None else None
    _booked(turn, booking)
    if second is not None:
        await _book_second(dialog, turn, second, attempt, booking)
    elif also is not None and tenant.service(also) is not None:
        # The second service asked for: right after the first, same practitioner when free.
        local = (booking.end or booking.start).astimezone(turn.zone)
        conv = turn.conv
        staff = {p.id for p in tenant.practitioners_for(also)}
        conv.service_id = also
        conv.practitioner_id = booking.practitioner_id if booking.practitioner_id in staff else None
        conv.practitioner_asked = True
        conv.want = Want(dates=(local.date(),), at=local.time().replace(tzinfo=None))
        turn.say("next_service", service=turn.service_name(also))
        try:
            await advance(dialog, turn)
        except CadenceError:  # the booking is made and said; the next one can be asked for again
            conv.stage, conv.picks = Stage.BOOKED, ()


async def _sent(dialog: Dialog, turn: Turn, attempt: Attempt) -> Booking:
    """One call to Cadence for ``attempt``, with its key."""
    assert turn.tenant is not None
    if attempt.action == "move":
        client = dialog.directory.keyed(turn.tenant.slug)
        if client is None or attempt.target is None:
            raise NotFound("the booking can no longer be managed here")
        return await client.reschedule_booking(attempt.target, attempt.start, idempotency_key=attempt.key)
    if attempt.customer is None:
        raise BadRequest("no customer to book for")
    return await dialog.directory.public(turn.tenant.slug).create_booking(
        attempt.service_id,
        attempt.start,
        attempt.customer,
        practitioner_id=attempt.practitioner_id,
        idempotency_key=attempt.key,
    )


def _is_the_one(booking: Booking, attempt: Attempt) -> bool:
    """Whether Cadence's answer is the booking asked for: on, at the start sent, for the service sent
    (and, for a move, the booking moved)."""
    if booking.status == "cancelled" or booking.start != attempt.start:
        return False
    if attempt.action == "move":
        return booking.id == attempt.target
    return booking.service_id == attempt.service_id


async def _book_second(
    dialog: Dialog, turn: Turn, second: Pair, first_attempt: Attempt, first: Booking
) -> None:
    """The second booking of a request for two, after the first is made: booked, in doubt (said so and
    asked again later), or said plainly that it could not be, the first kept and offered for cancelling."""
    assert turn.tenant is not None
    customer = _contact(turn) or first.customer
    service = turn.service_name(second.service_id)
    attempt = Attempt(
        action="book",
        key=first_attempt.key + "-2",
        service_id=second.service_id,
        start=second.start,
        practitioner_id=second.practitioner_id,
        customer=customer,
        service_name=service,
        business=turn.tenant.org.name,
    )
    try:
        if customer is None:
            raise SlotNotOpen("no customer for the second booking")
        booking = await _sent(dialog, turn, attempt)
        if not _is_the_one(booking, attempt):
            raise SlotNotOpen("Cadence answered with another booking")
    except IN_DOUBT:
        doubt.hold(turn, attempt)
        return
    except (SlotTaken, SlotNotOpen, RateLimited, NotFound, BadRequest):
        turn.conv.target = first.id
        text = t(turn.lang, "second_failed", service=service, when=turn.when(second.start))
        keep_or_cancel = [
            Pick(kind=PickKind.KEEP, value=first.id, label=t(turn.lang, "keep_it")),
            Pick(kind=PickKind.CANCEL, value=first.id, label=t(turn.lang, "cancel_it")),
        ]
        turn.prompt(Stage.BOOKING, text, keep_or_cancel)
        return
    practitioner = turn.practitioner_name(booking.practitioner_id)
    turn.say(
        "booked_too",
        service=service,
        when=turn.clock(booking.start),
        practitioner=practitioner,
        reference=booking.id,
    )
    _own(turn, booking, service)


def _own(turn: Turn, booking: Booking, service: str) -> None:
    """Record the booking as this chat's: only its owner may see, move or cancel it."""
    assert turn.tenant is not None
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


def _booked(turn: Turn, booking: Booking) -> None:
    conv = turn.conv
    assert turn.tenant is not None
    service = turn.service_name(booking.service_id)
    when = turn.when(booking.start)
    if conv.moving:
        turn.say("moved", service=service, when=when)
    else:
        practitioner = turn.practitioner_name(booking.practitioner_id)
        turn.say("booked", service=service, when=when, practitioner=practitioner, reference=booking.id)
        if booking.customer:
            turn.learned.update(
                {k: v for k, v in booking.customer.model_dump().items() if isinstance(v, str) and v}
            )
    _own(turn, booking, service)
    conv.booked = booking
    conv.clear_line()


async def _retry_offer(dialog: Dialog, turn: Turn, reason: str) -> None:
    """After a 409 or 422: the nearest open alternatives to the time that was lost."""
    conv = turn.conv
    assert conv.slot is not None
    local = conv.slot.start.astimezone(turn.zone)
    conv.want = Want(dates=(local.date(),), at=local.time().replace(tzinfo=None))
    conv.slot = None
    await _offer(dialog, turn, intro=t(turn.lang, reason))


# -- reading what was said -----------------------------------------------------------------------


def want_of(when: When) -> Want:
    """What a message asks for, as the request the offer is planned from."""
    return Want(dates=when.dates, date_range=when.date_range, at=when.time, window=when.window)


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


def _names_the_business(turn: Turn, name: str) -> bool:
    """Whether every word of a would-be customer name is a word of a service's or practitioner's name."""
    if turn.tenant is None:
        return False
    words = set(fold(name).split())
    labels = [s.name for s in turn.tenant.services] + [p.name for p in turn.tenant.practitioners]
    return any(words <= set(fold(label).replace("-", " ").split()) for label in labels)


def _offered_by_them(turn: Turn, service_index: int) -> bool:
    """Whether the practitioner the conversation is about (if any) does the service."""
    assert turn.tenant is not None
    if turn.conv.practitioner_id is None:
        return True
    service = turn.tenant.services[service_index]
    return any(p.id == turn.conv.practitioner_id for p in turn.tenant.practitioners_for(service.id))


_BOOK_WORDS = re.compile(
    r"\b(?:book\w*|appointment|reserv\w*|cita|turno|termin\w*|rendez.vous|rdv|marca\w*|agendar)\b"
)
_WITH_THEM = re.compile(
    r"\b(?:with|con|mit|avec|com) (?:her|him|them|ella|el|él|ihr|ihm|elle|lui|ela|ele)\b", re.IGNORECASE
)
_FOLLOW_UP = re.compile(r"^\W*(?:and|what about|how about|y|und|et|e|what of|and for)\b", re.IGNORECASE)


def _follow_up_question(text: str, request: Request) -> bool:
    """A short question about another service or practitioner, right after an answer: "and the pilates?"."""
    named = request.service_index is not None or request.practitioner_index is not None
    short = text.rstrip().endswith("?") and len(text.split()) <= 6 and request.when.is_empty
    return named and short and _FOLLOW_UP.match(text) is not None


def _may_be_a_name(request: Request) -> bool:
    """Nothing in it but words that may also be dates or a practitioner's name: asked for their name, a
    customer's words are their name ("Sam", "June", "Beatriz Costa" at a clinic with an Ana Costa)."""
    return (
        request.service_index is None
        and request.when.time is None
        and request.when.passed is None
        and not request.earliest
    )
