"""End to end: ``serve``'s app with the SMS channel under uvicorn on 127.0.0.1, webhooks signed by the real
twilio library, replies as TwiML or through twilio's REST client to a fake Twilio, the sandbox Cadence
behind the bot. Every text the bot produces is collected; the last test measures them all."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.app import create_app
from bot.config import Settings, TenantConfig
from bot.reminders import reminder_key
from bot.service import Bot, open_bot
from bot.store import open_store
from bot.types import Inbound, Reply
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from channels.sms import SmsChannel, SmsOptions, create_channel
from channels.sms.compose import MAX_SEGMENTS
from channels.sms.gsm import is_gsm, segments
from tests.channels.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    OUTBOX,
    FakeTwilio,
    Phone,
    message_sid,
    sign,
    wait_until,
)
from tests.conftest import NOW, SALON_KEY, salon_seed

SALON_NUMBER = "+351 210 000 001"  # as a tenants file may write it; Twilio sends E.164
SALON_E164 = "+351210000001"
UNMAPPED_NUMBER = "+351210000099"
PAT = "+351912345678"  # a Portuguese mobile: Lisbon time, like the salon
NEW_YORKER = "+12125550199"  # a Manhattan number: New York time
TOMORROW_3PM = datetime.fromisoformat("2026-06-02T14:00:00+00:00")  # 15:00 in Lisbon


class SlowBookings:
    """The sandbox, slowed down on booking POSTs when ``delay`` is set (a Cadence under load)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.delay = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.delay
            and scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].endswith("/bookings")
        ):
            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    url: str
    bot: Bot
    channel: SmsChannel
    public_url: str | None

    def phone(self, number: str = PAT, to: str = SALON_E164) -> Phone:
        return Phone(self.url, number, to, public_url=self.public_url)

    def send(self, chat_id: str, text: str, tenant: str | None = "salon") -> bool:
        """``channel.send`` as the worker calls it for a notification or reminder."""
        return asyncio.run(self.channel.send(chat_id, [Reply(text=text)], tenant=tenant))


@dataclass
class World:
    fake: FakeTwilio
    fake_url: str
    cadence_url: str
    cadence: SlowBookings
    database: str
    now: list[datetime] = field(default_factory=lambda: [NOW])

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": AUTH_TOKEN,
            "twilio_api_base_url": self.fake_url,
            "tenants": {
                "salon": TenantConfig(slug="salon", org_api_key=SALON_KEY, twilio_numbers=(SALON_NUMBER,))
            },
        }
        return Settings(**{**values, **overrides})

    @contextmanager
    def serve(self, *, public_url: str | bool | None = True, **overrides: Any) -> Iterator[Served]:
        """The bot app on a free port; ``public_url`` True means the app's own URL (no proxy)."""
        port = free_port()
        own = f"http://127.0.0.1:{port}"
        public = own if public_url is True else (public_url or None)
        bot = open_bot(
            self.settings(public_url=public, **overrides),
            base_url=self.cadence_url,
            database=self.database,
            clock=lambda: self.now[0],
        )
        channel = create_channel(bot, options=SmsOptions(reply_budget=0.5, resume_every=0.2, grace=5.0))
        with serving(create_app(bot, [channel]), port=port) as url:
            assert url == own
            yield Served(url, bot, channel, public)

    def bookings(self) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.cadence_url}/api/v1/bookings",
            headers={"Authorization": f"Bearer {SALON_KEY}"},
            timeout=10,
        )
        response.raise_for_status()
        return list(response.json()["bookings"])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    now = [NOW]
    cadence = SlowBookings(create_sandbox(seed=salon_seed(), clock=lambda: now[0], rate_limit=None))
    fake = FakeTwilio()
    with serving(cadence) as cadence_url, serving(fake.app) as fake_url:
        yield World(fake, fake_url, cadence_url, cadence, str(tmp_path / "bot.db"), now)


def assert_fits(bodies: list[str]) -> None:
    for body in bodies:
        assert is_gsm(body), body
        assert segments(body) <= MAX_SEGMENTS, (segments(body), body)


def book_in_three_texts(pat: Phone) -> list[str]:
    first = pat.text("Hi, can I get a haircut tomorrow at 3pm?")
    assert "Studio Salon" in first.text and "name" in first.text, first.bodies
    assert "email" not in first.text, "the phone the customer texts from is their contact"
    confirm = pat.text("Pat Patient")
    assert "Haircut" in confirm.text and "Tue 2 Jun" in confirm.text and "3:00 PM" in confirm.text
    assert PAT in confirm.text and "Pat Patient" in confirm.text
    assert "1 Book it" in confirm.text and "Reply 1-4" in confirm.text, confirm.text
    booked = pat.text("1")
    assert "You're booked" in booked.text, booked.bodies
    return [answer.text for answer in (first, confirm, booked)]


# -- the tests ------------------------------------------------------------------------------------


DOCS = Path(__file__).resolve().parents[2] / "docs" / "sms.md"


def documented_transcript() -> str:
    block = DOCS.read_text(encoding="utf-8").split("<!-- transcript:start -->")[1]
    block = block.split("<!-- transcript:end -->")[0].strip()
    return block.removeprefix("```text").removesuffix("```").strip()


def transcript(texts: list[str], answers: list[list[str]]) -> str:
    lines: list[str] = []
    for text, bodies in zip(texts, answers, strict=True):
        lines += [f"> {text}", *bodies]
    return re.sub(r"\bbk_[0-9a-f]+", "bk_…", "\n".join(lines))


def test_a_haircut_booked_in_three_texts(world: World) -> None:
    with world.serve() as served:
        pat = served.phone()
        book_in_three_texts(pat)
        assert pat.sent <= 4
        said = ["Hi, can I get a haircut tomorrow at 3pm?", "Pat Patient", "1"]
        assert transcript(said, [a.bodies for a in pat.answers]) == documented_transcript()
        for answer in pat.answers:
            assert len(answer.bodies) == 1, "one turn, one text message"
            assert_fits(answer.bodies)
    [booking] = world.bookings()
    assert datetime.fromisoformat(booking["start"]) == TOMORROW_3PM
    assert booking["customer"]["phone"] == PAT and booking["customer"]["name"] == "Pat Patient"
    assert world.fake.messages == [], "every answer went back as TwiML"


def test_forged_or_missing_signatures_are_refused(world: World) -> None:
    with world.serve() as served:
        pat = served.phone()
        params = pat.params("Hi, can I get a haircut tomorrow at 3pm?", message_sid())
        url = served.url + "/sms/twilio"
        assert pat.post(params, signature=None).status == 403
        assert pat.post(params, signature="").status == 403
        assert pat.post(params, signature=sign(url, params, token="not-the-auth-token")).status == 403
        assert pat.post(params, signature=sign(url + "?x=1", params)).status == 403, "another URL"
        tampered = {**params, "Body": "cancel my booking"}
        assert pat.post(tampered, signature=sign(url, params)).status == 403, "another body"
        assert pat.post(params, signature=sign(url, params)).status == 200, "the real thing"
        refused = served.phone("+351912000000")
        forged = refused.params("a haircut tomorrow at 3pm", message_sid())
        assert refused.post(forged, signature=sign(url, forged, token="guess")).status == 403
        assert served.bot.store.load("sms", "+351912000000").state is None, "nothing processed"
    assert world.fake.messages == []


def test_a_redelivered_message_books_once(world: World) -> None:
    with world.serve() as served:
        pat = served.phone()
        pat.text("a haircut tomorrow at 3pm")
        pat.text("Pat Patient")
        sid = message_sid()
        booked = pat.text("1", sid=sid)
        assert "You're booked" in booked.text
        again = pat.text("1", sid=sid)
        assert again.bodies == [] and again.raw.strip().endswith("<Response />"), again.raw
    assert len(world.bookings()) == 1


def test_stop_then_no_reminder_start_then_sent(world: World) -> None:
    with world.serve() as served:
        pat = served.phone()
        book_in_three_texts(pat)
        [booking] = world.bookings()
        job = served.bot.store.get_job(reminder_key(booking["id"]))
        assert job is not None, "a reminder is scheduled for the booking"

        stop = pat.text("Stop")
        assert stop.bodies == [], "Twilio answers STOP itself"
        assert served.bot.store.is_opted_out("sms", PAT)
        world.now[0] = job.run_at + timedelta(minutes=1)  # the reminder is due: the worker runs it
        wait_until(lambda: served.bot.store.get_job(job.key) is None, 10, "the reminder job to run")
        assert world.fake.sent_to(PAT) == [], "no reminder to a number that opted out"
        assert served.send(PAT, "Reminder: your Haircut is tomorrow.") is False
        assert pat.text("anyone there?").bodies == [], "opted out: Twilio would block any answer"

        start = pat.text(" START ")
        assert start.bodies == []
        assert not served.bot.store.is_opted_out("sms", PAT)
        assert served.send(PAT, "Reminder: your Haircut is tomorrow.") is True
        [sent] = world.fake.sent_to(PAT)
        assert sent.from_ == SALON_E164 and sent.body == "Reminder: your Haircut is tomorrow."


def test_twilio_refusing_an_unsubscribed_number_records_the_opt_out(world: World) -> None:
    with world.serve() as served:
        world.fake.unsubscribed.add(PAT)  # STOP reached Twilio but not us (say, while we were down)
        assert served.send(PAT, "Your Haircut was moved.") is False
        assert served.bot.store.is_opted_out("sms", PAT)
        assert world.fake.messages == []


def test_a_slow_cadence_gets_one_moment_then_the_answer_by_rest(world: World) -> None:
    with world.serve() as served:
        pat = served.phone()
        pat.text("a haircut tomorrow at 3pm")
        pat.text("Pat Patient")
        world.cadence.delay = 1.5
        answer = pat.text("1")
        assert answer.bodies == ["One moment..."] and answer.seconds < 1.2, answer
        [late] = world.fake.wait_for(PAT, 1, timeout=10)
        assert "You're booked" in late.body and late.from_ == SALON_E164
        assert_fits([late.body])
        world.cadence.delay = 0
        assert pat.text("thanks").bodies, "the conversation goes on"
    assert len(world.bookings()) == 1


def test_messages_the_bot_starts_come_from_the_number_the_customer_texted_even_after_a_restart(
    world: World,
) -> None:
    """The number a customer texted is stored, not kept in one process's memory: a reminder sent by
    the next process (or another replica) still comes from the number the customer knows."""
    second_number = "+351210000002"
    numbers = {"tenants": {"salon": TenantConfig(slug="salon", twilio_numbers=(SALON_NUMBER, second_number))}}
    with world.serve(**numbers) as served:
        answer = served.phone(to=second_number).text("Hi, can I get a haircut tomorrow at 3pm?")
        assert "Studio Salon" in answer.text
    with world.serve(**numbers) as restarted:
        assert restarted.send(PAT, "Your Haircut was moved.") is True
        assert restarted.send(NEW_YORKER, "Hello from the salon.") is True  # never texted: the first number
    assert [(m.to, m.from_) for m in world.fake.messages] == [(PAT, second_number), (NEW_YORKER, SALON_E164)]


def test_help_keyword_gets_the_help_text(world: World) -> None:
    with world.serve() as served:
        pat = served.phone()
        pat.text("hi")
        answer = pat.text("HELP")
        assert "I can book an appointment" in answer.text and "my bookings" in answer.text
        assert_fits(answer.bodies)
        info = pat.text("info")
        assert "I can book an appointment" in info.text


def test_an_unmapped_number_asks_for_the_business(world: World) -> None:
    with world.serve() as served:
        pat = served.phone(to=UNMAPPED_NUMBER)
        first = pat.text("Hi, can I get a haircut tomorrow at 3pm?")
        assert "Which business" in first.text
        named = pat.text("Studio Salon")
        assert "Studio Salon" in named.text
        assert_fits(first.bodies + named.bodies)


def test_the_default_tenant_serves_an_unmapped_number(world: World) -> None:
    with world.serve(default_tenant="salon") as served:
        pat = served.phone(to=UNMAPPED_NUMBER)
        assert "Studio Salon" in pat.text("hi").text
        assert served.send(PAT, "Your Haircut was moved.", tenant="salon")
        [sent] = world.fake.sent_to(PAT)
        assert sent.from_ == UNMAPPED_NUMBER, "replies come from the number the customer texted"


def test_the_customers_number_sets_their_time_zone_and_they_can_change_it(world: World) -> None:
    with world.serve() as served:
        nyc = served.phone(NEW_YORKER)
        nyc.text("a haircut tomorrow at 10am")  # 10:00 in New York is 15:00 in Lisbon
        confirm = nyc.text("Ann Lee")
        assert "10:00 AM" in confirm.text and "New York" in confirm.text, confirm.text
        moved = nyc.text("my time zone is Lisbon")
        assert "Lisbon" in moved.text and "3:00 PM" in moved.text, moved.text
        assert_fits(confirm.bodies + moved.bodies)
        assert "You're booked" in nyc.text("1").text
    [booking] = world.bookings()
    assert datetime.fromisoformat(booking["start"]) == TOMORROW_3PM
    assert booking["customer"]["phone"] == NEW_YORKER


def test_behind_a_proxy_the_public_url_is_what_is_signed(world: World) -> None:
    public = "https://book.example.com/cadence"  # a proxy strips /cadence before the bot sees the path
    with world.serve(public_url=public) as served:
        pat = served.phone()
        assert "Studio Salon" in pat.text("hi").text
        assert pat.text("a haircut", query="source=twilio").bodies, "a query string is signed too"
        local = Phone(served.url, PAT, SALON_E164)  # signed for the address the bot listens on
        assert local.post(local.params("hi", message_sid())).status == 403


def test_without_a_public_url_every_webhook_is_refused(world: World, caplog: Any) -> None:
    with world.serve(public_url=None) as served:
        pat = Phone(served.url, PAT, SALON_E164)  # signed for the URL it really posts to
        assert pat.post(pat.params("hi", message_sid())).status == 403
    assert any("BOT_PUBLIC_URL" in record.getMessage() for record in caplog.records)


def test_a_message_accepted_before_a_crash_is_answered_by_rest(world: World) -> None:
    with world.serve():
        pass  # creates the database
    store = open_store(world.database, clock=lambda: world.now[0])
    accepted = Inbound(
        channel="sms",
        chat_id=PAT,
        message_id=message_sid(),
        text="Hi, can I get a haircut tomorrow at 3pm?",
        sender_phone=PAT,
        tenant="salon",
    )
    # Accepted by a process that died before answering: its short lease is no longer renewed.
    assert store.enqueue_inbound(accepted, lease=SmsOptions().resume_lease)
    store.close()
    with world.serve():
        time.sleep(0.5)
        assert world.fake.sent_to(PAT) == [], "still leased to the process that accepted it"
        world.now[0] += timedelta(seconds=11)  # seconds, not minutes, after the crash
        [sent] = world.fake.wait_for(PAT, 1, timeout=10)
        assert "Studio Salon" in sent.body and "name" in sent.body
        assert_fits([sent.body])


def test_spanish_replies_stay_in_gsm_7(world: World) -> None:
    with world.serve() as served:
        pat = served.phone()
        pat.text("hi")
        answer = pat.text("language es")
        assert "español" in answer.text, answer.text  # ñ is GSM-7
        offer = pat.text("haircut tomorrow afternoon")
        assert "Horas libres" in offer.text and "Responde 1-" in offer.text, offer.text
        assert_fits(answer.bodies + offer.bodies)


def test_many_options_and_long_help_stay_within_two_segments(world: World) -> None:
    with world.serve() as served:
        pat = served.phone()
        offer = pat.text("a haircut next week")
        assert "1 " in offer.text and "Reply 1-" in offer.text, offer.text
        pat.text("help")
        later = pat.text("later")
        for answer in (offer, later, *pat.answers):
            assert_fits(answer.bodies)


def test_webhook_answers_quickly_even_when_cadence_hangs(world: World) -> None:
    with world.serve() as served:
        pat = served.phone()
        world.cadence.delay = 3.0
        pat.text("a haircut tomorrow at 3pm")
        pat.text("Pat Patient")
        started = time.monotonic()
        assert pat.text("1").bodies == ["One moment..."]
        assert time.monotonic() - started < 1.5
        world.fake.wait_for(PAT, 1, timeout=10)


def test_every_text_sent_is_gsm_7_within_two_segments() -> None:
    """Measured over every conversation of this session (TwiML answers and REST messages alike)."""
    if not OUTBOX:
        pytest.skip("no SMS conversation ran in this session")
    assert_fits(OUTBOX)
    worst = max(segments(body) for body in OUTBOX)
    print(f"\n{len(OUTBOX)} texts sent, at most {worst} segment(s) each")
    assert worst <= MAX_SEGMENTS


def test_a_german_and_a_portuguese_customer_book_by_text(world: World) -> None:
    """No flag anywhere: the language is what the customer writes, and every text fits two segments."""
    with world.serve() as served:
        hans = served.phone("+4915112345678")
        first = hans.text("Hallo, ich hätte gern einen Haarschnitt morgen um 15 Uhr")
        assert "Buchungsassistent" in first.text and "Auf welchen Namen" in first.text, first.text
        confirm = hans.text("Hans Becker")
        assert "Bereit zur Buchung" in confirm.text and "+4915112345678" in confirm.text, confirm.text
        assert "15:00 (Berlin)" in confirm.text, "a German number: Berlin time, said as such"
        booked = hans.text("ja")
        assert booked.text.startswith("Gebucht! Haircut"), booked.text
        maria = served.phone("+351912000111")
        first = maria.text("Olá, queria um corte de cabelo amanhã às 16h")
        assert "Em que nome" in first.text, first.text
        maria.text("Maria Sousa")
        booked = maria.text("sim")
        assert "marcado" in booked.text, booked.text
        for answer in (*hans.answers, *maria.answers):
            assert_fits(answer.bodies)
    starts = sorted(datetime.fromisoformat(b["start"]) for b in world.bookings())
    assert starts == [TOMORROW_3PM - timedelta(hours=1), TOMORROW_3PM + timedelta(hours=1)]
