"""Commands that work in every dialog state: help, start over, my bookings, cancel or move my
booking, time zone, language, try again, earlier / later / another day.

A command fires only when the message is mainly the command: after dropping greetings and
politeness ("hi", "please", "can you", "I'd like to"), the whole rest must be a command phrase.
So "later" and "something later please" are LATER, but "can I book later this week" is not.
Slash commands ("/start", "/cancel", "/tz Berlin") always fire. The bare word "cancel" is not
CANCEL_BOOKING: on SMS it is a carrier keyword and is handled by the channel.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.nlu.lexicon import normalize_languages
from bot.nlu.text import fold
from bot.nlu.timezones import resolve_timezone


class CommandKind(StrEnum):
    HELP = "help"
    RESTART = "restart"
    MY_BOOKINGS = "my_bookings"
    CANCEL_BOOKING = "cancel_booking"
    MOVE_BOOKING = "move_booking"
    TIMEZONE = "timezone"
    LANGUAGE = "language"
    TRY_AGAIN = "try_again"
    EARLIER = "earlier"
    LATER = "later"
    ANOTHER_DAY = "another_day"


@dataclass(frozen=True)
class Command:
    kind: CommandKind
    argument: str | None = None  # IANA zone for TIMEZONE, ISO code for LANGUAGE, /start payload


_LANGUAGE_NAMES = {
    "en": "en",
    "english": "en",
    "ingles": "en",
    "englisch": "en",
    "anglais": "en",
    "es": "es",
    "spanish": "es",
    "espanol": "es",
    "castellano": "es",
    "spanisch": "es",
    "espagnol": "es",
    "espanhol": "es",
    "de": "de",
    "german": "de",
    "deutsch": "de",
    "aleman": "de",
    "allemand": "de",
    "alemao": "de",
    "fr": "fr",
    "french": "fr",
    "francais": "fr",
    "frances": "fr",
    "franzosisch": "fr",
    "portuguese": "pt",
    "pt": "pt",
    "portugues": "pt",
    "portugiesisch": "pt",
    "portugais": "pt",
}
_CODES = frozenset({"en", "es", "de", "fr", "pt"})

_SLASH = re.compile(r"^/([a-z_]+)(?:@\w+)?(?:\s+(.*))?$", re.S)
_SLASH_KINDS = {
    "start": CommandKind.RESTART,
    "restart": CommandKind.RESTART,
    "reset": CommandKind.RESTART,
    "help": CommandKind.HELP,
    "bookings": CommandKind.MY_BOOKINGS,
    "mybookings": CommandKind.MY_BOOKINGS,
    "my_bookings": CommandKind.MY_BOOKINGS,
    "cancel": CommandKind.CANCEL_BOOKING,
    "move": CommandKind.MOVE_BOOKING,
    "reschedule": CommandKind.MOVE_BOOKING,
    "tz": CommandKind.TIMEZONE,
    "timezone": CommandKind.TIMEZONE,
    "language": CommandKind.LANGUAGE,
    "lang": CommandKind.LANGUAGE,
    "retry": CommandKind.TRY_AGAIN,
}

# Greetings and politeness around a command, per language (always with English).
_FILLER = {
    "en": r"please|pls|plz|hi|hello|hey|ok|okay|just|thanks|thank you|can you|could you|can i"
    r"|could i|i want to|i'd like to|id like to|i would like to|i wanna|i need to|let's|lets"
    r"|i want|i'd like|i would like|i need|now|again please|so|well|um|uh|actually",
    "es": r"por favor|hola|quiero|quisiera|me gustaria|puedes|podrias|necesito|vale|gracias",
    "de": r"bitte|hallo|hi|ich mochte|ich will|ich wurde gern|ich wurde gerne|kannst du|konnen sie"
    r"|danke|gern|gerne",
    "fr": r"s'il vous plait|s'il te plait|svp|bonjour|salut|je veux|je voudrais|pouvez vous"
    r"|peux tu|merci",
    "pt": r"por favor|ola|oi|quero|queria|gostaria de|pode|podes|preciso|obrigado|obrigada",
}

_BOOKING = r"(?:booking|appointment|appt|reservation|visit|session)s?"
_FIXED: dict[str, tuple[tuple[CommandKind, str], ...]] = {
    "en": (
        (
            CommandKind.HELP,
            r"help(?: me)?|what can you do|how does (?:this|it) work|menu|commands"
            r"|options|what are my options",
        ),
        (
            CommandKind.RESTART,
            r"(?:start|begin) (?:(?:it|this|the booking|all) )?(?:over|again)|start from scratch"
            r"|(?:restart|reset)(?: (?:it|this|the|my|everything|the booking|the conversation"
            r"|the chat))?|new booking|from the (?:start|beginning)|start a new booking",
        ),
        (
            CommandKind.MY_BOOKINGS,
            r"(?:(?:show|list|see|view|check|get)(?: me)? )?(?:all )?my "
            + _BOOKING
            + r"|what are my "
            + _BOOKING
            + r"|do i have any "
            + _BOOKING
            + r"|what (?:have i got|do i have|did i) book(?:ed)?(?: with you)?"
            + r"|what (?:bookings|appointments) do i have(?: with you)?"
            + r"|(?:have i got|what's|what is) (?:booked|coming up)",
        ),
        (CommandKind.CANCEL_BOOKING, r"cancel (?:my |the |this |that |our )?(?:upcoming )?" + _BOOKING),
        (
            CommandKind.MOVE_BOOKING,
            r"(?:move|change|reschedule|rebook|modify) (?:my |the |this "
            r"|that |our )?" + _BOOKING + r"|reschedule(?: it)?",
        ),
        (CommandKind.TRY_AGAIN, r"try again|retry|try once more|one more time|try it again"),
        (
            CommandKind.EARLIER,
            r"(?:something |anything |a bit |a little |any )?earlier"
            r"(?: (?:time|times|slot|slots|one|ones|please))?",
        ),
        (
            CommandKind.LATER,
            r"(?:something |anything |a bit |a little |any )?later"
            r"(?: (?:time|times|slot|slots|one|ones|please))?",
        ),
        (
            CommandKind.ANOTHER_DAY,
            r"(?:an |on )?(?:another|other|different|a different|some other)"
            r" (?:day|date)s?|none of (?:those|these|them|the times|the above)"
            r"(?: (?:work|works|suit me|are good|is good|fit))?(?: for me)?|neither(?: of (?:those|them))?",
        ),
    ),
    "es": (
        (CommandKind.HELP, r"ayuda|ayudame|que puedes hacer"),
        (CommandKind.RESTART, r"empezar de nuevo|volver a empezar|reiniciar|empezar otra vez"),
        (CommandKind.MY_BOOKINGS, r"(?:ver )?mis (?:reservas|citas|turnos)"),
        (CommandKind.CANCEL_BOOKING, r"cancelar (?:mi |la |una )?(?:reserva|cita|turno)"),
        (
            CommandKind.MOVE_BOOKING,
            r"(?:cambiar|mover|reprogramar) (?:mi |la )?(?:reserva|cita"
            r"|turno)|reprogramar",
        ),
        (CommandKind.TRY_AGAIN, r"intentar de nuevo|otra vez|reintentar|intentalo de nuevo"),
        (CommandKind.EARLIER, r"(?:algo |mas )?(?:mas )?temprano|antes"),
        (CommandKind.LATER, r"(?:algo )?mas tarde|despues"),
        (CommandKind.ANOTHER_DAY, r"otro dia|(?:un )?dia diferente|(?:un )?dia distinto"),
    ),
    "de": (
        (CommandKind.HELP, r"hilfe|was kannst du"),
        (CommandKind.RESTART, r"neu starten|von vorne|neustart|zurucksetzen|nochmal von vorne"),
        (CommandKind.MY_BOOKINGS, r"(?:zeige )?meine (?:termine|buchungen|reservierungen)"),
        (
            CommandKind.CANCEL_BOOKING,
            r"(?:meinen |den )?(?:termin|buchung|reservierung) "
            r"(?:stornieren|absagen|canceln)|(?:storniere|sage) "
            r"(?:meinen |den )?termin(?: ab)?",
        ),
        (
            CommandKind.MOVE_BOOKING,
            r"(?:meinen |den )?(?:termin|buchung) (?:verschieben|andern"
            r"|umbuchen)|umbuchen|verschieben",
        ),
        (CommandKind.TRY_AGAIN, r"nochmal|noch einmal|erneut versuchen|nochmal versuchen"),
        (CommandKind.EARLIER, r"(?:etwas )?fruher"),
        (CommandKind.LATER, r"(?:etwas )?spater"),
        (CommandKind.ANOTHER_DAY, r"(?:ein |einen )?(?:anderer|anderen) tag"),
    ),
    "fr": (
        (CommandKind.HELP, r"aide|au secours|que peux tu faire"),
        (CommandKind.RESTART, r"recommencer|redemarrer|reprendre a zero|tout recommencer"),
        (CommandKind.MY_BOOKINGS, r"(?:voir )?mes (?:reservations|rendez vous|rdv)"),
        (
            CommandKind.CANCEL_BOOKING,
            r"annuler (?:mon |ma |le |la )?(?:reservation|rendez vous"
            r"|rdv)",
        ),
        (
            CommandKind.MOVE_BOOKING,
            r"(?:deplacer|changer|modifier|reporter) (?:mon |ma |le |la )?"
            r"(?:reservation|rendez vous|rdv)|reprogrammer",
        ),
        (CommandKind.TRY_AGAIN, r"reessayer|encore une fois|recommencer l'essai"),
        (CommandKind.EARLIER, r"(?:un peu )?plus tot"),
        (CommandKind.LATER, r"(?:un peu )?plus tard"),
        (CommandKind.ANOTHER_DAY, r"(?:un )?autre jour|(?:un )?jour different"),
    ),
    "pt": (
        (CommandKind.HELP, r"ajuda|socorro|o que podes fazer|o que voce pode fazer"),
        (CommandKind.RESTART, r"recomecar|reiniciar|comecar de novo|comecar outra vez"),
        (
            CommandKind.MY_BOOKINGS,
            r"(?:ver )?(?:as )?(?:minhas|meus) (?:reservas|marcacoes"
            r"|agendamentos|consultas)",
        ),
        (
            CommandKind.CANCEL_BOOKING,
            r"cancelar (?:a |o |minha |meu |a minha |o meu )?(?:reserva"
            r"|marcacao|agendamento|consulta)",
        ),
        (
            CommandKind.MOVE_BOOKING,
            r"(?:mudar|alterar|remarcar|reagendar) (?:a |o |minha |meu "
            r"|a minha |o meu )?(?:reserva|marcacao|agendamento|consulta)"
            r"|remarcar|reagendar",
        ),
        (CommandKind.TRY_AGAIN, r"tentar de novo|tentar novamente|de novo|outra vez"),
        (CommandKind.EARLIER, r"(?:mais )?cedo"),
        (CommandKind.LATER, r"mais tarde|depois"),
        (CommandKind.ANOTHER_DAY, r"outro dia|(?:um )?dia diferente"),
    ),
}

_ZONE_WORD = r"(?:time ?zone|timezone|tz|zona horaria|zeitzone|fuseau horaire|fuseau|fuso horario|fuso)"
_TZ_EXPLICIT = re.compile(
    r"^(?:(?:set|change|switch|update|cambiar|andern|changer|mudar|alterar) )?(?:my |mi |meine "
    r"|mon |meu |the |la |o )?" + _ZONE_WORD + r"(?: (?P<zone>.+))?$"
)
_LINKS = frozenset(
    {
        "is",
        "es",
        "ist",
        "est",
        "e",
        "to",
        "a",
        "auf",
        "para",
        "now",
        "should be",
        "be",
        "in",
        "=",
        "se",
        "sera",
        "set",
    }
)
_TZ_PLACE = re.compile(
    r"^(?:i ?'?m|i am|im|i live|i'm currently|i am currently|i'm now|i am now|we are|we're"
    r"|estoy|vivo|ich bin|ich wohne|ich lebe|je suis|j'habite|je vis|estou|moro|vivo)"
    r" (?:currently |now |based )?(?:in|at|en|a|em|no|na) (?P<zone>.+)$"
)
_LANG_EXPLICIT = re.compile(
    r"^(?:(?:set|change|switch) )?(?:the |my )?(?:language|lang|idioma|sprache|langue|lingua)"
    r"(?: (?P<lang>[a-z ]+))?$"
)
_LANG_IN = re.compile(
    r"^(?:(?:can you |could you |can we |please )?(?:speak|talk|write|reply|answer|continue"
    r"|switch to|change to|habla|hablame|hablas|sprich|sprichst du|parle|parlez|fala|falas)"
    r"(?: (?:in|en|auf|em|to))?|in|en|auf|em|na lingua|en idioma) (?P<lang>[a-z]+)$"
)
_PUNCT = re.compile(r"[^\w\s'/+-]|_|(?<=[a-z])-(?=[a-z])")
_SPACES = re.compile(r"\s+")


def _compile(languages: tuple[str, ...]) -> tuple[re.Pattern[str], list[tuple[CommandKind, re.Pattern[str]]]]:
    fillers = "|".join(_FILLER[lang] for lang in languages)
    filler = re.compile(r"^(?:(?:" + fillers + r")\b[\s,]*)+|(?:[\s,]*\b(?:" + fillers + r"))+$")
    fixed = [
        (kind, re.compile(r"^(?:" + pattern + r")$")) for lang in languages for kind, pattern in _FIXED[lang]
    ]
    return filler, fixed


# Compiled once per language combination that the bot supports (tiny, built at import).
_TABLES = {
    (lang,) if lang == "en" else (lang, "en"): _compile((lang,) if lang == "en" else (lang, "en"))
    for lang in _FIXED
}


def _tables(languages: Sequence[str]) -> tuple[re.Pattern[str], list[tuple[CommandKind, re.Pattern[str]]]]:
    langs = normalize_languages(languages)
    key = (langs[0],) if langs[0] == "en" else (langs[0], "en")
    filler, fixed = _TABLES[key]
    if len(langs) > 1:  # more languages: add their phrases too
        extra = [_TABLES[(lang,) if lang == "en" else (lang, "en")] for lang in langs[1:]]
        return filler, fixed + [pair for _, more in extra for pair in more]
    return filler, fixed


def _language(word: str | None) -> str | None:
    if word is None:
        return None
    return _LANGUAGE_NAMES.get(word.strip())


def _argument(rest: str | None, resolve: Callable[[str], str | None]) -> str | None:
    """Resolve "is Berlin" / "to es": try the whole rest, then without each leading link word."""
    words = (rest or "").split()
    while words:
        found = resolve(" ".join(words))
        if found is not None:
            return found
        if words[0] not in _LINKS:
            return None
        words.pop(0)
    return None


def _clean(text: str, filler: re.Pattern[str]) -> str:
    folded = _SPACES.sub(" ", _PUNCT.sub(" ", fold(text))).strip()
    previous = None
    while previous != folded:
        previous = folded
        folded = filler.sub("", folded).strip(" ,")
    return folded


def detect_command(text: str, languages: Sequence[str] = ("en",)) -> Command | None:
    """The command a message is, or None when it is not mainly a command."""
    if not isinstance(text, str):
        return None
    stripped = text.strip()
    if not stripped or len(stripped) > 200:  # a long message is never just a command
        return None
    slash = _SLASH.match(stripped.lower()) if stripped.startswith("/") else None
    if slash is not None:
        return _slash(slash.group(1), (slash.group(2) or "").strip() or None, stripped)
    filler, fixed = _tables(languages)
    cleaned = _clean(stripped, filler)
    if not cleaned:
        return None
    for kind, pattern in fixed:
        if pattern.match(cleaned):
            return Command(kind)
    m = _TZ_EXPLICIT.match(cleaned)
    if m is not None:
        return Command(CommandKind.TIMEZONE, _argument(m.group("zone"), resolve_timezone))
    m = _TZ_PLACE.match(cleaned)
    if m is not None:
        zone = resolve_timezone(m.group("zone"))
        if zone is not None:  # "I'm in pain" is not a time zone
            return Command(CommandKind.TIMEZONE, zone)
    m = _LANG_EXPLICIT.match(cleaned)
    if m is not None:
        return Command(CommandKind.LANGUAGE, _argument(m.group("lang"), _language))
    m = _LANG_IN.match(cleaned)
    if m is not None and _language(m.group("lang")) is not None:
        return Command(CommandKind.LANGUAGE, _language(m.group("lang")))
    words = cleaned.split()
    if len(words) == 1 and words[0] in _LANGUAGE_NAMES and words[0] not in _CODES:
        return Command(CommandKind.LANGUAGE, _LANGUAGE_NAMES[words[0]])  # "español"
    return None


def _slash(name: str, argument: str | None, original: str) -> Command | None:
    kind = _SLASH_KINDS.get(name)
    if kind is None:
        return None
    if kind is CommandKind.TIMEZONE:
        return Command(kind, resolve_timezone(argument) if argument else None)
    if kind is CommandKind.LANGUAGE:
        return Command(kind, _language(fold(argument)) if argument else None)
    if kind is CommandKind.RESTART and argument:
        # /start <payload>: a Telegram deep link carries the business slug; keep its case.
        payload = original.split(None, 1)[1].strip() if " " in original else argument
        return Command(kind, payload)
    return Command(kind)
