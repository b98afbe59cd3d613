"""Cadence failing at the HTTP level, between the bot and the sandbox (issue 8, reliability suite).

A real fault-injecting proxy (:class:`tests.reliability._chaos.ChaosProxy`) sits between the bot and the
sandbox on 127.0.0.1 and answers scripted requests with 500/502/503, 429 with ``Retry-After``, silence
longer than the client's timeout, or a closed connection, before the sandbox sees the request or after it
has processed it. Conversations run through ``bot.engine.handle`` (and, for the HTTP endpoints, through
the served app). The claims:

- every retry of one logical POST carries the same ``Idempotency-Key``, also across "try again" turns;
- a booking whose response was lost after Cadence made it is made exactly once;
- while Cadence stays down the customer gets the catalog's clear apology (not a trace), the conversation
  state is kept, and "try again" completes the booking once Cadence is back; a booking whose answer
  never came is said to be being checked (it may have been made), and the worker's check, or "try
  again", completes it with the same key;
- the bot's HTTP endpoints answer without a 5xx meanwhile (``/readyz`` excepted: it reports the outage
  with 503 by design; ``/healthz``, liveness, stays 200).

The bot's HTTP client times out after 0.5 s and the retry policy is the production one (4 attempts,
jittered backoff of at most 0.2/0.4/0.8 s), so the whole file stays well under 30 s.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Settings, TenantConfig
from bot.engine import TurnResult
from bot.i18n import t
from bot.service import Bot, open_bot
from bot.types import Inbound
from bot.worker import Worker
from cadence_adapter import new_http_client
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_twilio import FakeTwilio, Phone
from tests.conftest import NOW, SALON_KEY, salon_seed
from tests.reliability._chaos import SALON_NUMBER, ChaosProxy, Fault, serve_bot, telegram_message
from tests.support import RecordingChannel

pytestmark = pytest.mark.anyio

CLIENT_TIMEOUT = httpx.Timeout(0.5)
BOOKINGS = "/bookings"
UNAVAILABLE = t("en", "unavailable")
IN_DOUBT = t("en", "in_doubt_book", service="Haircut", when="Tue 2 Jun, 3:00 PM")
PAT = "+351912345678"


@pytest.fixture
def cadence() -> Iterator[str]:
    with serving(create_sandbox(seed=salon_seed(), clock=lambda: NOW, rate_limit=None)) as url:
        yield url


@pytest.fixture
def proxy(cadence: str) -> Iterator[ChaosProxy]:
    with ChaosProxy(cadence) as chaos:
        yield chaos


@pytest.fixture
async def bot(proxy: ChaosProxy, tmp_path: Path) -> AsyncIterator[Bot]:
    settings = Settings(
        default_tenant="salon", tenants={"salon": TenantConfig(slug="salon", org_api_key=SALON_KEY)}
    )
    opened = open_bot(
        settings,
        base_url=proxy.url,
        http=new_http_client(timeout=CLIENT_TIMEOUT),
        database=str(tmp_path / "bot.db"),
        clock=lambda: NOW,
    )
    yield opened
    await opened.aclose()


def bookings(cadence: str) -> list[dict[str, Any]]:
    """The salon's bookings, asked of the sandbox directly (not through the proxy)."""
    response = httpx.get(
        f"{cadence}/api/v1/bookings", headers={"Authorization": f"Bearer {SALON_KEY}"}, timeout=10
    )
    response.raise_for_status()
    return list(response.json()["bookings"])


async def say(bot: Bot, text: str, chat_id: str = "555") -> TurnResult:
    inbound = Inbound(channel="telegram", chat_id=chat_id, message_id=uuid.uuid4().hex, text=text)
    return await bot.engine.handle(inbound)


def said(result: TurnResult) -> str:
    return "\n".join(reply.text for reply in result.replies)


def stage(bot: Bot, chat_id: str = "555") -> str | None:
    state = bot.store.load("telegram", chat_id).state
    return None if state is None else str(state["stage"])


async def to_confirmation(bot: Bot) -> None:
    """A haircut tomorrow (Tue 2 Jun) at 3 pm, name and email given: the bot asks to confirm."""
    await say(bot, "haircut tomorrow at 3pm")
    await say(bot, "Pat Patient")
    confirm = await say(bot, "pat@example.com")
    assert "Ready to book" in said(confirm), said(confirm)
    assert stage(bot) == "confirm"


def assert_clear_apology(result: TurnResult) -> None:
    assert [reply.text for reply in result.replies] == [UNAVAILABLE]
    for leak in ("Traceback", "Exception", "Error", "httpx", "503", "timed out"):
        assert leak not in UNAVAILABLE


def assert_booked_once(result: TurnResult, cadence: str) -> None:
    text = said(result)
    assert "You're booked" in text, text
    [booking] = bookings(cadence)
    assert booking["id"] in text, "the reference given is the one booking Cadence has"


# -- retries within one turn -------------------------------------------------------------------------


async def test_transient_faults_are_retried_with_one_idempotency_key(
    bot: Bot, proxy: ChaosProxy, cadence: str
) -> None:
    await to_confirmation(bot)
    proxy.script(
        Fault.error(503), Fault.error(429, retry_after="1"), Fault.hang(), method="POST", path=BOOKINGS
    )
    started = time.monotonic()
    result = await say(bot, "yes")
    elapsed = time.monotonic() - started

    assert_booked_once(result, cadence)
    posts = proxy.seen("POST", BOOKINGS)
    assert [p.fault for p in posts] == ["503", "429", "hang", "pass"]
    keys = {p.idempotency_key for p in posts}
    assert len(keys) == 1 and None not in keys, keys
    assert posts[2].at - posts[1].at >= 0.95, "Retry-After: 1 was honoured"
    assert elapsed < 5, elapsed


@pytest.mark.parametrize(
    "lost",
    [
        Fault.drop(),
        Fault.reset(),
        Fault.error(502, html=True),
        Fault.drop(after=True),
        Fault.hang(after=True),
    ],
    ids=lambda fault: fault.label,
)
async def test_a_lost_answer_books_exactly_once(
    bot: Bot, proxy: ChaosProxy, cadence: str, lost: Fault
) -> None:
    """Lost before Cadence saw it, or after Cadence made the booking: the retry presents the same key,
    so Cadence answers with the booking it made instead of making a second one."""
    await to_confirmation(bot)
    proxy.script(lost, method="POST", path=BOOKINGS)
    result = await say(bot, "yes")

    assert_booked_once(result, cadence)
    posts = proxy.seen("POST", BOOKINGS)
    assert [p.fault for p in posts] == [lost.label, "pass"]
    assert posts[0].idempotency_key == posts[1].idempotency_key is not None
    assert [p.forwarded for p in posts] == [lost.after, True]


# -- Cadence stays down ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outage", "attempts"),
    [
        (Fault.error(500), 1),  # not a transient status: no retry, straight to "checking"
        (Fault.error(503), 4),
        (Fault.drop(), 4),
        (Fault.drop(after=True), 4),  # Cadence made the booking; every answer was lost
        (Fault.hang(after=True), 4),  # ... or came too late
    ],
    ids=lambda value: value.label if isinstance(value, Fault) else str(value),
)
async def test_an_outage_at_booking_says_it_is_checking_keeps_the_state_and_try_again_books(
    bot: Bot, proxy: ChaosProxy, cadence: str, outage: Fault, attempts: int
) -> None:
    """No answer to the booking: it may have been made, so the customer hears the truth (not confirmed
    yet, being checked), never "can't reach" nor "booked"; the attempt and its key are kept."""
    await to_confirmation(bot)
    before = bot.store.load("telegram", "555").state
    proxy.down(outage, method="POST", path=BOOKINGS)

    result = await say(bot, "yes")

    assert said(result) == IN_DOUBT, said(result)
    kept = bot.store.load("telegram", "555").state
    assert kept is not None and before is not None
    assert kept["stage"] == "confirm" and kept["slot"] == before["slot"] and kept["name"] == "Pat Patient"
    posts = proxy.seen("POST", BOOKINGS)
    assert kept["doubt"]["key"] == posts[0].idempotency_key, "the attempt is kept with its key"
    assert len(posts) == attempts, [p.fault for p in posts]
    assert len(bookings(cadence)) == (1 if outage.after else 0)

    proxy.up()
    result = await say(bot, "try again")

    assert_booked_once(result, cadence)
    assert stage(bot) == "booked"
    keys = {p.idempotency_key for p in proxy.seen("POST", BOOKINGS)}
    assert len(keys) == 1 and None not in keys, "one key for the booking, through every retry and turn"


async def test_an_answer_after_the_timeout_is_resolved_by_the_worker_and_told(
    proxy: ChaosProxy, cadence: str, tmp_path: Path
) -> None:
    """Cadence makes the booking but answers after the client's timeout: the customer is told it is
    being checked, the worker asks again with the same key, and the customer is told "booked" once,
    with the reference of the one booking Cadence has; "my bookings" meanwhile shows it waiting and a
    second booking is not added beside it."""
    now = [NOW]
    settings = Settings(
        default_tenant="salon", tenants={"salon": TenantConfig(slug="salon", org_api_key=SALON_KEY)}
    )
    bot = open_bot(
        settings,
        base_url=proxy.url,
        http=new_http_client(timeout=CLIENT_TIMEOUT),
        database=str(tmp_path / "bot.db"),
        clock=lambda: now[0],
    )
    try:
        await to_confirmation(bot)
        proxy.down(Fault.hang(after=True), method="POST", path=BOOKINGS)
        assert said(await say(bot, "yes")) == IN_DOUBT
        [made] = bookings(cadence)
        listed = said(await say(bot, "my bookings"))
        assert "no upcoming bookings" not in listed and "still waiting" in listed, listed
        assert "still waiting" in said(await say(bot, "actually book 6pm instead"))
        proxy.up()
        telegram = RecordingChannel("telegram")
        worker = Worker(bot, {"telegram": telegram})
        await worker.run_once()
        assert telegram.texts("555") == [], "no check before it is due"
        now[0] += timedelta(minutes=1)
        await worker.run_once()
        told = telegram.texts("555")
        assert len(told) == 1 and "You're booked" in told[0], told
        assert made["id"] in told[0] and [b["id"] for b in bookings(cadence)] == [made["id"]]
        assert [b.booking_id for b in bot.store.owned_bookings("telegram", "555", "salon")] == [made["id"]]
        now[0] += timedelta(hours=1)
        await worker.run_once()
        assert len(telegram.texts("555")) == 1, "resolved: nothing more"
    finally:
        await bot.aclose()


async def test_an_outage_before_the_first_answer_keeps_the_message_for_try_again(
    bot: Bot, proxy: ChaosProxy, cadence: str
) -> None:
    """The very first message fails (the business can't be loaded): nothing is lost either."""
    proxy.down(Fault.error(503))
    assert_clear_apology(await say(bot, "haircut tomorrow at 3pm"))
    assert {p.path for p in proxy.seen()} == {"/api/v1/public/orgs/salon"}

    proxy.up()
    resumed = await say(bot, "try again")
    text = said(resumed)
    assert "Studio Salon" in text and "What name should I put the booking under?" in text, text
    assert stage(bot) == "details"
    await say(bot, "Pat Patient")
    await say(bot, "pat@example.com")
    assert_booked_once(await say(bot, "yes"), cadence)


@pytest.mark.parametrize("where", ["first message", "confirmation"])
async def test_saying_try_again_while_cadence_is_still_down_loses_nothing(
    bot: Bot, proxy: ChaosProxy, cadence: str, where: str
) -> None:
    """The apology invites "try again in a moment"; a customer who says it too soon must not lose the
    message it was meant to replay (the request, or the "yes" that books)."""
    if where == "first message":
        proxy.down(Fault.error(503))
        assert_clear_apology(await say(bot, "haircut tomorrow at 3pm"))
        assert_clear_apology(await say(bot, "try again"))  # too soon: Cadence is still down
        state = bot.store.load("telegram", "555").state
        assert state is not None
        remembered = state["retry"]["text"]
        assert remembered != "try again", "the message to replay was replaced by the 'try again' itself"
    else:
        await to_confirmation(bot)
        proxy.down(Fault.error(503), method="POST", path=BOOKINGS)
        assert said(await say(bot, "yes")) == IN_DOUBT
        assert "still waiting" in said(await say(bot, "try again"))  # too soon: Cadence is still down
        state = bot.store.load("telegram", "555").state
        assert state is not None and state["doubt"] is not None, "the attempt is kept"

    proxy.up()
    result = await say(bot, "try again")
    if where == "first message":
        assert "What name should I put the booking under?" in said(result), said(result)
    else:
        assert_booked_once(result, cadence)


async def test_a_retry_after_beyond_the_retry_budget_apologises_at_once(
    bot: Bot, proxy: ChaosProxy, cadence: str
) -> None:
    """Cadence asks for 30 s: the customer hears at once rather than after 30 s of silence."""
    await to_confirmation(bot)
    proxy.down(Fault.error(429, retry_after="30"), method="POST", path=BOOKINGS)
    started = time.monotonic()
    result = await say(bot, "yes")
    assert time.monotonic() - started < 2
    assert_clear_apology(result)
    assert len(proxy.seen("POST", BOOKINGS)) == 1
    assert stage(bot) == "confirm"

    proxy.up()
    assert_booked_once(await say(bot, "try again"), cadence)


async def test_offers_fail_and_recover_without_losing_the_request(
    bot: Bot, proxy: ChaosProxy, cadence: str
) -> None:
    """Availability unreachable while the customer asks for a time; after "try again" the same
    request is understood and the offer comes."""
    await say(bot, "a haircut please")
    assert stage(bot) == "when"
    proxy.down(Fault.error(503), method="GET", path="/availability")
    assert_clear_apology(await say(bot, "tomorrow afternoon"))
    assert stage(bot) == "when"
    proxy.up()
    offer = said(await say(bot, "try again"))
    assert "Open times for Haircut on Tue 2 Jun" in offer, offer
    assert stage(bot) == "slot"


# -- the HTTP endpoints while Cadence is down --------------------------------------------------------


def test_the_endpoints_answer_without_5xx_while_cadence_is_down(
    proxy: ChaosProxy, cadence: str, tmp_path: Path
) -> None:
    fake_telegram, fake_twilio = FakeTelegram(), FakeTwilio()
    statuses: list[tuple[str, int]] = []
    with (
        serving(fake_telegram.app) as telegram_api,
        serving(fake_twilio.app) as twilio_api,
        serve_bot(
            cadence_url=proxy.url,
            telegram_api=telegram_api,
            twilio_api=twilio_api,
            database=tmp_path / "bot.db",
            http=new_http_client(timeout=CLIENT_TIMEOUT),
            reply_budget=8,
        ) as served,
    ):
        pat = Phone(served.url, PAT, SALON_NUMBER)
        chat = 777001
        update_ids = iter(range(9_000_000, 9_001_000))

        def telegram(text: str) -> list[str]:
            update_id = next(update_ids)
            before = len(fake_telegram.sent(chat))
            response = served.telegram_post(telegram_message(chat, update_id, text))
            statuses.append(("telegram", response.status_code))
            served.wait_done(update_id)
            return [str(m["text"]) for m in fake_telegram.sent(chat)[before:]]

        def sms(text: str) -> str:
            answer = pat.post(pat.params(text, f"SM{uuid.uuid4().hex}"))
            statuses.append(("sms", answer.status))
            return answer.text

        proxy.down(Fault.drop())
        assert UNAVAILABLE.replace("“", '"').replace("”", '"') in sms("a haircut tomorrow at 3pm")
        assert telegram("a haircut tomorrow at 3pm") == [UNAVAILABLE]
        assert httpx.get(f"{served.url}/healthz", timeout=10).status_code == 200, "alive all the same"
        ready = httpx.get(f"{served.url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["cadence"] != "ok", "the outage is reported"
        metrics = httpx.get(f"{served.url}/metrics", timeout=10)
        statuses.append(("metrics", metrics.status_code))
        assert "cadence_bot_turns_total" in metrics.text

        proxy.up()
        assert "What name should I put the booking under?" in sms("try again")
        assert any("What name should I put" in text for text in telegram("try again"))
        assert httpx.get(f"{served.url}/readyz", timeout=10).status_code == 200

    assert all(status < 500 for _, status in statuses), statuses
    assert fake_twilio.messages == [], "every SMS answer went back in time, as TwiML"
