"""Sending text messages through Twilio's REST API (twilio's ``Client``), off the event loop.

The API root comes from ``TWILIO_API_BASE_URL`` (default ``https://api.twilio.com``): the Api domain's
``base_url`` is what every Messages call is built on, so pointing it elsewhere (a fake in tests, a proxy)
needs no custom HTTP client. The twilio library's HTTP is synchronous (requests), so each call runs in a
worker thread.

Failures are sorted by what the caller should do about them:

- :class:`Unsubscribed` (Twilio error 21610): the customer texted STOP; record it and stop sending;
- :class:`Rejected`: any other 4xx; the message will never go (bad number, bad sender), don't retry;
- :class:`SmsUnavailable`: 5xx, 429, or no connection; worth retrying later. It is a ``ConnectionError``
  (an ``OSError``), which the job worker retries with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

__all__ = ["DEFAULT_API", "Origin", "Rejected", "SmsUnavailable", "TwilioSender", "Unsubscribed"]

log = logging.getLogger(__name__)

DEFAULT_API: Final = "https://api.twilio.com"
UNSUBSCRIBED_CODE: Final = 21610
"""Twilio's "Attempt to send to unsubscribed recipient"."""


class SmsUnavailable(ConnectionError):
    """Twilio could not be reached or failed on its side (5xx, 429): try again later."""


class Rejected(Exception):
    """Twilio refused the message for good (4xx other than 429): retrying will not help."""

    def __init__(self, status: int, code: int | None) -> None:
        super().__init__(f"Twilio refused the message: HTTP {status}, error {code}")
        self.status, self.code = status, code


class Unsubscribed(Rejected):
    """The recipient opted out of this number (Twilio error 21610)."""


@dataclass(frozen=True)
class Origin:
    """Who a message is sent as: a Messaging Service (``MessagingServiceSid``), which then picks the
    number itself (sticky sender, number pools), or else one of our numbers (``From``)."""

    number: str | None = None
    service: str | None = None

    def params(self) -> dict[str, str]:
        """The twilio ``messages.create`` arguments naming the sender: the service when there is one,
        since Twilio refuses neither but a ``From`` would bypass the service's choice of number."""
        if self.service:
            return {"messaging_service_sid": self.service}
        if self.number:
            return {"from_": self.number}
        raise ValueError("an Origin needs a number or a Messaging Service SID")


class TwilioSender:
    """One account's Messages API. Thread-safe; :meth:`close` releases its connection pool."""

    def __init__(
        self, account_sid: str, auth_token: str, *, base_url: str | None = None, timeout: float = 10.0
    ) -> None:
        self._http = TwilioHttpClient(timeout=timeout)
        # twilio reads TWILIO_EDGE / TWILIO_REGION from the environment when given none; a mapping of its
        # own keeps our configuration in bot.config alone (an edge would rewrite the API host).
        self._client = Client(
            account_sid, auth_token, http_client=self._http, environment={"CADENCE_BOT": "1"}
        )
        self._client.api.base_url = (base_url or DEFAULT_API).rstrip("/")

    @property
    def base_url(self) -> str:
        return str(self._client.api.base_url)

    def send_now(
        self, to: str, origin: Origin | str, body: str, *, status_callback: str | None = None
    ) -> str:
        """Send one message (blocking) from ``origin`` (a number, or an :class:`Origin`); returns its
        MessageSid. With ``status_callback``, Twilio posts the message's delivery statuses there."""
        sender = origin if isinstance(origin, Origin) else Origin(number=origin)
        extra: dict[str, Any] = sender.params()
        if status_callback:
            extra["status_callback"] = status_callback
        try:
            message = self._client.messages.create(to=to, body=body, **extra)
        except TwilioRestException as exc:
            status, code = int(exc.status), exc.code
            if code == UNSUBSCRIBED_CODE:
                raise Unsubscribed(status, code) from None
            if status >= 500 or status == 429:
                raise SmsUnavailable(f"Twilio answered HTTP {status}, error {code}") from None
            raise Rejected(status, code) from None
        except requests.RequestException as exc:
            raise SmsUnavailable(f"Twilio unreachable: {type(exc).__name__}") from None
        return str(message.sid)

    async def send(
        self, to: str, origin: Origin | str, body: str, *, status_callback: str | None = None
    ) -> str:
        """:meth:`send_now` in a worker thread, so the event loop keeps serving."""
        return await asyncio.to_thread(
            partial(self.send_now, to, origin, body, status_callback=status_callback)
        )

    def close(self) -> None:
        if self._http.session is not None:
            self._http.session.close()
