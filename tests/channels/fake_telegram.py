"""A small fake Telegram Bot API, and a customer who uses it, for end-to-end tests.

:class:`FakeTelegram` is a Starlette app (serve it with ``cadence_adapter.sandbox.server.serving``)
answering ``/bot<token>/<method>`` like Telegram: ``{"ok": true, "result": ...}`` with realistic
Message objects, ``{"ok": false, "error_code": ..., "description": ...}`` for what Telegram refuses
(bad HTML, text over 4096, callback data over 64 bytes, an unmodified edit, ``getUpdates`` while a
webhook is set). It records every call, method and parameters, whether the body came form-encoded
(as python-telegram-bot sends it, JSON values inside) or as JSON. ``getUpdates`` long-polls a queue
the test fills, and :meth:`FakeTelegram.fail_next` answers a method's next call with a 429.

:class:`Customer` is one person in a private chat: it posts updates to the bot's webhook with the
secret header (or queues them for polling), taps buttons of the messages the bot really sent, and
keeps a transcript.

The server runs in uvicorn's thread; tests read from theirs, so state is under one lock.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["BOT_TOKEN", "PTB_RETRY_AFTER_WARNING", "Call", "Customer", "FakeTelegram", "wait_until"]

BOT_TOKEN = "123456:TEST-fake-token"
PTB_RETRY_AFTER_WARNING = "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
"""PTB 22 warns about its own RetryAfter (int vs timedelta) while building it; not ours to fix."""
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Cadence",
    "username": "cadence_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
EPOCH = 1_780_300_800  # 2026-06-01 08:00 UTC, the tests' NOW

_JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "link_preview_options", "scope", "entities"}
_INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections"}
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler"}


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200


class TelegramRefusal(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def visible_text(text: str, parse_mode: str | None) -> str:
    """What the customer sees: for HTML, Telegram's checks (known tags only, ``&`` as an entity, no
    stray ``<``), then the tags dropped and entities decoded."""
    if parse_mode is None:
        return text
    if parse_mode.upper() != "HTML":
        raise TelegramRefusal(400, f"Bad Request: unsupported parse_mode {parse_mode}")
    for match in re.finditer(r"<(/?)([a-zA-Z-]*)([^<>]*)>|&([^;\s<>]*);?|<|>", text):
        token = match.group(0)
        if token.startswith("<") and len(token) > 1:
            if match.group(2).lower() not in _TAGS:
                raise TelegramRefusal(400, "Bad Request: can't parse entities: unsupported start tag")
        elif token.startswith("&"):
            if not re.fullmatch(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);", token):
                raise TelegramRefusal(400, "Bad Request: can't parse entities: unescaped &")
        else:
            raise TelegramRefusal(400, "Bad Request: can't parse entities: unexpected < or >")
    return html.unescape(re.sub(r"<[^<>]+>", "", text))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram:
    """The fake Bot API; see the module notes."""

    def __init__(self, token: str = BOT_TOKEN) -> None:
        self.token = token
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._queue: list[dict[str, Any]] = []
        self._failures: dict[str, list[TelegramRefusal]] = {}
        self._message_ids = itertools.count(1001)
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        """Every message the bot sent, by (chat id, message id), as it is now (after edits)."""
        self.webhook: dict[str, Any] | None = None
        self.blocked: set[int] = set()
        """Chats whose user blocked the bot: sendMessage answers 403."""
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])

    # -- what tests use --------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Parameters of every accepted sendMessage (to ``chat_id``), in order."""
        return [
            c.params
            for c in self.calls_of("sendMessage")
            if chat_id is None or int(c.params["chat_id"]) == chat_id
        ]

    def queue_update(self, update: dict[str, Any]) -> None:
        """Make ``update`` available to getUpdates."""
        with self._lock:
            self._queue.append(update)

    def fail_next(self, method: str, *, retry_after: int | None = None, status: int = 429) -> None:
        """Answer ``method``'s next call with a 429 carrying ``retry_after`` (or another error)."""
        if retry_after is not None:
            refusal = TelegramRefusal(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        else:
            refusal = TelegramRefusal(status, "Internal Server Error" if status >= 500 else "Bad Request")
        with self._lock:
            self._failures.setdefault(method, []).append(refusal)

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._queue)

    # -- the Bot API -----------------------------------------------------------------------------

    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        kind = request.headers.get("content-type", "")
        if kind.startswith("multipart/"):
            raise TelegramRefusal(400, "Bad Request: file uploads are not faked")
        if kind.startswith("application/json"):
            body = await request.body()
            params.update(json.loads(body) if body else {})
        elif kind.startswith("application/x-www-form-urlencoded"):
            # Parsed here rather than with request.form(), which needs python-multipart.
            for key, value in parse_qsl((await request.body()).decode(), keep_blank_values=True):
                if key in _JSON_FIELDS:
                    params[key] = json.loads(value)
                elif key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
                    params[key] = int(value)
                elif value in ("true", "false"):
                    params[key] = value == "true"
                else:
                    params[key] = value
        return params

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        try:
            params = await self._params(request)
        except TelegramRefusal as refusal:
            return self._refuse(method, {}, refusal)
        if request.path_params["token"] != self.token:
            return self._refuse(method, params, TelegramRefusal(401, "Unauthorized"))
        with self._lock:
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            return self._refuse(method, params, failure)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return self._refuse(method, params, TelegramRefusal(404, "Not Found"))
        try:
            result = await handler(params) if method == "getUpdates" else handler(params)
        except TelegramRefusal as refusal:
            return self._refuse(method, params, refusal)
        with self._lock:
            self._calls.append(Call(method, params))
        return JSONResponse({"ok": True, "result": result})

    def _refuse(self, method: str, params: dict[str, Any], refusal: TelegramRefusal) -> JSONResponse:
        with self._lock:
            self._calls.append(Call(method, params, refusal.status))
        body: dict[str, Any] = {"ok": False, "error_code": refusal.status, "description": refusal.description}
        if refusal.parameters:
            body["parameters"] = refusal.parameters
        return JSONResponse(body, status_code=refusal.status)

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        if not str(params.get("url", "")).startswith(("https://", "http://")):
            raise TelegramRefusal(400, "Bad Request: bad webhook: invalid URL")
        self.webhook = params
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        for command in params.get("commands", []):
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise TelegramRefusal(400, "Bad Request: BOT_COMMAND_INVALID")
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise TelegramRefusal(400, "Bad Request: query is too old and response timeout expired")
        return True

    def _check_markup(self, markup: dict[str, Any] | None) -> dict[str, Any] | None:
        """The markup a Message shows (only inline keyboards are returned by Telegram)."""
        if markup is None:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise TelegramRefusal(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup if "inline_keyboard" in markup else None

    def _text(self, params: dict[str, Any]) -> str:
        text = visible_text(str(params.get("text", "")), params.get("parse_mode"))
        if not text.strip():
            raise TelegramRefusal(400, "Bad Request: message text is empty")
        if _utf16(text) > 4096:
            raise TelegramRefusal(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _chat(chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": "Staff"}
        return {"id": chat_id, "type": "private", "first_name": "Customer"}

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise TelegramRefusal(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise TelegramRefusal(403, "Forbidden: bot was blocked by the user")
        text = self._text(params)
        markup = self._check_markup(params.get("reply_markup"))
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": BOT_USER,
            "chat": self._chat(chat_id),
            "date": EPOCH,
            "text": text,
        }
        if markup is not None:
            message["reply_markup"] = markup
        with self._lock:
            self.messages[(chat_id, message["message_id"])] = message
        return message

    def _stored(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (params.get("chat_id"), params.get("message_id"))
        with self._lock:
            message = self.messages.get(key)  # type: ignore[arg-type]
        if message is None:
            raise TelegramRefusal(400, "Bad Request: message to edit not found")
        return message

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._stored(params)
        text = self._text(params)
        markup = self._check_markup(params.get("reply_markup"))
        if text == message["text"] and markup == message.get("reply_markup"):
            raise TelegramRefusal(400, "Bad Request: message is not modified")
        edited = {**message, "text": text, "edit_date": EPOCH + 1}
        edited.pop("reply_markup", None)
        if markup is not None:
            edited["reply_markup"] = markup
        with self._lock:
            self.messages[(message["chat"]["id"], message["message_id"])] = edited
        return edited

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._stored(params)
        markup = self._check_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise TelegramRefusal(400, "Bad Request: message is not modified")
        edited = {k: v for k, v in message.items() if k != "reply_markup"}
        if markup is not None:
            edited["reply_markup"] = markup
        with self._lock:
            self.messages[(message["chat"]["id"], message["message_id"])] = edited
        return edited

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise TelegramRefusal(
                409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook"
            )
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            with self._lock:
                # Asking from an offset confirms every update before it: Telegram forgets them.
                self._queue = [u for u in self._queue if u["update_id"] >= offset]
                ready = list(self._queue)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)


# -- the customer's side ---------------------------------------------------------------------------


_update_ids = itertools.count(500_000)


@dataclass
class Customer:
    """One Telegram user in a private chat with the bot.

    ``deliver`` hands an update to the bot: :meth:`webhook` posts it with the secret header,
    :meth:`polling` queues it on the fake. Each action waits until the bot has finished that update
    (``done`` holds the update ids the channel reports finished) and returns what it sent back."""

    fake: FakeTelegram
    deliver: Callable[[dict[str, Any]], None]
    done: Callable[[], set[str]]
    chat_id: int = 424242
    first_name: str = "Pat"
    last_name: str | None = "Patient"
    language_code: str | None = "en"
    transcript: list[str] = field(default_factory=list)
    last_update: dict[str, Any] | None = None

    @property
    def user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.chat_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _chat(self) -> dict[str, Any]:
        return {"id": self.chat_id, "type": "private", "first_name": self.first_name}

    def message_update(self, **content: Any) -> dict[str, Any]:
        update_id = next(_update_ids)
        message = {"message_id": update_id % 100_000, "from": self.user, "chat": self._chat(), "date": EPOCH}
        return {"update_id": update_id, "message": {**message, **content}}

    def tap_update(self, label: str) -> dict[str, Any]:
        """A tap on the button labelled ``label`` (a substring) of the latest message showing it."""
        for message in reversed(self.messages()):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if label.lower() in button["text"].lower():
                        return self.callback_update(message, button["callback_data"])
        raise AssertionError(f"no button {label!r} on screen: {self.buttons()}")

    def callback_update(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        update_id = next(_update_ids)
        query = {
            "id": f"cbq{update_id}",
            "from": self.user,
            "message": message,
            "chat_instance": "-77",
            "data": data,
        }
        return {"update_id": update_id, "callback_query": query}

    def messages(self) -> list[dict[str, Any]]:
        """The bot's messages in this chat, as they look now."""
        with self.fake._lock:
            mine = [m for (chat, _), m in self.fake.messages.items() if chat == self.chat_id]
        return sorted(mine, key=lambda m: m["message_id"])

    def buttons(self) -> list[str]:
        """Labels of the inline buttons on screen (every message still showing a keyboard)."""
        return [
            button["text"]
            for message in self.messages()
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
        ]

    # -- actions ---------------------------------------------------------------------------------

    def act(self, update: dict[str, Any], shown: str, *, wait: bool = True) -> list[dict[str, Any]]:
        """Deliver ``update``, wait for the bot to finish it, return the messages it sent."""
        before = len(self.fake.sent(self.chat_id))
        edits_before = len(self._edits())
        self.last_update = update
        self.transcript.append(f"👤 {shown}")
        self.deliver(update)
        if wait:
            self.wait_done(update)
        for edit in self._edits()[edits_before:]:
            if edit.method == "editMessageText":
                text = visible_text(str(edit.params["text"]), edit.params.get("parse_mode"))
                choice = text.rpartition("\n")[2]
                self.transcript.append(f"   ✎ the tapped message's buttons give way to “{choice}”")
            else:
                self.transcript.append("   ✎ the tapped message's buttons are removed")
        replies = self.fake.sent(self.chat_id)[before:]
        for reply in replies:
            self.transcript.append(_render_bot(reply))
        return replies

    def _edits(self) -> list[Call]:
        return [
            call
            for call in self.fake.calls
            if call.method in ("editMessageText", "editMessageReplyMarkup")
            and call.status == 200
            and call.params.get("chat_id") == self.chat_id
        ]

    def wait_done(self, update: dict[str, Any], timeout: float = 15.0) -> None:
        key = str(update["update_id"])
        wait_until(lambda: key in self.done(), timeout, f"the bot to finish update {key}")

    def say(self, text: str, **kwargs: Any) -> list[dict[str, Any]]:
        return self.act(self.message_update(text=text), text, **kwargs)

    def start(self, payload: str | None = None) -> list[dict[str, Any]]:
        text = f"/start {payload}" if payload else "/start"
        return self.act(self.message_update(text=text), text)

    def tap(self, label: str) -> list[dict[str, Any]]:
        update = self.tap_update(label)
        data = update["callback_query"]["data"]
        shown = _button_text(update["callback_query"]["message"], data)
        return self.act(update, f"[taps “{shown}”]")

    def share_contact(self, phone: str, *, own: bool = True) -> list[dict[str, Any]]:
        contact: dict[str, Any] = {"phone_number": phone, "first_name": self.first_name}
        if own:
            contact["user_id"] = self.chat_id
        return self.act(self.message_update(contact=contact), f"[shares contact {phone}]")


def _button_text(message: dict[str, Any], data: str) -> str:
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            if button.get("callback_data") == data:
                return str(button["text"])
    return data


def _render_bot(params: dict[str, Any]) -> str:
    """A sent message as the transcript shows it: its visible text and its keyboard."""
    lines = ["🤖 " + visible_text(str(params["text"]), params.get("parse_mode")).replace("\n", "\n   ")]
    markup = params.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        lines.append("   " + "  ".join(f"[ {button['text']} ]" for button in row))
    for row in markup.get("keyboard", []):
        lines.append("   " + "  ".join(f"⌨ {button['text']}" for button in row))
    if markup.get("remove_keyboard"):
        lines.append("   (the share-contact keyboard is taken away)")
    return "\n".join(lines)


def webhook_deliverer(url: str, secret: str) -> Callable[[dict[str, Any]], None]:
    """Post updates to the bot's webhook as Telegram does; asserts the 200."""

    def deliver(update: dict[str, Any]) -> None:
        response = httpx.post(
            f"{url}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
            timeout=10.0,
        )
        assert response.status_code == 200, (response.status_code, response.text)

    return deliver


def polling_deliverer(fake: FakeTelegram) -> Callable[[dict[str, Any]], None]:
    return fake.queue_update
