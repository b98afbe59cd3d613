"""When to remind a customer of a booking made through the bot: the tenant's lead time before it."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import Settings
from bot.store import Store
from bot.types import Outcome

__all__ = ["reminder_key", "schedule_reminders"]


def reminder_key(booking_id: str) -> str:
    return f"reminder:{booking_id}"


def schedule_reminders(store: Store, settings: Settings, outcome: Outcome, now: datetime) -> None:
    """Reminders for the bookings a turn made or moved, and none for those it cancelled.

    A booking made inside the lead time gets no reminder: the customer has just heard all about it.
    Scheduling again replaces the job, so a moved booking's reminder moves with it.
    """
    for owned in outcome.owned:
        lead = timedelta(hours=settings.tenant(owned.tenant).reminder_lead_hours)
        key = reminder_key(owned.booking_id)
        if owned.start - lead <= now:
            store.cancel_job(key)
            continue
        payload = {
            "tenant": owned.tenant,
            "booking_id": owned.booking_id,
            "channel": owned.channel,
            "chat_id": owned.chat_id,
        }
        store.schedule_job(key, "reminder", owned.start - lead, payload)
    for booking_id in outcome.released:
        store.cancel_job(reminder_key(booking_id))
