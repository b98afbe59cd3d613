"""Reading a request Twilio signed: the form, checked against ``X-Twilio-Signature``.

Both of Twilio's calls to the bot (an incoming message, ``POST /sms/twilio``, and a delivery status,
``POST /sms/twilio/status``) are checked the same way, by the real twilio ``RequestValidator``:
Twilio signs the exact URL it requested, which behind a proxy is not the one the bot sees, so the
URL is rebuilt as ``BOT_PUBLIC_URL`` followed by the path and query the bot was given. Without
``BOT_PUBLIC_URL`` nothing can be checked, and everything is refused.
"""

from __future__ import annotations

import logging
from typing import Final
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from twilio.request_validator import RequestValidator

from bot.metrics import Metrics
from channels.bodies import read_limited

__all__ = ["SIGNATURE_HEADER", "Form", "read_signed"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "X-Twilio-Signature"


class Form(dict[str, list[str]]):
    """Form fields with every value kept, as the twilio RequestValidator reads them (``getlist``)."""

    def getlist(self, name: str) -> list[str]:
        return self.get(name, [])

    def first(self, name: str) -> str:
        values = self.get(name)
        return values[0] if values else ""


def parse_form(body: bytes) -> Form:
    """The form in ``body``; empty for bytes that are not a UTF-8 form (its signature then fails)."""
    form = Form()
    try:
        for key, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True):
            form.setdefault(key, []).append(value)
    except (UnicodeDecodeError, ValueError):
        return Form()
    return form


async def read_signed(
    request: Request,
    *,
    validator: RequestValidator,
    public_url: str | None,
    max_body: int,
    metrics: Metrics,
    what: str,
) -> Form | Response:
    """The request's form when Twilio signed it, else the answer refusing it: 403 without
    ``public_url`` or with a missing or wrong signature (logged as ``refused an SMS <what>: ...`` and
    counted as ``sms_bad_signature``), 413 for a body over ``max_body`` bytes."""
    if not public_url:
        log.error("refused an SMS %s: BOT_PUBLIC_URL is not set, so its signature can't be checked", what)
        return PlainTextResponse("BOT_PUBLIC_URL is not configured", status_code=403)
    body = await read_limited(request, max_body)
    if body is None:
        return PlainTextResponse("body too large", status_code=413)
    form = parse_form(body)
    # The URL Twilio requested, as it saw it: the public root, then the path and query we were given.
    url = public_url.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature or not validator.validate(url, form, signature):
        log.warning("refused an SMS %s: %s signature", what, "bad" if signature else "no")
        metrics.inc("cadence_bot_errors_total", kind="sms_bad_signature")
        return PlainTextResponse("invalid signature", status_code=403)
    return form
