"""Twilio's delivery status callbacks, Messaging Services, and texts the outbox keeps while Twilio is down.

End to end like test_sms_e2e (the same world: serve's app on 127.0.0.1, the sandbox Cadence, the fake
Twilio), with every callback signed by the real twilio library for the URL the bot asked Twilio to
call; the pure parts (what a report says, what a job key is) at the end."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta
from typing import Any

import pytest

from bot.config import TenantConfig
from bot.outbox import FIRST_WAIT
from bot.reminders import reminder_key
from bot.store import open_store
from bot.types import Reply
from channels.sms.signed import Form
from channels.sms.status import StatusReport, delivery_kind, parse_report
from tests.channels import test_sms_e2e as e2e
from tests.channels.fake_twilio import message_sid, sign, wait_until
from tests.conftest import SALON_KEY

World, Served, PAT, SALON_E164 = e2e.World, e2e.Served, e2e.PAT, e2e.SALON_E164
world = e2e.world  # the same fixture
SERVICE = "MG" + "0123456789abcdef" * 2


def send(served: e2e.Served, text: str | list[str], *, job: str | None) -> bool:
    """``channel.send`` as the worker calls it for a reminder or a notification, with the job's key."""
    texts = [text] if isinstance(text, str) else text
    replies = [Reply(text=each) for each in texts]
    return asyncio.run(served.channel.send(PAT, replies, tenant="salon", job=job))


def delivery(world: e2e.World, sid: str) -> tuple[str | None, str | None, str | None]:
    """(job_key, status, error_code) of a sent text, read as an operator would (docs/sms.md)."""
    with sqlite3.connect(world.database) as db:
        row = db.execute(
            "SELECT job_key, status, error_code FROM deliveries WHERE channel = 'sms' AND message_sid = ?",
            [sid],
        ).fetchone()
    assert row is not None, f"{sid} was not recorded"
    return row[0], row[1], row[2]


def documented_query() -> str:
    """The query docs/sms.md gives operators for reminders that never arrived."""
    return e2e.DOCS.read_text(encoding="utf-8").split("```sql")[1].split("```")[0]


# -- status callbacks -------------------------------------------------------------------------------


def test_an_undelivered_reminder_is_counted_logged_and_marked_on_its_job(
    world: e2e.World, caplog: Any
) -> None:
    job = reminder_key("bk_0001")
    with world.serve() as served:
        assert send(served, "Reminder: your Haircut is tomorrow at 3:00 PM.", job=job)
        [sent] = world.fake.sent_to(PAT)
        assert sent.status_callback == served.url + "/sms/twilio/status", "BOT_PUBLIC_URL + the path"
        assert world.fake.report(sent.sid, "queued").status_code == 204
        assert world.fake.report(sent.sid, "sent").status_code == 204
        assert delivery(world, sent.sid) == (job, "sent", None)
        failures = served.bot.metrics.value("cadence_bot_sms_delivery_failures_total")
        assert failures == 0, "queued and sent are no failures"

        with caplog.at_level(logging.WARNING, logger="channels.sms.channel"):
            answer = world.fake.report(sent.sid, "undelivered", error_code="30003")
        assert answer.status_code == 204
        assert delivery(world, sent.sid) == (job, "undelivered", "30003"), "marked on the reminder's record"
        metrics = served.bot.metrics
        assert metrics.value("cadence_bot_sms_delivery_failures_total", kind="reminder") == 1
        assert metrics.value("cadence_bot_sms_delivery_failures_total") == 1
        [line] = [r.getMessage() for r in caplog.records if "delivery failed" in r.getMessage()]
        assert job in line and sent.sid in line and "30003" in line and "undelivered" in line, line
        assert PAT not in line and PAT.lstrip("+") not in line, "no phone number in the log"
        assert "cadence_bot_sms_delivery_failures_total" in metrics.render()
    with sqlite3.connect(world.database) as db:
        found = db.execute(documented_query()).fetchall()
    assert [row[:4] for row in found] == [(job, sent.sid, "undelivered", "30003")], "docs/sms.md finds it"


def test_the_worker_sends_a_due_reminder_for_its_job_and_a_failure_is_marked_on_it(world: e2e.World) -> None:
    """The whole path: a booking by text, its reminder run by the worker when due, Twilio's report."""
    with world.serve() as served:
        e2e.book_in_three_texts(served.phone())
        [booking] = world.bookings()
        job = served.bot.store.get_job(reminder_key(booking["id"]))
        assert job is not None
        world.now[0] = job.run_at + timedelta(minutes=1)
        [reminder] = world.fake.wait_for(PAT, 1)
        assert world.fake.report(reminder.sid, "failed", error_code="30005").status_code == 204
        assert delivery(world, reminder.sid) == (job.key, "failed", "30005")
        metrics = served.bot.metrics
        assert metrics.value("cadence_bot_sms_delivery_failures_total", kind="reminder") == 1


def test_failures_are_counted_by_what_the_text_was(world: e2e.World) -> None:
    jobs = {
        "event:salon:evt_123": "notification",
        "send:sms:salon:evt_124": "notification",  # a notice the worker had to queue
        "send:sms:reply:SM0001": "reply",
        None: "unknown",
    }
    with world.serve() as served:
        for job in jobs:
            assert send(served, f"A text for {job}", job=job)
        for sent in world.fake.messages:
            assert world.fake.report(sent.sid, "failed", error_code="30006").status_code == 204
        metrics = served.bot.metrics
        for kind in ("notification", "reply", "unknown"):
            expected = list(jobs.values()).count(kind)
            assert metrics.value("cadence_bot_sms_delivery_failures_total", kind=kind) == expected, kind


def test_callbacks_out_of_order_keep_delivered(world: e2e.World) -> None:
    with world.serve() as served:
        assert send(served, "Your Haircut was moved.", job="event:salon:evt_9")
        [sent] = world.fake.sent_to(PAT)
        for status in ("delivered", "sent", "queued"):  # Twilio's callbacks race each other
            assert world.fake.report(sent.sid, status).status_code == 204
        assert delivery(world, sent.sid) == ("event:salon:evt_9", "delivered", None)
        assert served.bot.metrics.value("cadence_bot_sms_delivery_failures_total") == 0


def test_forged_and_junk_callbacks_are_refused_and_change_nothing(world: e2e.World) -> None:
    with world.serve() as served:
        assert send(served, "Your Haircut was moved.", job="event:salon:evt_10")
        [sent] = world.fake.sent_to(PAT)
        url = served.url + "/sms/twilio/status"
        assert world.fake.report(sent.sid, "failed", token="not-the-auth-token").status_code == 403
        forged = {"MessageSid": sent.sid, "MessageStatus": "failed", "ErrorCode": "30007"}
        phone = served.phone()
        phone.path = "/sms/twilio/status"
        assert phone.post(forged, signature=None).status == 403
        assert phone.post(forged, signature=sign(url + "?x=1", forged)).status == 403, "another URL"
        assert phone.post({**forged, "MessageStatus": "delivered"}, signature=sign(url, forged)).status == 403
        assert delivery(world, sent.sid) == ("event:salon:evt_10", None, None), "nothing marked"
        assert served.bot.metrics.value("cadence_bot_sms_delivery_failures_total") == 0

        for junk in (
            {"MessageSid": sent.sid},  # no status
            {"MessageStatus": "failed"},  # no message
            {"MessageSid": "../../etc", "MessageStatus": "failed"},
            {"MessageSid": sent.sid, "MessageStatus": "x" * 200},
        ):
            assert phone.post(junk, signature=sign(url, junk)).status == 400, junk
        answer = phone.post({"MessageSid": message_sid(), "MessageStatus": "failed"}, signature=True)
        assert answer.status == 204, "a text never recorded (an earlier version's) is counted as unknown"
        assert served.bot.metrics.value("cadence_bot_sms_delivery_failures_total", kind="unknown") == 1


def test_behind_a_proxy_the_callback_url_is_the_public_one(world: e2e.World) -> None:
    public = "https://book.example.com/cadence"
    with world.serve(public_url=public) as served:
        assert send(served, "Your Haircut was moved.", job="event:salon:evt_11")
        [sent] = world.fake.sent_to(PAT)
        assert sent.status_callback == public + "/sms/twilio/status"
        local = served.url + "/sms/twilio/status"  # where the proxy forwards it
        assert world.fake.report(sent.sid, "delivered", via=local).status_code == 204
        assert delivery(world, sent.sid)[1] == "delivered"


def test_without_a_public_url_no_callback_is_asked_for(world: e2e.World) -> None:
    with world.serve(public_url=None) as served:
        assert send(served, "Your Haircut was moved.", job="event:salon:evt_12")
        [sent] = world.fake.sent_to(PAT)
        assert sent.status_callback is None, "Twilio's callbacks could not be verified: none asked for"
        assert delivery(world, sent.sid) == ("event:salon:evt_12", None, None)


# -- Messaging Services -----------------------------------------------------------------------------


def test_a_tenant_with_a_messaging_service_sends_through_it(world: e2e.World) -> None:
    salon = TenantConfig(
        slug="salon", org_api_key=SALON_KEY, twilio_numbers=(e2e.SALON_NUMBER,), messaging_service_sid=SERVICE
    )
    with world.serve(tenants={"salon": salon}) as served:
        pat = served.phone()
        assert "Studio Salon" in pat.text("Hi, can I get a haircut tomorrow at 3pm?").text, "mapped by number"
        pat.text("Pat Patient")
        world.cadence.delay = 1.0
        assert pat.text("1").bodies == ["One moment..."]
        [late] = world.fake.wait_for(PAT, 1)
        assert "You're booked" in late.body
        assert send(served, "Reminder: your Haircut is tomorrow.", job=reminder_key("bk_2"))
        for sent in world.fake.sent_to(PAT):
            assert sent.messaging_service_sid == SERVICE and sent.from_ == "", "the service picks the number"
        assert world.fake.report(late.sid, "delivered").status_code == 204


def test_without_a_messaging_service_texts_come_from_the_number(world: e2e.World) -> None:
    with world.serve() as served:
        assert send(served, "Reminder: your Haircut is tomorrow.", job=reminder_key("bk_3"))
        [sent] = world.fake.sent_to(PAT)
        assert sent.from_ == SALON_E164 and sent.messaging_service_sid is None


# -- Twilio down: the outbox ------------------------------------------------------------------------


def test_a_late_answer_during_a_twilio_outage_waits_in_the_outbox_not_the_inbox(world: e2e.World) -> None:
    with world.serve() as served:
        pat = served.phone()
        pat.text("a haircut tomorrow at 3pm")
        pat.text("Pat Patient")
        world.cadence.delay, world.fake.outage = 1.0, True
        sid = message_sid()
        assert pat.text("1", sid=sid).bodies == ["One moment..."]
        key = f"send:sms:reply:{sid}"
        wait_until(lambda: served.bot.store.get_job(key) is not None, 10, "the answer to be queued")
        queued = served.bot.store.get_job(key)
        assert queued is not None and queued.run_at == world.now[0] + FIRST_WAIT, "tried again in 5 s"
        assert "You're booked" in queued.payload["replies"][0]["text"]
        assert world.fake.sent_to(PAT) == []

        # The message left the inbox: nothing is there to resume, however long we wait.
        inbox = open_store(world.database, clock=lambda: world.now[0] + timedelta(hours=1))
        try:
            wait_until(lambda: not served.channel.inbox.holds(sid), 10, "the turn to let go of it")
            assert inbox.claim_inbound(channel="sms") == []
        finally:
            inbox.close()

        world.cadence.delay, world.fake.outage = 0, False
        world.now[0] += FIRST_WAIT
        [late] = world.fake.wait_for(PAT, 1)
        assert "You're booked" in late.body
        wait_until(lambda: served.bot.store.get_job(key) is None, 10, "the send job to finish")
        assert len(world.fake.sent_to(PAT)) == 1
    assert len(world.bookings()) == 1


def test_texts_after_a_partial_send_wait_in_the_outbox_and_none_goes_twice(world: e2e.World) -> None:
    first, second = "A" * 200 + ".", "B" * 200 + "."  # too long together: two texts
    job = reminder_key("bk_4")
    with world.serve() as served:
        world.fake.outage, world.fake.outage_after = True, 1
        assert send(served, [first, second], job=job), "the first went: a retry must not resend it"
        assert [m.body for m in world.fake.sent_to(PAT)] == [first]
        world.fake.outage = False
        world.now[0] += FIRST_WAIT
        wait_until(lambda: len(world.fake.sent_to(PAT)) == 2, 10, "the rest to be sent by the worker")
        assert [m.body for m in world.fake.sent_to(PAT)] == [first, second]
        with sqlite3.connect(world.database) as db:
            [(rest,)] = db.execute("SELECT key FROM jobs WHERE kind = 'send'").fetchall()
        assert rest.startswith(f"send:sms:{job}:rest-") and delivery_kind(rest) == "reminder"


def test_nothing_sent_raises_so_the_caller_retries_the_whole(world: e2e.World) -> None:
    from channels.sms.rest import SmsUnavailable

    with world.serve() as served:
        world.fake.outage = True
        with pytest.raises(SmsUnavailable):
            send(served, "Your Haircut was moved.", job="event:salon:evt_13")
        assert served.bot.store.count_jobs("send") == 0


# -- the pure parts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "kind"),
    [
        ("reminder:bk_1", "reminder"),
        ("send:sms:reminder:bk_1:2026-06-01T14:00:00+00:00", "reminder"),
        ("send:sms:send:sms:reminder:bk_1:rest-ab:rest-cd", "reminder"),
        ("event:salon:evt_1", "notification"),
        ("send:sms:salon:evt_1", "notification"),
        ("reply:SM0001", "reply"),
        ("send:sms:reply:SM0001", "reply"),
        ("send:sms:check:idem_1:2", "reply"),
        ("send:sms:dead-SM0001", "reply"),
        ("salon:evt_1", "unknown"),  # only an outbox job names a notice this way
        ("housekeeping", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_delivery_kind(job: str | None, kind: str) -> None:
    assert delivery_kind(job) == kind


def form(**fields: str) -> Form:
    return Form({name: [value] for name, value in fields.items()})


def test_parse_report() -> None:
    sid = "SM" + "a" * 32
    assert parse_report(form(MessageSid=sid, MessageStatus="undelivered", ErrorCode="30003")) == StatusReport(
        sid, "undelivered", "30003"
    )
    assert parse_report(form(SmsSid=sid, SmsStatus="Delivered")) == StatusReport(sid, "delivered")
    assert parse_report(form(MessageSid=sid, MessageStatus="failed", ErrorCode="<b>")) == StatusReport(
        sid, "failed"
    )
    assert parse_report(form(MessageSid=sid, MessageStatus="failed")).failed  # type: ignore[union-attr]
    assert not parse_report(form(MessageSid=sid, MessageStatus="sent")).failed  # type: ignore[union-attr]
    for bad in (
        form(MessageSid=sid),
        form(MessageStatus="sent"),
        form(MessageSid="sm1", MessageStatus="sent"),
    ):
        assert parse_report(bad) is None
