"""The HTTP server of ``cadence-bot serve``: every configured channel mounted on one Starlette app.

A channel is anything with the :class:`Channel` shape: routes to mount, a start and a stop for the
app's lifespan (register a webhook, start polling, resume accepted-but-unanswered messages), and a
way to send messages nobody asked for (notifications, reminders). ``create_app`` composes them; the
channels themselves live in ``channels/`` and are found by :func:`configured_channels`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import ConfigError, Settings, load_settings
from bot.service import Bot, open_bot
from bot.types import Channel
from bot.worker import Worker, webhook_routes

__all__ = ["Channel", "configured_channels", "create_app", "serve"]  # Channel lives in bot.types

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
    """Ready when the database answers and Cadence does; 503 says which one did not."""
    bot: Bot = request.app.state.bot
    checks: dict[str, str] = {}
    try:
        await asyncio.to_thread(bot.store.load, "healthz", "healthz")
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready"; the kind is enough to act on
        checks["database"] = type(exc).__name__
    try:
        response = await bot.http.get(bot.directory.base_url.rstrip("/") + "/", timeout=3.0)
        checks["cadence"] = "ok" if response.status_code < 500 else f"status {response.status_code}"
    except Exception as exc:
        checks["cadence"] = type(exc).__name__
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503
    )


async def _metrics(request: Request) -> Response:
    bot: Bot = request.app.state.bot
    return PlainTextResponse(bot.metrics.render(), media_type="text/plain; version=0.0.4")


def create_app(
    bot: Bot,
    channels: Sequence[Channel],
    *,
    routes: Sequence[BaseRoute] = (),
    run_worker: bool = True,
    worker: Worker | None = None,
    freeze_gc: bool = False,
) -> Starlette:
    """The ASGI app: health, metrics, Cadence's webhook, each channel's routes and ``routes``. The
    lifespan starts the channels and the job worker (``run_worker=False`` leaves jobs queued, as a
    crashed process would), stops them, and closes the bot.

    ``freeze_gc`` (for a process that serves this one app, as ``serve`` does) moves everything alive
    once started (modules, the app, the caches) out of the collector's reach: the full collections
    otherwise rescan those long-lived objects and pause a turn for 10-40 ms now and then. Not for
    tests, which build many apps in one process: what is frozen is never freed."""

    worker = worker or Worker(bot, {channel.name: channel for channel in channels})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        started: list[Channel] = []
        try:
            for channel in channels:
                await channel.start()
                started.append(channel)
            if run_worker:
                await worker.start()
            if freeze_gc:
                gc.collect()  # garbage from start-up first, so it is not frozen with the rest
                gc.freeze()
            yield
        finally:
            await worker.stop()
            for channel in reversed(started):
                with contextlib.suppress(Exception):
                    await channel.stop()
            await bot.aclose()

    app = Starlette(
        routes=[
            Route("/healthz", _healthz, methods=["GET"]),
            Route("/metrics", _metrics, methods=["GET"]),
            *webhook_routes(bot, worker),
            *(route for channel in channels for route in channel.routes()),
            *routes,
        ],
        lifespan=lifespan,
    )
    app.state.bot = bot
    app.state.channels = {channel.name: channel for channel in channels}
    app.state.worker = worker
    return app


def build_app(settings: Settings, *, telegram_polling: bool = False, freeze_gc: bool = False) -> Starlette:
    bot = open_bot(settings)
    return create_app(bot, configured_channels(bot, telegram_polling=telegram_polling), freeze_gc=freeze_gc)


def serve(host: str = "127.0.0.1", port: int = 8080, telegram_polling: bool = False) -> int:
    """``cadence-bot serve``: configuration from the environment, then uvicorn until interrupted."""
    import uvicorn

    from bot.logs import configure_logging

    settings = load_settings(os.environ)
    if not settings.cadence_base_url:
        raise ConfigError("CADENCE_BASE_URL is not set (run `cadence-bot sandbox` for a local Cadence)")
    configure_logging()
    app = build_app(settings, telegram_polling=telegram_polling, freeze_gc=True)
    uvicorn.run(app, host=host, port=port, log_config=None)
    return 0
