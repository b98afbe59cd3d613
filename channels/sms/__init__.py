"""SMS: customers book by text message through Twilio.

- :mod:`.gsm` — the GSM-7 alphabet and segment counting (pure);
- :mod:`.compose` — replies as short numbered text messages, carrier keywords (pure);
- :mod:`.rest` — Twilio's Messages API (twilio's ``Client``, in a worker thread);
- :mod:`.signed` — reading a request Twilio signed (``X-Twilio-Signature`` on ``BOT_PUBLIC_URL`` + path);
- :mod:`.status` — delivery status callbacks: a report, and the kind of job a text belonged to;
- :mod:`.channel` — ``POST /sms/twilio``: signature, dedupe, keywords, the reply budget, proactive sends;
  ``POST /sms/twilio/status``: delivery statuses marked, failures logged and counted.

Operators' notes: ``docs/sms.md``.
"""

from __future__ import annotations

from bot.service import Bot
from channels.sms.channel import SmsChannel, SmsOptions, twilio_numbers
from channels.sms.rest import DEFAULT_API, TwilioSender

__all__ = ["DEFAULT_API", "SmsChannel", "SmsOptions", "create_channel"]


def create_channel(bot: Bot, *, options: SmsOptions | None = None) -> SmsChannel:
    """The SMS channel for ``bot``, from its settings: ``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN``
    (required), ``TWILIO_API_BASE_URL`` (the REST root, default ``https://api.twilio.com``),
    ``BOT_PUBLIC_URL`` (the URL Twilio signs, and the root of the status callback URL; without it every
    webhook is refused) and the tenants' ``twilio_numbers`` and ``messaging_service_sid``. Raises
    ``ValueError`` for missing credentials or a malformed number."""
    settings = bot.settings
    if not settings.twilio_account_sid or not settings.twilio_auth_token:
        raise ValueError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must both be set")
    numbers = twilio_numbers(bot)
    token = settings.twilio_auth_token.get_secret_value()
    sender = TwilioSender(settings.twilio_account_sid, token, base_url=settings.twilio_api_base_url)
    return SmsChannel(bot, sender, auth_token=token, numbers=numbers, options=options)
