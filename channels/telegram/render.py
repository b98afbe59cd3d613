"""Replies -> Telegram messages: HTML-escaped text in pieces of at most 4096, keyboards for options.

Pure functions; the channel sends what they return. Every reply is sent with ``parse_mode=HTML`` and
its text escaped, so nothing a customer or a business typed (a service called "Cut & <b>Colour</b>")
can change the formatting or make Telegram refuse the message. Telegram counts the limit in UTF-16
code units of the text after entities are parsed, so text is split before it is escaped.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.types import Option, Reply

__all__ = [
    "MAX_CALLBACK_DATA",
    "MAX_TEXT",
    "Outgoing",
    "callback_data",
    "escape",
    "inline_keyboard",
    "render_reply",
    "split_text",
    "tapped_text",
    "utf16_len",
]

log = logging.getLogger(__name__)

MAX_TEXT = 4096
"""Telegram's limit on one message's text, in UTF-16 code units after entity parsing."""
MAX_CALLBACK_DATA = 64
"""Telegram's limit on a button's callback data, in bytes."""
SHORT_LABEL = 16
"""Buttons go two to a row when every label of the keyboard is at most this long."""

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message to send: HTML text and at most one keyboard."""

    text: str
    markup: Markup | None = None

    @property
    def asks_contact(self) -> bool:
        return isinstance(self.markup, ReplyKeyboardMarkup)


def escape(text: str) -> str:
    """Text safe for ``parse_mode=HTML``: ``<``, ``>`` and ``&`` as entities (quotes need none)."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 code units, cut at a line break when one falls
    in the second half of a piece, else at a space, else anywhere (never inside a character)."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        room = _fit(rest, limit)
        cut = rest.rfind("\n", 0, room + 1)
        if cut < room // 2:
            cut = rest.rfind(" ", 0, room + 1)
        if cut < room // 2:
            pieces.append(rest[:room])
            rest = rest[room:]
            continue
        pieces.append(rest[:cut])
        rest = rest[cut + 1 :]  # the line break or space we cut at
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()] or [text[:0]]


def callback_data(value: str) -> str:
    """``value`` as callback data. The dialog keeps values short ("<seq>.<index>"); a longer one is
    cut at a character boundary rather than making Telegram refuse the whole message, and the
    dialog then treats the tap as an expired offer (it is the same gentle path)."""
    encoded = value.encode()
    if len(encoded) <= MAX_CALLBACK_DATA:
        return value
    log.warning("option value of %d bytes cut to Telegram's %d", len(encoded), MAX_CALLBACK_DATA)
    return encoded[:MAX_CALLBACK_DATA].decode(errors="ignore")


def inline_keyboard(options: Sequence[Option]) -> InlineKeyboardMarkup:
    """One button per option, in order; two to a row when every label is short."""
    buttons = [InlineKeyboardButton(o.label, callback_data=callback_data(o.value)) for o in options]
    per_row = 2 if all(utf16_len(o.label) <= SHORT_LABEL for o in options) else 1
    return InlineKeyboardMarkup([buttons[i : i + per_row] for i in range(0, len(buttons), per_row)])


def contact_keyboard(label: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label, request_contact=True)]], one_time_keyboard=True, resize_keyboard=True
    )


def render_reply(reply: Reply, *, contact_label: str) -> list[Outgoing]:
    """The messages for one reply; the keyboard (options, else a share-contact button) rides on
    the last piece. A reply with options and a contact request shows the options: a message has
    one keyboard, and the customer can still type a phone number."""
    text = reply.text if not reply.link else f"{reply.text}\n{reply.link}"
    markup: Markup | None = None
    if reply.options:
        markup = inline_keyboard(reply.options)
    elif reply.request_contact:
        markup = contact_keyboard(contact_label)
    pieces = split_text(text)
    if not pieces[-1].strip():
        if markup is None:
            return []  # nothing to say: Telegram refuses empty messages
        pieces[-1] = "…"
    messages = [Outgoing(escape(piece)) for piece in pieces]
    messages[-1] = Outgoing(messages[-1].text, markup)
    return messages


def tapped_text(question: str, label: str) -> str | None:
    """The tapped message's new text: the question and the choice. None when it would not fit."""
    text = f"{escape(question)}\n→ <b>{escape(label)}</b>"
    return text if utf16_len(f"{question}\n→ {label}") <= MAX_TEXT else None
