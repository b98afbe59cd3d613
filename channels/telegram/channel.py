"""The Telegram channel: webhook and polling in, the engine in the middle, messages out.

One path for every update, wherever it came from (``POST /telegram/webhook`` or ``getUpdates``)::

    update -> parse_update -> store.enqueue_inbound -> 200 / next offset
                                   |
                                   +-> background: answer the tap -> engine.handle
                                       -> retire the tapped keyboard -> render -> send (paced)
                                       -> finish_inbound

The update is in the store before Telegram hears "200" (or before the polling offset moves past
it), so a crash after that point loses nothing: :meth:`TelegramChannel.resume` finds what is left
in the inbox, at start and then every ``resume_every`` seconds, and processes it again. The engine
de-duplicates on ``update_id``, so a resumed turn is not taken twice, and its replies are sent even
when the engine reports a duplicate: the turn committed, but its replies may never have gone out.
That makes delivery at least once, which is the right side to err on for a booking confirmation.

Turns of one chat are processed one at a time, in the order they arrived (a FIFO lock per chat,
taken before anything else is awaited), so replies come out in the order of the messages. At most
``max_turns`` turns run at once in a process; the other stored updates wait for a slot, so a burst
keeps the acknowledgements fast instead of slowing everything down at once.

The webhook refuses (403) any request whose ``X-Telegram-Bot-Api-Secret-Token`` does not match
``TELEGRAM_WEBHOOK_SECRET`` (compared in constant time), and every request when no secret is
configured: an endpoint that books appointments is never left open. Then: bodies over 1 MB are
413, a body that is not a JSON update is 400, and anything stored, or deliberately ignored, is 200,
also when processing it fails later: Telegram retries a non-2xx answer relentlessly and holds the
chat's later updates behind it. Only a failure to store answers 500, so that Telegram retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import telegram
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import BotCommand, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError

from bot.i18n import LANGUAGES, supported, t
from bot.locks import KeyedLocks
from bot.outbox import outbox_job, queue_send
from bot.service import Bot
from bot.turns import Turns
from bot.types import Inbound, Reply
from channels.bodies import BadBody, parse_json_object, read_limited
from channels.inbox import InboxOptions, InboxRunner
from channels.telegram.render import Outgoing, render_reply, tapped_text
from channels.telegram.sender import MAX_WAIT, Pacer, Sender, Sleep, TelegramUnavailable
from channels.telegram.updates import (
    CHANNEL,
    COMMANDS,
    Parsed,
    Tap,
    parse_text_message,
    parse_update,
    tap_of,
)

__all__ = [
    "ALLOWED_UPDATES",
    "MAX_BODY",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "TelegramChannel",
    "TelegramOptions",
]

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024
ALLOWED_UPDATES = ("message", "callback_query")
"""The update types the dialog takes; Telegram is asked for these only."""


@dataclass(frozen=True)
class TelegramOptions:
    """Tuning and test seams; the defaults are what production wants."""

    pace: float = 1.0
    """Seconds between messages to one chat, once a burst of ``burst`` is spent (Telegram: about 1/s)."""
    burst: int = 3
    poll_timeout: int = 30
    """Long-polling timeout for ``getUpdates``, in seconds."""
    resume_every: float = 2.0
    """How often the inbox is swept for updates whose processing was interrupted, and the leases on
    the updates in progress here are renewed."""
    resume_lease: timedelta = timedelta(seconds=10)
    """How long an update accepted or resumed here is ours unless renewed: the longest a process that
    died keeps its updates from its successor (or another process)."""
    retry_after: timedelta = timedelta(minutes=2)
    """How long an update whose processing failed (Telegram unreachable) waits in the inbox before the
    next of its ``max_attempts``: an outage of several minutes does not use them all up."""
    max_turns: int = 16
    """Turns processed at once by this process; the other accepted updates wait, already stored (and
    their leases renewed), for one to finish. Unbounded, a burst starts a task per update and they all
    contend for the one event loop, the HTTP pools (whose bookkeeping grows with the requests queued)
    and the database: every turn slows down, and so does the acknowledgement of new updates. Enough
    turns must be in flight to cover their waiting on Cadence and Telegram, which a real network makes
    long: at 0.3 s a turn, 16 allow about 50 turns a second, near what one process's CPU does (on
    loopback, 2 to 16 measured alike, within the shared machine's noise)."""
    grace: float = 10.0
    """How long :meth:`TelegramChannel.stop` waits for turns in progress before cancelling them, when the
    channel runs on its own; under ``serve`` the app's lifespan owns the grace (:mod:`bot.turns`)."""
    retries: int = 5
    backoff: float = 1.0
    max_wait: float = MAX_WAIT
    """Seconds a turn may wait on Telegram (flood control, backoff) per call; past that its replies go
    to the durable outbox and the turn slot is freed, so one chat's throttling never delays another's."""
    hold: timedelta = timedelta(hours=24)
    """How long replies that could not go out wait in the outbox (a Bot API outage of hours)."""
    max_attempts: int = 5
    """Attempts (counted by the store: the first, then each resume) before an update is a dead letter:
    it leaves the inbox and its customer gets an apology (channels/inbox.py)."""
    max_body: int = MAX_BODY
    sleep: Sleep = asyncio.sleep
    """Used for RetryAfter, backoff and pacing waits; tests pass a fast one."""
    before_process: Callable[[Inbound], Awaitable[None]] | None = None
    """Test seam: awaited before a stored update is processed (a test can hold it there)."""
    on_done: Callable[[Inbound], None] | None = None
    """Test seam: called when an update's processing ended, however it ended."""


class TelegramChannel:
    """The :class:`bot.types.Channel` for Telegram; build it with :func:`channels.telegram.create_channel`."""

    name = CHANNEL

    def __init__(self, bot: Bot, tg: telegram.Bot, *, polling: bool, options: TelegramOptions) -> None:
        self.bot, self.tg, self.polling, self.options = bot, tg, polling, options
        self.sender = Sender(
            tg,
            Pacer(options.pace, options.burst, sleep=options.sleep),
            sleep=options.sleep,
            retries=options.retries,
            backoff=options.backoff,
            max_wait=options.max_wait,
        )
        secret = bot.settings.telegram_webhook_secret
        self._secret = secret.get_secret_value() if secret else None
        self._tasks: set[asyncio.Task[None]] = set()
        self.inbox = InboxRunner(
            bot,
            CHANNEL,
            InboxOptions(
                options.resume_every, options.resume_lease, options.retry_after, options.max_attempts
            ),
            resume=partial(self._start, resumed=True),
            send=self._send_apology,
        )
        self._chats: KeyedLocks[str] = KeyedLocks()
        self._turns = asyncio.Semaphore(max(1, options.max_turns))
        self._held: dict[str, datetime] = {}
        """Chats Telegram throttled, until when: their messages go to the outbox, behind the held ones."""
        self._contact_keyboard: set[str] = set()
        """Chats shown a share-contact keyboard that no later message has removed yet."""
        self._loops: list[asyncio.Task[None]] = []
        self._closed = False
        self._app_turns: Turns | None = None
        """The app lifespan's task group, once :meth:`run_turns_in` is called; else tasks of our own."""

    def run_turns_in(self, turns: Turns) -> None:
        """Run turns and taps in the lifespan's group, which then owns their grace on stop."""
        self._app_turns = turns
        self.inbox.turns = turns

    # -- lifecycle ---------------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        return [Route(WEBHOOK_PATH, self._webhook, methods=["POST"])]

    async def start(self) -> None:
        """Check the token, register the webhook (or drop it and poll), and resume the inbox."""
        self._closed = False
        try:
            await self.tg.initialize()
        except InvalidToken:
            # PTB's message quotes the token; ours must not.
            raise RuntimeError("Telegram rejected TELEGRAM_BOT_TOKEN") from None
        except TelegramError as exc:
            log.warning("telegram getMe failed (%s); carrying on", type(exc).__name__)
        if self.polling:
            self._loops.append(_watched(asyncio.create_task(self._poll(), name="telegram-polling")))
        else:
            if not self._secret:
                log.error("TELEGRAM_WEBHOOK_SECRET is not set: %s refuses every update", WEBHOOK_PATH)
            if self.bot.settings.public_url:
                self._loops.append(
                    _watched(asyncio.create_task(self._register_webhook(), name="telegram-setup"))
                )
        self.inbox.start()

    async def stop(self) -> None:
        """Stop polling and sweeping, let turns in progress finish (up to ``grace``; under the app's
        lifespan they already had its grace), then close. What is cancelled stays in the inbox and is
        resumed by the next start."""
        self._closed = True
        await self.inbox.stop()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        if self._tasks:  # under the lifespan, none are left: they had its grace already
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.options.grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self.inbox.close()
        await self.tg.shutdown()

    @property
    def busy(self) -> bool:
        """True while any update is being processed or any callback answered."""
        return bool(self._tasks)

    async def _register(self, call: Callable[[], Awaitable[object]], what: str) -> None:
        try:
            await self.sender.call(call, what=what, max_wait=math.inf)  # in the background: no slot held
        except (TelegramError, TelegramUnavailable) as exc:
            log.error("telegram %s failed: %s", what, type(exc).__name__)

    async def _register_commands(self) -> None:
        # English for everyone whose app language has no catalog (no language_code), then each other.
        for language in LANGUAGES:
            commands = [
                BotCommand(command, t(language, f"telegram_command_{command}"))
                for command in ("start", *COMMANDS)
            ]
            code = None if language == "en" else language
            call = partial(self.tg.set_my_commands, commands, language_code=code)
            await self._register(call, "setMyCommands")

    async def _register_webhook(self) -> None:
        """Point Telegram at ``BOT_PUBLIC_URL`` + the webhook path, with the secret and the update types
        we take. In the background, with retries, so a slow Bot API does not hold up the server."""
        if self._secret:
            register = partial(
                self.tg.set_webhook,
                url=str(self.bot.settings.public_url).rstrip("/") + WEBHOOK_PATH,
                secret_token=self._secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
            await self._register(register, "setWebhook")
        else:  # Telegram would deliver to an endpoint that refuses everything, and retry forever
            log.error("TELEGRAM_WEBHOOK_SECRET is not set: the webhook is not registered")
        await self._register_commands()

    # -- in: the webhook and polling -----------------------------------------------------------------

    async def _webhook(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not self._secret or not hmac.compare_digest(given, self._secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        body = await read_limited(request, self.options.max_body)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        try:
            data = parse_json_object(body)
        except BadBody as exc:
            return PlainTextResponse(str(exc), status_code=400)
        if type(data.get("update_id")) is not int:
            return PlainTextResponse("not an update", status_code=400)
        if (plain := parse_text_message(data)) is not None:  # most updates: no PTB model needed
            stored = await self._accept(plain, data["update_id"])
        elif (update := self._read_update(data)) is not None:
            stored = await self.accept(update)
        else:
            stored = True  # a shape PTB cannot read: refusing would only make Telegram retry
        if not stored:
            return PlainTextResponse("not stored", status_code=500)
        return Response(status_code=200)

    def _read_update(self, data: dict[str, object]) -> Update | None:
        try:
            return Update.de_json(data, self.tg)
        except Exception as exc:
            log.warning("telegram update %s unreadable (%s); ignored", data["update_id"], type(exc).__name__)
            return None

    async def accept(self, update: Update) -> bool:
        """Store the update's message and start processing it; False only when it could not be
        stored (the caller must not acknowledge it). Redeliveries are stored once, processed once."""
        try:
            parsed = parse_update(update)
        except Exception as exc:  # an update shaped unlike any we know: acknowledging it is all we can do
            log.warning("telegram update %s unreadable (%s); ignored", update.update_id, type(exc).__name__)
            return True
        return await self._accept(parsed, update.update_id)

    async def _accept(self, parsed: Parsed, update_id: int) -> bool:
        if parsed.inbound is None:
            if parsed.tap is not None:  # a tap we ignore still stops the button's spinner
                self._spawn(self._answer(parsed.tap))
            return True
        try:
            fresh = await asyncio.to_thread(
                partial(
                    self.bot.store.enqueue_inbound,
                    parsed.inbound,
                    lease=self.options.resume_lease,
                    holder=self.inbox.holder,
                )
            )
        except Exception as exc:
            log.error("telegram update %s not stored: %s", update_id, type(exc).__name__)
            self.bot.metrics.inc("cadence_bot_errors_total", kind="telegram_store")
            return False
        if fresh:
            self._start(parsed.inbound, resumed=False)
        return True

    async def _poll(self) -> None:
        """Long-poll ``getUpdates``; the offset moves past an update only once it is stored."""
        await self._register(self.tg.delete_webhook, "deleteWebhook")  # getUpdates refuses while one is set
        await self._register_commands()
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.tg.get_updates(
                    offset=offset,
                    timeout=self.options.poll_timeout,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            except InvalidToken:
                log.error("telegram polling stopped: TELEGRAM_BOT_TOKEN rejected")
                return
            except Exception as exc:  # network, Conflict (a webhook or another poller), 429, a bad batch
                failures += 1
                wait = min(30.0, self.options.backoff * 2 ** min(failures, 5))
                log.warning("telegram getUpdates failed (%s); again in %gs", type(exc).__name__, wait)
                await asyncio.sleep(wait)
                continue
            failures = 0
            for update in updates:
                if not await self.accept(update):
                    await asyncio.sleep(self.options.backoff)
                    break  # fetched again from this update next time
                offset = update.update_id + 1

    async def resume(self) -> int:
        """One sweep of the inbox (see :class:`channels.inbox.InboxRunner`): renew the leases held here,
        apologise for dead letters, and process the updates nobody holds; returns how many."""
        return await self.inbox.sweep()

    # -- processing ----------------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> bool:
        """Start ``work``: in the lifespan's group when there is one; False once it stops accepting."""
        app_turns = self._app_turns
        task = app_turns.spawn(work) if app_turns is not None else asyncio.ensure_future(work)
        if task is None:
            return False
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_crash)
        return True

    def _start(self, inbound: Inbound, *, resumed: bool) -> None:
        if self._closed:
            return  # stored: the next start resumes it
        self.inbox.hold(inbound.message_id)  # leased while it waits for a slot, too
        if not self._spawn(self._process(inbound, resumed=resumed)):
            self.inbox.release(inbound.message_id)  # shutting down: stored, the next start resumes it

    @contextlib.asynccontextmanager
    async def _chat(self, chat_id: str) -> AsyncIterator[None]:
        """One turn at a time per chat, first come first served (as the engine does per turn, but
        held until the replies are out, so they are not interleaved)."""
        async with self._chats.hold(chat_id):
            yield

    async def _process(self, inbound: Inbound, *, resumed: bool) -> None:
        done: bool | None = None
        """True: finished; False: failed, tried again after ``retry_after``; None: cancelled (stop)."""
        tap = tap_of(inbound)  # live, or kept in the inbox with the message: resumed taps are alike
        try:
            # The chat's lock first: a turn holds a slot only once it is next in its chat, so a busy
            # chat's queue never takes slots from the others.
            async with self._chat(inbound.chat_id), self._turns:
                if self.options.before_process is not None:
                    await self.options.before_process(inbound)
                if tap is not None:
                    await self._answer(tap)  # first: the button's spinner stops at once
                result = await self.bot.engine.handle(inbound)
                # A resumed duplicate committed before the process stopped, maybe before its edit.
                if tap is not None and (resumed or not result.duplicate):
                    await self._retire(tap, accepted=not any(reply.expired for reply in result.replies))
                if replies := result.to_send(resumed=resumed):
                    held = await self._deliver(inbound.chat_id, replies, inbound.language)
                    if held is not None:  # durably queued before the inbox lets the message go
                        await self._queue(inbound.chat_id, inbound.tenant, held, dedupe=inbound.message_id)
            done = True
        except (Forbidden, BadRequest) as exc:
            # Blocked by the customer, or a message Telegram will never take: retrying cannot help.
            log.error("telegram update %s not delivered: %s", inbound.message_id, type(exc).__name__)
            self.bot.metrics.inc("cadence_bot_errors_total", kind=f"telegram_{type(exc).__name__}")
            done = True
        except Exception as exc:  # the store's attempts decide when it becomes a dead letter
            done = False
            log.error(
                "telegram update %s failed (%s); tried again later", inbound.message_id, type(exc).__name__
            )
            self.bot.metrics.inc("cadence_bot_errors_total", kind=f"telegram_{type(exc).__name__}")
        finally:
            if done is None:
                self.inbox.release(inbound.message_id)  # its lease runs out: the next start resumes it
            if self.options.on_done is not None:
                self.options.on_done(inbound)
        if done:
            await self.inbox.finish(inbound.message_id)
        elif done is False:
            await self.inbox.retry_later(inbound.message_id)

    async def _answer(self, tap: Tap) -> None:
        """Stop the tapped button's spinner. Best effort: an old callback can no longer be answered."""
        try:
            await self.sender.call(
                partial(self.tg.answer_callback_query, tap.callback_id), what="answerCallbackQuery"
            )
        except (TelegramError, TelegramUnavailable) as exc:
            log.info("telegram callback not answered: %s", type(exc).__name__)

    async def _retire(self, tap: Tap, *, accepted: bool) -> None:
        """Retire the tapped keyboard, so it cannot be tapped again: an accepted choice is written
        into the message ("<question>\n→ <label>"); an expired one only loses its buttons, so a message
        already showing the choice taken (a double tap) keeps showing it."""
        if tap.message_id is None:
            return
        text = tapped_text(tap.question, tap.label) if accepted and tap.question and tap.label else None
        try:
            if text is not None:
                edit = partial(
                    self.tg.edit_message_text,
                    text,
                    chat_id=tap.chat_id,
                    message_id=tap.message_id,
                    parse_mode="HTML",
                    reply_markup=None,
                )
                await self.sender.call(edit, what="editMessageText")
            else:
                strip = partial(
                    self.tg.edit_message_reply_markup, chat_id=tap.chat_id, message_id=tap.message_id
                )
                await self.sender.call(strip, what="editMessageReplyMarkup")
        except (TelegramError, TelegramUnavailable) as exc:  # too old to edit, already edited...
            log.info("telegram tapped message not edited: %s", type(exc).__name__)

    # -- out -----------------------------------------------------------------------------------------

    def _contact_label(self, language: str | None) -> str:
        code = supported(language) or supported(self.bot.settings.default_language) or "en"
        return t(code, "telegram_share_phone")

    async def _deliver(self, chat_id: str, replies: Sequence[Reply], language: str | None) -> _Held | None:
        """Send the replies in order; None when they all went (or Telegram refused some for good), else
        the ones that must wait (the chat is throttled, or Telegram is unreachable) and until when.
        A share-contact keyboard left from an earlier message is removed by the first message that
        carries no keyboard of its own."""
        now = self.bot.clock()
        until = self._held.get(chat_id)
        if until is not None and until > now:  # behind replies already waiting: keep them in order
            return _Held(tuple(replies), until)
        self._held.pop(chat_id, None)
        label = self._contact_label(language)
        remove = chat_id in self._contact_keyboard
        target = _chat_target(chat_id)
        refused: BadRequest | None = None
        delivered = 0
        for index, reply in enumerate(replies):
            for message in render_reply(reply, contact_label=label):
                outgoing: Outgoing = message
                if message.asks_contact:
                    self._contact_keyboard.add(chat_id)
                    remove = False
                elif remove and message.markup is None:
                    outgoing = replace(message, markup=ReplyKeyboardRemove())
                try:
                    await self.sender.send_message(target, outgoing)
                except BadRequest as exc:  # this message only (the others may go): log it and carry on
                    log.error("telegram refused a message: %s", exc.message[:80])
                    refused = exc
                    continue
                except TelegramUnavailable as exc:
                    # A reply split in pieces is sent whole again: rare, and better than a gap.
                    return self._hold(chat_id, replies[index:], exc)
                delivered += 1
                if outgoing.markup is not message.markup:
                    self._contact_keyboard.discard(chat_id)
                    remove = False
        if refused is not None and not delivered:
            raise refused  # nothing went out: the chat itself is the problem (gone, never started)
        return None

    def _hold(self, chat_id: str, replies: Sequence[Reply], exc: TelegramUnavailable) -> _Held:
        """Replies that must wait, until when (Telegram's flood wait, else a few seconds); the chat's
        later messages wait behind them, so they do not overtake the held ones."""
        wait = max(exc.retry_after or 0.0, _FIRST_RETRY)
        until = self.bot.clock() + timedelta(seconds=wait)
        self._held[chat_id] = until
        log.warning(
            "telegram: %d repl(ies) wait %gs in the outbox (%s)", len(replies), wait, type(exc).__name__
        )
        return _Held(tuple(replies), until)

    async def _queue(self, chat_id: str, tenant: str | None, held: _Held, *, dedupe: str | None) -> None:
        """Hand replies to the durable outbox: the worker sends them with capped waits for hours.
        ``dedupe`` (the update they answer) makes a resumed turn queue them once."""
        job = outbox_job(
            CHANNEL,
            chat_id,
            tenant,
            held.replies,
            self.bot.clock(),
            hold=self.options.hold,
            run_at=held.until,
            dedupe=dedupe,
        )
        await asyncio.to_thread(queue_send, self.bot.store, job)  # behind the chat's older queued replies
        self.bot.metrics.inc("cadence_bot_errors_total", kind="telegram_outboxed")
        if chat_id in self._held:  # the chat's next queued replies are due just after these: in order
            self._held[chat_id] = max(self._held[chat_id], job.run_at) + _NEXT_IN_LINE

    async def _send_apology(self, chat_id: str, replies: Sequence[Reply], tenant: str | None) -> bool:
        return await self.send(chat_id, replies, tenant=tenant)

    async def send(
        self, chat_id: str, replies: Sequence[Reply], *, tenant: str | None = None, job: str | None = None
    ) -> bool:
        """Messages the customer did not ask for (notifications, reminders), rendered like replies.

        False when Telegram will not deliver them (the customer blocked the bot, the chat is gone);
        raises :class:`TelegramUnavailable` (a ``ConnectionError``) when Telegram could not be
        reached or is throttling the chat, so the caller's job can be retried (it never waits long for
        Telegram: see :class:`~channels.telegram.sender.Sender`). When only some replies went, the rest
        are queued in the outbox and this returns True, so a retry does not send the first ones twice."""
        try:
            async with self._chat(chat_id):
                held = await self._deliver(chat_id, replies, None)
        except (Forbidden, BadRequest) as exc:
            log.warning("telegram message not delivered: %s", type(exc).__name__)
            return False
        except TelegramError as exc:
            raise TelegramUnavailable(f"telegram: {type(exc).__name__}") from exc
        if held is None:
            return True
        if len(held.replies) == len(replies):
            seconds = (held.until - self.bot.clock()).total_seconds()
            raise TelegramUnavailable("telegram: the chat is throttled or Telegram unreachable", seconds)
        await self._queue(chat_id, tenant, held, dedupe=None)
        return True


@dataclass(frozen=True)
class _Held:
    """Replies that could not go out now, and the earliest time to try them again."""

    replies: tuple[Reply, ...]
    until: datetime


_FIRST_RETRY = 5.0
"""Seconds before replies held without a wait from Telegram (unreachable) are tried again."""
_NEXT_IN_LINE = timedelta(milliseconds=1)
"""The worker claims due jobs oldest ``run_at`` first: each job queued behind a held chat's is due
this much later, so they are claimed, and sent, in the order their turns ran."""


def _watched(task: asyncio.Task[None]) -> asyncio.Task[None]:
    task.add_done_callback(_log_crash)
    return task


def _log_crash(task: asyncio.Task[None]) -> None:
    """Background work handles its own failures; anything that escapes is a bug, and is said so."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("telegram background task crashed: %s", type(exc).__name__, exc_info=exc)


def _chat_target(chat_id: str) -> int | str:
    """Telegram chat ids are integers (negative for groups); ``@channelname`` stays a string."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id
