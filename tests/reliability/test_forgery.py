"""Forged and oversized requests on every endpoint that takes traffic from outside (issue 8).

One ``cadence-bot serve`` app (Telegram and SMS channels, Cadence's webhook) runs under uvicorn on
127.0.0.1 against the sandbox, the fake Bot API and the fake Twilio; its job worker is off, so a job a
forged event added would still be in the table to find. For each endpoint:

- ``POST /telegram/webhook``: no secret header, an empty, wrong, same-length-but-wrong, prefix,
  extended, case-changed or non-ASCII one: 403;
- ``POST /sms/twilio``: no signature, an empty or garbage one, one made with another auth token, for
  another URL (host, scheme, path, query) or other parameters, and a genuine signature replayed with an
  altered Body or From: 403;
- ``POST /cadence/webhook[/slug]``: no signature, another secret (also another tenant's), a tampered body,
  another scheme's prefix, a non-ASCII header: 401. Cadence's scheme signs the body only, with no
  timestamp, so "stale" cannot be told from the signature; a replayed genuine delivery is recognised by
  its event id instead and queued once;
- 10 MB bodies, declared and chunked: 413 after reading at most about the endpoint's cap (403 first on
  Telegram without the secret).

None is processed (no turn in the metrics or the store, no job, no message to Telegram or Twilio), the
genuine request sent afterwards still is, and ``/healthz`` stays 200.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.config import TenantConfig
from bot.service import Bot
from bot.worker import MAX_WEBHOOK_BODY
from cadence_adapter import sign
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from channels.telegram.channel import MAX_BODY as TELEGRAM_MAX_BODY
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_twilio import AUTH_TOKEN, FakeTwilio, Phone
from tests.channels.fake_twilio import sign as twilio_sign
from tests.conftest import NOW, salon_seed
from tests.reliability._chaos import (
    SALON_NUMBER,
    TELEGRAM_SECRET,
    WEBHOOK_SECRET,
    ServedBot,
    serve_bot,
    stream_post,
    telegram_message,
)

SMS_MAX_BODY = 64 * 1024  # SmsOptions.max_body's default
TEN_MB = 10 * 1024 * 1024
SLACK = 1024 * 1024
"""What socket buffers may hold beyond what the server read before it answered (a small send buffer
and a pause between chunks keep it near 100 KB; a server that read the whole body would show 10 MB)."""
OTHER_SECRET = "whsec_another_tenant"

_update_ids = itertools.count(7_000_000)
_chats = itertools.count(880_000)
_phones = itertools.count(100)


@dataclass
class World:
    served: ServedBot
    telegram: FakeTelegram
    twilio: FakeTwilio

    @property
    def bot(self) -> Bot:
        return self.served.bot

    @property
    def url(self) -> str:
        return self.served.url

    def turns(self) -> float:
        """Dialog turns taken so far, on any channel, whatever their result."""
        return sum(
            self.bot.metrics.value("cadence_bot_turns_total", channel=channel, result=result)
            for channel in ("telegram", "sms")
            for result in ("ok", "error")
        )

    def healthy(self) -> bool:
        return httpx.get(f"{self.url}/healthz", timeout=10).status_code == 200


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    telegram, twilio = FakeTelegram(), FakeTwilio()
    other = TenantConfig(slug="other", webhook_secret=OTHER_SECRET)
    with (
        serving(create_sandbox(seed=salon_seed(), clock=lambda: NOW, rate_limit=None)) as cadence,
        serving(telegram.app) as telegram_api,
        serving(twilio.app) as twilio_api,
        serve_bot(
            cadence_url=cadence,
            telegram_api=telegram_api,
            twilio_api=twilio_api,
            database=tmp_path_factory.mktemp("forgery") / "bot.db",
            more_tenants=(other,),
            run_worker=False,
        ) as served,
    ):
        yield World(served, telegram, twilio)


# -- Telegram ------------------------------------------------------------------------------------------


def _telegram_forgeries() -> list[tuple[str, bytes | None]]:
    right = TELEGRAM_SECRET
    same_length = right[:-1] + ("x" if right[-1] != "x" else "y")
    return [
        ("missing", None),
        ("empty", b""),
        ("wrong", b"not-the-secret"),
        ("right length, wrong value", same_length.encode()),
        ("prefix", right[:-1].encode()),
        ("extended", (right + "0").encode()),
        ("case changed", right.swapcase().encode()),
        ("non-ASCII", right.encode()[:-1] + b"\xe9"),
    ]


@pytest.mark.parametrize(("case", "secret"), _telegram_forgeries(), ids=[c for c, _ in _telegram_forgeries()])
def test_forged_telegram_secrets_are_refused(world: World, case: str, secret: bytes | None) -> None:
    chat, update_id = next(_chats), next(_update_ids)
    update = telegram_message(chat, update_id, "a haircut tomorrow at 3pm")
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret  # type: ignore[assignment]
    turns = world.turns()

    response = httpx.post(
        f"{world.url}/telegram/webhook", content=json.dumps(update).encode(), headers=headers, timeout=10
    )

    assert response.status_code == 403, (case, response.status_code)
    assert world.turns() == turns
    assert world.bot.store.load("telegram", str(chat)).state is None
    assert world.bot.store.processed_replies("telegram", str(chat), str(update_id)) is None
    assert str(update_id) not in world.served.done
    assert world.telegram.sent(chat) == []

    genuine = world.served.telegram_post(update)  # the same update, with the secret
    assert genuine.status_code == 200
    world.served.wait_done(update_id)
    assert any("What name should I put" in m["text"] for m in world.telegram.sent(chat))


# -- Twilio --------------------------------------------------------------------------------------------


def _phone(world: World) -> Phone:
    return Phone(world.url, f"+3519123{next(_phones):05d}", SALON_NUMBER)


def _twilio_forgeries(url: str, params: dict[str, str]) -> list[tuple[str, dict[str, str], str | None]]:
    """(case, the params posted, the X-Twilio-Signature sent) for ``params`` posted to ``url``."""
    genuine = twilio_sign(url, params)
    other_phone = {**params, "From": "+351912999999"}
    return [
        ("missing", params, None),
        ("empty", params, ""),
        ("garbage", params, "not base64 at all"),
        ("random bytes", params, base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()),
        ("another auth token", params, twilio_sign(url, params, token="not-" + AUTH_TOKEN)),
        ("another host", params, twilio_sign(url.replace("127.0.0.1", "evil.example"), params)),
        ("https instead of http", params, twilio_sign(url.replace("http://", "https://"), params)),
        ("another path", params, twilio_sign(url + "/other", params)),
        ("with a query", params, twilio_sign(url + "?x=1", params)),
        ("a parameter left out", params, twilio_sign(url, {k: v for k, v in params.items() if k != "Body"})),
        ("a parameter added", params, twilio_sign(url, {**params, "Extra": "1"})),
        ("replayed, Body altered", {**params, "Body": "cancel my booking"}, genuine),
        ("replayed, From altered", other_phone, genuine),
        ("replayed, MessageSid altered", {**params, "MessageSid": "SM" + uuid.uuid4().hex}, genuine),
    ]


def test_forged_twilio_signatures_are_refused(world: World) -> None:
    pat = _phone(world)
    url = world.url + "/sms/twilio"
    params = pat.params("a haircut tomorrow at 3pm", "SM" + uuid.uuid4().hex)
    turns = world.turns()
    refused = world.bot.metrics.value("cadence_bot_errors_total", kind="sms_bad_signature")
    forgeries = _twilio_forgeries(url, params)

    for case, posted, signature in forgeries:
        answer = pat.post(posted, signature=signature)
        assert answer.status == 403, (case, answer.status, answer.raw)

    assert world.turns() == turns, "no forged message reached the dialog"
    assert world.bot.metrics.value("cadence_bot_errors_total", kind="sms_bad_signature") == refused + len(
        forgeries
    )
    for number in (pat.number, "+351912999999"):
        assert world.bot.store.load("sms", number).state is None
    assert world.twilio.messages == []

    genuine = pat.post(params)
    assert genuine.status == 200 and "What name should I put" in genuine.text, genuine.raw
    replay = pat.post(params)  # Twilio's own redelivery: accepted, not processed twice
    assert replay.status == 200 and replay.bodies == []
    assert world.turns() == turns + 1


# -- Cadence ---------------------------------------------------------------------------------------------


def _event(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "booking.cancelled",
        "created_at": "2026-06-01T08:00:00Z",
        "data": {
            "id": "bk_forged",
            "service_id": "svc_cut",
            "start": "2026-06-02T14:00:00Z",
            "status": "cancelled",
        },
    }


def _cadence_forgeries(body: bytes) -> list[tuple[str, bytes, str | bytes | None]]:
    digest = sign(WEBHOOK_SECRET, body)
    tampered = body.replace(b"bk_forged", b"bk_forgee")
    return [
        ("missing", body, None),
        ("empty", body, ""),
        ("wrong secret", body, sign("whsec_guess", body)),
        ("another tenant's secret", body, sign(OTHER_SECRET, body)),
        ("tampered body", tampered, digest),
        ("body with trailing space", body + b" ", digest),
        ("bare hex", body, digest.removeprefix("sha256=")),
        ("another scheme", body, "sha1=" + digest.removeprefix("sha256=")),
        ("truncated", body, digest[:-2]),
        ("non-ASCII", body, digest.encode()[:-1] + b"\xe9"),
    ]


@pytest.mark.parametrize("path", ["/cadence/webhook/salon", "/cadence/webhook"])
def test_forged_cadence_signatures_are_refused(world: World, path: str) -> None:
    event_id = f"evt_{uuid.uuid4().hex}"
    body = json.dumps(_event(event_id)).encode()

    for case, posted, signature in _cadence_forgeries(body):
        headers: dict[str, Any] = {"Content-Type": "application/json", "X-Cadence-Event": "booking.cancelled"}
        if signature is not None:
            headers["X-Cadence-Signature"] = signature
        response = httpx.post(world.url + path, content=posted, headers=headers, timeout=10)
        assert response.status_code == 401, (case, response.status_code, response.text)
        assert world.bot.store.get_job(f"event:salon:{event_id}") is None, case
    tampered_id = json.loads(body.replace(b"bk_forged", b"bk_forgee"))["id"]
    assert world.bot.store.get_job(f"event:salon:{tampered_id}") is None

    genuine = {"Content-Type": "application/json", "X-Cadence-Signature": sign(WEBHOOK_SECRET, body)}
    first = httpx.post(world.url + path, content=body, headers=genuine, timeout=10)
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False}
    replayed = httpx.post(world.url + path, content=body, headers=genuine, timeout=10)
    assert replayed.status_code == 200 and replayed.json() == {"received": True, "duplicate": True}
    assert world.bot.store.get_job(f"event:salon:{event_id}") is not None
    unknown = httpx.post(world.url + "/cadence/webhook/nobody", content=body, headers=genuine, timeout=10)
    assert unknown.status_code == 404


# -- oversized bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize(
    ("endpoint", "headers", "status", "cap"),
    [
        ("/telegram/webhook", {"Content-Type": "application/json"}, 403, 0),
        (
            "/telegram/webhook",
            {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            413,
            TELEGRAM_MAX_BODY,
        ),
        (
            "/sms/twilio",
            {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
            413,
            SMS_MAX_BODY,
        ),
        (
            "/cadence/webhook/salon",
            {"Content-Type": "application/json", "X-Cadence-Signature": "sha256=00"},
            413,
            MAX_WEBHOOK_BODY,
        ),
    ],
    ids=["telegram without secret", "telegram", "sms", "cadence"],
)
def test_oversized_bodies_are_refused_without_being_read(
    world: World, endpoint: str, headers: dict[str, str], status: int, cap: int, declared: bool
) -> None:
    turns = world.turns()
    sent_before = len(world.telegram.sent()), len(world.twilio.messages)

    posted = stream_post(world.url + endpoint, headers, size=TEN_MB, declare_length=declared)

    assert posted.status == status, posted
    assert posted.sent < cap + SLACK, f"{posted.sent} bytes taken before the answer: the body was read"
    assert world.turns() == turns
    assert (len(world.telegram.sent()), len(world.twilio.messages)) == sent_before
    assert world.healthy()


def test_the_server_still_works_after_every_refusal(world: World) -> None:
    """Runs last in this module: after everything above, a genuine message on each channel is answered."""
    assert world.healthy()
    chat, update_id = next(_chats), next(_update_ids)
    assert world.served.telegram_post(telegram_message(chat, update_id, "hi")).status_code == 200
    world.served.wait_done(update_id)
    assert any("Studio Salon" in m["text"] for m in world.telegram.sent(chat))
    assert "Studio Salon" in _phone(world).text("hi").text
