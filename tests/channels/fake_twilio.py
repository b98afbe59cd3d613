"""A small fake of Twilio for the SMS tests: the REST Messages API the bot sends through, and a customer's
phone that texts the bot the way Twilio's webhook would (form-encoded, signed by the real twilio library).

- :class:`FakeTwilio` serves ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (HTTP basic auth with
  the account SID and auth token, form-encoded ``To``/``From``/``Body``) and answers 201 with a message
  resource shaped like Twilio's; it records every message. A number in :attr:`FakeTwilio.unsubscribed`
  gets Twilio's 400 with error 21610, and :attr:`FakeTwilio.outage` answers 503.
- :class:`Phone` posts webhooks to the bot's ``/sms/twilio``, signed with
  ``RequestValidator(token).compute_signature(url, params)`` for the URL Twilio would have called, and reads
  the TwiML answer back into message bodies.
- :data:`OUTBOX` collects every text the bot produced in this test session (TwiML bodies and REST
  messages), so a final test can measure them all.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from channels.sms.gsm import segments

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test_auth_token_0123456789abcdef"

OUTBOX: list[str] = []
"""Every text the bot sent in this session (TwiML and REST), for the session-wide GSM-7/segment check."""
_OUTBOX_LOCK = threading.Lock()


def collect(bodies: list[str]) -> None:
    with _OUTBOX_LOCK:
        OUTBOX.extend(bodies)


@dataclass(frozen=True)
class SentMessage:
    sid: str
    to: str
    from_: str
    body: str
    messaging_service_sid: str | None = None
    status_callback: str | None = None


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    messages: list[SentMessage] = field(default_factory=list)
    unsubscribed: set[str] = field(default_factory=set)
    """Numbers that texted STOP, as Twilio knows them: sending to them is error 21610."""
    outage: bool = False
    outage_after: int = 0
    """With ``outage``: how many more messages are still taken before it answers 503 (a mid-turn outage)."""
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[Route("/2010-04-01/Accounts/{account}/Messages.json", self._create, methods=["POST"])]
        )

    # -- the REST API -----------------------------------------------------------------------------

    def _authorized(self, request: Request, account: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return account == self.account_sid and request.headers.get("authorization") == f"Basic {expected}"

    @staticmethod
    def _error(status: int, code: int, message: str) -> JSONResponse:
        return JSONResponse(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status_code=status,
        )

    async def _create(self, request: Request) -> Response:
        with self._lock:
            self.requests += 1
        account = request.path_params["account"]
        if not self._authorized(request, account):
            return self._error(401, 20003, "Authenticate")
        if self.outage:
            with self._lock:
                down = self.outage_after <= 0
                self.outage_after -= 1
            if down:
                return self._error(503, 20500, "Service unavailable")
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return self._error(400, 21620, "Expected a form-encoded body")
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        service = form.get("MessagingServiceSid") or None
        if not to:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not from_ and not service:
            return self._error(400, 21603, "A 'From' phone number is required.")
        if service and not service.startswith("MG"):
            return self._error(400, 21701, "The Messaging Service Sid is invalid.")
        if not body:
            return self._error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return self._error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in self.unsubscribed:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + uuid.uuid4().hex
        with self._lock:
            callback = form.get("StatusCallback") or None
            self.messages.append(SentMessage(sid, to, from_, body, service, callback))
        collect([body])
        now = format_datetime(datetime.now(UTC), usegmt=True)
        return JSONResponse(
            {
                "account_sid": account,
                "api_version": "2010-04-01",
                "body": body,
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": from_ or None,  # Twilio picks the service's number after this answer
                "messaging_service_sid": service,
                "num_media": "0",
                "num_segments": str(segments(body)),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "queued",
                "subresource_uris": {
                    "media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json",
                },
                "to": to,
                "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            },
            status_code=201,
        )

    # -- reading what was sent --------------------------------------------------------------------

    def sent_to(self, number: str) -> list[SentMessage]:
        with self._lock:
            return [m for m in self.messages if m.to == number]

    def report(
        self,
        sid: str,
        status: str,
        *,
        error_code: str | None = None,
        via: str | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        """Post ``status`` of the sent message ``sid`` to its ``StatusCallback``, with the fields Twilio
        sends, signed for that URL (with ``token``, default the account's). ``via``: the URL the request
        really goes to, when the callback URL is a proxy's (which strips its own prefix)."""
        [message] = [m for m in self.messages if m.sid == sid]
        assert message.status_callback, "the message asked for no status callbacks"
        params = {
            "SmsSid": sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": message.to,
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": message.from_ or "+351210000001",
            "ApiVersion": "2010-04-01",
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = error_code
        signature = sign(message.status_callback, params, token or self.auth_token)
        url = via or message.status_callback
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        return httpx.post(url, data=params, headers=headers, timeout=10)

    def wait_for(self, number: str, count: int = 1, timeout: float = 10.0) -> list[SentMessage]:
        """The messages sent to ``number`` once there are at least ``count`` (AssertionError after
        ``timeout`` seconds)."""
        wait_until(lambda: len(self.sent_to(number)) >= count, timeout, f"{count} message(s) to {number}")
        return self.sent_to(number)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# -- the customer's side: Twilio's webhook --------------------------------------------------------

_sids = itertools.count(1)


def message_sid() -> str:
    return f"SM{next(_sids):08d}{uuid.uuid4().hex[:24]}"


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """``X-Twilio-Signature`` for a POST of ``params`` to ``url``, as Twilio computes it."""
    return str(RequestValidator(token).compute_signature(url, params))


def twiml_bodies(xml: str) -> list[str]:
    """The bodies of a TwiML answer's ``<Message>`` elements (``[]`` for ``<Response/>``)."""
    root = ET.fromstring(xml)
    assert root.tag == "Response", xml
    bodies = []
    for message in root.iter("Message"):
        body = message.find("Body")
        bodies.append((body.text if body is not None else message.text) or "")
    return bodies


@dataclass
class Answer:
    status: int
    bodies: list[str]
    seconds: float
    raw: str

    @property
    def text(self) -> str:
        return "\n".join(self.bodies)


@dataclass
class Phone:
    """A customer's phone texting a Twilio number; Twilio's webhook to the bot carries each text."""

    bot_url: str
    """Where the webhook really goes (``http://127.0.0.1:port``)."""
    number: str
    to: str
    public_url: str | None = None
    """The URL Twilio is configured with (and signs); the bot's own URL unless behind a proxy."""
    token: str = AUTH_TOKEN
    path: str = "/sms/twilio"
    sent: int = 0
    """Texts this phone sent that the bot accepted (status 200)."""
    answers: list[Answer] = field(default_factory=list)

    def params(self, text: str, sid: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "ToCountry": "PT",
            "SmsMessageSid": sid or "",
            "NumMedia": "0",
            "SmsSid": sid or "",
            "SmsStatus": "received",
            "Body": text,
            "To": self.to,
            "NumSegments": "1",
            "MessageSid": sid or "",
            "AccountSid": ACCOUNT_SID,
            "From": self.number,
            "ApiVersion": "2010-04-01",
            **extra,
        }

    def post(
        self,
        params: dict[str, str],
        *,
        signature: str | bool | None = True,
        query: str = "",
        timeout: float = 20.0,
    ) -> Answer:
        """Deliver one webhook; ``signature`` True signs it properly, a string sends that signature,
        None or False sends none."""
        suffix = self.path + (f"?{query}" if query else "")
        signed_url = (self.public_url or self.bot_url).rstrip("/") + suffix
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"}
        if signature is True:
            headers["X-Twilio-Signature"] = sign(signed_url, params, self.token)
        elif isinstance(signature, str):
            headers["X-Twilio-Signature"] = signature
        started = time.monotonic()
        response = httpx.post(self.bot_url + suffix, data=params, headers=headers, timeout=timeout)
        seconds = time.monotonic() - started
        bodies: list[str] = []
        if response.status_code == 200:
            assert response.headers["content-type"].startswith(("application/xml", "text/xml"))
            bodies = twiml_bodies(response.text)
            collect(bodies)
        return Answer(response.status_code, bodies, seconds, response.text)

    def text(self, body: str, *, sid: str | None = None, **extra: Any) -> Answer:
        """Text ``body`` to the bot; the TwiML answer (status 200 expected)."""
        answer = self.post(self.params(body, sid or message_sid()), **extra)
        assert answer.status == 200, (answer.status, answer.raw)
        self.sent += 1
        self.answers.append(answer)
        return answer
