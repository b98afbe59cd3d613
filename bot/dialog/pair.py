"""Two bookings in one request: "a haircut and a beard trim", "two haircuts for me and my son".

Two services for one person are booked back to back (the second starts when the first ends), with the
same practitioner when that one is free for both. Two people share a start, with two practitioners.
Only times where both fit are offered; the customer confirms once; both are booked, each with its own
idempotency key, and if the second fails the first is kept and the customer is told, plainly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.dialog.state import Pair, Turn
from cadence_adapter import Slot

__all__ = ["companion", "fits", "pairing"]


def companion(turn: Turn) -> tuple[str, bool] | None:
    """The second booking asked for, ``(service_id, together)``: together (two people) or after."""
    conv = turn.conv
    if conv.moving or conv.service_id is None:
        return None
    if conv.party > 1:
        return conv.also or conv.service_id, True
    if conv.also is not None and conv.also != conv.service_id:
        return conv.also, False
    return None


def _end(slot: Slot, minutes: int) -> datetime:
    return slot.end or slot.start + timedelta(minutes=minutes)


def pairing(
    main: Slot,
    others: Sequence[Slot],
    service_id: str,
    *,
    together: bool,
    minutes: int,
    lead: str | None,
) -> Pair | None:
    """How ``main`` pairs with one of ``others`` (the companion service's open slots), or None.

    ``lead``: the practitioner the customer asked for, if any, for the first booking."""
    start = main.start if together else _end(main, minutes)
    other = next((s for s in others if s.start == start), None)
    if other is None:
        return None
    leads: list[str | None] = [lead] if lead else [*main.practitioner_ids] or [None]
    if together:  # two people at once: two practitioners
        for first in leads:
            free = [p for p in other.practitioner_ids if p != first]
            if free:
                return Pair(
                    service_id=service_id,
                    start=other.start,
                    practitioner_id=free[0],
                    lead=first,
                    with_start=main.start,
                )
        return None
    # one after the other: the same practitioner for both when one is free for both
    same = next((p for p in leads if p is not None and p in other.practitioner_ids), None)
    if same is not None:
        return Pair(
            service_id=service_id, start=other.start, practitioner_id=same, lead=same, with_start=main.start
        )
    if other.practitioner_ids or not main.practitioner_ids:
        chosen = other.practitioner_ids[0] if other.practitioner_ids else None
        return Pair(
            service_id=service_id,
            start=other.start,
            practitioner_id=chosen,
            lead=leads[0],
            with_start=main.start,
        )
    return None


def fits(
    slots: Sequence[Slot],
    others: Sequence[Slot],
    service_id: str,
    *,
    together: bool,
    minutes: int,
    lead: str | None,
) -> list[Slot]:
    """The slots of the first booking that the second can go with."""
    return [
        s
        for s in slots
        if pairing(s, others, service_id, together=together, minutes=minutes, lead=lead) is not None
    ]
