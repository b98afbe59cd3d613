"""``POST /sms/twilio``: Twilio's incoming-message webhook in, TwiML (or REST messages) out.

One message, step by step::

    signature (BOT_PUBLIC_URL + path) -> form -> carrier keyword? -> opted out? -> store.enqueue_inbound
      -> turn (engine.handle + compose), given ``reply_budget`` seconds
           done in time : finish_inbound -> TwiML <Message>s
           still running: TwiML "One moment..." now; the turn goes on -> REST messages -> finish_inbound
                          (Twilio down: the messages go to the durable outbox -> finish_inbound)

Twilio gives a webhook 15 seconds; Cadence may be slower than that, so the answer never waits for more
than the budget (10 s by default). A message accepted but not answered when the process stops stays in
the store's inbox; the channel picks such messages up again (at start and every ``resume_every``
seconds) and answers them by REST.

Every REST message asks for status callbacks (``POST /sms/twilio/status``, signed like the webhook)
and is recorded with the job it belongs to; a failed delivery is marked there, logged with the job and
counted (channels/sms/status.py). A tenant with a ``messaging_service_sid`` sends through that service.

Redeliveries (the same MessageSid) get an empty TwiML answer and are not processed again. The carrier
keywords (STOP, START and their synonyms) are recorded and get an empty answer, since Twilio answers
those itself; HELP gets the dialog's help. Nothing goes by REST to a number that opted out.

Logs name the MessageSid, never a phone number or what the customer wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import phonenumbers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.i18n import supported, t
from bot.locks import KeyedLocks
from bot.outbox import next_try, outbox_job, queue_send
from bot.service import Bot
from bot.types import Inbound, Reply
from channels.inbox import InboxOptions, InboxRunner
from channels.sms.compose import Keyword, compose, keyword
from channels.sms.gsm import to_gsm
from channels.sms.rest import Origin, Rejected, SmsUnavailable, TwilioSender, Unsubscribed
from channels.sms.signed import Form, read_signed
from channels.sms.status import STATUS_PATH, StatusReport, delivery_kind, parse_report, reply_key

__all__ = ["CHANNEL", "PATH", "STATUS_PATH", "SmsChannel", "SmsOptions", "e164", "twilio_numbers"]

log = logging.getLogger(__name__)

CHANNEL = "sms"
PATH = "/sms/twilio"

T = TypeVar("T")


@dataclass(frozen=True)
class SmsOptions:
    reply_budget: float = 10.0
    """Seconds a turn may take before the webhook answers "One moment..." and the replies go by REST.
    Twilio waits at most 15 s for the answer; keep a margin for the network."""
    resume_every: float = 2.0
    """Seconds between looks at the inbox for messages accepted but never answered (a crash), which
    also renew the leases on the messages in progress here."""
    resume_lease: timedelta = timedelta(seconds=10)
    """How long a message accepted or resumed here is ours unless renewed: the longest a process that
    died keeps its messages from its successor (or another process)."""
    retry_after: timedelta = timedelta(minutes=2)
    """How long a message whose late turn failed (the turn itself raised) waits in the inbox before
    another try. A late answer Twilio could not take goes to the outbox instead (``hold``)."""
    hold: timedelta = timedelta(hours=24)
    """How long texts that could not go out (Twilio down) wait in the durable outbox, tried by the worker
    with capped waits (bot/outbox.py): a Twilio outage of hours delays them instead of dropping them."""
    max_attempts: int = 5
    """Attempts (counted by the store: the first, then each resume) before a message is a dead letter:
    it leaves the inbox and the customer gets an apology (channels/inbox.py)."""
    max_body: int = 64 * 1024
    """Largest webhook body accepted (an SMS webhook is about 1 KB; MMS adds media URLs)."""
    grace: float = 10.0
    """Seconds :meth:`SmsChannel.stop` waits for turns still running (their answers go by REST)."""


def e164(number: str | None) -> str | None:
    """``number`` as E.164 (``+351912345678``), or None when it is not an international phone number
    (a short code, an alphanumeric sender)."""
    if not number or not number.strip():
        return None
    try:
        parsed = phonenumbers.parse(number.strip(), None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def twilio_numbers(bot: Bot) -> dict[str, str]:
    """Each tenant's Twilio numbers (E.164) -> its slug, from the tenants file.

    Raises ``ValueError`` for a number that is not in international form, or one given to two tenants."""
    numbers: dict[str, str] = {}
    for slug, tenant in bot.settings.tenants.items():
        for raw in tenant.twilio_numbers:
            number = e164(raw)
            if number is None:
                raise ValueError(
                    f"tenant {slug}: twilio_numbers entry {raw!r} is not a phone number in international "
                    "form (+15551234567)"
                )
            if numbers.get(number, slug) != slug:
                raise ValueError(f"Twilio number {number} is listed for tenants {numbers[number]} and {slug}")
            numbers[number] = slug
    return numbers


@dataclass(frozen=True)
class _Unsent:
    """Texts Twilio could not take now (unreachable, 5xx, 429), after ``sent`` of the turn's went."""

    bodies: tuple[str, ...]
    sent: int
    error: SmsUnavailable


@dataclass
class _Late:
    """Set once the webhook has answered "One moment...": the turn then answers by REST itself."""

    value: bool = False


def _twiml(messages: Sequence[str]) -> Response:
    answer = MessagingResponse()
    for body in messages:
        answer.message(body)
    return Response(str(answer), media_type="application/xml")


class SmsChannel:
    """The SMS channel: the webhook, replies and proactive messages through one Twilio account."""

    name = CHANNEL

    def __init__(
        self,
        bot: Bot,
        sender: TwilioSender,
        *,
        auth_token: str,
        numbers: Mapping[str, str],
        options: SmsOptions | None = None,
    ) -> None:
        self.bot = bot
        self.sender = sender
        self.options = options or SmsOptions()
        self._validator = RequestValidator(auth_token)
        self._numbers = dict(numbers)
        """Twilio number (E.164) -> tenant slug."""
        self._chats: KeyedLocks[str] = KeyedLocks()
        self.inbox = InboxRunner(
            bot,
            CHANNEL,
            InboxOptions(
                self.options.resume_every,
                self.options.resume_lease,
                self.options.retry_after,
                self.options.max_attempts,
            ),
            resume=self._resume_one,
            send=self._send_apology,
        )
        self._tasks: set[asyncio.Task[Any]] = set()
        public_url = bot.settings.public_url
        self._status_url = public_url.rstrip("/") + STATUS_PATH if public_url else None
        """Where Twilio reports the statuses of what we send; None when it could not sign them for us."""
        if not public_url:
            log.error(
                "BOT_PUBLIC_URL is not set: POST %s will refuse every message, because the URL Twilio "
                "signs cannot be known",
                PATH,
            )

    # -- the Channel protocol ---------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(PATH, self.webhook, methods=["POST"]),
            Route(STATUS_PATH, self.status_callback, methods=["POST"]),
        ]

    async def start(self) -> None:
        self.inbox.start()

    async def stop(self) -> None:
        await self.inbox.stop()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.options.grace)
            for task in pending:  # still in the inbox: answered after the restart
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        self.inbox.close()
        await asyncio.to_thread(self.sender.close)

    async def send(
        self, chat_id: str, replies: Sequence[Reply], *, tenant: str | None = None, job: str | None = None
    ) -> bool:
        """Text ``replies`` to ``chat_id`` (a phone number) by REST: notifications, reminders, late answers.
        Each text asks Twilio for status callbacks and is recorded with ``job``, the key of the job it
        belongs to, so a failed delivery is marked on it (channels/sms/status.py).

        False, with nothing sent, when the number opted out (STOP) or Twilio refuses it for good; raises
        :class:`~channels.sms.rest.SmsUnavailable` when Twilio can't be reached (retry later). When only
        some texts went, the rest wait in the outbox and this returns True, so that a retry of the whole
        does not send the first ones twice."""
        unsent = await self._text(chat_id, replies, tenant, job)
        if not isinstance(unsent, _Unsent):
            return unsent
        if not unsent.sent:
            raise unsent.error
        rest = f"{job}:rest-{uuid.uuid4().hex[:12]}" if job else None  # keeps what it was, for its kind
        await self._queue(chat_id, tenant, unsent.bodies, dedupe=rest)
        return True

    async def _text(
        self, chat_id: str, replies: Sequence[Reply], tenant: str | None, job: str | None
    ) -> bool | _Unsent:
        """Send the replies' texts in order: True when all went, False when none may go (opted out, no
        sender, refused for good), else the texts Twilio could not take now."""
        if await asyncio.to_thread(self.bot.store.is_opted_out, CHANNEL, chat_id):
            log.info("not sending to an opted-out number")
            return False
        origin = await self._origin(chat_id, tenant)
        if origin is None:
            log.error("no Twilio number to send from: set twilio_numbers for tenant %s", tenant)
            return False
        language = await self._language(chat_id, tenant)
        bodies = compose(replies, language)
        for index, body in enumerate(bodies):
            try:
                sid = await self.sender.send(chat_id, origin, body, status_callback=self._status_url)
            except Unsubscribed:
                log.info("Twilio says the recipient opted out (21610); recorded")
                await asyncio.to_thread(self.bot.store.set_opted_out, CHANNEL, chat_id, True)
                return False
            except Rejected as exc:
                log.error("Twilio refused a message: HTTP %s, error %s", exc.status, exc.code)
                self.bot.metrics.inc("cadence_bot_errors_total", kind="sms_rejected")
                return False
            except SmsUnavailable as exc:
                return _Unsent(tuple(bodies[index:]), index, exc)
            await self._record(sid, chat_id, job)
        return True

    async def _record(self, sid: str, chat_id: str, job: str | None) -> None:
        """Remember which job a sent text belongs to, for its status callbacks. Best effort: the text
        went, and a record lost (the database failing now) loses only its status, never a send."""
        log.debug("sent SMS %s for %s", sid, job or "no job")
        try:
            await asyncio.to_thread(
                partial(self.bot.store.record_delivery, CHANNEL, sid, job_key=job, chat_id=chat_id)
            )
        except Exception as exc:
            log.error(
                "SMS %s sent but not recorded (%s): its status will not be marked", sid, type(exc).__name__
            )
            self.bot.metrics.inc("cadence_bot_errors_total", kind="sms_store")

    async def _queue(
        self, chat_id: str, tenant: str | None, bodies: Sequence[str], *, dedupe: str | None
    ) -> None:
        """Hand texts Twilio could not take to the durable outbox: the worker tries them with capped
        waits for ``hold``, holding no turn meanwhile. ``dedupe`` makes a resumed turn queue them once.
        They are queued as composed (composing a composed text again changes nothing), so a remainder
        is exactly the texts that did not go."""
        now = self.bot.clock()
        hold = self.options.hold
        job = outbox_job(
            CHANNEL,
            chat_id,
            tenant,
            [Reply(text=body) for body in bodies],
            now,
            hold=hold,
            run_at=next_try(1, now, now + hold),
            dedupe=dedupe,
        )
        await asyncio.to_thread(queue_send, self.bot.store, job)  # behind the chat's older queued texts
        log.warning("SMS: %d text(s) wait in the outbox as %s (Twilio unavailable)", len(bodies), job.key)
        self.bot.metrics.inc("cadence_bot_errors_total", kind="sms_outboxed")

    # -- the webhook ------------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        form = await self._read_signed(request, "webhook")
        if isinstance(form, Response):
            return form
        sid = form.first("MessageSid") or form.first("SmsSid")
        sender = form.first("From").strip()
        if not sid or not sender:
            return PlainTextResponse("MessageSid and From are required", status_code=400)
        phone = e164(sender)
        chat_id = phone or sender
        texted = e164(form.first("To")) or form.first("To").strip()
        text = form.first("Body")

        kind = keyword(text, form.first("OptOutType") or None)
        if kind is Keyword.OPT_OUT:
            await asyncio.to_thread(self.bot.store.set_opted_out, CHANNEL, chat_id, True)
            log.info("SMS %s: opt-out keyword; number recorded as opted out", sid)
            return _twiml([])
        if kind is Keyword.OPT_IN:
            await asyncio.to_thread(self.bot.store.set_opted_out, CHANNEL, chat_id, False)
            log.info("SMS %s: opt-in keyword; number may be texted again", sid)
            return _twiml([])
        if await asyncio.to_thread(self.bot.store.is_opted_out, CHANNEL, chat_id):
            log.info("SMS %s from an opted-out number: not answered (Twilio would block it)", sid)
            return _twiml([])

        inbound = Inbound(
            channel=CHANNEL,
            chat_id=chat_id,
            message_id=sid,
            text="help" if kind is Keyword.HELP else text,
            sender_phone=phone,
            tenant=self._numbers.get(texted),
        )
        try:
            fresh = await self._store(inbound, texted)
        except Exception as exc:
            # Twilio does not retry a 500: the text would be lost without a word. The customer hears
            # that it failed and to try again instead (a full disk, a database down); logged, counted.
            log.error("SMS %s not stored (%s); the customer is asked to try again", sid, type(exc).__name__)
            self.bot.metrics.inc("cadence_bot_errors_total", kind="sms_store")
            tenant = self.bot.settings.tenant(inbound.tenant) if inbound.tenant else None
            language = supported(tenant.language if tenant else None) or self.bot.settings.default_language
            return _twiml([to_gsm(t(language, "went_wrong"))])
        if not fresh:
            log.info("SMS %s redelivered: already answered or being answered", sid)
            return _twiml([])
        return await self._answer(inbound)

    async def _read_signed(self, request: Request, what: str) -> Form | Response:
        return await read_signed(
            request,
            validator=self._validator,
            public_url=self.bot.settings.public_url,
            max_body=self.options.max_body,
            metrics=self.bot.metrics,
            what=what,
        )

    # -- delivery status callbacks ----------------------------------------------------------------

    async def status_callback(self, request: Request) -> Response:
        """``POST /sms/twilio/status``: Twilio's word on a text we sent. Signed like the webhook (403
        otherwise); a report naming no message or status is 400; else its status is stored on the
        text's delivery record, durably, before the 204. Never a 500: a store failure is 503."""
        form = await self._read_signed(request, "status callback")
        if isinstance(form, Response):
            return form
        report = parse_report(form)
        if report is None:
            return PlainTextResponse("MessageSid and MessageStatus are required", status_code=400)
        mark = partial(
            self.bot.store.mark_delivery,
            CHANNEL,
            report.message_sid,
            report.status,
            error_code=report.error_code,
        )
        try:
            job = await asyncio.to_thread(mark)
        except Exception as exc:
            log.error(
                "SMS %s status %s not stored (%s)", report.message_sid, report.status, type(exc).__name__
            )
            self.bot.metrics.inc("cadence_bot_errors_total", kind="sms_status_store")
            if report.failed:  # still counted: Twilio does not call again
                self._delivery_failed(report, None)
            return PlainTextResponse("status not stored", status_code=503)
        if report.failed:
            self._delivery_failed(report, job)
        else:
            log.debug("SMS %s %s (%s)", report.message_sid, report.status, job or "no job")
        return Response(status_code=204)

    def _delivery_failed(self, report: StatusReport, job: str | None) -> None:
        """A text that never reached the phone: logged with the job it belongs to (never the number) and
        counted by kind; the delivery record, marked already, is what an operator queries."""
        kind = delivery_kind(job)
        log.warning(
            "SMS delivery failed: %s %s, Twilio error %s, %s %s",
            report.message_sid,
            report.status,
            report.error_code or "none",
            kind,
            job or "(no job recorded)",
        )
        self.bot.metrics.inc("cadence_bot_sms_delivery_failures_total", kind=kind)

    async def _store(self, inbound: Inbound, texted: str) -> bool:
        """Keep the number texted (durable before the message is: any process, after any restart,
        answers from it) and the message; False for a redelivery."""
        if texted:
            await asyncio.to_thread(self.bot.store.set_reply_from, CHANNEL, inbound.chat_id, texted)
        enqueue = partial(
            self.bot.store.enqueue_inbound, inbound, lease=self.options.resume_lease, holder=self.inbox.holder
        )
        return bool(await asyncio.to_thread(enqueue))

    async def _answer(self, inbound: Inbound) -> Response:
        """The turn's messages as TwiML if it finishes within the budget; else "One moment..." now,
        and the turn sends its messages by REST when it is done."""
        late = _Late()
        turn = self._spawn(self._turn(inbound, late))
        done, _ = await asyncio.wait({turn}, timeout=self.options.reply_budget)
        if turn not in done:
            late.value = True  # no await since the check: the turn sees this when it is done
            log.info(
                "SMS %s: turn past %.1fs; answering by REST", inbound.message_id, self.options.reply_budget
            )
            language = await self._language(inbound.chat_id, inbound.tenant)
            return _twiml([to_gsm(t(supported(language) or "en", "sms_one_moment"))])
        replies = turn.result()  # a failure here is a 500, and the message stays in the inbox
        await self.inbox.finish(inbound.message_id)
        language = await self._language(inbound.chat_id, inbound.tenant)
        return _twiml(compose(replies, language))

    async def _turn(self, inbound: Inbound, late: _Late, *, resumed: bool = False) -> tuple[Reply, ...]:
        """One turn; its replies for the TwiML answer, or, once ``late``, sent by REST from here.

        Turns and late answers of one customer run one at a time, so texts go out in order. A
        redelivery yields nothing, except when resuming: then the replies were stored but maybe never
        sent, and are sent (at least once beats never); once the customer has written again, only those
        telling of a booking made, moved or cancelled (see :meth:`bot.engine.TurnResult.to_send`)."""
        self.inbox.hold(inbound.message_id)
        try:
            async with self._chat(inbound.chat_id):
                try:
                    result = await self.bot.engine.handle(inbound)
                except Exception:
                    if not late.value:
                        raise
                    log.exception("SMS %s: turn failed", inbound.message_id)
                    await self._failed(inbound)
                    return ()
                replies = result.to_send(resumed=resumed)
                if late.value:
                    await self._deliver(inbound, replies)
                    return ()
                return replies
        finally:
            self.inbox.release(inbound.message_id)

    async def _deliver(self, inbound: Inbound, replies: Sequence[Reply]) -> None:
        """A late answer by REST. What Twilio can't take now (an outage) goes to the durable outbox, and
        the message leaves the inbox once its answer is sent or durably queued: an outage no longer
        spends the message's attempts, nor holds it in the inbox between tries."""
        key = reply_key(inbound.message_id)
        try:
            unsent = await self._text(inbound.chat_id, replies, inbound.tenant, key) if replies else True
            if isinstance(unsent, _Unsent):
                log.warning("SMS %s: Twilio unavailable; the answer goes to the outbox", inbound.message_id)
                self.bot.metrics.inc("cadence_bot_errors_total", kind="sms_unavailable")
                await self._queue(inbound.chat_id, inbound.tenant, unsent.bodies, dedupe=key)
        except Exception as exc:  # not even queued (the database): the inbox tries the turn again later
            log.error("SMS %s: answer neither sent nor queued (%s)", inbound.message_id, type(exc).__name__)
            await self._failed(inbound)
            return
        await self.inbox.finish(inbound.message_id)

    async def _failed(self, inbound: Inbound) -> None:
        """Leave the message in the inbox for another try after ``retry_after`` (its late turn failed);
        the store counts the attempts, and after ``max_attempts`` the inbox runner answers it as a dead
        letter."""
        log.info("SMS %s: retried from the inbox", inbound.message_id)
        await self.inbox.retry_later(inbound.message_id)

    # -- resuming accepted-but-unanswered messages ------------------------------------------------

    async def resume(self) -> int:
        """One sweep of the inbox (see :class:`channels.inbox.InboxRunner`): renew the leases held here,
        apologise for dead letters, and answer by REST the messages accepted but never answered;
        returns how many it started."""
        return await self.inbox.sweep()

    def _resume_one(self, inbound: Inbound) -> None:
        log.info("SMS %s: resuming a message accepted before", inbound.message_id)
        self._spawn(self._turn(inbound, _Late(True), resumed=True))

    async def _send_apology(self, chat_id: str, replies: Sequence[Reply], tenant: str | None) -> bool:
        return await self.send(chat_id, replies, tenant=tenant)

    # -- helpers ----------------------------------------------------------------------------------

    def _spawn(self, work: Awaitable[T]) -> asyncio.Task[T]:
        task: asyncio.Task[T] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("SMS background work failed: %s", type(exc).__qualname__)

    @contextlib.asynccontextmanager
    async def _chat(self, chat_id: str) -> AsyncIterator[None]:
        """One customer's turns and late answers in order; the lock is dropped when nobody needs it."""
        async with self._chats.hold(chat_id):
            yield

    async def _origin(self, chat_id: str, tenant: str | None) -> Origin | None:
        """Who to text a customer as: the tenant's Messaging Service when it has one (Twilio then picks
        the number: sticky sender, number pools), else a number (:meth:`_sender_number`). The tenant is
        the one given, else the owner of the number the customer texted, else the default."""
        texted = await asyncio.to_thread(self.bot.store.reply_from, CHANNEL, chat_id)
        slug = tenant or self._numbers.get(texted or "") or self.bot.settings.default_tenant
        service = self.bot.settings.tenant(slug).messaging_service_sid if slug else None
        if service:
            return Origin(service=service)
        number = self._sender_number(texted, tenant)
        return Origin(number=number) if number else None

    def _sender_number(self, texted: str | None, tenant: str | None) -> str | None:
        """The number to text a customer from: ``texted``, the one they texted last (stored), unless it
        is another tenant's; else the tenant's first, else the default tenant's, else any we have."""
        if texted and self._numbers.get(texted, tenant) == tenant:
            return texted
        for slug in (tenant, self.bot.settings.default_tenant):
            own = [number for number, owner in self._numbers.items() if slug and owner == slug]
            if own:
                return own[0]
        return texted or next(iter(self._numbers), None)

    async def _language(self, chat_id: str, tenant: str | None) -> str:
        stored = await asyncio.to_thread(self.bot.store.load, CHANNEL, chat_id)
        state_language = stored.state.get("language") if stored.state else None
        return (
            supported(state_language if isinstance(state_language, str) else None)
            or supported(stored.profile.language)
            or supported(self.bot.settings.tenant(tenant).language if tenant else None)
            or self.bot.settings.default_language
        )
