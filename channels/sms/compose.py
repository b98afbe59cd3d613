"""Replies as text messages, and what a customer's text means before the dialog sees it. Pure functions.

:func:`compose` turns one turn's replies into as few messages as it can, each within two segments
(306 GSM-7 septets) whenever the words allow it:

- every character is GSM-7 (:func:`channels.sms.gsm.to_gsm`), so no message falls back to 70-character
  UCS-2 segments;
- options become numbered lines, ``1 Haircut``, then one short hint, ``Reply 1-3``: a customer answers
  with the number (the dialog reads a bare ``2`` as the second option);
- the turn's replies are joined into one message when they fit together; a reply that does not fit
  beside the others starts a new message, and one that does not fit in a message of its own is split
  between lines, then sentences, then words, so nothing is ever cut off. A question stays with its
  options when they fit together.

:func:`keyword` recognises the carrier keywords Twilio acts on (STOP, START, HELP and their synonyms).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Final

from bot.i18n import supported, t
from bot.types import Reply
from channels.sms.gsm import segments, to_gsm

__all__ = [
    "HELP_WORDS",
    "MAX_SEGMENTS",
    "OPT_IN_WORDS",
    "OPT_OUT_WORDS",
    "Keyword",
    "compose",
    "keyword",
    "render_reply",
]

MAX_SEGMENTS: Final = 2
"""A message the bot sends fits in this many segments (306 GSM-7 septets) wherever possible."""

# -- carrier keywords -------------------------------------------------------------------------------


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


OPT_OUT_WORDS: Final = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
"""Twilio's default opt-out keywords (REVOKE and OPTOUT since 14 May 2025)."""
OPT_IN_WORDS: Final = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS: Final = frozenset({"HELP", "INFO"})

_OPT_OUT_TYPES: Final = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}
_TRAILING_MARKS = re.compile(r"[\s.!]+$")


def keyword(text: str, opt_out_type: str | None = None) -> Keyword | None:
    """The carrier keyword a message is, if it is one.

    Twilio acts on a message that is only the keyword, in any case, surrounding spaces ignored. An
    opt-out also counts with trailing ``.`` or ``!`` ("Stop!"): when in doubt, stop sending. With
    Advanced Opt-Out, Twilio says which kind it matched (``OptOutType``), custom keywords included.
    """
    if opt_out_type and opt_out_type.strip().upper() in _OPT_OUT_TYPES:
        return _OPT_OUT_TYPES[opt_out_type.strip().upper()]
    word = text.strip().upper()
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    if _TRAILING_MARKS.sub("", word) in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    return None


# -- replies as messages ----------------------------------------------------------------------------


def _fits(text: str, max_segments: int) -> bool:
    return segments(text) <= max_segments


def _lines(text: str) -> list[str]:
    return [line.strip() for line in to_gsm(text).split("\n") if line.strip()]


def render_reply(reply: Reply, language: str | None = None) -> str:
    """One reply as SMS text: its text, its link, its options as numbered lines and the hint."""
    return "\n".join(_units(reply, language, max_segments=10**6))


def _units(reply: Reply, language: str | None, max_segments: int) -> list[str]:
    """The reply as unbreakable pieces, in order, each within ``max_segments`` on its own.

    The last line of text and the options (with the hint) form one piece when they fit together,
    so a question is never separated from its choices."""
    lines = _lines(reply.text)
    if reply.link:
        lines.append(to_gsm(reply.link).strip())
    options = [f"{i} {' '.join(_lines(option.label))}" for i, option in enumerate(reply.options, start=1)]
    if options:
        last = len(options)
        code = supported(language) or "en"
        hint = t(code, "sms_reply_one") if last == 1 else t(code, "sms_reply_range", last=last)
        options.append(to_gsm(hint))
    pieces = [piece for line in lines for piece in _split(line, max_segments)]
    if options:
        block = "\n".join(options)
        if not _fits(block, max_segments):
            pieces += [piece for line in options for piece in _split(line, max_segments)]
        elif pieces and _fits(pieces[-1] + "\n" + block, max_segments):
            pieces[-1] = pieces[-1] + "\n" + block
        else:
            pieces.append(block)
    return pieces


_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")


def _split(line: str, max_segments: int) -> list[str]:
    """A line in pieces that each fit: whole if it does, else between sentences, else between words."""
    if _fits(line, max_segments):
        return [line]
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(line):
        if _fits(sentence, max_segments):
            _append(pieces, sentence, " ", max_segments)
            continue
        for word in sentence.split(" "):
            while not _fits(word, max_segments):  # one endless "word": cut it where it must be cut
                cut = _longest_prefix(word, max_segments)
                _append(pieces, word[:cut], " ", max_segments)
                word = word[cut:]
            _append(pieces, word, " ", max_segments)
    return pieces


def _longest_prefix(word: str, max_segments: int) -> int:
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(word[:middle], max_segments):
            low = middle
        else:
            high = middle - 1
    return low


def _append(pieces: list[str], piece: str, glue: str, max_segments: int) -> None:
    """Add ``piece`` to the last of ``pieces`` when the two fit together, else as a new one."""
    if pieces and _fits(pieces[-1] + glue + piece, max_segments):
        pieces[-1] = pieces[-1] + glue + piece
    elif piece:
        pieces.append(piece)


def compose(
    replies: Sequence[Reply], language: str | None = None, *, max_segments: int = MAX_SEGMENTS
) -> list[str]:
    """One turn's replies as text messages: as few as possible, each within ``max_segments``.

    A reply joins the message before it when the two fit together; otherwise it starts a new one,
    and only a reply too long for any single message is spread over several (between lines,
    sentences or words: never cut short)."""
    messages: list[str] = []
    for reply in replies:
        units = _units(reply, language, max_segments)
        if not units:
            continue
        whole = "\n".join(units)
        if messages and _fits(messages[-1] + "\n" + whole, max_segments):
            messages[-1] += "\n" + whole
        elif _fits(whole, max_segments):
            messages.append(whole)
        else:
            for unit in units:
                _append(messages, unit, "\n", max_segments)
    return messages
