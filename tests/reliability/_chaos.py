"""Helpers for the reliability suite's fault, fuzz and forgery tests.

- :class:`ChaosProxy` is a real HTTP/1.1 proxy (raw asyncio + h11, in its own thread and event loop on
  127.0.0.1) to put between the bot and the Cadence sandbox. Each request is forwarded unless a scripted
  :class:`Fault` says otherwise: an error status (500, 502, 503, 429 with ``Retry-After``), a hang longer
  than the client's timeout, or a connection closed without an answer, before the request reaches the
  sandbox or *after* the sandbox processed it. It records every request it saw (method, path,
  ``Idempotency-Key``, the fault applied, whether the sandbox got it). A raw server, not an ASGI app,
  because an ASGI app cannot drop a connection without answering.
- :func:`serve_bot` serves ``cadence-bot serve``'s app (Telegram and SMS channels, Cadence's webhook) under
  uvicorn on 127.0.0.1, with the fake Telegram Bot API and fake Twilio of ``tests/channels``.
- :class:`OutsideWorld` runs the sandbox, the fake Telegram and the fake Twilio in a child process, so a
  test can measure the bot's own memory and the fakes' bookkeeping doesn't count.
- :func:`stream_post` posts a large body over a raw socket while listening for an early answer: it tells
  how many bytes the server took before refusing, which shows whether a body size cap really holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import h11
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from bot.app import create_app
from bot.config import Settings, TenantConfig
from bot.service import Bot, open_bot
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from channels.sms import SmsChannel, SmsOptions
from channels.sms import create_channel as create_sms
from channels.telegram import TelegramChannel, TelegramOptions
from channels.telegram import create_channel as create_telegram
from tests.channels.fake_telegram import BOT_TOKEN, FakeTelegram
from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.conftest import NOW, SALON_KEY, free_port, salon_seed

__all__ = [
    "SALON_NUMBER",
    "TELEGRAM_SECRET",
    "WEBHOOK_SECRET",
    "ChaosProxy",
    "Fault",
    "OutsideWorld",
    "Seen",
    "ServedBot",
    "serve_bot",
    "stream_post",
]

TELEGRAM_SECRET = "reliability-secret_0123456789"
WEBHOOK_SECRET = "whsec_reliability_salon"
SALON_NUMBER = "+351210000001"

# -- the fault-injecting proxy ----------------------------------------------------------------------

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host", "te"}
)


@dataclass(frozen=True)
class Fault:
    """What the proxy does with one request. ``after``: forward it first (Cadence processes it), then
    misbehave towards the client, as when a response is lost on the way back."""

    kind: str
    """``pass``, ``status``, ``hang`` (say nothing until the client gives up), ``drop`` (close the
    connection without an answer) or ``reset`` (abort it: TCP RST)."""
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    after: bool = False
    hang_seconds: float = 10.0

    @property
    def label(self) -> str:
        name = str(self.status) if self.kind == "status" else self.kind
        return f"{name}_after" if self.after else name

    @classmethod
    def error(cls, status: int, *, retry_after: str | None = None, html: bool = False) -> Fault:
        """An error answer from Cadence (or the load balancer in front of it, ``html``)."""
        if html:
            body = f"<html><body><h1>{status}</h1>upstream trouble</body></html>".encode()
            headers: tuple[tuple[str, str], ...] = (("content-type", "text/html"),)
        else:
            code = "rate_limited" if status == 429 else "unavailable"
            body = b'{"error": {"code": "%s", "message": "injected fault"}}' % code.encode()
            headers = (("content-type", "application/json"),)
        if retry_after is not None:
            headers += (("retry-after", retry_after),)
        return cls("status", status=status, headers=headers, body=body)

    @classmethod
    def hang(cls, *, after: bool = False) -> Fault:
        return cls("hang", after=after)

    @classmethod
    def drop(cls, *, after: bool = False) -> Fault:
        return cls("drop", after=after)

    @classmethod
    def reset(cls, *, after: bool = False) -> Fault:
        return cls("reset", after=after)


PASS = Fault("pass")


@dataclass(frozen=True)
class Seen:
    """One request as the proxy saw it."""

    method: str
    path: str
    idempotency_key: str | None
    fault: str
    forwarded: bool
    """The sandbox received (and answered) it."""
    at: float
    """``time.monotonic()`` when it arrived."""


@dataclass
class _Rule:
    method: str | None
    path: str | None
    faults: deque[Fault]
    forever: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or self.path in path)


class ChaosProxy:
    """A fault-injecting HTTP proxy in front of ``upstream``; ``with ChaosProxy(url) as proxy:``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.url = ""
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._seen: list[Seen] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chaos-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self._connections: set[asyncio.Task[None]] = set()

    # -- what tests use ------------------------------------------------------------------------------

    def script(self, *faults: Fault, method: str | None = None, path: str | None = None) -> None:
        """The next matching requests get ``faults``, one each, in order; later ones pass."""
        with self._lock:
            self._rules.append(_Rule(method, path, deque(faults)))

    def down(self, fault: Fault, *, method: str | None = None, path: str | None = None) -> None:
        """Every matching request gets ``fault`` until :meth:`up`."""
        with self._lock:
            self._rules.append(_Rule(method, path, deque([fault]), forever=True))

    def up(self) -> None:
        """Forget every fault still scripted: Cadence is healthy again."""
        with self._lock:
            self._rules.clear()

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                s
                for s in self._seen
                if (method is None or s.method == method) and (path is None or path in s.path)
            ]

    # -- lifecycle -----------------------------------------------------------------------------------

    def __enter__(self) -> ChaosProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=30.0)
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"

    async def _stop(self) -> None:
        assert self._server is not None and self._client is not None
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._client.aclose()

    # -- serving -------------------------------------------------------------------------------------

    def _fault(self, method: str, path: str) -> Fault:
        with self._lock:
            for rule in self._rules:
                if rule.faults and rule.matches(method, path):
                    return rule.faults[0] if rule.forever else rule.faults.popleft()
        return PASS

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request = await _read_request(conn, reader)
                if request is None or not await self._handle(conn, *request, reader, writer):
                    return
                if h11.MUST_CLOSE in (conn.our_state, conn.their_state):
                    return
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError):
            return
        finally:
            self._connections.discard(task)
            if not writer.transport.is_closing():
                writer.close()

    async def _handle(
        self,
        conn: h11.Connection,
        request: h11.Request,
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer one request (True: the connection may carry another)."""
        method, target = request.method.decode(), request.target.decode()
        path = urlsplit(target).path
        headers = [(k.decode(), v.decode()) for k, v in request.headers]
        key = next((v for k, v in headers if k.lower() == "idempotency-key"), None)
        arrived = time.monotonic()
        fault = self._fault(method, path)
        answer: tuple[int, list[tuple[str, str]], bytes] | None = None
        if fault.kind == "pass" or fault.after:
            answer = await self._forward(method, target, headers, body)
        with self._lock:
            self._seen.append(Seen(method, path, key, fault.label, answer is not None, arrived))
        if fault.kind == "pass":
            assert answer is not None
            await _respond(conn, writer, *answer)
            return True
        if fault.kind == "status":
            await _respond(conn, writer, fault.status, list(fault.headers), fault.body)
            return True
        if fault.kind == "hang":  # say nothing until the client gives up (or hang_seconds pass)
            with contextlib.suppress(TimeoutError, ConnectionError):
                async with asyncio.timeout(fault.hang_seconds):
                    while await reader.read(65536):
                        pass
        if fault.kind == "reset":
            writer.transport.abort()
        return False  # hang, drop and reset: the connection closes without an answer

    async def _forward(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self._client is not None
        sent = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
        try:
            response = await self._client.request(method, target, headers=sent, content=body)
        except httpx.TransportError:
            return 502, [("content-type", "text/plain")], b"upstream unreachable"
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP_BY_HOP]
        return response.status_code, kept, response.content


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader
) -> tuple[h11.Request, bytes] | None:
    """The next request and its body, or None when the client closed the connection."""
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(65536))
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        else:  # ConnectionClosed, or PAUSED after a close
            return None


async def _respond(
    conn: h11.Connection,
    writer: asyncio.StreamWriter,
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
) -> None:
    head = h11.Response(status_code=status, headers=[*headers, ("content-length", str(len(body)))])
    writer.write(conn.send(head) or b"")
    if body:
        writer.write(conn.send(h11.Data(data=body)) or b"")
    writer.write(conn.send(h11.EndOfMessage()) or b"")
    await writer.drain()


# -- the bot, served ---------------------------------------------------------------------------------


@dataclass
class ServedBot:
    """``cadence-bot serve``'s app with both channels under uvicorn; ``done`` holds the Telegram updates
    the channel finished (its ``on_done`` seam)."""

    url: str
    bot: Bot
    telegram: TelegramChannel
    sms: SmsChannel
    done: set[str]
    on_done: list[Callable[[str], None]] = field(default_factory=list)

    def telegram_post(
        self, update: dict[str, Any], *, secret: str | None = TELEGRAM_SECRET
    ) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return httpx.post(f"{self.url}/telegram/webhook", json=update, headers=headers, timeout=20)

    def wait_done(self, update_id: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while str(update_id) not in self.done:
            assert time.monotonic() < deadline, f"update {update_id} was never processed"
            time.sleep(0.01)


def bot_settings(
    *,
    telegram_api: str,
    twilio_api: str,
    public_url: str,
    default_tenant: str | None = "salon",
    more_tenants: tuple[TenantConfig, ...] = (),
    ask_practitioner: bool = False,
) -> Settings:
    """Both channels configured against the fakes; the salon with its org key, webhook secret and
    Twilio number, and ``more_tenants`` beside it."""
    salon = TenantConfig(
        slug="salon",
        org_api_key=SALON_KEY,
        webhook_secret=WEBHOOK_SECRET,
        twilio_numbers=(SALON_NUMBER,),
        ask_practitioner=ask_practitioner,
    )
    return Settings(
        default_tenant=default_tenant,
        tenants={tenant.slug: tenant for tenant in (salon, *more_tenants)},
        telegram_bot_token=BOT_TOKEN,
        telegram_webhook_secret=TELEGRAM_SECRET,
        telegram_api_base_url=telegram_api,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_api_base_url=twilio_api,
        public_url=public_url,
    )


@dataclass
class BotApp:
    """``cadence-bot serve``'s ASGI app with both channels, and what tests look into."""

    app: Starlette
    bot: Bot
    telegram: TelegramChannel
    sms: SmsChannel
    done: set[str]
    """Telegram updates the channel finished processing (its ``on_done`` seam)."""
    on_done: list[Callable[[str], None]]
    """Called with each finished update id, from the thread the app runs in."""


def build_bot(
    *,
    cadence_url: str,
    telegram_api: str,
    twilio_api: str,
    database: str | Path,
    public_url: str,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], datetime] = lambda: NOW,
    default_tenant: str | None = "salon",
    more_tenants: tuple[TenantConfig, ...] = (),
    ask_practitioner: bool = False,
    run_worker: bool = True,
    reply_budget: float = 10.0,
) -> BotApp:
    """The app as ``serve`` builds it (``open_bot``, both channels, ``create_app``), with the channels'
    waits shortened for tests; ``public_url`` is the URL Twilio signs."""
    settings = bot_settings(
        telegram_api=telegram_api,
        twilio_api=twilio_api,
        public_url=public_url,
        default_tenant=default_tenant,
        more_tenants=more_tenants,
        ask_practitioner=ask_practitioner,
    )
    bot = open_bot(settings, base_url=cadence_url, http=http, database=str(database), clock=clock)
    done: set[str] = set()
    hooks: list[Callable[[str], None]] = []

    def finished(inbound: Any) -> None:
        done.add(inbound.message_id)
        for hook in hooks:
            hook(inbound.message_id)

    async def fast_sleep(seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.01))

    options = TelegramOptions(
        pace=0, poll_timeout=1, resume_every=0.5, grace=2, backoff=0.01, sleep=fast_sleep, on_done=finished
    )
    telegram = create_telegram(bot, options=options)
    sms = create_sms(bot, options=SmsOptions(reply_budget=reply_budget, resume_every=0.5, grace=2))
    app = create_app(bot, [telegram, sms], run_worker=run_worker)
    return BotApp(app, bot, telegram, sms, done, hooks)


@contextlib.contextmanager
def serve_bot(**options: Any) -> Iterator[ServedBot]:
    """:func:`build_bot`'s app under uvicorn on a free port, its public URL its own (no proxy)."""
    port = free_port()
    built = build_bot(public_url=f"http://127.0.0.1:{port}", **options)
    with serving(built.app, port=port) as url:
        yield ServedBot(url, built.bot, built.telegram, built.sms, built.done, built.on_done)


EPOCH = 1_780_300_800  # NOW as a Unix time, what Telegram puts in "date"


def telegram_user(chat_id: int, language: str | None = "en") -> dict[str, Any]:
    user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": "Pat"}
    if language:
        user["language_code"] = language
    return user


def telegram_message(chat_id: int, update_id: int, text: str | None = None, **content: Any) -> dict[str, Any]:
    """An update carrying a private message (no ``text`` at all when None: a sticker, say)."""
    message: dict[str, Any] = {
        "message_id": update_id % 1_000_000,
        "from": telegram_user(chat_id),
        "chat": {"id": chat_id, "type": "private", "first_name": "Pat"},
        "date": EPOCH,
        **content,
    }
    if text is not None:
        message["text"] = text
    return {"update_id": update_id, "message": message}


def telegram_tap(chat_id: int, update_id: int, carrier: dict[str, Any], data: str) -> dict[str, Any]:
    """An update for a tap on an inline button of ``carrier`` (a message the bot sent) with ``data``."""
    query = {
        "id": f"cbq{update_id}",
        "from": telegram_user(chat_id),
        "message": carrier,
        "chat_instance": "-77",
        "data": data,
    }
    return {"update_id": update_id, "callback_query": query}


# -- the outside world in a child process ------------------------------------------------------------


class _ObservedTelegram:
    """The fake Bot API as an ASGI app that also notes, per chat, when each accepted ``sendMessage``
    happened (``time.monotonic()``, comparable across processes) and which of its messages carry an
    inline keyboard, incrementally, so a test can ask without the fake rescanning everything it saw."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.calls_seen = 0
        self.messages_seen = 0
        self.sends: dict[int, list[float]] = {}
        self.message_keys: dict[int, list[tuple[int, int]]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def noted(message: Any) -> None:
            if message["type"] == "http.response.start":  # before the bot can have the answer
                self._note(time.monotonic())
            await send(message)

        await self.fake.app(scope, receive, noted)

    def _note(self, now: float) -> None:
        with self.fake._lock:
            calls = self.fake._calls[self.calls_seen :]
            self.calls_seen += len(calls)
            fresh = len(self.fake.messages) - self.messages_seen
            keys = list(itertools.islice(reversed(self.fake.messages.keys()), fresh))
            self.messages_seen += fresh
        for call in calls:
            if call.method == "sendMessage" and call.status == 200:
                self.sends.setdefault(int(call.params["chat_id"]), []).append(now)
        for key in reversed(keys):
            self.message_keys.setdefault(key[0], []).append(key)

    def keyboard(self, chat_id: int) -> dict[str, Any] | None:
        """The chat's latest message still showing an inline keyboard."""
        with self.fake._lock:
            for key in reversed(self.message_keys.get(chat_id, [])[-20:]):
                message = self.fake.messages[key]
                if message.get("reply_markup"):
                    return message
        return None

    def routes(self) -> list[Route]:
        async def chat(request: Request) -> JSONResponse:
            return JSONResponse({"keyboard": self.keyboard(int(request.path_params["chat_id"]))})

        async def sends(request: Request) -> JSONResponse:
            return JSONResponse({str(chat): times for chat, times in self.sends.items()})

        return [Route("/_test/chat/{chat_id}", chat), Route("/_test/sends", sends), Mount("/", app=self)]


def _twilio_routes(fake: FakeTwilio) -> list[Route]:
    async def sent(request: Request) -> JSONResponse:
        with fake._lock:
            counts: dict[str, int] = {}
            for message in fake.messages:
                counts[message.to] = counts.get(message.to, 0) + 1
        return JSONResponse({"sent": counts})

    return [Route("/_test/sent", sent)]


def _run_outside_world(pipe: Any) -> None:
    """The child process: sandbox, fake Telegram and fake Twilio until the parent says stop."""
    fake_telegram, fake_twilio = FakeTelegram(), FakeTwilio()
    telegram_app = Starlette(routes=_ObservedTelegram(fake_telegram).routes())
    twilio_app = Starlette(routes=[*_twilio_routes(fake_twilio), Mount("/", app=fake_twilio.app)])
    sandbox = create_sandbox(seed=salon_seed(), clock=lambda: NOW, rate_limit=None)
    with serving(sandbox) as cadence, serving(telegram_app) as telegram, serving(twilio_app) as twilio:
        pipe.send((cadence, telegram, twilio))
        pipe.recv()  # anything, or the parent going away, means stop
    pipe.close()


@dataclass
class OutsideWorld:
    """The sandbox (the salon, clock fixed at NOW), the fake Telegram Bot API and the fake Twilio, served
    by a child process; ``with OutsideWorld() as world:``."""

    cadence_url: str = ""
    telegram_url: str = ""
    twilio_url: str = ""
    _process: Any = None
    _pipe: Any = None

    def __enter__(self) -> OutsideWorld:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_run_outside_world, args=(child,), daemon=True)
        self._process.start()
        child.close()
        if not parent.poll(60):
            self._process.kill()
            raise RuntimeError("the outside world did not start")
        self.cadence_url, self.telegram_url, self.twilio_url = parent.recv()
        self._pipe = parent
        return self

    def __exit__(self, *exc_info: object) -> None:
        with contextlib.suppress(OSError):
            self._pipe.send("stop")
        self._process.join(timeout=15)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._pipe.close()


# -- large bodies --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamedPost:
    status: int | None
    """The answer's status, or None when the server closed without one."""
    sent: int
    """Bytes of the body (with its chunk framing) written before the answer came or the connection
    broke."""


def stream_post(
    url: str,
    headers: dict[str, str],
    *,
    size: int,
    declare_length: bool = True,
    chunk: int = 64 * 1024,
    timeout: float = 20.0,
) -> StreamedPost:
    """POST ``size`` bytes of ``x`` to ``url`` over a raw socket, reading the answer as soon as there is
    one: a server that caps bodies answers (413) long before a 10 MB body is through. Without
    ``declare_length`` the body goes chunked, so only the bytes themselves can reveal its size."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head.append(f"Content-Length: {size}" if declare_length else "Transfer-Encoding: chunked")
    piece = b"x" * chunk
    sent = wire = 0
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # A small send buffer, and a short look for the answer between chunks: what is "sent" is then
        # close to what the server has taken, not what the kernel buffered on its way.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, chunk)
        sock.settimeout(timeout)
        sock.connect((host, port))
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sock.setblocking(False)
        pending = b""
        answer = b""
        while time.monotonic() < deadline:
            if not pending and sent < size:
                data = piece[: min(chunk, size - sent)]
                sent += len(data)
                pending = data if declare_length else b"%x\r\n%s\r\n" % (len(data), data)
                if sent >= size and not declare_length:
                    pending += b"0\r\n\r\n"
            readable, _, _ = select.select([sock], [], [], 0.002)
            writable = []
            if not readable:
                readable, writable, _ = select.select([sock], [sock] if pending else [], [], 0.5)
            if readable:
                try:
                    data = sock.recv(65536)
                except ConnectionError:
                    data = b""
                if not data:
                    break
                answer += data
                if b"\r\n" in answer:
                    break
            if writable and pending:
                try:
                    written = sock.send(pending)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionError:
                    break
                pending = pending[written:]
                wire += written
    status = None
    if answer.startswith(b"HTTP/1.1 "):
        status = int(answer.split(b" ", 2)[1])
    return StreamedPost(status, wire)
