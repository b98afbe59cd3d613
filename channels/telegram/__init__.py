"""Telegram: customers book by tapping, through python-telegram-bot (client and update model).

- :mod:`.updates` — an update -> :class:`bot.types.Inbound` (deep links, commands, taps, contacts);
- :mod:`.render` — a :class:`bot.types.Reply` -> HTML messages and keyboards;
- :mod:`.sender` — Bot API calls within the flood limits (pacing, RetryAfter, retries);
- :mod:`.channel` — the webhook, polling, the durable inbox path and resuming it.

No ``telegram.ext`` Application or ConversationHandler: the conversation's state lives in our store,
and one path (:meth:`TelegramChannel.accept`) takes every update, from the webhook or from polling.
Operators' notes: ``docs/telegram.md``.
"""

from __future__ import annotations

from telegram import Bot as TelegramBot
from telegram.request import HTTPXRequest

from bot.service import Bot
from channels.telegram.channel import TelegramChannel, TelegramOptions
from channels.telegram.sender import TelegramUnavailable

__all__ = ["DEFAULT_API", "TelegramChannel", "TelegramOptions", "TelegramUnavailable", "create_channel"]

DEFAULT_API = "https://api.telegram.org"

_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def create_channel(
    bot: Bot, *, polling: bool = False, options: TelegramOptions | None = None
) -> TelegramChannel:
    """The Telegram channel for ``bot``, from its settings: ``TELEGRAM_BOT_TOKEN`` (required),
    ``TELEGRAM_WEBHOOK_SECRET``, ``TELEGRAM_API_BASE_URL`` (the Bot API root, default
    ``https://api.telegram.org``) and ``BOT_PUBLIC_URL``. With ``polling`` it long-polls instead of
    registering the webhook. Raises ``ValueError`` for a missing token or a secret Telegram refuses."""
    settings = bot.settings
    if not settings.telegram_bot_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
    if secret is not None and not (1 <= len(secret) <= 256 and set(secret) <= _SECRET_CHARS):
        raise ValueError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters from A-Z, a-z, 0-9, _ and -")
    options = options or TelegramOptions()
    root = (settings.telegram_api_base_url or DEFAULT_API).rstrip("/")
    tg = TelegramBot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=HTTPXRequest(connection_pool_size=32, read_timeout=10.0, pool_timeout=5.0),
        # Long polling holds its connection for poll_timeout; PTB adds that to this read timeout.
        get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=10.0),
    )
    return TelegramChannel(bot, tg, polling=polling, options=options)
