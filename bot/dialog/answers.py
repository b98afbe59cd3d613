"""Questions customers ask before they book, answered from what the bot knows.

What Cadence says (services with their durations and descriptions; the days and hours with openings,
read off availability over the coming two weeks) and what the business configured in the tenants file
(``[tenants.<slug>.info]``: address, phone, prices, policies). Anything else gets a plain "I can't answer
that here" with what the bot can do. Then the conversation goes on where it was.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from babel.dates import get_day_names
from babel.units import format_unit

from bot.dialog.state import Turn
from bot.hours import format_hours, hours_on, weekly_hours
from bot.i18n import t
from bot.nlu.questions import QuestionKind
from bot.nlu.request import Request
from bot.nlu.vocabulary import concepts_in, named_as
from bot.render import format_time_of_day
from bot.types import Reply
from cadence_adapter import Service, Slot

if TYPE_CHECKING:
    from bot.dialog import Dialog

__all__ = ["answer"]

_HOURS_AHEAD = timedelta(days=14)
_INFO_TOPICS = {
    QuestionKind.PRICE: ("prices", "price"),
    QuestionKind.ADDRESS: ("address", "location"),
    QuestionKind.CONTACT: ("phone", "contact"),
}


async def answer(dialog: Dialog, turn: Turn, kind: QuestionKind, request: Request, text: str) -> None:
    """Reply to the question; the caller goes on with the conversation."""
    assert turn.tenant is not None
    if not turn.conv.greeted:
        turn.conv.greeted = True
        turn.say("greeting", business=turn.tenant.org.name)
    named = [turn.tenant.services[i] for i in (request.service_index, request.also) if i is not None]
    if kind is QuestionKind.HOURS:
        await _hours(dialog, turn, request)
    elif kind in (QuestionKind.DURATION, QuestionKind.DIFFERENCE):
        if len(named) == 1 and kind is QuestionKind.DURATION:
            turn.say("takes", service=named[0].name, duration=_minutes(named[0], turn.lang))
        else:
            listed = named or list(turn.tenant.services)
            # descriptions for the one or two asked about: a whole menu of them is too long for a text
            turn.say("we_offer", services=_lines(turn, listed, described=len(listed) <= 2))
    elif kind is QuestionKind.SERVICES:
        _services(turn, named, text)
    else:
        _info(turn, kind)


def _minutes(service: Service, language: str) -> str:
    """ "90 minutes": what a customer asking how long compares easily."""
    return str(format_unit(service.duration_minutes, "duration-minute", locale=language))


def _lines(turn: Turn, services: list[Service], *, described: bool = False) -> str:
    lines = []
    for service in services:
        line = f"{service.name}, {_minutes(service, turn.lang)}"
        if described and service.description:
            line += f": {service.description}"
        lines.append(f"- {line}")
    return "\n".join(lines)


def _services(turn: Turn, named: list[Service], text: str) -> None:
    """ "do you do beard trims?": yes, with how long; "do you do nails?": no, and what is offered."""
    assert turn.tenant is not None
    who = turn.tenant.practitioner(turn.conv.practitioner_id)
    if named:
        for service in named:
            staff = turn.tenant.practitioners_for(service.id)
            if who is not None and all(p.id != who.id for p in staff):  # "does she do sports massage?"
                others = ", ".join(p.name for p in staff)
                turn.say("not_offered_by", practitioner=who.name, service=service.name, who=others)
            else:
                turn.say("we_do", service=service.name, duration=_minutes(service, turn.lang))
        return
    offered = set().union(*(concepts_in(s.name) for s in turn.tenant.services))
    asked = {concept: word for concept, word in named_as(text).items() if concept not in offered}
    services = ", ".join(s.name for s in turn.tenant.services)
    if asked:
        turn.say("not_offered", thing=next(iter(asked.values())), services=services)
    else:
        turn.say("we_offer", services=_lines(turn, list(turn.tenant.services)))


def _info(turn: Turn, kind: QuestionKind) -> None:
    """What the business configured for the topic, else a plain "ask them"."""
    assert turn.tenant is not None
    info = turn.tenant.config.info
    text = next((info[topic] for topic in _INFO_TOPICS.get(kind, ()) if topic in info), None)
    if text:
        turn.replies.append(Reply(text=text))
    else:
        turn.say("no_info", business=turn.tenant.org.name)


async def _hours(dialog: Dialog, turn: Turn, request: Request) -> None:
    """Opening hours: for the day asked about ("are you open today?", "on Saturdays?"), or the week."""
    assert turn.tenant is not None
    who = (
        turn.tenant.practitioners[request.practitioner_index]
        if request.practitioner_index is not None
        else None
    )
    service = turn.tenant.services[request.service_index] if request.service_index is not None else None
    slots = await _open_slots(dialog, turn, who.id if who else None, service.id if service else None)
    zone = turn.tenant.zone
    hours = weekly_hours(slots, zone)
    week = format_hours(hours, turn.lang)
    day = request.when.dates[0] if request.when.dates else None
    if service is not None and who is None and day is None:  # "which days can I do Pilates?"
        turn.say("hours_for", service=service.name, hours=week)
        return
    if who is not None:  # "which days does Carla work?": her days, and she is the one asked about
        turn.conv.practitioner_id, turn.conv.practitioner_asked = who.id, True
        turn.conv.mentioned = who.id
        turn.say("hours_of", practitioner=who.name, hours=week)
        return
    if day is None:
        turn.say("hours_all", hours=week)
        return
    today = turn.now.astimezone(zone).date()
    if day == today:
        left = [s for s in slots if s.start > turn.now and s.start.astimezone(zone).date() == today]
        on = hours_on(hours, today.weekday())
        if left and on is not None:
            turn.say("open_today", closes=_clock(on.closes, turn.lang))
        else:
            turn.say("closed_today", hours=week)
        return
    on = hours_on(hours, day.weekday())
    name = str(get_day_names("wide", locale=turn.lang)[day.weekday()])
    if on is None:
        text = t(turn.lang, "closed_day", day=name, hours=week)
    else:
        opens, closes = _clock(on.opens, turn.lang), _clock(on.closes, turn.lang)
        text = t(turn.lang, "hours_day", day=name, opens=opens, closes=closes)
    turn.replies.append(Reply(text=text[:1].upper() + text[1:]))  # "sábado: …" starts a sentence


def _clock(moment: time, language: str) -> str:
    return format_time_of_day(datetime.combine(date(2000, 1, 3), moment), language)


async def _open_slots(
    dialog: Dialog, turn: Turn, practitioner_id: str | None = None, service_id: str | None = None
) -> list[Slot]:
    """Every service's open slots over the coming two weeks (one practitioner's, when asked about):
    the hours as customers meet them."""
    assert turn.tenant is not None
    client = dialog.directory.public(turn.tenant.slug)
    start = turn.now
    found: list[Slot] = []
    for service in turn.tenant.services:
        if service_id is not None and service.id != service_id:
            continue
        staff = {p.id for p in turn.tenant.practitioners_for(service.id)}
        if practitioner_id is not None and practitioner_id not in staff:
            continue
        availability = await client.get_availability(
            service.id, start=start, end=start + _HOURS_AHEAD, practitioner_id=practitioner_id
        )
        found += availability.slots
    return sorted(found, key=lambda s: s.start)
