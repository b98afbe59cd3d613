"""Names, email addresses and phone numbers in free text, and masks for logging them."""

from __future__ import annotations

import re

import phonenumbers

from bot.nlu.lexicon import WORDS
from bot.nlu.text import wordset

_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$", re.IGNORECASE)
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?![\w-])", re.IGNORECASE)
_LOCAL_CHAR = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]")


def extract_email(text: str) -> str | None:
    """The first valid email address, with its domain lowercased (the local part is kept)."""
    if not isinstance(text, str) or "@" not in text:
        return None
    text = text[:5000]
    start = 0
    for _ in range(20):  # look at each "@" locally, so long junk cannot make this slow
        at = text.find("@", start)
        if at < 0:
            return None
        start = at + 1
        before = text[max(0, at - 65) : at]
        local_match = _LOCAL.search(before)
        domain_match = _DOMAIN.match(text, at + 1, min(len(text), at + 254))
        if local_match is None or domain_match is None:
            continue
        local = local_match.group()
        head = at - len(local)
        if (head > 0 and _LOCAL_CHAR.match(text[head - 1])) or len(local) > 64 or ".." in local:
            continue  # part of something longer, or not a valid local part
        return f"{local}@{domain_match.group().lower()}"
    return None


def extract_phone(text: str, default_region: str | None = None) -> str | None:
    """The first valid phone number as E.164 ("+351912345678"). Without a default region only
    numbers written with their country code (+351 or 00351) are understood."""
    if not isinstance(text, str):
        return None
    sample = re.sub(r"(?<![\d+])00(?=[1-9]\d{6,})", "+", text[:1000])
    region = (default_region or "ZZ").upper()
    try:
        for match in phonenumbers.PhoneNumberMatcher(sample, region):
            number = match.number
            if phonenumbers.is_valid_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except Exception:  # phonenumbers raises its own errors on odd input; a miss is None
        return None
    return None


def mask_phone(phone: str) -> str:
    """ "+351912345567" -> "+35191****567": enough to recognise it in a log, not to call it."""
    if len(phone) <= 5:
        return "*" * len(phone)
    keep_head = min(6, max(1, len(phone) - 7))
    return phone[:keep_head] + "*" * (len(phone) - keep_head - 3) + phone[-3:]


def mask_email(email: str) -> str:
    """ "pat@example.com" -> "p***@example.com"."""
    local, at, domain = email.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


_INTRO = re.compile(
    r"^(?:(?:hi|hello|hey|ola|olá|hola|hallo|bonjour|salut|oi)[\s,!.]+)?"
    r"(?:i'm|i’m|im|i am|my name is|my name's|name is|name's|name:|this is|it's|it is|call me"
    r"|soy|me llamo|mi nombre es|ich heiße|ich heisse|ich bin|mein name ist|je m'appelle"
    r"|je m’appelle|je suis|moi c'est|mon nom est|eu sou|sou o|sou a|sou|meu nome é|meu nome e"
    r"|chamo-me|me chamo|o meu nome é)\s+(?P<name>.+)$",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"\s*[,.;!?]\s*|\s+(?:and|y|und|et|e|but|pero|aber|mais|mas)\s+", re.I)
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*\.?$")
_PARTICLES = frozenset(
    {
        "da",
        "de",
        "do",
        "dos",
        "das",
        "van",
        "von",
        "der",
        "den",
        "la",
        "le",
        "del",
        "di",
        "du",
        "y",
        "e",
        "ter",
        "bin",
        "al",
    }
)
# Words that show a message is not a name ("I'm free tomorrow", "yes please").
_NOT_NAMES = wordset(
    "yes no ok okay sure hi hello hey thanks thank please help book booking appointment cancel"
    " i me my you we it is are was the a an and or but not in at on to for with from of"
    " free busy fine good great here there looking interested available sorry ready happy"
    " new just back done late early sick what when where how why who which can could would"
    " want need like today tomorrow morning afternoon evening tonight time haircut"
    " service services slot slots any anyone whoever none nothing stop start restart menu"
    " si sí ja nein oui non sim não nao gracias danke merci obrigado obrigada por favor bitte"
    " going coming calling texting trying just also still very really"
    " actually wait oh oops instead same make change switch move rather meant mean can't cant"
    " perdon perdón perdão perdao pardon entschuldigung desculpe disculpa mejor lieber plutôt plutot"
    " nobody somebody someone anybody anyone everybody everyone"
)
_DATE_WORDS = frozenset(
    w for table in WORDS.values() for w, c in table.items() if c != "_" and not c.isdigit() and len(w) > 2
)


def _tidy(word: str) -> str:
    if word.lower() in _PARTICLES:
        return word.lower()
    return word[:1].upper() + word[1:].lower()


def extract_name(text: str, *, asked: bool = False) -> str | None:
    """A person's name from "I'm Pat Patient", "my name is Pat", "soy Ana", "ich heiße Max" or a
    message that is just a name ("Pat Patient"). None for digits, emails, sentences or words that
    are clearly something else. An all-lowercase or all-uppercase name is title-cased.

    ``asked``: the bot has just asked for a name, so words that double as dates ("Sam", "May",
    "June", "Domingo") are names here; unprompted, "friday" is a day, not a person."""
    if not isinstance(text, str):
        return None
    text = text.strip().strip(".!,;")
    if not text or len(text) > 200:
        return None
    m = _INTRO.match(text)
    if m is not None:
        # "I'm Pat, I'd like a haircut": the name ends with its clause
        candidate = _CLAUSE_END.split(m.group("name"), maxsplit=1)[0]
    elif len(text) > 80:
        return None
    else:
        candidate = text
    if "@" in candidate or any(ch.isdigit() for ch in candidate):
        return None
    candidate = re.sub(
        r"[\s,.!]+(?:here|thanks|thank you|please|obrigad[oa]|gracias|danke"
        r"|merci)[\s.!]*$",
        "",
        candidate,
        flags=re.IGNORECASE,
    ).strip(" .,!")
    words = candidate.split()
    if not 1 <= len(words) <= 4:
        return None
    if not all(_NAME_WORD.match(w) for w in words):
        return None
    lowered = [w.lower().strip(".") for w in words]
    if lowered[0] in _PARTICLES or any(w in _NOT_NAMES for w in lowered):
        return None
    if m is None and not asked and any(w in _DATE_WORDS for w in lowered):
        return None  # "friday", "mañana": a date, not a name
    if candidate.islower() or candidate.isupper():
        return " ".join(_tidy(w) for w in words)
    return " ".join(words)
