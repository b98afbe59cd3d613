"""End to end: ``serve``'s app with the Telegram channel under uvicorn on 127.0.0.1, python-telegram-bot
talking over HTTP to a fake Bot API, the sandbox Cadence behind the bot.

Set ``CADENCE_TELEGRAM_TRANSCRIPT=path`` to write the booking conversation's transcript (docs/telegram.md
shows one)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.channels.conftest import TELEGRAM_SECRET, TelegramWorld
from tests.channels.fake_telegram import PTB_RETRY_AFTER_WARNING, Customer, polling_deliverer, wait_until
from tests.conftest import NOW

GREETING = "Hi! I'm the booking assistant for Studio Salon."
ASK_SERVICE = "What would you like to book?"


UNDERSTOOD = "Haircut on Tue 2 Jun, 3:00 PM is open."


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]


def book_by_taps(pat: Customer) -> None:
    """From the deep link to "You're booked", by taps wherever there is a button."""
    replies = pat.start("salon")
    assert texts(replies) == [GREETING, ASK_SERVICE]
    assert pat.buttons() == ["Haircut", "Colour", "Beard trim"]
    replies = pat.tap("Haircut")
    assert texts(replies)[0].startswith("When would you like to come for Haircut?")
    replies = pat.say("tomorrow at 3pm")  # typed mid-flow: an exact open slot, so straight to the name
    # what was understood comes first, then what is missing
    assert texts(replies) == [f"{UNDERSTOOD}\nWhat name should I put the booking under?"]
    assert pat.buttons() == ["Use Pat Patient"], "the Telegram profile's name is offered"
    replies = pat.tap("Use Pat Patient")
    [ask_contact] = replies
    keyboard = ask_contact["reply_markup"]
    assert keyboard["keyboard"] == [[{"text": "Share my phone number", "request_contact": True}]]
    assert keyboard["one_time_keyboard"] is True
    replies = pat.share_contact("+351 912 345 678")
    [confirm] = replies
    assert "Tue 2 Jun, 3:00 PM" in confirm["text"] and "+351912345678" in confirm["text"]
    replies = pat.tap("Book it")
    [booked] = replies
    assert booked["text"].startswith("You're booked! Haircut on Tue 2 Jun, 3:00 PM")


def test_a_booking_by_taps_from_a_deep_link(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with world.serve() as served:
        pat = served.customer(world)
        book_by_taps(pat)
        messages = pat.messages()
    [booking] = world.bookings()
    assert booking["start"] == "2026-06-02T14:00:00Z" and booking["service_id"] == "svc_cut"
    assert booking["customer"] == {"name": "Pat Patient", "phone": "+351912345678"}

    fake = world.fake
    sent = fake.sent(pat.chat_id)
    assert all(m["parse_mode"] == "HTML" for m in sent)
    # Every tap answered, every tapped keyboard retired with the choice written in.
    taps = [c for c in fake.calls_of("answerCallbackQuery")]
    assert len(taps) == 3
    assert [m["text"] for m in messages if "→" in m["text"]] == [
        f"{ASK_SERVICE}\n→ Haircut",
        f"{UNDERSTOOD}\nWhat name should I put the booking under?\n→ Use Pat Patient",
        confirm_text(messages) + "\n→ Book it",
    ]
    assert not any("reply_markup" in m for m in messages), "no buttons left to tap"
    # The share-contact keyboard goes away with the first message that has no keyboard of its own.
    assert sent[-1]["reply_markup"] == {"remove_keyboard": True}
    assert sum("remove_keyboard" in (m.get("reply_markup") or {}) for m in sent) == 1

    transcript = "\n".join(pat.transcript)
    if path := os.environ.get("CADENCE_TELEGRAM_TRANSCRIPT"):
        Path(path).write_text(transcript + "\n", encoding="utf-8")
    assert _references(documented_transcript()) == _references(transcript), (
        "docs/telegram.md shows another conversation: regenerate it with "
        "CADENCE_TELEGRAM_TRANSCRIPT=transcript.txt .venv/bin/pytest tests/channels -k deep_link"
    )


DOCS = Path(__file__).resolve().parents[2] / "docs" / "telegram.md"


def documented_transcript() -> str:
    block = DOCS.read_text(encoding="utf-8").split("<!-- transcript:start -->")[1]
    block = block.split("<!-- transcript:end -->")[0].strip()
    return block.removeprefix("```text").removesuffix("```").strip()


def _references(text: str) -> str:
    """Booking references are random; everything else must match."""
    return re.sub(r"\bbk_[0-9a-f]+", "bk_…", text.strip())


def confirm_text(messages: list[dict[str, Any]]) -> str:
    [text] = [str(m["text"]) for m in messages if m["text"].startswith("Ready to book")]
    return text.rpartition("\n→ ")[0]


def test_a_shared_contact_counts_only_when_it_is_the_customers_own(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with world.serve() as served:
        pat = served.customer(world)
        pat.start("salon")
        pat.say("a haircut tomorrow at 3pm")
        pat.tap("Use Pat")
        replies = pat.share_contact("+351 911 111 111", own=False)  # a friend's card
        assert "email or phone number" in texts(replies)[-1]
        assert replies[-1]["reply_markup"]["keyboard"][0][0]["request_contact"] is True
        [confirm] = pat.share_contact("+351 912 345 678")
        assert "+351912345678" in confirm["text"] and "911" not in confirm["text"]


def test_a_restart_between_the_200_and_the_reply_still_replies_once(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    held = threading.Event()

    async def hold(inbound: Any) -> None:  # the process "dies" after the 200, before answering
        held.set()
        await asyncio.Event().wait()

    with world.serve(before_process=hold, grace=0.1) as first:
        pat = first.customer(world)
        update = pat.message_update(text="/start salon")
        pat.deliver(update)  # answered 200: it is in the store
        assert held.wait(10)
    assert world.fake.sent(pat.chat_id) == [], "nothing was answered before the restart"

    world.now[0] = NOW + timedelta(minutes=2)  # the first process's lease on it has run out
    with world.serve() as second:
        again = second.customer(world)
        again.wait_done(update)  # resumed from the inbox at start
        assert texts(world.fake.sent(pat.chat_id)) == [GREETING, ASK_SERVICE]
        again.deliver(update)  # Telegram never saw a reply, so it delivers again: nothing more happens
        again.tap("Colour")  # and the conversation carries on from there (one chat's turns run in order,
        # so a second run of the redelivered update would have answered before this tap)
        sent = texts(world.fake.sent(pat.chat_id))
        assert sent[:2] == [GREETING, ASK_SERVICE] and GREETING not in sent[2:], sent
        assert "Colour" in world.fake.sent(pat.chat_id)[-1]["text"]


def test_a_tap_resumed_after_a_restart_is_answered_and_its_keyboard_retired(
    telegram_world: TelegramWorld,
) -> None:
    """The callback id and the tapped message are kept with the update in the inbox, so a tap whose
    process died before answering it is answered and edited by the next one, as a live tap is."""
    world = telegram_world
    with world.serve() as first:
        pat = first.customer(world)
        pat.start("salon")
    [services] = [m for m in pat.messages() if m["text"] == ASK_SERVICE]
    held = threading.Event()

    async def hold(inbound: Any) -> None:  # the process "dies" after the 200, before answering
        held.set()
        await asyncio.Event().wait()

    with world.serve(before_process=hold, grace=0.1) as second:
        pat = second.customer(world, chat_id=pat.chat_id)
        tap = pat.tap_update("Haircut")
        pat.deliver(tap)
        assert held.wait(10)
    query_id = tap["callback_query"]["id"]
    answered = {c.params["callback_query_id"] for c in world.fake.calls_of("answerCallbackQuery")}
    assert query_id not in answered

    world.now[0] = NOW + timedelta(minutes=2)  # the dead process's lease has run out
    with world.serve() as third:
        again = third.customer(world, chat_id=pat.chat_id)
        again.wait_done(tap)  # resumed from the inbox at start
        answered = {c.params["callback_query_id"] for c in world.fake.calls_of("answerCallbackQuery")}
        assert query_id in answered, "the resumed tap's spinner is stopped"
        edited = world.fake.messages[(pat.chat_id, services["message_id"])]
        assert edited["text"] == f"{ASK_SERVICE}\n→ Haircut" and "reply_markup" not in edited
        assert texts(world.fake.sent(pat.chat_id))[-1].startswith("When would you like to come for Haircut?")


@pytest.mark.parametrize("customer_wrote_again", [False, True])
def test_replies_that_could_not_go_out_wait_in_the_outbox_and_go_out_in_order(
    telegram_world: TelegramWorld, customer_wrote_again: bool
) -> None:
    """A turn committed while Telegram was down hands its replies to the durable outbox and leaves the
    inbox; the worker sends them once Telegram is back. Replies to the customer's later messages wait
    behind them, so the chat reads in the order it happened."""
    world = telegram_world
    with world.serve() as served:
        pat = served.customer(world)
        pat.start("salon")
        for _ in range(6):  # every try of the next reply fails: Telegram is down
            world.fake.fail_next("sendMessage", status=500)
        pat.say("haircut")  # committed, not delivered: queued, and the update finished
        assert not any("When" in m["text"] for m in world.fake.sent(pat.chat_id))
        assert served.bot.store.count_jobs("send") == 1
        if customer_wrote_again:
            pat.say("tomorrow at 3pm")  # Telegram is back, but this answer waits behind the first
        before = texts(world.fake.sent(pat.chat_id))
        world.now[0] += timedelta(seconds=6)  # the outbox's first retry is due
        expected = 2 if customer_wrote_again else 1
        wait_until(lambda: len(world.fake.sent(pat.chat_id)) == len(before) + expected, 10, "the outbox")
        # Once the outbox is empty nothing more can be sent: a reply sent twice would be there now.
        wait_until(lambda: served.bot.store.count_jobs("send") == 0, 10, "the outbox to empty")
        resent = texts(world.fake.sent(pat.chat_id))[len(before) :]
    assert len(resent) == expected, resent
    assert "haircut" in resent[0].lower() and "when" in resent[0].lower(), resent
    if customer_wrote_again:
        assert resent[1].startswith(UNDERSTOOD), resent


def test_a_booking_confirmation_that_never_went_out_is_sent_once_from_the_outbox(
    telegram_world: TelegramWorld,
) -> None:
    world = telegram_world
    with world.serve() as served:
        pat = served.customer(world)
        pat.start("salon")
        pat.say("haircut tomorrow at 3pm")
        pat.say("Pat Patient")
        pat.say("pat@example.com")
        for _ in range(6):  # Telegram goes down as the booking is made
            world.fake.fail_next("sendMessage", status=500)
        book = pat.tap_update("Book it")
        pat.act(book, "[taps Book it]")
        assert len(world.bookings()) == 1
        assert not any("You're booked" in m["text"] for m in world.fake.sent(pat.chat_id))
        world.now[0] += timedelta(seconds=6)
        wait_until(
            lambda: any("You're booked" in m["text"] for m in world.fake.sent(pat.chat_id)), 10, "booked"
        )
        wait_until(lambda: served.bot.store.count_jobs("send") == 0, 10, "the outbox to empty")
        booked = [m for m in world.fake.sent(pat.chat_id) if "You're booked" in m["text"]]
    assert len(booked) == 1 and len(world.bookings()) == 1


def test_a_burst_runs_at_most_max_turns_at_once_and_answers_every_update(
    telegram_world: TelegramWorld,
) -> None:
    """Six chats write at once to a bot allowed two turns at a time: every update is acknowledged at
    once (stored), two turns start, the other four wait for a slot, and all six are answered."""
    world = telegram_world
    started: list[str] = []
    peak = [0]
    release = threading.Event()
    finished: list[set[str]] = []  # the served bot's done set, once it exists

    async def gate(inbound: Any) -> None:
        started.append(inbound.message_id)
        peak[0] = max(peak[0], len(started) - len(finished[0]))
        while not release.is_set():
            await asyncio.sleep(0.01)

    with world.serve(max_turns=2, before_process=gate) as served:
        finished.append(served.done)
        customers = [served.customer(world, chat_id=5000 + n) for n in range(6)]
        updates = [pat.message_update(text="/start salon") for pat in customers]
        for pat, update in zip(customers, updates, strict=True):
            pat.deliver(update)  # answered 200 although no slot is free: it is stored
        time.sleep(0.3)
        assert len(started) == 2, "only two turns may start"
        release.set()
        for pat, update in zip(customers, updates, strict=True):
            pat.wait_done(update)
            assert texts(world.fake.sent(pat.chat_id)) == [GREETING, ASK_SERVICE]
        assert sorted(started) == sorted(str(update["update_id"]) for update in updates)
        assert peak[0] == 2
        assert served.bot.store.claim_inbound(lease=timedelta(0)) == [], "the inbox is empty"


def test_an_update_delivered_three_times_books_once(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with world.serve() as served:
        pat = served.customer(world)
        pat.start("salon")
        pat.say("haircut tomorrow at 3pm")
        pat.say("Pat Patient")
        pat.say("pat@example.com")
        update = pat.tap_update("Book it")
        with ThreadPoolExecutor(2) as pool:  # twice at once (Telegram gave up waiting on the first)...
            list(pool.map(pat.deliver, [update, update]))
        pat.wait_done(update)
        pat.deliver(update)  # ...and once more later
        pat.say("help")  # one chat's turns run in order: a second run of the tap would have come first
        assert not served.channel.busy
    assert len(world.bookings()) == 1
    assert sum(m["text"].startswith("You're booked!") for m in world.fake.sent(pat.chat_id)) == 1
    query_id = update["callback_query"]["id"]
    answered = [
        c for c in world.fake.calls_of("answerCallbackQuery") if c.params["callback_query_id"] == query_id
    ]
    assert len(answered) == 1


def test_a_tap_on_an_expired_keyboard(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with world.serve() as served:
        pat = served.customer(world)
        pat.start("salon")
        [services] = [m for m in pat.messages() if m["text"] == ASK_SERVICE]
        pat.tap("Haircut")
        # The same keyboard as it was before the edit (a double tap, or a client that lagged behind).
        colour = services["reply_markup"]["inline_keyboard"][0][1]
        assert colour["text"] == "Colour"
        stale = pat.callback_update(services, colour["callback_data"])
        replies = pat.act(stale, "[taps “Colour” on the old keyboard]")
        assert texts(replies)[0] == "That offer has expired."
        assert texts(replies)[1].startswith("When would you like to come for Haircut?")
        answered = {c.params["callback_query_id"] for c in world.fake.calls_of("answerCallbackQuery")}
        assert stale["callback_query"]["id"] in answered
        now_reads = [m["text"] for m in pat.messages() if m["message_id"] == services["message_id"]]
        assert now_reads == [f"{ASK_SERVICE}\n→ Haircut"], "the choice taken stays on the message"


def test_a_booking_in_polling_mode(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    world.fake.webhook = {"url": "https://old.example.com/telegram/webhook"}  # left from a deployment
    with world.serve(polling=True) as served:
        pat = Customer(world.fake, polling_deliverer(world.fake), lambda: set(served.done))
        book_by_taps(pat)
    assert len(world.bookings()) == 1
    methods = [c.method for c in world.fake.calls]
    assert methods.index("deleteWebhook") < methods.index("getUpdates")
    polls = [c.params for c in world.fake.calls_of("getUpdates")]
    assert all(p["allowed_updates"] == ["message", "callback_query"] for p in polls)
    offsets = [int(p["offset"]) for p in polls if p.get("offset")]
    assert offsets == sorted(offsets) and len(set(offsets)) >= 5  # one per update stored
    assert world.fake.pending_updates() == 0


@pytest.mark.filterwarnings(PTB_RETRY_AFTER_WARNING)
def test_flood_control_is_honoured(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    world.fake.fail_next("sendMessage", retry_after=3)
    with world.serve() as served:
        pat = served.customer(world)
        assert texts(pat.start("salon")) == [GREETING, ASK_SERVICE]
        assert 3.0 in served.sleeps, "waited as long as Telegram asked"
    refused = [c for c in world.fake.calls_of("sendMessage", ok_only=False) if c.status == 429]
    assert len(refused) == 1 and refused[0].params["text"] == GREETING


def test_messages_to_one_chat_are_paced(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with world.serve(pace=0.5, burst=1) as served:
        pat = served.customer(world)
        pat.start("salon")  # two messages: the second waits about half a second
        assert any(0.4 <= s <= 0.5 for s in served.sleeps)


def test_a_wrong_secret_is_refused_and_nothing_is_processed(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with world.serve() as served:
        pat = served.customer(world)
        update = pat.message_update(text="/start salon")
        url = f"{served.url}/telegram/webhook"
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
            assert httpx.post(url, json=update, headers=headers).status_code == 403
        time.sleep(0.3)
        store = served.bot.store
        assert store.processed_replies("telegram", str(pat.chat_id), str(update["update_id"])) is None
        assert store.claim_inbound(lease=timedelta(0)) == []
    assert world.fake.calls_of("sendMessage") == []


def test_without_a_configured_secret_the_webhook_refuses_everything(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with world.serve(settings=world.settings(telegram_webhook_secret=None)) as served:
        update = served.customer(world).message_update(text="hi")
        url = f"{served.url}/telegram/webhook"
        assert httpx.post(url, json=update).status_code == 403
        assert (
            httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": ""}).status_code == 403
        )


def test_what_the_webhook_answers(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with world.serve() as served:
        url = f"{served.url}/telegram/webhook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}

        def post(body: bytes) -> int:
            return httpx.post(url, content=body, headers=headers).status_code

        assert post(b"{not json") == 400
        assert post(b'["an", "array"]') == 400
        assert post(b'{"message": {}}') == 400  # no update_id
        assert post(b"x" * (1024 * 1024 + 1)) == 413
        # Nested 1,000 deep, json.loads raises RecursionError (a 500 Telegram would retry for ever);
        # nested 100 deep it parses, and no update nests so deep: both are junk, answered 400.
        assert post(b'{"update_id": 1, "message": ' + b"[" * 1000 + b"]" * 1000 + b"}") == 400
        assert post(b'{"update_id": 2, "message": ' + b'{"a": ' * 100 + b"1" + b"}" * 100 + b"}") == 400
        assert post(b"\xff\xfe not utf-8") == 400
        pat = served.customer(world)
        group = pat.message_update(text="hi", chat={"id": -100123, "type": "supergroup", "title": "Staff"})
        edited = {"update_id": 7, "edited_message": pat.message_update(text="hi")["message"]}
        member = {"update_id": 8, "my_chat_member": {"chat": {"id": 1, "type": "private"}}}
        for ignored in (group, edited, member):
            assert post(json.dumps(ignored).encode()) == 200
        time.sleep(0.3)
    assert world.fake.calls_of("sendMessage") == []


def test_start_registers_the_webhook_and_the_commands(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with world.serve(settings=world.settings(public_url="https://bot.example.com/")):
        wait_until(lambda: len(world.fake.calls_of("setMyCommands")) == 5, what="registration")
    assert world.fake.webhook is not None
    assert world.fake.webhook["url"] == "https://bot.example.com/telegram/webhook"
    assert world.fake.webhook["secret_token"] == TELEGRAM_SECRET
    assert world.fake.webhook["allowed_updates"] == ["message", "callback_query"]
    menus = {
        c.params.get("language_code"): c.params["commands"] for c in world.fake.calls_of("setMyCommands")
    }
    assert set(menus) == {None, "es", "de", "fr", "pt"}, "English for everyone else, then each language"
    for menu in menus.values():
        assert [c["command"] for c in menu] == ["start", "help", "bookings", "cancel"]
    assert menus[None][0]["description"] == "Start a booking"
    assert menus["de"][0]["description"] == "Termin buchen"


def test_commands_and_language(telegram_world: TelegramWorld) -> None:
    world = telegram_world
    with world.serve() as served:
        pat = served.customer(world)
        assert "Which business" in texts(pat.start())[0]  # no default tenant, no payload: it asks
        ana = served.customer(world, chat_id=515151, first_name="Ana", last_name=None, language_code="es")
        assert texts(ana.start("SALON"))[0].startswith("¡Hola!"), "language_code sets the language"
        assert texts(ana.say("/help"))[0].startswith("Puedo")
        pat.start("salon")
        assert texts(pat.say("/bookings"))[0] == "You have no upcoming bookings made in this chat."
        pat.say("haircut tomorrow at 3pm")
        pat.say("Pat Patient")
        pat.say("pat@example.com")
        pat.tap("Book it")
        replies = pat.say("/cancel")
        assert texts(replies)[0].startswith("Cancel your Haircut on Tue 2 Jun, 3:00 PM?")
        pat.tap("Yes, cancel it")
    assert [b["status"] for b in world.bookings()] == ["cancelled"]


def test_a_german_and_a_portuguese_customer_book_by_telegram(telegram_world: TelegramWorld) -> None:
    """Telegram says the app is in English; what the customer writes decides the language."""
    world = telegram_world
    with world.serve() as served:
        jonas = served.customer(
            world, chat_id=494949, first_name="Jonas", last_name="Weber", language_code="en"
        )
        jonas.start("salon")
        replies = jonas.say("Ich möchte einen Haarschnitt morgen um 15 Uhr")
        assert texts(replies)[-1].endswith("Auf welchen Namen soll ich buchen?"), texts(replies)
        assert "Jonas Weber verwenden" in jonas.buttons()
        jonas.tap("Jonas Weber verwenden")
        jonas.say("jonas@example.de")
        assert "Buchen" in jonas.buttons()
        [booked] = jonas.tap("Buchen")
        assert booked["text"].startswith("Gebucht! Haircut"), booked["text"]
        rita = served.customer(world, chat_id=353535, first_name="Rita", last_name="Sá", language_code=None)
        rita.start("salon")
        replies = rita.say("Olá, queria marcar um corte de cabelo amanhã às 16h")
        assert texts(replies)[-1].endswith("Em que nome faço a marcação?"), texts(replies)
        rita.say("Rita Sá, rita@example.pt")
        [booked] = rita.say("sim")
        assert booked["text"].startswith("Está marcado! Haircut"), booked["text"]
    starts = sorted(b["start"] for b in world.bookings())
    assert starts == ["2026-06-02T14:00:00Z", "2026-06-02T15:00:00Z"]
