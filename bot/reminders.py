"""When to remind a customer of a booking made through the bot: the tenant's lead time before it."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import Settings
from bot.store import Store
from bot.types import Outcome, PlannedJob

__all__ = ["reminder_key", "schedule_reminders", "with_reminders"]


def reminder_key(booking_id: str) -> str:
    return f"reminder:{booking_id}"


def with_reminders(settings: Settings, outcome: Outcome, now: datetime) -> Outcome:
    """``outcome`` with reminders for the bookings it made or moved, and none for those it cancelled.

    A booking made inside the lead time gets no reminder: the customer has just heard all about it.
    A job replaces the one with its key, so a moved booking's reminder moves with it.
    """
    jobs: list[PlannedJob] = []
    dropped = [reminder_key(booking_id) for booking_id in outcome.released]
    for owned in outcome.owned:
        lead = timedelta(hours=settings.tenant(owned.tenant).reminder_lead_hours)
        key = reminder_key(owned.booking_id)
        if owned.start - lead <= now:
            dropped.append(key)
            continue
        payload = {
            "tenant": owned.tenant,
            "booking_id": owned.booking_id,
            "channel": owned.channel,
            "chat_id": owned.chat_id,
        }
        jobs.append(PlannedJob(key=key, kind="reminder", run_at=owned.start - lead, payload=payload))
    if not jobs and not dropped:
        return outcome
    return outcome.model_copy(
        update={"jobs": (*outcome.jobs, *jobs), "dropped_jobs": (*outcome.dropped_jobs, *dropped)}
    )


def schedule_reminders(store: Store, settings: Settings, outcome: Outcome, now: datetime) -> None:
    """The same, applied to the store at once (for changes that come from Cadence, not from a turn)."""
    planned = with_reminders(settings, outcome, now)
    for key in planned.dropped_jobs:
        store.cancel_job(key)
    for job in planned.jobs:
        store.schedule_job(job.key, job.kind, job.run_at, job.payload)
