"""The Telegram channel's pure parts (updates in, messages out) and its flood control, without servers;
and ``send`` (notifications) against the fake Bot API."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot as TelegramBot
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.error import BadRequest, RetryAfter, TimedOut

from bot.config import Settings
from bot.service import open_bot
from bot.types import Option, Reply
from cadence_adapter.sandbox.server import serving
from channels.telegram import TelegramOptions, TelegramUnavailable, create_channel
from channels.telegram.render import (
    MAX_TEXT,
    callback_data,
    escape,
    inline_keyboard,
    render_reply,
    split_text,
    tapped_text,
    utf16_len,
)
from channels.telegram.sender import Pacer, Sender, Throttled
from channels.telegram.updates import parse_text_message, parse_update, tenant_from_payload
from tests.channels.fake_telegram import BOT_TOKEN, PTB_RETRY_AFTER_WARNING, FakeTelegram, visible_text

TG = TelegramBot(BOT_TOKEN)
USER = {"id": 42, "is_bot": False, "first_name": "Pat", "last_name": "Patient", "language_code": "pt-BR"}
PRIVATE = {"id": 42, "type": "private", "first_name": "Pat"}


def update(**content: Any) -> Update:
    message = {"message_id": 1, "date": 0, "chat": PRIVATE, "from": USER, **content}
    parsed = Update.de_json({"update_id": 9001, "message": message}, TG)
    assert parsed is not None
    return parsed


def tap(data: str | None, *, chat: dict[str, Any] = PRIVATE, keyboard: bool = True) -> Update:
    message: dict[str, Any] = {"message_id": 77, "date": 1, "chat": chat, "text": "Which one?"}
    if keyboard:
        message["reply_markup"] = {"inline_keyboard": [[{"text": "Haircut", "callback_data": "3.0"}]]}
    query = {"id": "q1", "from": USER, "chat_instance": "c", "message": message}
    if data is not None:
        query["data"] = data
    parsed = Update.de_json({"update_id": 9002, "callback_query": query}, TG)
    assert parsed is not None
    return parsed


# -- updates -> Inbound ------------------------------------------------------------------------------


def test_a_message_becomes_an_inbound() -> None:
    inbound = parse_update(update(text="tomorrow at 3pm")).inbound
    assert inbound is not None
    assert (inbound.channel, inbound.chat_id, inbound.message_id) == ("telegram", "42", "9001")
    assert inbound.text == "tomorrow at 3pm" and inbound.tenant is None
    assert inbound.sender_name == "Pat Patient" and inbound.language == "pt-BR"


@pytest.mark.parametrize(
    ("text", "expected_text", "tenant"),
    [
        ("/start salon", "/start", "salon"),
        ("/start Studio-Salon_2", "/start", "studio-salon_2"),
        ("/start", "/start", None),
        ("/start ../../etc", "/start", None),
        ("/start " + "a" * 65, "/start", None),
        ("/start@cadence_test_bot salon", "/start", "salon"),
        ("/help", "help", None),
        ("/bookings", "my bookings", None),
        ("/cancel", "cancel my booking", None),
        ("/tz Berlin", "/tz Berlin", None),
        ("start salon", "start salon", None),
    ],
)
def test_commands_and_deep_links(text: str, expected_text: str, tenant: str | None) -> None:
    inbound = parse_update(update(text=text)).inbound
    assert inbound is not None and (inbound.text, inbound.tenant) == (expected_text, tenant)


def test_deep_link_payloads_are_validated() -> None:
    assert tenant_from_payload("movela") == "movela"
    assert tenant_from_payload("a" * 64) == "a" * 64
    for bad in ("", None, "a b", "a" * 65, "ümlaut", "x;drop", "a/b"):
        assert tenant_from_payload(bad) is None


def test_a_shared_contact_is_the_phone_only_when_it_is_the_senders_own() -> None:
    own = parse_update(update(contact={"phone_number": "+351912345678", "first_name": "Pat", "user_id": 42}))
    other = parse_update(update(contact={"phone_number": "+351911111111", "first_name": "Jo", "user_id": 7}))
    unknown = parse_update(update(contact={"phone_number": "+351911111111", "first_name": "Jo"}))
    assert own.inbound is not None and own.inbound.contact_phone == "+351912345678"
    for parsed in (other, unknown):
        assert parsed.inbound is not None
        assert parsed.inbound.contact_phone is None and parsed.inbound.text == ""


def test_a_tap_becomes_a_choice_with_what_is_needed_to_retire_its_keyboard() -> None:
    parsed = parse_update(tap("3.0"))
    assert parsed.inbound is not None and parsed.inbound.choice == "3.0" and parsed.inbound.text == ""
    assert parsed.tap is not None
    assert (parsed.tap.callback_id, parsed.tap.chat_id, parsed.tap.message_id) == ("q1", 42, 77)
    assert (parsed.tap.question, parsed.tap.label) == ("Which one?", "Haircut")


def test_what_the_dialog_does_not_take_is_ignored_but_taps_are_still_answered() -> None:
    group = {"id": -100, "type": "supergroup", "title": "Staff"}
    assert parse_update(update(text="hi", chat=group)).inbound is None
    bot_user = {**USER, "is_bot": True}
    assert parse_update(update(text="hi", **{"from": bot_user})).inbound is None
    for ignored in (tap("3.0", chat=group), tap(None)):
        parsed = parse_update(ignored)
        assert parsed.inbound is None and parsed.tap is not None
    edited = Update.de_json(
        {"update_id": 1, "edited_message": {"message_id": 1, "date": 0, "chat": PRIVATE}}, TG
    )
    assert edited is not None and parse_update(edited).inbound is None


def test_a_photo_is_a_message_without_text() -> None:
    inbound = parse_update(update(photo=[{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]))
    assert inbound.inbound is not None and inbound.inbound.text == ""


def _raw(update_id: int = 9001, **content: Any) -> dict[str, Any]:
    message = {"message_id": 1, "date": 0, "chat": PRIVATE, "from": USER, **content}
    return {"update_id": update_id, "message": message}


_PLAIN_SHAPES: list[dict[str, Any]] = [
    _raw(text="tomorrow at 3pm"),
    _raw(text="/start salon"),
    _raw(text="/start@cadence_test_bot Studio-Salon_2"),
    _raw(text="/start ../../etc"),
    _raw(text="/help"),
    _raw(text="/tz Berlin"),
    _raw(text="  spaced\tout\n  "),
    _raw(text="olá \u0007 ümlaut 🙂"),
    _raw(text="hi", **{"from": {"id": 42, "is_bot": False, "first_name": " Pat "}}),
    _raw(text="hi", **{"from": {"id": 42, "is_bot": False, "first_name": "Pat", "last_name": None}}),
    _raw(text="hi", **{"from": {**USER, "language_code": ""}}),
    _raw(text="hi", entities=[{"type": "bold", "offset": 0, "length": 2}]),
]
_OTHER_SHAPES: list[dict[str, Any]] = [
    _raw(text=""),
    _raw(caption="a photo", photo=[{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]),
    _raw(contact={"phone_number": "+351912345678", "first_name": "Pat", "user_id": 42}, text="x"),
    _raw(text="hi", chat={"id": -100, "type": "supergroup", "title": "Staff"}),
    _raw(text="hi", chat={"id": "42", "type": "private"}),
    _raw(text="hi", **{"from": {**USER, "is_bot": True}}),
    _raw(text="hi", **{"from": {**USER, "first_name": 7}}),
    _raw(text=["not", "text"]),
    {**_raw(text="hi"), "edited_message": _raw(text="hi")["message"]},
    {"update_id": 1, "edited_message": _raw(text="hi")["message"]},
    {"update_id": 9002, "callback_query": {"id": "q1", "from": USER, "chat_instance": "c", "data": "3.0"}},
]


@pytest.mark.parametrize("data", _PLAIN_SHAPES + _OTHER_SHAPES)
def test_plain_text_messages_are_read_without_ptb_exactly_as_parse_update_reads_them(
    data: dict[str, Any],
) -> None:
    fast = parse_text_message(data)
    assert (fast is not None) == (data in _PLAIN_SHAPES), "plain text messages, and only they, are read"
    if fast is not None:
        update = Update.de_json(data, TG)
        assert update is not None and fast == parse_update(update)


@given(
    text=st.text(min_size=1),
    first=st.text(min_size=1),
    last=st.none() | st.text(),
    language=st.none() | st.text(max_size=8),
)
def test_the_plain_reading_agrees_with_parse_update_on_any_text_and_names(
    text: str, first: str, last: str | None, language: str | None
) -> None:
    user = {"id": 42, "is_bot": False, "first_name": first, "last_name": last, "language_code": language}
    data = _raw(text=text, **{"from": user})
    fast = parse_text_message(data)
    update = Update.de_json(data, TG)
    assert fast is not None and update is not None and fast == parse_update(update)


# -- Reply -> messages -------------------------------------------------------------------------------


def test_everything_is_escaped_for_html() -> None:
    text = "Cut & <b>Colour</b> for <script>alert(1)</script> at 3 > 2"
    [message] = render_reply(Reply(text=text), contact_label="Share")
    assert (
        message.text
        == "Cut &amp; &lt;b&gt;Colour&lt;/b&gt; for &lt;script&gt;alert(1)&lt;/script&gt; at 3 &gt; 2"
    )
    assert visible_text(message.text, "HTML") == text  # what Telegram shows is what we meant
    assert escape('"quotes" stay') == '"quotes" stay'
    assert tapped_text("Pick <one>", "A & B") == "Pick &lt;one&gt;\n→ <b>A &amp; B</b>"


def test_long_text_is_split_at_line_breaks_within_4096_utf16_units() -> None:
    line = "🙂 " + "x" * 97  # 100 characters, 101 UTF-16 code units
    text = "\n".join([line] * 100)
    pieces = split_text(text)
    assert len(pieces) == 3
    assert all(utf16_len(piece) <= MAX_TEXT for piece in pieces)
    assert "\n".join(pieces) == text, "nothing lost but the line breaks cut at"
    assert all(piece.startswith("🙂") and piece.endswith("x") for piece in pieces)


def test_text_without_breaks_is_cut_at_spaces_or_anywhere_but_never_inside_a_character() -> None:
    words = " ".join(["word"] * 2000)
    assert all(utf16_len(p) <= MAX_TEXT and not p.startswith(" ") for p in split_text(words))
    assert " ".join(split_text(words)) == words
    emoji = "🙂" * 5000  # 10000 UTF-16 units, no spaces
    pieces = split_text(emoji)
    assert "".join(pieces) == emoji and [utf16_len(p) for p in pieces] == [4096, 4096, 1808]


def test_a_long_reply_carries_its_keyboard_on_the_last_piece() -> None:
    reply = Reply(text="<" * 5000, options=(Option(value="1.0", label="OK"),))
    messages = render_reply(reply, contact_label="Share")
    assert [m.markup is None for m in messages] == [True, False]
    assert messages[0].text == "&lt;" * 4096  # split before escaping: the limit counts what is shown


def test_keyboards_two_to_a_row_when_short_else_one() -> None:
    short = [Option(value=f"2.{i}", label=label) for i, label in enumerate(["9:00", "9:15", "9:30"])]
    assert [[b.text for b in row] for row in inline_keyboard(short).inline_keyboard] == [
        ["9:00", "9:15"],
        ["9:30"],
    ]
    long = [*short, Option(value="2.3", label="Change my details")]
    assert [len(row) for row in inline_keyboard(long).inline_keyboard] == [1, 1, 1, 1]


def test_callback_data_fits_in_64_bytes() -> None:
    assert callback_data("12.3") == "12.3"
    cut = callback_data("é" * 40)  # 80 bytes
    assert len(cut.encode()) <= 64 and cut == "é" * 32
    keyboard = inline_keyboard([Option(value="x" * 100, label="Too long")])
    assert len(str(keyboard.inline_keyboard[0][0].callback_data).encode()) == 64


def test_contact_requests_options_and_empty_replies() -> None:
    [ask] = render_reply(Reply(text="Your phone?", request_contact=True), contact_label="Share my phone")
    assert isinstance(ask.markup, ReplyKeyboardMarkup) and ask.asks_contact
    button = ask.markup.keyboard[0][0]
    assert button.request_contact and button.text == "Share my phone" and ask.markup.one_time_keyboard
    both = render_reply(
        Reply(text="Pick", options=(Option(value="1.0", label="A"),), request_contact=True), contact_label="S"
    )
    assert isinstance(both[0].markup, InlineKeyboardMarkup)
    assert render_reply(Reply(text=""), contact_label="S") == []
    [only_buttons] = render_reply(
        Reply(text=" ", options=(Option(value="1.0", label="A"),)), contact_label="S"
    )
    assert only_buttons.text == "…"
    [linked] = render_reply(Reply(text="Pay here", link="https://x.test/?a=1&b=2"), contact_label="S")
    assert linked.text == "Pay here\nhttps://x.test/?a=1&amp;b=2"


# -- flood control -----------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.anyio
async def test_about_one_message_a_second_per_chat_after_a_short_burst() -> None:
    time = FakeTime()
    pacer = Pacer(1.0, 3, sleep=time.sleep, clock=time.clock)
    for _ in range(6):
        await pacer.wait("chat-a")
    assert time.now == pytest.approx(3.0), "three at once, then one a second"
    await pacer.wait("chat-b")
    assert time.now == pytest.approx(3.0), "another chat has its own allowance"
    time.now += 10
    for _ in range(3):
        await pacer.wait("chat-a")
    assert time.now == pytest.approx(13.0), "the allowance refills while the chat is quiet"


@pytest.mark.filterwarnings(PTB_RETRY_AFTER_WARNING)
@pytest.mark.anyio
async def test_retry_after_is_honoured_and_network_failures_retried_with_backoff() -> None:
    time = FakeTime()
    sender = Sender(TG, Pacer(0), sleep=time.sleep, retries=3, backoff=1.0, max_wait=math.inf)
    failures: list[Exception] = [RetryAfter(7), TimedOut(), RetryAfter(timedelta(seconds=2))]

    async def flaky() -> str:
        if failures:
            raise failures.pop(0)
        return "sent"

    assert await sender.call(flaky, what="sendMessage") == "sent"
    assert time.slept == [7.0, 2.0, 2.0]  # RetryAfter's wait, backoff 1 * 2**1, RetryAfter's wait

    async def refused() -> str:
        raise BadRequest("Bad Request: chat not found")

    with pytest.raises(BadRequest):  # never retried: the answer would not change
        await sender.call(refused, what="sendMessage")

    async def down() -> str:
        raise TimedOut()

    time.slept.clear()
    with pytest.raises(TelegramUnavailable) as caught:
        await sender.call(down, what="sendMessage")
    assert isinstance(caught.value, ConnectionError) and time.slept == [1.0, 2.0, 4.0]


@pytest.mark.filterwarnings(PTB_RETRY_AFTER_WARNING)
@pytest.mark.anyio
async def test_a_wait_longer_than_max_wait_is_not_slept_but_raised_with_telegrams_retry_after() -> None:
    """A turn holds a slot while it sends: a 2-minute flood wait is handed back at once (the replies
    go to the outbox), and so is backoff that would add up past the cap."""
    time = FakeTime()
    sender = Sender(TG, Pacer(0), sleep=time.sleep, retries=5, backoff=1.0, max_wait=5.0)

    async def throttled() -> str:
        raise RetryAfter(120)

    with pytest.raises(Throttled) as caught:
        await sender.call(throttled, what="sendMessage")
    assert caught.value.retry_after == 120.0 and isinstance(caught.value, TelegramUnavailable)
    assert time.slept == [], "nothing slept while holding the slot"

    failures: list[Exception] = [RetryAfter(3), RetryAfter(3)]

    async def twice() -> str:
        if failures:
            raise failures.pop(0)
        return "sent"

    with pytest.raises(Throttled):  # 3 s is within the cap, 3 + 3 s is not
        await sender.call(twice, what="sendMessage")
    assert time.slept == [3.0]

    async def down() -> str:
        raise TimedOut()

    time.slept.clear()
    with pytest.raises(TelegramUnavailable):
        await sender.call(down, what="sendMessage")
    assert time.slept == [1.0, 2.0], "backoff stops where the next wait would pass the cap"


# -- send(): messages the customer did not ask for ----------------------------------------------------


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with serving(fake.app) as url:
        yield fake, url


def _channel(url: str, tmp_path: Path) -> Any:
    settings = Settings(telegram_bot_token=BOT_TOKEN, telegram_api_base_url=url)
    bot = open_bot(settings, base_url="http://127.0.0.1:9", database=str(tmp_path / "bot.db"))
    return bot, create_channel(bot, options=TelegramOptions(pace=0, backoff=0.001, retries=2))


@pytest.mark.anyio
async def test_send_renders_like_replies_and_reports_blocked_chats(
    fake_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, url = fake_api
    bot, channel = _channel(url, tmp_path)
    reminder = Reply(
        text="Reminder: your Cut & <Colour> is tomorrow at 3:00 PM.",
        options=(Option(value="5.0", label="Keep it"), Option(value="5.1", label="Cancel it")),
    )
    try:
        assert await channel.send("42", [reminder], tenant="salon")
        assert await channel.send("-1001234567890", [Reply(text="New booking: Haircut")])  # a staff group
        fake.blocked.add(43)
        assert not await channel.send("43", [Reply(text="Hello")])
    finally:
        await channel.tg.shutdown()
        await bot.aclose()
    first, staff = fake.sent()
    assert first["chat_id"] == 42 and first["parse_mode"] == "HTML"
    assert visible_text(first["text"], "HTML") == reminder.text
    assert first["reply_markup"]["inline_keyboard"] == [
        [{"text": "Keep it", "callback_data": "5.0"}, {"text": "Cancel it", "callback_data": "5.1"}]
    ]
    assert staff["chat_id"] == -1001234567890


@pytest.mark.anyio
async def test_send_raises_a_connection_error_when_telegram_is_unreachable(tmp_path: Path) -> None:
    bot, channel = _channel("http://127.0.0.1:9", tmp_path)  # nothing listens on the discard port
    try:
        with pytest.raises(ConnectionError):
            await channel.send("42", [Reply(text="Hello")])
    finally:
        await channel.tg.shutdown()
        await bot.aclose()


def test_create_channel_checks_its_settings(tmp_path: Path) -> None:
    bot = open_bot(Settings(), base_url="http://127.0.0.1:9", database=":memory:")
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        create_channel(bot)
    for secret in ("has space", "x" * 257, "ünïcode"):
        settings = Settings(telegram_bot_token=BOT_TOKEN, telegram_webhook_secret=secret)
        bot = open_bot(settings, base_url="http://127.0.0.1:9", database=":memory:")
        with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
            create_channel(bot)
    settings = Settings(telegram_bot_token=BOT_TOKEN, telegram_api_base_url="http://tg.test/")
    channel = create_channel(open_bot(settings, base_url="http://127.0.0.1:9", database=":memory:"))
    assert channel.tg.base_url == f"http://tg.test/bot{BOT_TOKEN}"
    assert channel.name == "telegram" and [r.path for r in channel.routes()] == ["/telegram/webhook"]
