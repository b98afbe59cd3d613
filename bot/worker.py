"""Work that happens outside a customer's turn: Cadence's webhook events and booking reminders.

Everything runs from the store's job table, so an accepted event or a due reminder survives a restart,
and jobs are leased, so two processes never run one twice at once. ``POST /cadence/webhook`` only
verifies, records and wakes the worker; the worker does the rest in the background:

- ``booking.cancelled`` / ``booking.rescheduled`` of a booking made through the bot: tell its customer
  on their channel, in their language and zone; drop or move the reminder.
- ``booking.created``: tell the tenant's staff chat, whatever made the booking.
- a reminder, the tenant's lead time before a bot booking: a turn of the dialog that the bot starts
  (keep / move / cancel), so the customer's answer continues as a normal conversation.
- housekeeping, hourly: forget processed messages and finished jobs once no platform would redeliver
  them. It is one job that reschedules itself, so with several processes one of them does it.
- ``send`` (:mod:`bot.outbox`): replies waiting to be delivered, tried with capped waits until their
  deadline, however many attempts that takes; a chat's sends go out in the order they were queued.
- ``turn``: a turn the bot starts (a dialog step plans one with ``PlannedJob(kind="turn")``), run like a
  reminder: ``{"inbound": Inbound.model_dump(mode="json")}``.

A batch runs concurrently (bounded by ``concurrency``), so a send stuck behind one chat's throttling or
an outage never delays another chat's reminder. Cadence events run one after another, in the order
claimed, so two events of one booking never race; so do the sends of one chat, in the order queued.

Every delivery made for a job names it (``Channel.send(..., job=key)``), so a delivery receipt that comes
later (Twilio's status callback) is matched to the reminder, notice or queued reply it belongs to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.i18n import supported, t
from bot.outbox import LANE, SEND, Delivery, line_moved, next_try, outbox_job, queue_send
from bot.reminders import reminder_key, schedule_reminders
from bot.render import customer_zone, format_slot
from bot.service import Bot
from bot.store import Job
from bot.types import Channel, Inbound, Outcome, OwnedBooking, Reply
from cadence_adapter import (
    Booking,
    CadenceError,
    InvalidResponse,
    NotFound,
    Unauthorized,
    WebhookEvent,
    verify_signature,
)
from cadence_adapter.webhooks import SIGNATURE_HEADER

__all__ = ["MAX_WEBHOOK_BODY", "Worker", "parse_event", "webhook_routes"]

log = logging.getLogger(__name__)

MAX_WEBHOOK_BODY = 256 * 1024
_MAX_ATTEMPTS = 8
"""For every kind but ``send``, which retries until its deadline instead."""
EVENT = "cadence_event"
CANCELLED = "booking.cancelled"
RESCHEDULED = "booking.rescheduled"
TURN = "turn"
HOUSEKEEPING = "housekeeping"
HOUSEKEEPING_EVERY = timedelta(hours=1)
OUTBOX_HOLD = timedelta(hours=24)
"""How long replies the worker could not deliver keep being tried."""
KEEP_PROCESSED = timedelta(days=7)
"""Telegram and Twilio redeliver within hours; a week of processed ids is plenty to de-duplicate."""


class Worker:
    """Runs due jobs: in a background loop under ``serve``, or one batch at a time in tests."""

    def __init__(
        self,
        bot: Bot,
        channels: Mapping[str, Channel],
        *,
        poll_seconds: float = 1.0,
        created_grace: timedelta = timedelta(seconds=5),
        concurrency: int = 16,
    ) -> None:
        self.bot = bot
        self.channels = channels
        self.poll_seconds = poll_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self.created_grace = created_grace
        """``booking.created`` waits this long: Cadence may announce a booking before the turn that
        made it has recorded it as the bot's, and staff should see "via telegram", not "via Cadence"."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._behind: dict[str, set[str]] = {}
        """Send keys waiting here for an older send of their chat, by that send's key: when it is done
        they are tried at once. Only a shortcut: a waiting send also retries on its own backoff."""

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        await asyncio.to_thread(self._plan_housekeeping)
        self._task = asyncio.create_task(self._loop(), name="cadence-bot-worker")

    async def stop(self, grace: float = 0.0) -> None:
        """Start no more batches; let the one running finish for up to ``grace`` seconds, then cancel
        it (its jobs stay leased, and are tried again once the lease runs out)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        if grace > 0:
            await asyncio.wait({task}, timeout=grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                await self.run_once()
            except Exception:
                log.exception("worker batch failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def run_once(self) -> int:
        """Run every due job once; returns how many ran."""
        jobs = await asyncio.to_thread(self.bot.store.claim_jobs)
        async with asyncio.TaskGroup() as group:
            for line in _lines(jobs):
                group.create_task(self._run_in_order(line))
        return len(jobs)

    async def _run_in_order(self, jobs: Sequence[Job]) -> None:
        for job in jobs:
            await self._run_one(job)

    async def _run_one(self, job: Job) -> None:
        """Run one job and finish it, or plan its retry; never raises (a bug must not wedge the queue)."""
        async with self._slots:
            try:
                if job.kind == EVENT:
                    await self._on_event(job)
                elif job.kind == "reminder":
                    await self._remind(job)
                elif job.kind == TURN:
                    await self._turn(job)
                elif job.kind == SEND:
                    await self._send(job)
                elif job.kind == HOUSEKEEPING:
                    await asyncio.to_thread(self._housekeeping)
                    return  # it rescheduled itself instead of finishing
                elif job.kind != LANE:  # a lane's register is due once its line is over: just finished
                    log.warning("unknown job kind %s; dropped", job.kind)
            except _Behind as behind:
                # Just after the send ahead: released by _release when it is done here, else (another
                # process sends it) on this job's own backoff.
                self._behind.setdefault(behind.ahead, set()).add(job.key)
                finished = await asyncio.to_thread(self._retry_send, job, None)
            except (CadenceError, OSError) as exc:
                finished = await asyncio.to_thread(self._retry, job, exc)
            except Exception as exc:
                log.exception("job %s failed", job.key)
                finished = await asyncio.to_thread(self._retry, job, exc)
            else:
                await asyncio.to_thread(self.bot.store.finish_job, job.key)
                finished = True
        if finished and job.kind == SEND:
            await self._release(job)

    async def _release(self, job: Job) -> None:
        """A send is done (delivered, or dropped): the chat's next one, if waiting here, goes at once.
        On the event loop, like every use of ``_behind``."""
        await asyncio.to_thread(line_moved, self.bot.store, job)
        followers = self._behind.pop(job.key, set())
        for follower in followers:
            await asyncio.to_thread(self.bot.store.retry_job, follower, self.bot.clock())
        if followers:
            self._wake.set()

    def _retry(self, job: Job, exc: BaseException) -> bool:
        """Plan a failed job's next try; True when it was given up (finished) instead."""
        if job.kind == SEND:
            return self._retry_send(job, exc)
        if job.attempts >= _MAX_ATTEMPTS:
            log.error("job %s gave up after %d attempts (%s)", job.key, job.attempts, type(exc).__name__)
            self.bot.store.finish_job(job.key)
            return True
        delay = timedelta(seconds=min(600, 5 * 2**job.attempts))
        log.warning("job %s failed (%s); retrying in %s", job.key, type(exc).__name__, delay)
        self.bot.store.retry_job(job.key, self.bot.clock() + delay)
        return False

    def _retry_send(self, job: Job, exc: BaseException | None) -> bool:
        """Replies wait for hours, not attempts: capped waits until the deadline, then dropped.
        ``exc`` None: not a failure, the send waits for an older one of its chat."""
        try:
            deadline = Delivery.model_validate(job.payload).deadline
        except ValidationError:
            deadline = self.bot.clock()  # unreadable: nothing to wait for
        at = next_try(job.attempts, self.bot.clock(), deadline)
        why = type(exc).__name__ if exc is not None else "behind an older send"
        if at is None:
            log.error("job %s undelivered by its deadline, %d attempts (%s)", job.key, job.attempts, why)
            self.bot.metrics.inc("cadence_bot_errors_total", kind="outbox_expired")
            self.bot.store.finish_job(job.key)
            return True
        if exc is None:
            log.info("job %s waits (%s); next try by %s", job.key, why, at.isoformat())
        else:
            log.warning("job %s not delivered (%s); next try at %s", job.key, why, at.isoformat())
        self.bot.store.retry_job(job.key, at)
        return False

    # -- housekeeping -----------------------------------------------------------------------------------

    def _plan_housekeeping(self) -> None:
        if self.bot.store.get_job(HOUSEKEEPING) is None:
            self.bot.store.schedule_job(HOUSEKEEPING, HOUSEKEEPING, self.bot.clock(), {})

    def _housekeeping(self) -> None:
        store = self.bot.store
        messages = store.prune_processed(older_than=KEEP_PROCESSED)
        jobs = store.prune_jobs()
        log.info("housekeeping: forgot %d processed messages and %d finished jobs", messages, jobs)
        store.schedule_job(HOUSEKEEPING, HOUSEKEEPING, self.bot.clock() + HOUSEKEEPING_EVERY, {})

    # -- events -----------------------------------------------------------------------------------------

    async def _on_event(self, job: Job) -> None:
        tenant = str(job.payload["tenant"])
        try:
            event = WebhookEvent.model_validate(job.payload["event"])
        except ValidationError:
            log.warning("job %s holds no valid event; dropped", job.key)
            return
        owner = await asyncio.to_thread(self.bot.store.booking_owner, tenant, event.data.id)
        if event.type == "booking.created":
            await self._tell_staff(tenant, event.data, owner, job.key)
        elif event.type in (CANCELLED, RESCHEDULED) and owner is not None:
            await self._follow_change(tenant, event, owner, job.key)

    async def _follow_change(
        self, tenant: str, event: WebhookEvent, owner: tuple[str, str], job_key: str
    ) -> None:
        """A booking of the bot's was cancelled or moved. Events arrive out of order (Cadence retries
        with backoff), so the newest by ``created_at`` wins and a stale one changes and sends nothing;
        with the tenant's key the booking is re-read first, and what Cadence says now is what we apply
        and tell (a "rescheduled" of a booking cancelled since tells "cancelled", once)."""
        current = await self._reread(tenant, event.data)
        booking = current or event.data
        cancelled = booking.status == "cancelled" or (current is None and event.type == CANCELLED)
        # Worded before anything is applied: a failure here (Cadence down) retries the whole event.
        notice = await self._notice(
            tenant, booking, owner, "notify_cancelled" if cancelled else "notify_moved"
        )
        changed = await asyncio.to_thread(
            partial(
                self.bot.store.apply_booking_event,
                tenant,
                booking.id,
                event.created_at,
                start=None if cancelled else booking.start,
                cancelled=cancelled,
            )
        )
        if not changed:
            log.info("event %s: stale or changes nothing for booking %s; nothing sent", event.id, booking.id)
            return
        if cancelled:
            await asyncio.to_thread(self.bot.store.cancel_job, reminder_key(booking.id))
        else:
            moved = OwnedBooking(
                tenant=tenant, booking_id=booking.id, channel=owner[0], chat_id=owner[1], start=booking.start
            )
            outcome = Outcome(state={}, owned=(moved,))
            await asyncio.to_thread(
                schedule_reminders, self.bot.store, self.bot.settings, outcome, self.bot.clock()
            )
        # Applied now, so a retry of this job would send nothing: what can't go out waits in the outbox.
        await self._deliver(owner, tenant, (notice,), dedupe=f"{tenant}:{event.id}", job=job_key)

    async def _reread(self, tenant: str, booking: Booking) -> Booking | None:
        """The booking as Cadence has it now, when the tenant's key lets us ask; else None (the event's
        copy is all there is). Cadence unreachable raises (the job is retried); a key refused or a booking
        gone gives None too: the event is still better than telling the customer nothing."""
        client = self.bot.directory.keyed(tenant)
        if client is None:
            return None
        try:
            current = await client.get_booking(booking.id)
        except (NotFound, Unauthorized, InvalidResponse) as exc:
            log.warning(
                "booking %s could not be re-read (%s); the event is used", booking.id, type(exc).__name__
            )
            return None
        return current if current.id == booking.id else None

    async def _describe(self, tenant: str, booking: Booking, chat: tuple[str, str] | None) -> dict[str, Any]:
        """Service, time and business of a booking, in the language and zone of ``chat``'s customer."""
        info = await self.bot.directory.get(tenant)
        if info is None:
            raise CadenceError(f"tenant {tenant} not found")
        profile = (await asyncio.to_thread(self.bot.store.load, *chat)).profile if chat else None
        language = (
            supported(profile.language if profile else None)
            or supported(info.config.language)
            or self.bot.settings.default_language
        )
        zone = customer_zone(
            profile.timezone if profile else None, profile.phone if profile else None, info.zone
        )
        service = info.service(booking.service_id)
        return {
            "language": language,
            "service": service.name if service else booking.service_id,
            "when": format_slot(booking.start, zone, language, business_zone=info.zone),
            "business": info.org.name,
        }

    async def _notice(self, tenant: str, booking: Booking, owner: tuple[str, str], key: str) -> Reply:
        values = await self._describe(tenant, booking, owner)
        return Reply(text=t(values.pop("language"), key, **values), lasting=True)

    async def _deliver(
        self, chat: tuple[str, str], tenant: str | None, replies: Sequence[Reply], *, dedupe: str, job: str
    ) -> None:
        """Send now for ``job``; if the platform fails, the replies wait in the outbox (``dedupe``: an id
        unique in the channel, so a retry queues them once) rather than the job failing after its work
        is done. They then go out for the outbox's own job, whose key the receipt will carry."""
        channel = self.channels.get(chat[0])
        if channel is None:
            log.info("no %s channel configured; %d replies not sent", chat[0], len(replies))
            return
        try:
            await channel.send(chat[1], replies, tenant=tenant, job=job)
        except Exception as exc:
            now = self.bot.clock()
            first_retry = next_try(1, now, now + OUTBOX_HOLD)
            queued = outbox_job(
                *chat, tenant, replies, now, hold=OUTBOX_HOLD, run_at=first_retry, dedupe=dedupe
            )
            log.warning("replies not delivered (%s); queued as %s", type(exc).__name__, queued.key)
            await asyncio.to_thread(queue_send, self.bot.store, queued)

    async def _tell_staff(
        self, tenant: str, booking: Booking, owner: tuple[str, str] | None, job_key: str
    ) -> None:
        staff_chat = self.bot.settings.tenant(tenant).staff_telegram_chat_id
        telegram = self.channels.get("telegram")
        if staff_chat is None or telegram is None:
            return
        values = await self._describe(tenant, booking, None)
        customer = booking.customer.name if booking.customer else "?"
        source = owner[0] if owner else "Cadence"
        text = t(values.pop("language"), "staff_new_booking", customer=customer, source=source, **values)
        await telegram.send(str(staff_chat), [Reply(text=text)], tenant=tenant, job=job_key)

    # -- turns the bot starts: reminders and planned turns ----------------------------------------------

    async def _remind(self, job: Job) -> None:
        """A dialog turn the bot starts; its replies go out on the customer's channel."""
        payload = job.payload
        inbound = Inbound(
            channel=str(payload["channel"]),
            chat_id=str(payload["chat_id"]),
            message_id=f"{job.key}:{job.run_at.isoformat()}",
            tenant=str(payload["tenant"]),
            reminder=str(payload["booking_id"]),
        )
        await self._start_turn(inbound, job.key)

    async def _turn(self, job: Job) -> None:
        try:
            inbound = Inbound.model_validate(job.payload["inbound"])
        except (KeyError, ValidationError):
            log.warning("job %s holds no valid inbound; dropped", job.key)
            return
        await self._start_turn(inbound, job.key)

    async def _start_turn(self, inbound: Inbound, job_key: str) -> None:
        """Run the turn (once: the engine de-duplicates its message id, so a retried job only resends)
        and deliver its replies; what can't be delivered now waits in the outbox."""
        result = await self.bot.engine.handle(inbound)
        replies = result.to_send(resumed=True)  # a retry after a failed send: stale questions stay unsent
        if replies:
            await self._deliver(
                (inbound.channel, inbound.chat_id),
                inbound.tenant,
                replies,
                dedupe=inbound.message_id,
                job=job_key,
            )

    # -- the outbox -------------------------------------------------------------------------------------

    async def _send(self, job: Job) -> None:
        """Deliver a ``send`` job's replies; any exception is a failed try (see :meth:`_retry_send`).
        Raises :class:`_Behind` while the send queued before it for the chat is still pending."""
        try:
            delivery = Delivery.model_validate(job.payload)
        except ValidationError:
            log.warning("job %s holds no valid delivery; dropped", job.key)
            return
        if delivery.after is not None:
            ahead = await asyncio.to_thread(self.bot.store.get_job, delivery.after)
            if ahead is not None and ahead.kind == SEND:
                raise _Behind(ahead.key)
        channel = self.channels.get(delivery.channel)
        if channel is None:
            log.warning("job %s: no %s channel configured; dropped", job.key, delivery.channel)
            return
        await channel.send(delivery.chat_id, delivery.replies, tenant=delivery.tenant, job=job.key)


class _Behind(Exception):
    """A send must wait: the send ``ahead`` of it, queued earlier for the same chat, is still pending."""

    def __init__(self, ahead: str) -> None:
        super().__init__(ahead)
        self.ahead = ahead


def _lines(jobs: Sequence[Job]) -> list[list[Job]]:
    """A batch cut into lines that each run one job after another, the lines side by side: all Cadence
    events in one line (in claimed order), each chat's sends in one line in the order they were queued
    (an older one first, so the newer finds it done), every other job alone."""
    events = [job for job in jobs if job.kind == EVENT]
    chats: dict[str, list[Job]] = {}
    lines: list[list[Job]] = [events] if events else []
    for job in jobs:
        if job.kind == SEND and isinstance(lane := job.payload.get("lane"), str):
            chats.setdefault(lane, []).append(job)
        elif job.kind != EVENT:
            lines.append([job])
    lines.extend(_in_queue_order(sends) for sends in chats.values())
    return lines


def _in_queue_order(sends: list[Job]) -> list[Job]:
    """``sends`` of one chat, each after the one it names as ``after`` when that one is here too."""
    by_key = {job.key: job for job in sends}

    def ahead_here(job: Job) -> int:
        count, after = 0, job.payload.get("after")
        while isinstance(after, str) and after in by_key and count < len(sends):  # bounded: no cycles
            count, after = count + 1, by_key[after].payload.get("after")
        return count

    return sorted(sends, key=ahead_here)


def parse_event(body: bytes) -> WebhookEvent | None:
    """The event in a webhook body, or None for anything else: bytes that are not UTF-8 or not JSON, JSON
    nested past the parser's depth limit (pydantic's parser, which counts depth instead of recursing as
    ``json.loads`` does), JSON that is not an event. Nothing of the body but the event is kept: what the
    job stores is the validated model, so a body's junk never reaches the job table or the worker."""
    try:
        return WebhookEvent.model_validate_json(body)
    except (ValidationError, ValueError, RecursionError):
        return None


def webhook_routes(bot: Bot, worker: Worker) -> Sequence[Route]:
    """``POST /cadence/webhook`` (the default tenant) and ``POST /cadence/webhook/{slug}``."""

    async def receive(request: Request) -> Response:
        slug = request.path_params.get("slug") or bot.settings.default_tenant
        secret = bot.settings.tenant(slug).webhook_secret if slug else None
        if not slug or not secret:
            return JSONResponse({"error": "unknown tenant or no webhook secret configured"}, status_code=404)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_WEBHOOK_BODY:
            return JSONResponse({"error": "body too large"}, status_code=413)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_WEBHOOK_BODY:
                return JSONResponse({"error": "body too large"}, status_code=413)
        # Verify the raw bytes before anything parses them.
        if not verify_signature(secret.get_secret_value(), body, request.headers.get(SIGNATURE_HEADER)):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        event = parse_event(body)
        if event is None:
            return JSONResponse({"error": "not a Cadence event"}, status_code=400)
        run_at = bot.clock() + (worker.created_grace if event.type == "booking.created" else timedelta(0))
        added = await asyncio.to_thread(
            bot.store.add_job,
            f"event:{slug}:{event.id}",
            EVENT,
            run_at,
            {"tenant": slug, "event": event.model_dump(mode="json")},
        )
        worker.wake()
        return JSONResponse({"received": True, "duplicate": not added})

    return [
        Route("/cadence/webhook", receive, methods=["POST"]),
        Route("/cadence/webhook/{slug}", receive, methods=["POST"]),
    ]
