"""The SMS channel's parts: numbers and tenants, the Twilio REST sender against the fake Twilio, and the
webhook's refusals (driven in-process, no Cadence needed for those)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings, TenantConfig
from bot.service import Bot, open_bot
from cadence_adapter.sandbox.server import serving
from channels.sms import SmsOptions, create_channel
from channels.sms.channel import e164, twilio_numbers
from channels.sms.rest import Origin, Rejected, SmsUnavailable, TwilioSender, Unsubscribed
from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, Phone, message_sid, sign

PUBLIC = "https://sms.example.com"


def make_bot(tmp_path: Path, **overrides: object) -> Bot:
    values: dict[str, object] = {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_api_base_url": "http://127.0.0.1:9",
        "public_url": PUBLIC,
        "tenants": {"salon": TenantConfig(slug="salon", twilio_numbers=("+351 210 000 001",))},
    }
    return open_bot(
        Settings(**{**values, **overrides}),
        base_url="http://127.0.0.1:9",
        database=str(tmp_path / "bot.db"),
    )


# -- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+351912345678", "+351912345678"),
        ("+351 912 345 678", "+351912345678"),
        ("+1 (212) 555-0199", "+12125550199"),
        ("912345678", None),  # no country: not international
        ("TWILIO", None),  # an alphanumeric sender
        ("", None),
        (None, None),
    ],
)
def test_e164(raw: str | None, expected: str | None) -> None:
    assert e164(raw) == expected


def test_tenant_numbers_are_normalised_and_must_be_unambiguous(tmp_path: Path) -> None:
    bot = make_bot(tmp_path)
    assert twilio_numbers(bot) == {"+351210000001": "salon"}
    asyncio.run(bot.aclose())
    bad = make_bot(tmp_path, tenants={"salon": TenantConfig(slug="salon", twilio_numbers=("210000001",))})
    with pytest.raises(ValueError, match="international"):
        create_channel(bad)
    asyncio.run(bad.aclose())
    twice = make_bot(
        tmp_path,
        tenants={
            "salon": TenantConfig(slug="salon", twilio_numbers=("+351210000001",)),
            "clinic": TenantConfig(slug="clinic", twilio_numbers=("+351 21 000 0001",)),
        },
    )
    with pytest.raises(ValueError, match="clinic"):
        create_channel(twice)
    asyncio.run(twice.aclose())


def test_credentials_are_required(tmp_path: Path) -> None:
    bot = make_bot(tmp_path, twilio_auth_token=None)
    with pytest.raises(ValueError, match="TWILIO_AUTH_TOKEN"):
        create_channel(bot)
    asyncio.run(bot.aclose())


def test_serve_finds_the_sms_channel_from_the_settings(tmp_path: Path) -> None:
    from bot.app import configured_channels

    bot = make_bot(tmp_path)
    [channel] = configured_channels(bot)
    assert channel.name == "sms"
    assert [route.path for route in channel.routes()] == ["/sms/twilio", "/sms/twilio/status"]
    asyncio.run(channel.stop())
    asyncio.run(bot.aclose())
    without = make_bot(tmp_path, twilio_account_sid=None)
    assert configured_channels(without) == []
    asyncio.run(without.aclose())


# -- the REST sender ------------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[tuple[FakeTwilio, str]]:
    twilio = FakeTwilio()
    with serving(twilio.app) as url:
        yield twilio, url


def test_the_sender_uses_the_configured_api_root(fake: tuple[FakeTwilio, str]) -> None:
    twilio, url = fake
    sender = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, base_url=url + "/")
    try:
        sid = sender.send_now("+351912345678", "+351210000001", "Hello")
    finally:
        sender.close()
    [sent] = twilio.messages
    assert sent.sid == sid and sent.to == "+351912345678" and sent.from_ == "+351210000001"
    assert sent.messaging_service_sid is None and sent.status_callback is None
    assert TwilioSender(ACCOUNT_SID, AUTH_TOKEN).base_url == "https://api.twilio.com"


def test_the_sender_names_a_messaging_service_instead_of_a_number(fake: tuple[FakeTwilio, str]) -> None:
    twilio, url = fake
    sender = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, base_url=url)
    service = "MG" + "0" * 32
    callback = PUBLIC + "/sms/twilio/status"
    try:
        by_service = sender.send_now(
            "+351912345678", Origin(number="+351210000001", service=service), "Hi", status_callback=callback
        )
        by_number = sender.send_now("+351912345678", Origin(number="+351210000001"), "Hi")
    finally:
        sender.close()
    first, second = twilio.messages
    assert (first.sid, first.messaging_service_sid, first.from_) == (by_service, service, ""), "no From"
    assert first.status_callback == callback
    assert (second.sid, second.messaging_service_sid, second.from_) == (by_number, None, "+351210000001")


def test_the_sender_sorts_failures(fake: tuple[FakeTwilio, str]) -> None:
    twilio, url = fake
    sender = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, base_url=url)
    twilio.unsubscribed.add("+351912345678")
    with pytest.raises(Unsubscribed):
        sender.send_now("+351912345678", "+351210000001", "Hello")
    with pytest.raises(Rejected) as rejected:
        sender.send_now("+351912000000", "+351210000001", "x" * 1601)
    assert rejected.value.code == 21617 and not isinstance(rejected.value, Unsubscribed)
    with pytest.raises(ValueError, match="number or a Messaging Service"):
        sender.send_now("+351912000000", Origin(), "Hello")
    twilio.outage = True
    with pytest.raises(SmsUnavailable):
        sender.send_now("+351912000000", "+351210000001", "Hello")
    sender.close()
    wrong = TwilioSender(ACCOUNT_SID, "not-the-token", base_url=url)
    with pytest.raises(Rejected) as unauthorised:
        wrong.send_now("+351912000000", "+351210000001", "Hello")
    assert unauthorised.value.status == 401
    wrong.close()
    nowhere = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, base_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(SmsUnavailable):
        nowhere.send_now("+351912000000", "+351210000001", "Hello")
    assert isinstance(SmsUnavailable("x"), OSError), "the job worker retries OSErrors with backoff"
    nowhere.close()
    assert twilio.messages == []


# -- the webhook's refusals -----------------------------------------------------------------------


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    from bot.app import create_app

    bot = make_bot(tmp_path)
    channel = create_channel(bot, options=SmsOptions(max_body=4096))
    app = create_app(bot, [channel], run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as http:
        yield http
    await channel.stop()
    await bot.aclose()


def signed(params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": sign(PUBLIC + "/sms/twilio", params)}


@pytest.mark.anyio
async def test_a_huge_body_is_refused(client: httpx.AsyncClient) -> None:
    params = Phone(PUBLIC, "+351912345678", "+351210000001").params("x" * 5000, message_sid())
    response = await client.post("/sms/twilio", data=params, headers=signed(params))
    assert response.status_code == 413


@pytest.mark.anyio
async def test_a_signed_webhook_without_sender_or_sid_is_a_bad_request(client: httpx.AsyncClient) -> None:
    for missing in ("From", "MessageSid"):
        params = Phone(PUBLIC, "+351912345678", "+351210000001").params("hi", "")
        params = {k: v for k, v in params.items() if k != missing and v}
        response = await client.post("/sms/twilio", data=params, headers=signed(params))
        assert response.status_code == 400, missing


@pytest.mark.anyio
async def test_only_post_is_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sms/twilio")).status_code == 405


@pytest.mark.anyio
async def test_keywords_answer_empty_twiml_without_a_turn(client: httpx.AsyncClient) -> None:
    phone = Phone(PUBLIC, "+351912345678", "+351210000001")
    for text in ("STOP", "start", "Cancel", "YES"):
        params = phone.params(text, message_sid())
        response = await client.post("/sms/twilio", data=params, headers=signed(params))
        assert response.status_code == 200
        assert response.text.endswith("<Response />"), response.text


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
