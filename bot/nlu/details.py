"""A customer's name and contact, wherever they appear in a message: `read_details`.

"haircut tomorrow at 3pm, I'm Sam, 555-0100", "Jess Taylor jess.taylor@gmail.com", "my number is
913 222 781 and my name is Catarina Dias". The email and anything that looks like a phone number are
found first and blanked out of the text handed on (``rest``), so no other reader takes a phone number
for a time or an email for a practitioner; the name found is blanked too ("Beatriz Costa" is the
customer, not the practitioner Ana Costa).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.nlu.contact import (
    _DATE_WORDS,
    _NAME_WORD,
    _NOT_NAMES,
    _PARTICLES,
    extract_email,
    extract_name,
    extract_phone,
)
from bot.nlu.text import wordset

__all__ = ["Details", "bare_name", "read_details"]


@dataclass(frozen=True)
class Details:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    """E.164, when the number is a valid one for the customer's region (or has its country code)."""
    number_like: bool = False
    """Something that looks like a phone number was there, valid or not (it is never a time)."""
    rest: str = ""
    """The message with the email, phone and name blanked out (same length, same positions)."""


# A run of at least 7 digits with the separators people put in phone numbers; dates are excluded.
_NUMBER_RUN = re.compile(r"(?<![\w/.:])\+?\(?\d[\d\s().\-]{5,20}\d(?![\w/:])")
_DATE_LIKE = re.compile(r"^\d{1,4}[-./ ]\d{1,2}[-./ ]\d{2,4}$")
_INTRO = re.compile(
    r"(?:^|(?<=[\s,.;:!?(-]))(?:(?:put|change|make|book it under|under)(?: the| my)? name (?:as|to)"
    r"|(?:the )?name (?:as|to|should be)|under the name|under"
    r"|name for the (?:booking|appointment|reservation):?"
    r"|i'm|i’m|i am|my name is|my name's|my names|name is|name's|name:|name|this is"
    r"|it's|its|it is|call me|soy|me llamo|mi nombre es|ich heiße|ich heisse|ich bin|mein name ist"
    r"|je m'appelle|je m’appelle|je suis|moi c'est|mon nom est|eu sou|sou o|sou a|sou|meu nome é"
    r"|meu nome e|chamo-me|me chamo|o meu nome é)\s+",
    re.IGNORECASE,
)
_CLAUSE = re.compile(
    r"[,;:!?()\[\]|]|\s[-–—]\s|\.(?:\s|$)|\s(?:and|y|und|et|e|but|pero|aber|mais|mas)\s", re.I
)
# Words around a contact that are not part of a name: "my number is", "email:", "you can text me at".
_FILLER = wordset(
    "my number phone mobile cell tel telephone email e-mail mail is at on or and contact reach me"
    " text call you can the it's its mi numero telefono correo es mein nummer handy ist meine"
    " mon numero portable est mon o meu telemovel telemóvel é here aqui hier ici"
)


def _blank(text: str, start: int, end: int) -> str:
    """``text`` with [start, end) blanked; a comma keeps the clause boundary the words made."""
    return text[:start] + ("," + " " * (end - start - 1) if end > start else "") + text[end:]


def _name_words(clause: str, *, asked: bool, cased: bool) -> str | None:
    """The leading run of name words in ``clause`` (1-4 of them), or None."""
    words = clause.split()
    taken: list[str] = []
    for word in words:
        bare = word.strip(".")
        lowered = bare.lower()
        if not _NAME_WORD.match(word) or lowered in _NOT_NAMES or (lowered in _FILLER and not taken):
            break
        if not asked and lowered in _DATE_WORDS:
            break
        if cased and taken and not bare[:1].isupper() and lowered not in _PARTICLES:
            break  # "Luis Ferreira btw": the name ends where the capitals do
        taken.append(bare)
        if len(taken) == 4:
            break
    while taken and taken[-1].lower() in _PARTICLES | _FILLER:
        taken.pop()
    if not taken or taken[0].lower() in _PARTICLES:
        return None
    if cased and not all(w[:1].isupper() or w.lower() in _PARTICLES for w in taken):
        return None  # the customer writes in capitals, so a lowercase word is no name ("je suis prêt")
    return extract_name(" ".join(taken), asked=True)


def _cased(text: str) -> bool:
    return any(c.isupper() for c in text) and not text.isupper()


def _from_intro(text: str) -> tuple[str, int, int] | None:
    for m in _INTRO.finditer(text):
        clause = _CLAUSE.split(text[m.end() :], maxsplit=1)[0]
        name = _name_words(clause, asked=True, cased=_cased(text))
        if name is not None:
            end = m.end() + len(clause.rstrip())
            return name, m.start(), end
    return None


def _trailing_capitalised(words: list[str]) -> list[str]:
    """The run of two to four capitalised words that ends ``words`` ("Kevin Tran"), if any."""
    run: list[str] = []
    for word in reversed(words):
        if not word[:1].isupper() or len(run) == 4:
            break
        run.insert(0, word)
    return run if len(run) >= 2 else []


_HERE = re.compile(
    r"(?:^|[.!?]\s+)(?:(?:hi|hello|hey|ola|olá|hola|hallo|bonjour|oi)[\s,!]+)?"
    r"(?P<name>[^\W\d_][\w'’-]*(?:\s+[^\W\d_][\w'’-]*){0,3})\s+(?:here|aqui|aquí|hier|ici)\b",
    re.IGNORECASE,
)


def _from_here(text: str) -> tuple[str, int, int] | None:
    """ "Beatriz Nunes here 👋 ...": a name introduced the way people sign a text."""
    m = _HERE.search(text)
    if m is None or not _cased(text):  # only a name written as one: "Beatriz Nunes here"
        return None
    name = _name_words(m["name"], asked=False, cased=True)
    if name is None or len(name.split()) != len(m["name"].split()):
        return None
    return name, m.start("name"), m.end("name")


def _signed(text: str) -> tuple[str, int, int] | None:
    """A text signed with a name at its end, after a full stop: "... Qualquer fisioterapeuta serve.
    Ricardo Fonseca" (two to four capitalised words alone in the last sentence)."""
    stripped = text.rstrip(" .!")
    cut = max((m.end() for m in re.finditer(r"[.!?\n]\s+", stripped)), default=0)
    words = stripped[cut:].split()
    if not cut or not 2 <= len(words) <= 4 or not _cased(text) or not all(w[:1].isupper() for w in words):
        return None
    name = _name_words(" ".join(words), asked=False, cased=True)
    return (name, cut, len(stripped)) if name is not None and len(name.split()) == len(words) else None


def _beside(text: str, start: int, end: int, *, asked: bool) -> tuple[str, int, int] | None:
    """A name in the clause just before or just after a contact ("Sara Matos 926 118 440")."""
    cased = _cased(text)
    before = text[:start].rstrip(" ,;:-–—([/|")
    cut = max((m.end() for m in _CLAUSE.finditer(before)), default=0)
    clause = before[cut:]
    words = clause.split()
    while words and words[-1].lower().strip(":") in _FILLER:
        words.pop()
    if not words and cut:  # "Sarah Lindgren, email sarah@...": the name is the clause before "email"
        before = before[:cut].rstrip(" ,;:-–—([")
        cut = max((m.end() for m in _CLAUSE.finditer(before)), default=0)
        words = before[cut:].split()
    if words:
        name = _name_words(" ".join(words), asked=asked, cased=cased)
        if name is not None and len(name.split()) == len(words):
            return name, cut, len(before)
        # "ok so it's for Kevin Tran, 646-555-0123": the capitalised words right before the contact
        trailing = _trailing_capitalised(words) if cased else []
        if trailing and (name := _name_words(" ".join(trailing), asked=asked, cased=True)) is not None:
            at = len(before) - len(" ".join(trailing))
            return name, at, len(before)
    tail = text[end:]
    lead = len(tail) - len(tail.lstrip(" ,;:-–—)]"))
    after = _CLAUSE.split(tail[lead:], maxsplit=1)[0]
    name = _name_words(after, asked=asked, cased=cased) if after.strip() else None
    if name is not None and len(name.split()) == len(after.split()):
        return name, end + lead, end + lead + len(after)
    return None


def read_details(text: str, regions: Sequence[str | None] = (), *, name_asked: bool = False) -> Details:
    """Name, email and phone from anywhere in ``text``; ``regions`` read local numbers, the first
    that makes a valid number wins (the customer's country, then the business's: PT, US).

    A name is read from an introduction ("I'm Sam") or beside a contact ("Sara Matos 926 118 440").
    ``name_asked``: the bot has just asked for a name, so words that double as dates may be one; a
    message that is nothing but a name is for the caller to judge (:func:`bare_name`), once it knows
    the message says nothing else."""
    rest = text
    email = extract_email(text)
    contacts: list[tuple[int, int]] = []
    if email is not None:
        local, _, domain = email.partition("@")
        m = re.search(re.escape(local) + "@" + re.escape(domain), text, re.IGNORECASE)
        if m is not None:
            contacts.append((m.start(), m.end()))
            rest = _blank(rest, m.start(), m.end())
    phone = None
    number_like = False
    for m in _NUMBER_RUN.finditer(rest):
        run = m.group().strip()
        if sum(c.isdigit() for c in run) < 7 or _DATE_LIKE.match(run):
            continue
        number_like = True
        phone = phone or next((p for r in (*regions, None) if (p := extract_phone(run, r))), None)
        contacts.append((m.start(), m.end()))
        rest = _blank(rest, m.start(), m.end())
    found = _from_intro(rest) or _from_here(rest)
    if found is None and not contacts:
        found = _signed(rest)
    for start, end in sorted(contacts):
        if found is None:
            found = _beside(rest, start, end, asked=name_asked)
    name = None
    if found is not None:
        name, start, end = found
        rest = _blank(rest, start, end)
    return Details(name=name, email=email, phone=phone, number_like=number_like, rest=rest)


def bare_name(rest: str) -> str | None:
    """A message that is only a name ("Beatriz Costa", "sam"), after its contact was taken out."""
    first = _CLAUSE.split(rest.strip(), maxsplit=1)[0].strip()
    return extract_name(first, asked=True) if first else None
