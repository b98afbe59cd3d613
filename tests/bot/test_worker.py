"""Cadence's webhooks, notifications and reminders: real servers on 127.0.0.1, fixed clocks."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import create_app
from bot.config import Settings, TenantConfig
from bot.dialog import Stage
from bot.service import Bot, open_bot
from bot.types import Inbound
from bot.worker import HOUSEKEEPING, HOUSEKEEPING_EVERY, Worker
from cadence_adapter import CadenceClient, sign
from cadence_adapter.sandbox import create_app as create_sandbox
from cadence_adapter.sandbox.server import serving
from tests.conftest import NOW, SALON_KEY, RecordingChannel, free_port, salon_seed

SECRET = "whsec_test_salon"
STAFF_CHAT = -1001234567890
TOMORROW_3PM = datetime.fromisoformat("2026-06-02T14:00:00+00:00")


class JobChannel(RecordingChannel):
    """Records, too, the job each delivery is made for (matched later to the platform's receipt)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.jobs: list[str | None] = []

    async def send(
        self, chat_id: str, replies: Any, *, tenant: str | None = None, job: str | None = None
    ) -> bool:
        self.jobs.append(job)
        return await super().send(chat_id, replies, tenant=tenant, job=job)


@dataclass
class Setup:
    cadence: str
    bot_url: str
    database: str
    now: list[datetime] = field(default_factory=lambda: [NOW])

    def settings(self, **tenant: Any) -> Settings:
        config = TenantConfig(slug="salon", org_api_key=SALON_KEY, webhook_secret=SECRET, **tenant)
        return Settings(default_tenant="salon", tenants={"salon": config})

    def open(self, *, running: bool = False, **tenant: Any) -> Bot:
        """A bot on this setup's database; its clock is fixed (``now``), or runs from it in real time."""
        started = time.monotonic()

        def clock() -> datetime:
            return self.now[0] + (timedelta(seconds=time.monotonic() - started) if running else timedelta(0))

        return open_bot(self.settings(**tenant), base_url=self.cadence, database=self.database, clock=clock)

    def keyed(self) -> CadenceClient:
        return CadenceClient(self.cadence, SALON_KEY)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    port = free_port()
    bot_url = f"http://127.0.0.1:{port}"
    seed = salon_seed()
    seed["orgs"][0]["webhooks"] = [
        {
            "url": f"{bot_url}/cadence/webhook/salon",
            "secret": SECRET,
            "events": ["booking.created", "booking.cancelled", "booking.rescheduled"],
        }
    ]
    sandbox = create_sandbox(seed=seed, clock=lambda: NOW, webhook_retry_delays=(0.05, 0.1, 0.2, 0.5, 1, 2))
    with serving(sandbox) as cadence:
        yield Setup(cadence, bot_url, str(tmp_path / "bot.db"))


async def book(bot: Bot, channel: str = "telegram", chat_id: str = "555") -> None:
    """A customer books a haircut tomorrow at 3pm through the bot."""
    for text in ("haircut tomorrow at 3pm", "Pat Patient", "pat@example.com", "yes"):
        inbound = Inbound(channel=channel, chat_id=chat_id, message_id=uuid.uuid4().hex, text=text)
        result = await bot.engine.handle(inbound)
    assert "You're booked" in result.replies[-1].text


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def signed_post(url: str, event: dict[str, Any], secret: str = SECRET) -> httpx.Response:
    body = json.dumps(event).encode()
    headers = {"X-Cadence-Signature": sign(secret, body), "Content-Type": "application/json"}
    return httpx.post(url, content=body, headers={**headers, "X-Cadence-Event": event["type"]})


@pytest.mark.anyio
async def test_business_cancels_and_the_customer_hears_it(setup: Setup) -> None:
    telegram = JobChannel("telegram")
    bot = setup.open()
    # The served bot is a second one on the same database: the server runs its own event loop, and its
    # worker re-reads bookings through its own HTTP pool (a pool is bound to one loop).
    with serving(create_app(setup.open(), [telegram]), port=int(setup.bot_url.rsplit(":", 1)[1])):
        await book(bot)
        async with setup.keyed() as keyed:
            [booking] = await keyed.list_bookings()
            await keyed.cancel_booking(booking.id)
        wait_for(lambda: any("cancelled" in text for text in telegram.texts("555")))
        assert bot.store.owned_bookings("telegram", "555") == []
    [text] = [t for t in telegram.texts("555") if "cancelled" in t]
    assert "Haircut" in text and "Tue 2 Jun" in text and "Studio Salon" in text
    [job] = telegram.jobs
    assert job is not None and job.startswith("event:salon:evt"), "sent for the event's job"


@pytest.mark.anyio
async def test_business_moves_it_and_the_reminder_moves_too(setup: Setup) -> None:
    sms = RecordingChannel("sms")
    bot = setup.open()
    with serving(create_app(setup.open(), [sms]), port=int(setup.bot_url.rsplit(":", 1)[1])):
        await book(bot, channel="sms", chat_id="+351912345678")
        async with setup.keyed() as keyed:
            [booking] = await keyed.list_bookings()
            await keyed.reschedule_booking(booking.id, TOMORROW_3PM + timedelta(days=1))
        wait_for(lambda: any("moved" in text for text in sms.texts("+351912345678")))
        job = bot.store.get_job(f"reminder:{booking.id}")
    assert job is not None and job.run_at == TOMORROW_3PM  # 24 hours before the new time


def test_forged_and_replayed_events_do_nothing(setup: Setup) -> None:
    telegram = RecordingChannel("telegram")
    bot = setup.open(staff_telegram_chat_id=STAFF_CHAT)
    worker = Worker(bot, {"telegram": telegram}, poll_seconds=0.1, created_grace=timedelta(0))
    event = {
        "id": "evt_forged",
        "type": "booking.created",
        "created_at": "2026-06-01T08:00:00Z",
        "data": {
            "id": "bk_x",
            "service_id": "svc_cut",
            "start": "2026-06-02T14:00:00Z",
            "customer": {"name": "X"},
        },
    }
    with serving(create_app(bot, [telegram], worker=worker)) as url:
        assert signed_post(f"{url}/cadence/webhook/salon", event, secret="whsec_wrong").status_code == 401
        unsigned = httpx.post(f"{url}/cadence/webhook/salon", content=json.dumps(event).encode())
        assert unsigned.status_code == 401
        assert httpx.post(f"{url}/cadence/webhook/nobody", content=b"{}").status_code == 404
        event["id"] = "evt_real"
        first = signed_post(f"{url}/cadence/webhook/salon", event)
        second = signed_post(f"{url}/cadence/webhook/salon", event)
        assert first.json() == {"received": True, "duplicate": False}
        assert second.json() == {"received": True, "duplicate": True}
        wait_for(lambda: len(telegram.sent) >= 1)
        # Nothing left to run but housekeeping: a notice sent twice would be there now.
        wait_for(lambda: bot.store.count_jobs() == bot.store.count_jobs("housekeeping"))
    assert telegram.texts(str(STAFF_CHAT)) == ["New booking: Haircut, Tue 2 Jun, 3:00 PM, X, via Cadence."]


def test_any_junk_signed_into_a_webhook_body_is_a_400_never_a_500(setup: Setup) -> None:
    """Depth included: ``json.loads`` recurses, and JSON nested 1,000 deep was a RecursionError (a 500,
    and Cadence retries a 500); a job holding such a body could also wedge the worker's claim."""
    valid = {
        "id": "evt_deep",
        "type": "booking.created",
        "created_at": "2026-06-01T08:00:00Z",
        "data": {"id": "bk_x", "service_id": "svc_cut", "start": "2026-06-02T14:00:00Z"},
    }
    prefix = json.dumps(valid)[:-1].encode()
    junk = [
        prefix + b', "extra": ' + b"[" * 1_000 + b"]" * 1_000 + b"}",
        prefix + b', "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b"[" * 1_000 + b"]" * 1_000,
        b'{"a":' * 1_000 + b"1" + b"}" * 1_000,
        b"",
        b"\xff\xfe not utf-8",
        b"[]",
        b"null",
        b'{"id": "evt_1"}',
        prefix + b",}",
        json.dumps({**valid, "data": "not a booking"}).encode(),
    ]
    bot = setup.open()
    with serving(create_app(bot, [], run_worker=False)) as url:
        for body in junk:
            headers = {"X-Cadence-Signature": sign(SECRET, body), "Content-Type": "application/json"}
            response = httpx.post(f"{url}/cadence/webhook/salon", content=body, headers=headers)
            assert response.status_code == 400, body[:40]
        shallow = prefix + b', "extra": ' + b"[" * 50 + b"]" * 50 + b"}"  # unknown fields are ignored
        headers = {"X-Cadence-Signature": sign(SECRET, shallow), "Content-Type": "application/json"}
        assert httpx.post(f"{url}/cadence/webhook/salon", content=shallow, headers=headers).status_code == 200
    store = setup.open().store  # the served bot closed its own on the way out
    job = store.get_job("event:salon:evt_deep")
    assert job is not None and "extra" not in job.payload["event"], "only the event is kept"
    assert store.count_jobs("cadence_event") == 1


def test_oversized_webhook_body_is_refused(setup: Setup) -> None:
    bot = setup.open()
    with serving(create_app(bot, [])) as url:
        response = httpx.post(f"{url}/cadence/webhook/salon", content=b"x" * (300 * 1024))
    assert response.status_code == 413


@pytest.mark.anyio
async def test_a_restart_between_receipt_and_delivery_still_delivers_once(setup: Setup) -> None:
    port = int(setup.bot_url.rsplit(":", 1)[1])
    first = RecordingChannel("telegram")
    bot = setup.open()
    with serving(create_app(bot, [first], run_worker=False), port=port):  # accepts, never processes
        await book(bot)
        async with setup.keyed() as keyed:
            [booking] = await keyed.list_bookings()
            await keyed.cancel_booking(booking.id)
        wait_for(lambda: bot.store.get_job(f"reminder:{booking.id}") is not None and _event_queued(bot))
    assert first.sent == []
    second = RecordingChannel("telegram")
    with serving(create_app(setup.open(), [second]), port=port):
        wait_for(lambda: any("cancelled" in text for text in second.texts("555")))
        time.sleep(0.3)  # a second notice would come now (the created event waits on a fixed clock)
    assert len([t for t in second.texts("555") if "cancelled" in t]) == 1


def _event_queued(bot: Bot) -> bool:
    return bot.store.count_jobs("cadence_event") > 0


@pytest.mark.anyio
async def test_staff_chat_hears_of_bot_bookings(setup: Setup) -> None:
    telegram = JobChannel("telegram")
    bot = setup.open(staff_telegram_chat_id=STAFF_CHAT, running=True)  # the grace period has to pass
    worker = Worker(bot, {"telegram": telegram}, poll_seconds=0.1, created_grace=timedelta(seconds=0.5))
    with serving(create_app(bot, [telegram], worker=worker), port=int(setup.bot_url.rsplit(":", 1)[1])):
        await book(bot, channel="sms", chat_id="+351912345678")
        wait_for(lambda: bool(telegram.texts(str(STAFF_CHAT))))
    [text] = telegram.texts(str(STAFF_CHAT))
    assert text.startswith("New booking: Haircut, Tue 2 Jun, 3:00 PM, Pat Patient, via sms")
    [job] = telegram.jobs
    assert job is not None and job.startswith("event:salon:evt")


@pytest.mark.anyio
async def test_reminder_fires_at_the_lead_time_and_move_it_reschedules(setup: Setup) -> None:
    telegram = JobChannel("telegram")
    bot = setup.open(reminder_lead_hours=24)
    worker = Worker(bot, {"telegram": telegram})
    await book(bot)
    setup.now[0] = TOMORROW_3PM - timedelta(hours=24, minutes=1)
    assert await worker.run_once() == 0, "not due yet"
    setup.now[0] = TOMORROW_3PM - timedelta(hours=24)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0, "sent once"
    [reminder] = [reply for _, reply in telegram.sent]
    [owned] = bot.store.owned_bookings("telegram", "555")
    assert telegram.jobs == [f"reminder:{owned.booking_id}"], "sent for the reminder's job"
    assert "Reminder" in reminder.text and [o.label for o in reminder.options] == [
        "Keep it",
        "Move it",
        "Cancel it",
    ]

    async def say(text: str) -> str:
        inbound = Inbound(channel="telegram", chat_id="555", message_id=uuid.uuid4().hex, text=text)
        return "\n".join(r.text for r in (await bot.engine.handle(inbound)).replies)

    await say("move it")
    await say("wednesday at 11am")
    assert Stage(bot.store.load("telegram", "555").state["stage"]) is Stage.CONFIRM  # type: ignore[index]
    assert "is now on" in await say("yes")
    async with setup.keyed() as keyed:
        [booking] = await keyed.list_bookings()
    assert booking.start == datetime.fromisoformat("2026-06-03T10:00:00+00:00")
    job = bot.store.get_job(f"reminder:{booking.id}")
    assert job is not None and job.run_at == booking.start - timedelta(hours=24)
    await bot.aclose()


@pytest.mark.anyio
async def test_no_reminder_for_a_booking_inside_the_lead_time(setup: Setup) -> None:
    bot = setup.open(reminder_lead_hours=48)
    await book(bot)
    async with setup.keyed() as keyed:
        [booking] = await keyed.list_bookings()
    assert bot.store.get_job(f"reminder:{booking.id}") is None
    await bot.aclose()


@pytest.mark.anyio
async def test_housekeeping_forgets_old_processed_messages_hourly_in_one_process(setup: Setup) -> None:
    # Two processes on one database; the booking is inside the lead time, so no reminder is due.
    bot, other = setup.open(reminder_lead_hours=48), setup.open(reminder_lead_hours=48)
    workers = [Worker(bot, {}), Worker(other, {})]
    await book(bot)
    for worker in workers:
        await worker.start()  # plans the first housekeeping; a second plan changes nothing
        await worker.stop()
    job = bot.store.get_job(HOUSEKEEPING)
    assert job is not None and job.run_at == NOW

    setup.now[0] = NOW + timedelta(days=8)  # the booking turns are now too old to be redelivered
    ran = [await worker.run_once() for worker in workers]
    assert sorted(ran) == [0, 1], "one process did it"
    [(left,)] = bot.store._db.execute("SELECT count(*) FROM processed_messages").fetchall()
    assert left == 0, "the booking turns' message ids are forgotten"
    job = bot.store.get_job(HOUSEKEEPING)
    assert job is not None and job.run_at == setup.now[0] + HOUSEKEEPING_EVERY, "and comes back in an hour"
    assert await workers[0].run_once() == 0
    await bot.aclose()
    await other.aclose()
