"""Never tell a customer something false (issue 16): one idempotency key per booking confirmed, Cadence's
answers checked for what they are, and an outcome in doubt (the answer never came) said so and resolved
in the background with the same key, until Cadence answers.

The same world as ``test_dialog``: the engine, store and dialog against the in-process sandbox on a fixed
clock, with a network between bot and Cadence that can lose answers or give wrong ones.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.config import Settings, TenantConfig
from bot.dialog import Stage
from bot.dialog.doubt import GIVE_UP_AFTER
from bot.service import Bot
from bot.types import Inbound
from cadence_adapter.sandbox import create_app
from tests.bot.test_dialog import Chat, Switch, World
from tests.conftest import NOW, SALON_KEY, salon_seed

pytestmark = pytest.mark.anyio

_CHANGES = ("/bookings", "/reschedule", "/cancel")


class Lossy(Switch):
    """Cadence does the work, but the answer is lost on the way back (a timeout after the commit), or
    Cadence answers with a body that is not what was asked for."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        super().__init__(inner)
        self.lose_answers = 0
        """Changes (POSTs) whose answer is lost after Cadence made them (the client's own retries
        included: each is one more)."""
        self.canned: tuple[int, bytes] | None = None
        """Answer the next change with this status and body instead of Cadence."""
        self.then: tuple[int, bytes] | None = None
        """Once an answer was lost, answer every later change with this (429s after a timeout)."""
        self.posts: list[str] = []
        """The Idempotency-Key of every change sent."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        change = request.method == "POST" and request.url.path.endswith(_CHANGES)
        if change and not self.down:
            self.posts.append(request.headers.get("Idempotency-Key", ""))
        if change and self.canned is not None:
            (status, body), self.canned = self.canned, None
            return httpx.Response(status, content=body, headers={"content-type": "application/json"})
        if change and self.then is not None and self.lose_answers == 0 and self.posts[:-1]:
            status, body = self.then
            self.posts.pop()  # refused at the door: not a change sent
            return httpx.Response(status, content=body, headers={"content-type": "application/json"})
        response = await super().handle_async_request(request)
        if change and self.lose_answers > 0:
            self.lose_answers -= 1
            await response.aread()
            raise httpx.ReadTimeout("the answer never came", request=request)
        return response


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    now = [NOW]
    app = create_app(seed=salon_seed(), clock=lambda: now[0], rate_limit=None)
    settings = Settings(
        default_tenant="salon", tenants={"salon": TenantConfig(slug="salon", org_api_key=SALON_KEY)}
    )
    world = World(app, Lossy(httpx.ASGITransport(app=app)), str(tmp_path / "bot.db"), settings, now)
    yield world
    for bot in world.bots:
        await bot.aclose()


def network(world: World) -> Lossy:
    assert isinstance(world.network, Lossy)
    return world.network


async def checks_due(world: World, bot: Bot) -> list[str]:
    """Run the bot-started turns that are due (what the worker does with ``turn`` jobs); their replies."""
    said: list[str] = []
    for job in bot.store.claim_jobs():
        if job.kind != "turn":
            continue
        result = await bot.engine.handle(Inbound.model_validate(job.payload["inbound"]))
        said += [reply.text for reply in result.replies]
        bot.store.finish_job(job.key)
    return said


async def at_the_summary(chat: Chat, when: str = "haircut tomorrow at 3pm", name: str = "Pat") -> None:
    await chat.send(when)
    await chat.tap(f"Use {name}")
    await chat.send(f"{name.lower()}@example.com")
    assert chat.stage() is Stage.CONFIRM, chat.text


async def active(world: World) -> list[tuple[str, str]]:
    return sorted(
        (b.start.isoformat(), b.id) for b in await world.keyed().list_bookings() if b.status != "cancelled"
    )


# -- one key per booking confirmed -------------------------------------------------------------------


async def test_a_cancelled_slot_booked_again_is_a_new_booking(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat, "haircut tomorrow at 4pm")
    first = await chat.tap("Book it")
    assert "You're booked" in first
    await chat.send("cancel it")
    assert "is cancelled" in await chat.tap("Yes, cancel it")
    await chat.send("a haircut tomorrow at 4pm")
    again = await chat.tap("Book it")
    assert "You're booked" in again
    (_, booking_id), *rest = await active(world)
    assert not rest and booking_id in again and booking_id not in first, (first, again)
    assert len(set(network(world).posts)) == len(network(world).posts), "every confirmation its own key"


async def test_the_business_cancels_and_the_customer_books_the_same_slot_again(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat, "haircut tomorrow at 4pm")
    await chat.tap("Book it")
    ((_, booking_id),) = await active(world)
    await world.keyed().cancel_booking(booking_id)  # the business, in Cadence
    asked = await chat.send("a haircut tomorrow at 4pm")
    assert "already have" not in asked, asked  # the bot re-reads a booking before saying so
    again = await chat.tap("Book it")
    ((_, new_id),) = await active(world)
    assert new_id != booking_id and new_id in again


async def test_the_same_confirmation_run_again_after_a_crash_books_once(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    bot = world.bots[0]
    stored = bot.store.load("console", "c1")
    confirm = Inbound(channel="console", chat_id="c1", message_id="confirm-1", text="yes", sender_name="Pat")
    first = await bot.dialog.step(stored.state, stored.profile, confirm, world.clock())
    # The process died before that turn was kept: the inbox hands the same message to the next process,
    # which runs it on the same state again; the same key makes Cadence answer with the booking made.
    again = await bot.dialog.step(stored.state, stored.profile, confirm, world.clock())
    assert len(await active(world)) == 1
    ((_, booking_id),) = await active(world)
    assert all(booking_id in r.text for r in (first.replies[0], again.replies[0]))
    assert len(network(world).posts) == 2 and len(set(network(world).posts)) == 1


async def test_a_replay_of_a_cancelled_booking_is_never_said_as_booked(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    cancelled = {
        "id": "bk_old",
        "service_id": "svc_cut",
        "start": "2026-06-02T14:00:00Z",
        "status": "cancelled",
    }
    network(world).canned = (200, json.dumps(cancelled).encode())
    answer = await chat.send("yes")
    assert "You're booked" not in answer and "not made" in answer, answer
    assert "bk_old" not in answer and chat.stage() is Stage.SLOT
    assert world.bots[0].store.owned_bookings("console", "c1", "salon") == []


async def test_a_replay_of_another_booking_is_never_said_as_booked(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    other = {
        "id": "bk_other",
        "service_id": "svc_cut",
        "start": "2026-06-03T09:00:00Z",
        "status": "confirmed",
    }
    network(world).canned = (200, json.dumps(other).encode())
    answer = await chat.send("yes")
    assert "You're booked" not in answer and "not made" in answer, answer


# -- answers that do not parse ------------------------------------------------------------------------


async def test_a_malformed_answer_never_blames_the_customer_nor_wipes_their_contact(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    network(world).canned = (200, b"<html>gateway</html>")
    answer = await chat.send("yes")
    assert "didn't accept those details" not in answer and "hasn't confirmed" in answer, answer
    state = world.bots[0].store.load("console", "c1").state
    assert state is not None and state["email"] == "pat@example.com"
    said = await checks_due_later(world)
    assert any("You're booked" in text for text in said), said


async def checks_due_later(world: World, after: timedelta = timedelta(minutes=1)) -> list[str]:
    world.now[0] += after
    return await checks_due(world, world.bots[0])


# -- outcomes in doubt ----------------------------------------------------------------------------------


async def test_an_answer_after_the_timeout_is_checked_and_then_confirmed(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    network(world).lose_answers = 99  # every retry within the turn too
    answer = await chat.send("yes")
    network(world).lose_answers = 0
    assert "hasn't confirmed" in answer and "You're booked" not in answer and "can't reach" not in answer
    ((_, booking_id),) = await active(world)  # Cadence made it
    # Before the check: "my bookings" does not say there are none, and a second booking is not added.
    listed = await chat.send("my bookings")
    assert "no upcoming bookings" not in listed and "still waiting" in listed, listed
    assert "still waiting" in await chat.send("actually book 6pm instead")
    assert len(await active(world)) == 1
    assert await checks_due(world, world.bots[0]) == []  # not due yet
    said = await checks_due_later(world)
    assert len(said) == 1 and "You're booked" in said[0] and booking_id in said[0], said
    owned = world.bots[0].store.owned_bookings("console", "c1", "salon")
    assert [b.booking_id for b in owned] == [booking_id]
    assert len(set(network(world).posts)) == 1, "the check sent the same key"
    assert await checks_due_later(world, timedelta(hours=1)) == []  # resolved: no more checks
    assert "6" in await chat.send("a haircut tomorrow at 6pm")  # the line goes on


async def test_a_check_still_without_answer_is_silent_and_planned_again(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    network(world).down = True
    assert "hasn't confirmed" in await chat.send("yes")
    assert await checks_due_later(world) == []
    assert await checks_due_later(world) == []
    network(world).down = False
    said = await checks_due_later(world, timedelta(minutes=10))
    assert len(said) == 1 and "You're booked" in said[0], said
    assert len(await active(world)) == 1


async def test_a_check_finds_the_slot_taken_meanwhile_and_says_so(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat, "haircut with Ana tomorrow at 3pm")
    network(world).down = True
    await chat.send("yes")
    network(world).down = False
    other = Chat(world.open(), "c2", sender_name="Sam")
    await at_the_summary(other, "haircut with Ana tomorrow at 3pm", name="Sam")
    assert "You're booked" in await other.send("yes")
    said = await checks_due_later(world)
    assert said and "just taken" in said[0] and "You're booked" not in " ".join(said), said
    assert chat.stage() is Stage.SLOT


async def test_a_cancel_whose_answer_was_lost_is_confirmed_once_checked(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    await chat.send("yes")
    await chat.send("cancel it")
    network(world).lose_answers = 99
    answer = await chat.tap("Yes, cancel it")
    network(world).lose_answers = 0
    assert "hasn't confirmed cancelling" in answer and "is cancelled" not in answer, answer
    said = await checks_due_later(world)
    assert len(said) == 1 and "is cancelled" in said[0], said
    assert await active(world) == []
    assert world.bots[0].store.owned_bookings("console", "c1", "salon") == []


async def test_a_cancel_in_doubt_that_cadences_webhook_told_first_is_not_told_twice(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    await chat.send("yes")
    ((_, booking_id),) = await active(world)
    await chat.send("cancel it")
    network(world).lose_answers = 99
    assert "hasn't confirmed cancelling" in await chat.tap("Yes, cancel it")
    network(world).lose_answers = 0
    # Cadence's booking.cancelled arrives first: the worker applies it and tells the customer.
    store = world.bots[0].store
    assert store.apply_booking_event("salon", booking_id, world.clock(), cancelled=True)
    assert await checks_due_later(world) == [], "told once, by the notice"
    state = store.load("console", "c1").state
    assert state is not None and state["doubt"] is None
    assert "still waiting" not in await chat.send("my bookings")


async def test_a_move_whose_answer_was_lost_is_confirmed_once_checked(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    await chat.send("yes")
    await chat.send("can I move it to 5pm?")
    if chat.stage() is not Stage.CONFIRM:
        await chat.tap("5:00 PM")
    network(world).lose_answers = 99
    answer = await chat.send("yes")
    network(world).lose_answers = 0
    assert "hasn't confirmed moving" in answer, answer
    said = await checks_due_later(world)
    assert len(said) == 1 and "now on" in said[0] and "5:00 PM" in said[0], said
    ((start, _),) = await active(world)
    assert start == "2026-06-02T16:00:00+00:00"


async def test_after_half_a_day_without_answer_the_customer_is_told_to_check_with_the_business(
    world: World,
) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    network(world).down = True
    await chat.send("yes")
    said: list[str] = []
    for _ in range(200):
        said += await checks_due_later(world, timedelta(minutes=15))
        if said:
            break
    assert len(said) == 1 and "can't tell whether it went through" in said[0], said
    assert world.now[0] - NOW >= GIVE_UP_AFTER
    network(world).down = False
    assert "still waiting" not in await chat.send("a haircut on thursday at 3pm")


# -- what the review found: the attempt is never lost, never doubled, never told twice -------------------


async def test_a_deep_link_to_another_business_waits_while_a_booking_is_in_doubt(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    network(world).lose_answers = 99
    await chat.send("yes")
    network(world).lose_answers = 0
    answer = await chat.send("/start other", tenant="other")
    assert "still waiting" in answer and "Haircut" in answer, answer
    said = await checks_due_later(world)
    assert len(said) == 1 and "You're booked" in said[0], said
    state = world.bots[0].store.load("console", "c1").state
    assert state is not None and state["tenant"] == "salon" and state["doubt"] is None


async def test_a_missed_answer_then_a_429_is_in_doubt_and_try_again_keeps_the_key(world: World) -> None:
    """The client's first POST times out after Cadence made the booking and its retry meets a 429: the
    customer must not hear "can't reach" (nothing made) and "try again" must not send a new key."""
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    network(world).lose_answers = 1
    network(world).then = (429, b'{"error": {"code": "rate_limited", "message": "slow down"}}')
    answer = await chat.send("yes")
    assert "hasn't confirmed" in answer and "can't reach" not in answer, answer
    network(world).then = None
    again = await chat.send("try again")
    assert "You're booked" in again and len(await active(world)) == 1, again
    assert len(set(network(world).posts)) == 1


async def test_giving_up_on_a_move_leaves_nothing_half_moved(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    await chat.send("yes")
    await chat.send("can I move it to 5pm?")
    network(world).down = True
    assert "hasn't confirmed moving" in await chat.send("yes")
    said: list[str] = []
    while not said:
        said = await checks_due_later(world, timedelta(minutes=15))
    assert "can't tell whether it went through" in said[0], said
    network(world).down = False
    answer = await chat.send("a colour on thursday at 3pm")
    assert "move" not in answer.lower(), answer


async def test_a_check_refused_in_a_way_that_says_nothing_of_the_first_try_says_so(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    await chat.send("yes")
    await chat.send("cancel it")
    network(world).lose_answers = 99
    assert "hasn't confirmed cancelling" in await chat.tap("Yes, cancel it")
    network(world).lose_answers = 0
    network(world).canned = (401, b'{"error": {"code": "unauthorized", "message": "revoked"}}')
    said = await checks_due_later(world)
    assert len(said) == 1 and "can't tell whether it went through" in said[0], said
    assert "went wrong" not in said[0] and "can't be changed" not in said[0]
    assert await checks_due_later(world, timedelta(hours=1)) == []


async def test_a_check_that_cannot_even_load_the_business_still_gives_up_in_the_end(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    network(world).down = True
    await chat.send("yes")
    restarted = world.open()  # a new process: nothing cached, and Cadence is down
    said: list[str] = []
    for _ in range(100):
        world.now[0] += timedelta(minutes=15)
        said += await checks_due(world, restarted)
        if said:
            break
    assert len(said) == 1 and "can't tell whether it went through" in said[0] and "Haircut" in said[0], said


async def test_try_again_said_often_leaves_one_check_planned(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    network(world).down = True
    await chat.send("yes")
    for _ in range(3):
        assert "still waiting" in await chat.send("try again")
    network(world).down = False
    world.now[0] += timedelta(hours=1)
    said = await checks_due(world, world.bots[0])
    assert said == [t for t in said if "You're booked" in t] and len(said) == 1, said
    assert len(await active(world)) == 1 and len(network(world).posts) == 1


async def test_help_works_while_waiting_and_a_tap_is_answered_as_expired(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat")
    await at_the_summary(chat)
    summary = chat.replies
    network(world).down = True
    await chat.send("yes")
    assert "I can book" in await chat.send("help") and "still waiting" in chat.text
    chat.replies = summary
    await chat.tap("Book it")
    assert "still waiting" in chat.text and all(reply.expired for reply in chat.replies)


async def test_a_planned_check_carries_no_name_and_no_message(world: World) -> None:
    chat = Chat(world.open(), sender_name="Pat Patient")
    await chat.send("haircut tomorrow at 3pm")
    await chat.tap("Use Pat")
    await chat.send("pat@example.com")
    network(world).down = True
    await chat.send("yes")
    state = world.bots[0].store.load("console", "c1").state
    assert state is not None
    job = world.bots[0].store.get_job(f"check:{state['doubt']['key']}:0")
    assert job is not None
    inbound = job.payload["inbound"]
    assert "sender_name" not in inbound and "text" not in inbound, inbound
