"""The HTTP server of ``cadence-bot serve``: every configured channel mounted on one Starlette app.

A channel is anything with the :class:`Channel` shape: routes to mount, a start and a stop for the
app's lifespan (register a webhook, start polling, resume accepted-but-unanswered messages), and a
way to send messages nobody asked for (notifications, reminders). ``create_app`` composes them; the
channels themselves live in ``channels/`` and are found by :func:`configured_channels`.

Where ``GET /metrics`` is served (docs/metrics.md):

- with ``--metrics-port`` (``metrics_socket``), on that port only, by a second server the app's
  lifespan runs, and not on the public port (404 there);
- with ``BOT_METRICS_TOKEN`` (``metrics_token``), only to ``Authorization: Bearer <token>``, wherever it
  is served; anything else gets 401;
- with neither, on the public port for anyone, as before, and ``serve`` logs a warning saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import ConfigError, Settings, load_settings
from bot.service import Bot, open_bot
from bot.turns import RunsTurns, Turns
from bot.types import Channel
from bot.worker import Worker, webhook_routes

if TYPE_CHECKING:
    import uvicorn

__all__ = [  # Channel lives in bot.types
    "Channel",
    "configured_channels",
    "create_app",
    "metrics_app",
    "serve",
]

log = logging.getLogger(__name__)


def configured_channels(bot: Bot, *, telegram_polling: bool = False) -> list[Channel]:
    """The channels whose settings are present: Telegram with a bot token, SMS with Twilio credentials."""
    found: list[Channel] = []
    if bot.settings.telegram_bot_token:
        from channels.telegram import create_channel as telegram

        found.append(telegram(bot, polling=telegram_polling))
    if bot.settings.twilio_account_sid and bot.settings.twilio_auth_token:
        from channels.sms import create_channel as sms

        found.append(sms(bot))
    return found


async def _healthz(request: Request) -> Response:
    """Liveness: the process serves HTTP. Cheap, and touching nothing outside it, so a slow Cadence or a
    full disk never gets a live process restarted (that is what ``/readyz`` reports)."""
    return JSONResponse({"status": "ok"})


async def _readyz(request: Request) -> Response:
    """Readiness: the database takes a durable write (a full disk or a read-only file fails it; reading
    alone would not notice) and Cadence answers; 503 says which did not, in a word. A channel disabled at
    start (its credentials failed) is listed but does not fail readiness: the other channels and
    Cadence's webhook still serve, and taking the whole process out of rotation would stop them too."""
    bot: Bot = request.app.state.bot
    checks: dict[str, str] = {}
    try:
        await asyncio.to_thread(bot.store.check_writable)
        checks["database"] = "ok"
    except Exception as exc:  # the kind is enough to act on; the message may quote a path
        checks["database"] = _reason(exc)
    try:
        response = await bot.http.get(bot.directory.base_url.rstrip("/") + "/", timeout=3.0)
        checks["cadence"] = "ok" if response.status_code < 500 else f"status {response.status_code}"
    except Exception as exc:
        checks["cadence"] = type(exc).__name__
    ready = all(value == "ok" for value in checks.values())
    disabled: dict[str, str] = request.app.state.disabled
    body: dict[str, object] = {"status": "ok" if ready else "unavailable", **checks}
    if disabled:
        body["disabled_channels"] = dict(disabled)
    return JSONResponse(body, status_code=200 if ready else 503)


def _reason(exc: BaseException) -> str:
    """A short, safe reason: the exception's kind, and SQLite's own words for a full or read-only disk."""
    text = str(exc)
    for known in ("database or disk is full", "attempt to write a readonly database", "disk I/O error"):
        if known in text:
            return f"{type(exc).__name__}: {known}"
    return type(exc).__name__


async def _start_channel(channel: Channel, bot: Bot, disabled: dict[str, str]) -> bool:
    """Start one channel; one whose start fails (a revoked Telegram token: getMe answers 401) is
    logged, counted (``cadence_bot_channel_up`` 0) and left disabled, so the others keep serving."""
    try:
        await channel.start()
    except Exception as exc:
        reason = _reason(exc) if not isinstance(exc, RuntimeError) else str(exc)[:120]
        log.error("channel %s disabled: its start failed (%s)", channel.name, reason)
        bot.metrics.channel_up(channel.name, False)
        bot.metrics.inc("cadence_bot_errors_total", kind=f"{channel.name}_start")
        disabled[channel.name] = reason
        return False
    bot.metrics.channel_up(channel.name, True)
    return True


def _metrics_endpoint(token: str | None) -> Callable[[Request], Awaitable[Response]]:
    """``GET /metrics``: the bot's metrics in the format the scraper accepts; with a ``token``, only to
    a request bearing it (compared in constant time), else 401."""
    expected = token.encode("utf-8") if token else None

    async def metrics(request: Request) -> Response:
        if expected is not None:
            scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                credentials.strip().encode("utf-8"), expected
            ):
                return PlainTextResponse(
                    "a bearer token is required\n",
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        bot: Bot = request.app.state.bot
        # Reading /proc (and, with several processes, their files) is file I/O: off the event loop.
        body, content_type = await asyncio.to_thread(
            bot.metrics.exposition, request.headers.get("accept", "")
        )
        return Response(body, media_type=content_type)

    return metrics


def metrics_app(bot: Bot, *, token: str | None = None) -> Starlette:
    """An app with ``GET /metrics`` alone, for ``--metrics-port``; it has no lifespan, as the bot's
    belongs to the main app."""
    app = Starlette(routes=[Route("/metrics", _metrics_endpoint(token))])
    app.state.bot = bot
    return app


def _metrics_server(bot: Bot, token: str | None) -> uvicorn.Server:
    """A uvicorn server for :func:`metrics_app` that leaves signals to the main server, which stops it
    through the app's lifespan."""
    import uvicorn

    class MetricsServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    config = uvicorn.Config(
        metrics_app(bot, token=token),
        lifespan="off",
        log_config=None,
        access_log=False,
        loop="asyncio",
        timeout_graceful_shutdown=3,
    )
    return MetricsServer(config)


def create_app(
    bot: Bot,
    channels: Sequence[Channel],
    *,
    routes: Sequence[BaseRoute] = (),
    run_worker: bool = True,
    worker: Worker | None = None,
    freeze_gc: bool = False,
    metrics_token: str | None = None,
    metrics_socket: socket.socket | None = None,
    grace: float = 5.0,
) -> Starlette:
    """The ASGI app: health, metrics, Cadence's webhook, each channel's routes and ``routes``. The
    lifespan starts the channels and the job worker (``run_worker=False`` leaves jobs queued, as a
    crashed process would), stops them, and closes the bot.

    The lifespan owns the grace period on stop (:mod:`bot.turns`): the channels that can run their turns
    in its task group do, and on shutdown it stops accepting turns, lets those in flight finish for at
    most ``grace`` seconds in all, then stops the worker (what is left of the grace lets its batch
    finish), then the channels, and closes the store last, since turns and jobs write to it to the end.

    ``metrics_token`` makes ``GET /metrics`` answer only a request bearing it. ``metrics_socket`` (bound
    and listening) moves ``GET /metrics`` off this app: the lifespan serves it on that socket instead,
    and closes it on the way out.

    ``freeze_gc`` (for a process that serves this one app, as ``serve`` does) moves everything alive
    once started (modules, the app, the caches) out of the collector's reach: the full collections
    otherwise rescan those long-lived objects and pause a turn for 10-40 ms now and then. Not for
    tests, which build many apps in one process: what is frozen is never freed."""

    worker = worker or Worker(bot, {channel.name: channel for channel in channels})
    turns = Turns(grace)
    for channel in channels:
        if isinstance(channel, RunsTurns):
            channel.run_turns_in(turns)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started: list[Channel] = []
        side: tuple[uvicorn.Server, asyncio.Task[None]] | None = None
        clock = asyncio.get_running_loop().time
        stopping_at: float | None = None
        try:
            async with turns.running():  # on the way out: no new turns, those in flight get the grace
                for channel in channels:
                    if await _start_channel(channel, bot, app.state.disabled):
                        started.append(channel)
                if run_worker:
                    await worker.start()
                if metrics_socket is not None:
                    server = _metrics_server(bot, metrics_token)
                    side = server, asyncio.create_task(server.serve(sockets=[metrics_socket]))
                    host, port = metrics_socket.getsockname()[:2]
                    log.info("GET /metrics is served on %s port %s only", host, port)
                if freeze_gc:
                    gc.collect()  # garbage from start-up first, so it is not frozen with the rest
                    gc.freeze()
                yield
                stopping_at = clock()
        finally:
            if side is not None:
                side[0].should_exit = True
                with contextlib.suppress(Exception):  # a failed metrics server must not stop the rest
                    await side[1]
            if metrics_socket is not None:
                metrics_socket.close()
            # One grace in all: the worker's batch gets what the turns left of it.
            left = grace - (clock() - stopping_at) if stopping_at is not None else 0.0
            await worker.stop(grace=max(0.0, left))
            for channel in reversed(started):
                with contextlib.suppress(Exception):
                    await channel.stop()
            await bot.aclose()

    # With a metrics port, the public port has no /metrics at all (404), token or not.
    metrics_routes = [] if metrics_socket else [Route("/metrics", _metrics_endpoint(metrics_token))]
    app = Starlette(
        routes=[
            Route("/healthz", _healthz, methods=["GET"]),
            Route("/readyz", _readyz, methods=["GET"]),
            *metrics_routes,
            *webhook_routes(bot, worker),
            *(route for channel in channels for route in channel.routes()),
            *routes,
        ],
        lifespan=lifespan,
    )
    app.state.bot = bot
    app.state.channels = {channel.name: channel for channel in channels}
    app.state.worker = worker
    app.state.turns = turns
    app.state.disabled = {}  # channel name -> why its start failed (GET /readyz lists them)
    return app


def build_app(
    settings: Settings,
    *,
    telegram_polling: bool = False,
    freeze_gc: bool = False,
    metrics_token: str | None = None,
    metrics_socket: socket.socket | None = None,
) -> Starlette:
    bot = open_bot(settings)
    return create_app(
        bot,
        configured_channels(bot, telegram_polling=telegram_polling),
        freeze_gc=freeze_gc,
        metrics_token=metrics_token,
        metrics_socket=metrics_socket,
    )


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound before anything starts, so a port in use is a start-up error."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=128)


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    telegram_polling: bool = False,
    metrics_port: int | None = None,
) -> int:
    """``cadence-bot serve``: configuration from the environment, then uvicorn until interrupted.
    ``metrics_port`` serves ``GET /metrics`` on its own port (same ``host``) instead of ``port``."""
    import uvicorn

    from bot.logs import configure_logging

    settings = load_settings()  # the environment, and .env where the environment says nothing
    if not settings.cadence_base_url:
        raise ConfigError("CADENCE_BASE_URL is not set (run `cadence-bot sandbox` for a local Cadence)")
    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if metrics_port is not None and metrics_port == port:
        raise ConfigError(f"--metrics-port {metrics_port} is the public port: choose another one")
    metrics_socket = _listen(host, metrics_port) if metrics_port is not None else None
    configure_logging()
    app = build_app(
        settings,
        telegram_polling=telegram_polling,
        freeze_gc=True,
        metrics_token=metrics_token,
        metrics_socket=metrics_socket,
    )
    if metrics_socket is None and metrics_token is None:
        log.warning(
            "GET /metrics is open to anyone on the public port %s: set BOT_METRICS_TOKEN or use"
            " --metrics-port (docs/metrics.md)",
            port,
        )
    uvicorn.run(app, host=host, port=port, log_config=None)
    return 0
