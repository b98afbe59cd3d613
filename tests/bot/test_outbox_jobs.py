"""The worker's ``send`` (the outbox) and ``turn`` jobs: replies wait through an outage for hours with
capped waits, one chat's stuck send never holds up another's, and turns the bot starts run once. A fake
dialog step stands in for the dialog; the stores are real (SQLite, then PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from bot.config import Settings
from bot.engine import Engine
from bot.outbox import LANE, MAX_WAIT, SEND, lane_key, outbox_job, queue_send
from bot.service import Bot, open_bot
from bot.types import Inbound, Outcome, PlannedJob, Profile, Reply
from bot.worker import Worker

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
PHONE = "+351912345678"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Channel:
    """Records what it delivers; fails while ``down``; may hold one chat's sends until released."""

    name = "sms"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.jobs: list[str | None] = []
        """The job each delivery was made for, in order."""
        self.tries = 0
        self.down = False
        self.stuck_chat: str | None = None
        self.release = anyio.Event()

    def routes(self) -> list[Any]:
        return []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(
        self, chat_id: str, replies: Sequence[Reply], *, tenant: str | None = None, job: str | None = None
    ) -> bool:
        self.tries += 1
        if self.down:
            raise ConnectionError("platform unavailable")
        if chat_id == self.stuck_chat:
            await self.release.wait()  # a throttled chat: its send waits a long time
        self.sent.extend((chat_id, reply.text) for reply in replies)
        self.jobs.append(job)
        return True


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bot(database: str, clock: Clock) -> AsyncIterator[Bot]:
    opened = open_bot(Settings(), base_url="http://127.0.0.1:9", database=database, clock=clock)
    yield opened
    await opened.aclose()


def queue(bot: Bot, job: PlannedJob) -> None:
    assert bot.store.add_job(job.key, job.kind, job.run_at, job.payload)


# -- send ------------------------------------------------------------------------------------------------


async def test_a_send_job_delivers_its_replies_once(bot: Bot, clock: Clock) -> None:
    sms = Channel()
    worker = Worker(bot, {"sms": sms})
    job = outbox_job("sms", PHONE, "salon", [Reply(text="one"), Reply(text="two")], clock.now)
    queue(bot, job)
    assert job.kind == SEND and PHONE not in job.key, "keys are logged: no phone numbers in them"
    assert await worker.run_once() == 1
    assert sms.sent == [(PHONE, "one"), (PHONE, "two")]
    assert await worker.run_once() == 0
    assert bot.store.get_job(job.key) is None


async def test_the_same_dedupe_id_queues_one_send(bot: Bot, clock: Clock) -> None:
    first = outbox_job("sms", PHONE, None, [Reply(text="hi")], clock.now, dedupe="SM123")
    again = outbox_job("sms", PHONE, None, [Reply(text="hi")], clock.now, dedupe="SM123")
    assert first.key == again.key
    assert bot.store.add_job(first.key, first.kind, first.run_at, first.payload)
    assert not bot.store.add_job(again.key, again.kind, again.run_at, again.payload)
    other = outbox_job("sms", PHONE, None, [Reply(text="hi")], clock.now)
    assert other.key != outbox_job("sms", PHONE, None, [Reply(text="hi")], clock.now).key


async def test_an_outage_of_hours_delays_the_reply_with_capped_waits(bot: Bot, clock: Clock) -> None:
    """Far more tries than the generic eight, none more than ten minutes apart, then delivered once."""
    sms = Channel()
    sms.down = True
    worker = Worker(bot, {"sms": sms})
    queue(bot, outbox_job("sms", PHONE, "salon", [Reply(text="booked")], clock.now))
    assert await worker.run_once() == 1
    expected = [timedelta(seconds=5 * 2**n) for n in range(7)] + [MAX_WAIT] * 30  # 5 s ... 320 s, then 10 min
    for wait in expected:  # about five hours
        failed_at = clock.now
        clock.now = failed_at + wait - timedelta(seconds=1)
        assert await worker.run_once() == 0, "no try before the wait is over"
        clock.now = failed_at + wait
        assert await worker.run_once() == 1, "and one as soon as it is"
    assert sms.tries == len(expected) + 1 and sms.sent == []
    sms.down = False
    clock.now += MAX_WAIT
    assert await worker.run_once() == 1
    assert sms.sent == [(PHONE, "booked")]
    assert bot.metrics.value("cadence_bot_errors_total", kind="outbox_expired") == 0


async def test_after_its_deadline_a_send_is_dropped_logged_and_counted(
    bot: Bot, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    sms = Channel()
    sms.down = True
    worker = Worker(bot, {"sms": sms})
    job = outbox_job(
        "sms", PHONE, "salon", [Reply(text="Pat, you're booked")], clock.now, hold=timedelta(hours=1)
    )
    queue(bot, job)
    with caplog.at_level(logging.INFO):
        while clock.now < T0 + timedelta(hours=1):  # every minute through the hour it is held
            clock.now += timedelta(minutes=1)
            await worker.run_once()
        tries = sms.tries
        for _ in range(60):
            clock.now += timedelta(minutes=1)
            assert await worker.run_once() == 0
    assert bot.store.get_job(job.key) is None, "given up"
    assert sms.sent == []
    assert 10 < tries == sms.tries, "tried through the hour, the last try at its deadline, then no more"
    assert bot.metrics.value("cadence_bot_errors_total", kind="outbox_expired") == 1
    assert "deadline" in caplog.text
    assert PHONE not in caplog.text and "Pat" not in caplog.text


async def test_one_chats_stuck_send_never_holds_up_another_chats(bot: Bot, clock: Clock) -> None:
    sms = Channel()
    sms.stuck_chat = "+15550000001"
    worker = Worker(bot, {"sms": sms})
    earlier = clock.now - timedelta(seconds=1)  # claimed first: in a one-at-a-time worker it blocks the rest
    queue(bot, outbox_job("sms", "+15550000001", None, [Reply(text="to the throttled chat")], earlier))
    queue(bot, outbox_job("sms", "+15550000002", None, [Reply(text="to another chat")], clock.now))
    async with anyio.create_task_group() as group:
        group.start_soon(worker.run_once)
        with anyio.fail_after(5):
            while ("+15550000002", "to another chat") not in sms.sent:
                await anyio.sleep(0.01)
        assert sms.sent == [("+15550000002", "to another chat")]
        sms.release.set()
    assert ("+15550000001", "to the throttled chat") in sms.sent


async def test_a_send_job_names_itself_to_the_channel(bot: Bot, clock: Clock) -> None:
    """So a delivery receipt (Twilio's status callback) can be matched to the job later."""
    sms = Channel()
    job = outbox_job("sms", PHONE, None, [Reply(text="hi")], clock.now)
    assert queue_send(bot.store, job)
    await Worker(bot, {"sms": sms}).run_once()
    assert sms.jobs == [job.key]


async def run_through(worker: Worker, clock: Clock, until: datetime) -> None:
    """The worker's loop, second by second on the test's clock: every due job runs when it is due."""
    while clock.now < until:
        clock.now += timedelta(seconds=1)
        while await worker.run_once():  # a send released by the one ahead of it runs in the same second
            pass


async def test_one_chats_replies_go_out_in_the_order_queued_after_an_outage(bot: Bot, clock: Clock) -> None:
    """Three replies to one chat queued during an outage, each with its own backoff (the oldest has
    failed most, so it waits longest), and the worker running batches concurrently: once the platform
    is back they arrive in the order queued; another chat's reply, queued last, is not held behind."""
    sms = Channel()
    sms.down = True
    worker = Worker(bot, {"sms": sms})
    other = "+15550000002"
    for n, after in enumerate((0, 100, 160)):  # queued while down: tried at 0 s, 100 s and 160 s on
        await run_through(worker, clock, T0 + timedelta(seconds=after))
        assert queue_send(bot.store, outbox_job("sms", PHONE, None, [Reply(text=f"reply {n}")], clock.now))
        assert PHONE not in lane_key("sms", PHONE)
    await run_through(worker, clock, T0 + timedelta(seconds=170))
    sms.down = False  # back: the first reply's next try is minutes away, the others' are sooner
    queue_send(bot.store, outbox_job("sms", other, None, [Reply(text="to another chat")], clock.now))
    assert await worker.run_once() == 1
    assert sms.sent == [(other, "to another chat")], "at once, though the first chat's replies wait"
    await run_through(worker, clock, T0 + timedelta(minutes=30))
    assert [text for chat, text in sms.sent if chat == PHONE] == ["reply 0", "reply 1", "reply 2"]
    assert bot.store.count_jobs() == 0, "nothing of the line is left pending"


async def test_a_chats_replies_claimed_in_one_batch_go_out_in_the_order_queued(
    bot: Bot, clock: Clock
) -> None:
    """The newest claimed first (due earliest), all in one concurrent batch: still sent oldest first,
    and in one batch (no wait for a later one)."""
    sms = Channel()
    worker = Worker(bot, {"sms": sms})
    later = clock.now + timedelta(seconds=30)
    for n, run_at in enumerate((later, later - timedelta(seconds=10), later - timedelta(seconds=20))):
        job = outbox_job("sms", PHONE, None, [Reply(text=f"reply {n}")], clock.now, run_at=run_at)
        assert queue_send(bot.store, job)
    clock.now = later
    assert await worker.run_once() == 3
    assert sms.sent == [(PHONE, "reply 0"), (PHONE, "reply 1"), (PHONE, "reply 2")]


async def test_a_line_outlives_nothing_once_its_sends_are_dropped(bot: Bot, clock: Clock) -> None:
    """Replies dropped at their deadline free the line: the next one queued does not wait for them."""
    sms = Channel()
    sms.down = True
    worker = Worker(bot, {"sms": sms})
    hold = timedelta(minutes=5)
    assert queue_send(bot.store, outbox_job("sms", PHONE, None, [Reply(text="old")], clock.now, hold=hold))
    await run_through(worker, clock, T0 + hold + timedelta(seconds=1))
    assert bot.store.count_jobs() == 0
    assert bot.store.get_job(lane_key("sms", PHONE)) is None
    sms.down = False
    assert queue_send(bot.store, outbox_job("sms", PHONE, None, [Reply(text="new")], clock.now))
    assert await worker.run_once() == 1
    assert sms.sent == [(PHONE, "new")]
    assert LANE == "send_lane"


# -- turns the bot starts --------------------------------------------------------------------------------


class Step:
    """A fake dialog step: answers each message; "later" plans a turn of the bot's an hour on."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(
        self, state: dict[str, Any] | None, profile: Profile, inbound: Inbound, now: datetime
    ) -> Outcome:
        self.seen.append(inbound.message_id)
        jobs: tuple[PlannedJob, ...] = ()
        if inbound.text == "later":
            follow_up = Inbound(
                channel=inbound.channel, chat_id=inbound.chat_id, message_id="follow-up:1", text="(checking)"
            )
            payload = {"inbound": follow_up.model_dump(mode="json")}
            jobs = (
                PlannedJob(
                    key="turn:follow-up:1", kind="turn", run_at=now + timedelta(hours=1), payload=payload
                ),
            )
        return Outcome(state={}, replies=(Reply(text=f"re {inbound.text}"),), jobs=jobs)


async def test_a_turn_planned_by_a_step_runs_when_due_once_and_its_replies_go_out(
    bot: Bot, clock: Clock
) -> None:
    step = Step()
    bot.engine = Engine(bot.store, step, clock=clock)
    sms = Channel()
    worker = Worker(bot, {"sms": sms})
    await bot.engine.handle(Inbound(channel="sms", chat_id=PHONE, message_id="m1", text="later"))
    assert bot.store.get_job("turn:follow-up:1") is not None, "committed with the turn"
    assert await worker.run_once() == 0
    clock.now += timedelta(hours=1)
    assert await worker.run_once() == 1
    assert step.seen == ["m1", "follow-up:1"]
    assert sms.sent == [(PHONE, "re (checking)")]
    clock.now += timedelta(hours=1)
    assert await worker.run_once() == 0


async def test_a_turn_whose_replies_cannot_go_out_runs_once_and_they_wait_in_the_outbox(
    bot: Bot, clock: Clock
) -> None:
    step = Step()
    bot.engine = Engine(bot.store, step, clock=clock)
    sms = Channel()
    sms.down = True
    worker = Worker(bot, {"sms": sms})
    inbound = Inbound(channel="sms", chat_id=PHONE, message_id="bot:1", text="hello")
    queue(
        bot,
        PlannedJob(
            key="turn:bot:1",
            kind="turn",
            run_at=clock.now,
            payload={"inbound": inbound.model_dump(mode="json")},
        ),
    )
    assert await worker.run_once() == 1
    assert bot.store.get_job("turn:bot:1") is None, "the turn is done"
    assert bot.store.count_jobs(SEND) == 1, "its replies wait"
    for _ in range(10):  # an outage
        clock.now += MAX_WAIT
        await worker.run_once()
    sms.down = False
    clock.now += MAX_WAIT
    assert await worker.run_once() == 1
    assert sms.sent == [(PHONE, "re hello")]
    assert step.seen == ["bot:1"], "the dialog ran once"
    assert bot.store.count_jobs() == 0


async def test_a_turn_job_without_an_inbound_is_dropped(bot: Bot, clock: Clock) -> None:
    queue(bot, PlannedJob(key="turn:broken", kind="turn", run_at=clock.now, payload={"inbound": {"text": 1}}))
    worker = Worker(bot, {})
    assert await worker.run_once() == 1
    assert bot.store.get_job("turn:broken") is None
