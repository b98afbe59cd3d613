"""Several slots in one message: "a haircut with Ana tomorrow at 3" -> service, practitioner, when."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from bot.nlu.lexicon import WORDS
from bot.nlu.text import fold, wordset
from bot.nlu.vocabulary import concepts_in, services_by_meaning
from bot.nlu.when import When, interpret_when


@dataclass(frozen=True)
class Request:
    service_index: int | None
    practitioner_index: int | None
    when: When
    earliest: bool = False
    """ "asap", "first available", "whenever": the earliest open slots."""
    also: int | None = None
    """A second service named in the same message ("a haircut and a beard trim"); ``service_index`` is
    the one named first."""
    party: int = 1
    """How many people the booking is for: 2 for "me and my son", "both of us", "two haircuts"."""
    again: bool = False
    """ "another one", "the same again", "una más": the service just booked, once more."""
    right_after: bool = False
    """ "right after that", "just after": straight after the booking just made."""
    same_time: bool = False
    """ "same time", "a la misma hora": the time of the booking just made."""


_PERSON = (
    r"(?:son|daughter|husband|wife|partner|boyfriend|girlfriend|friend|mum|mom|mother|dad|father|sister"
    r"|brother|kid|child|fiance|fiancee|colleague|flatmate|roommate)"
)
_PARTY = re.compile(
    r"\b(?:"
    # en
    r"me and (?:my|a) \w+|both of us|we both|(?:the )?two of us|two people"
    rf"|my {_PERSON}(?: \w+)? and (?:i|me)\b(?! \w+ (?:been|was|am|have|had))"
    r"|(?:and|plus) (?:one|another) for (?:my|a) \w+|and my \w+ (?:needs|wants|would like|too)"
    r"|for two(?: people| persons)?(?= *(?:[,.!?]|$))"
    # es
    r"|para mi y (?:mi|un|una) \w+|mi \w+ y yo|(?:los|las|nosotros) dos|dos personas"
    # de
    r"|fur mich und (?:meinen|meine|meinem) \w+|mein(?:e|en)? \w+ und ich|wir (?:beide|zwei)|zwei personen"
    # fr
    r"|pour moi et (?:mon|ma) \w+|(?:mon|ma) \w+ et moi|nous deux|deux personnes"
    # pt
    r"|para mim e (?:o meu|a minha|meu|minha) \w+|(?:o meu|a minha) \w+ e eu|nos (?:dois|duas)|duas pessoas"
    r")\b"
)
"""Two people: "me and my son", "both of us", "mi hijo y yo", "für mich und meinen Sohn". "for my son"
alone is one person, the son."""
_TWO_OF = re.compile(r"\b(?:two|2|dos|zwei|deux|dois|duas)\s+([a-z][\w-]*)")


_AGAIN = re.compile(
    r"\b(?:another(?: one)?|one more|same (?:again|thing|one|service)|again|otr[oa](?: m[aá]s)?|una m[aá]s"
    r"|noch (?:einen|eine|einmal)|nochmal|encore (?:un|une)|un autre|une autre|outr[oa]|mais (?:um|uma))\b"
)
_SAME_TIME = re.compile(
    r"\b(?:(?:the )?same time|(?:a )?la misma hora|(?:zur )?(?:gleichen|selben) (?:zeit|uhrzeit)"
    r"|(?:a )?la meme heure|(?:a|à) mesma hora|(?:no )?mesmo horario)\b"
)
_RIGHT_AFTER = re.compile(
    r"\b(?:(?:right|just|straight|directly|immediately) after(?: (?:that|it|this|the \w+))?|after that one"
    r"|justo despues|inmediatamente despues|direkt danach|gleich danach|juste apres|tout de suite apres"
    r"|logo a seguir|logo depois|em seguida)\b"
)
_BUSY_UNTIL = re.compile(
    r"(\b(?:work|working|at work|busy|in class|in school|on shift)\s+(?:till|until|til|to|\'til)\s+)"
    r"(\d{1,2}(?:[:.h]\d{2})?(?:\s?[ap]\.?m\.?)?)"
)
_EARLIEST = re.compile(
    r"\b(?:asap|a\.s\.a\.p|as soon as (?:possible|you can)|earliest|soonest|first (?:available|free|open)"
    r"|next (?:available|free|open)|whenever|lo (?:mas )?antes posible"
    # "any time" is the earliest, but "any time after 5pm" is a window
    r"|any ?time(?: is fine| works)?(?! (?:after|before|on|in|this|next|between|from|around|tomorrow|today))"
    r"|cuanto antes|primer (?:hueco|turno) (?:libre|disponible)|(?:so )?bald (?:wie )?moglich"
    r"|fruhestmoglich|nachste(?:r|n)? freie"
    r"|des que possible|au plus tot|le plus tot possible|premier creneau|o mais cedo possivel|quanto antes"
    r"|primeira vaga|o mais rapido possivel|assim que possivel)\b"
)


_OR_MORE = r"(?:\s+(?:or|nor)\s+(?:a\s+|an\s+)?\w+)*"  # "no colour or cut or anything": all of it
_NEGATED = re.compile(
    r"(\b(?:not|instead of|rather than|no longer|without)\s+(?:with\s+|the\s+|a\s+|an\s+)?)(\w+"
    + _OR_MORE
    + ")"
)
_NEGATED_EN = re.compile(r"(\bno\s+)(\w+" + _OR_MORE + ")")
"""English "no colour": only in English, where "no" is not "on the" (Portuguese "no sábado")."""
_ASIDE = re.compile(
    r"(\b(?:until|till|til|back home|(?:be|i'm|im|am) back|fly(?:ing)? (?:back|home|out)|returning"
    r"|leaving)\s+"
    r"(?:on\s+|this\s+|next\s+)?)(?!(?:to|at|in|on|for|by)\b)([^\W\d_]+(?: week)?)"
)
_MAX_CHARS, _MAX_WORDS = 2000, 500
_THRESHOLD = 85.0
_AFTER_WITH = 75.0  # "with Anna" is a practitioner even with a typo
_WITH = frozenset({"with", "con", "mit", "avec", "com", "by", "bei", "chez", "w"})
_WORD = re.compile(r"[\w']+")
# Words never matched against labels: they belong to the rest of the sentence.
_SKIP = wordset(
    "a an the i i'd id like want would to book get have for with at on in me my please can could"
    " and or of is it this next some appointment booking session un una el la los las de del"
    " quiero para con en ein eine einen der die das den mit am um ich fur le les des je"
    " avec pour um uma o os as com para eu"
) | frozenset(w for table in WORDS.values() for w, c in table.items() if c != "_")


def _label(item: object) -> str:
    """A label from a Choice-like object, an (id, label) pair, or a plain string."""
    if isinstance(item, str):
        return item
    label = getattr(item, "label", None)
    if isinstance(label, str):
        return label
    if isinstance(item, (tuple, list)) and len(item) >= 2:
        return str(item[1])
    return str(item)


@dataclass(frozen=True)
class _Hit:
    index: int
    score: float
    start: int  # word positions [start, end)
    end: int


def _runs(target_words: list[str]) -> list[str]:
    """Every proper run of consecutive label words, joined: "deep tissue", "tissue massage"..."""
    n = len(target_words)
    return [
        "".join(target_words[i:j])
        for i in range(n)
        for j in range(i + 1, n + 1)
        if j - i < n and len("".join(target_words[i:j])) >= 3 and "".join(target_words[i:j]) not in _GENERIC
    ]


_GENERIC = frozenset({"session", "appointment", "consultation", "treatment", "visit", "class", "service"})
"""Words of a service's name too general to name it alone: "una sesión de pilates" is no follow-up session."""


def _best(words: list[str], labels: list[str], threshold: float, with_at: frozenset[int]) -> _Hit | None:
    """The label best matched by a run of words (a typo or a missing space allowed), if it is
    a confident and unambiguous match. Part of a label counts a little less than all of it:
    a first name ("ana" -> "Ana Silva"), a distinctive part ("deep tissue", "followup")."""
    per_label: list[_Hit] = []
    for index, label in enumerate(labels):
        target_words = [w for w in fold(label).replace("-", " ").replace(".", " ").split() if w]
        if not target_words:
            continue
        target = "".join(target_words)
        runs = _runs(target_words)
        best = _Hit(index, 0.0, 0, 0)
        for size in range(1, len(target_words) + 2):
            for start in range(0, len(words) - size + 1):
                chunk = words[start : start + size]
                if (chunk[0] in _SKIP or chunk[-1] in _SKIP) and start - 1 not in with_at:
                    continue
                joined = "".join(chunk)
                score = fuzz.ratio(joined, target)
                if runs and len(joined) >= 3:
                    part = process.extractOne(joined, runs, scorer=fuzz.ratio)
                    if part is not None:
                        score = max(score, part[1] - 3)
                if start - 1 in with_at:
                    score += 10  # "with X" names a person
                if score > best.score:
                    best = _Hit(index, score, start, start + size)
        per_label.append(best)
    ranked = sorted(per_label, key=lambda h: h.score, reverse=True)
    if not ranked or ranked[0].score < threshold:
        return None
    if (
        len(ranked) > 1
        and ranked[1].score >= ranked[0].score - 5
        and (ranked[1].start, ranked[1].end) == (ranked[0].start, ranked[0].end)
    ):
        return None  # the same words fit two labels equally well
    return ranked[0]


def extract_request(
    text: str,
    services: Sequence[object],
    practitioners: Sequence[object],
    now: datetime,
    tz: str | ZoneInfo | None = None,
    languages: Sequence[str] = ("en",),
    *,
    day_first: bool | None = None,
    aliases: Mapping[int, Sequence[str]] | None = None,
) -> Request:
    """Service, practitioner and date/time said in one message; each may be None/empty."""
    if not isinstance(text, str):
        return Request(None, None, When())
    # "not Ana, I meant Bruno", "instead of the massage": what is ruled out is not what is asked for.
    # "I'm in Tokyo until Sunday", "I fly back Friday": days of a trip are not the day asked for.
    # all the dialog reads (bot.dialog.MAX_TEXT): a long story often ends with what is asked for
    folded = _NEGATED.sub(lambda m: m.group(1) + " " * len(m.group(2)), fold(text[:_MAX_CHARS]))
    if tuple(languages)[:1] == ("en",):
        folded = _NEGATED_EN.sub(lambda m: m.group(1) + " " * len(m.group(2)), folded)
    folded = _ASIDE.sub(lambda m: m.group(1) + " " * len(m.group(2)), folded)
    spans = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(folded)][:_MAX_WORDS]
    words = [w for w, _, _ in spans]
    with_at = frozenset(i for i, w in enumerate(words) if w in _WITH)
    # A business's own other names for a service ("deep tissue") are labels of that service too.
    names = [_label(s) for s in services]
    owner = list(range(len(names)))
    for index, extra in (aliases or {}).items():
        names += list(extra)
        owner += [index] * len(extra)
    service = _best(words, names, _THRESHOLD, frozenset())
    if service is not None:
        service = replace(service, index=owner[service.index])
    practitioner = _best(words, [_label(p) for p in practitioners], _AFTER_WITH, with_at)
    if practitioner is not None and practitioner.start - 1 not in with_at and practitioner.score < _THRESHOLD:
        practitioner = None
    if service is not None and practitioner is not None and _overlap(service, practitioner):
        # the same words: "with X" or the better score decides
        if practitioner.start - 1 in with_at or practitioner.score > service.score:
            service = None
        else:
            practitioner = None
    also = None
    if service is not None:
        others = ["" if owner[i] == service.index else name for i, name in enumerate(names)]
        hidden = ["§" if service.start <= i < service.end else w for i, w in enumerate(words)]
        also = _best(hidden, others, _THRESHOLD, frozenset())
        if also is not None:
            also = replace(also, index=owner[also.index])
        if also is not None and practitioner is not None and _overlap(also, practitioner):
            also = None
        if also is not None:
            first_hit, second_hit = (also, service) if also.start < service.start else (service, also)
            if _joined(folded[spans[first_hit.end - 1][2] : spans[second_hit.start][1]]):
                service, also = first_hit, second_hit  # the first named is the first booked
            else:
                also = None  # "a haircut ... I'll sort the blow-dry out later": not asked for now
    # Names are not dates ("April", "Friday Spa"): hide the matched words before reading the when.
    rest = folded
    for hit in (service, practitioner, also):
        if hit is not None:
            s, e = spans[hit.start][1], spans[hit.end - 1][2]
            rest = rest[:s] + " " * (e - s) + rest[e:]
    earliest_at = _EARLIEST.search(rest)
    if earliest_at is not None:  # "whatever's the first available": "first" is no 1st of the month
        rest = (
            rest[: earliest_at.start()]
            + " " * (earliest_at.end() - earliest_at.start())
            + rest[earliest_at.end() :]
        )
    # "I work till 6:30, so after 7pm": the hours of a day's work are not the time asked for
    rest = _BUSY_UNTIL.sub(lambda m: m.group(1) + " " * len(m.group(2)), rest)
    when = interpret_when(rest, now, tz, languages, day_first=day_first)
    earliest = earliest_at is not None or _EARLIEST.search(folded) is not None
    first, second = service.index if service else None, also.index if also else None
    if second is None:
        # By meaning, in any language: "Sportmassage", "corte de pelo y arreglo de barba".
        unnamed = rest if practitioner is None else folded
        # a second service must be named in full ("séance" alone is not a follow-up session)
        meaning = services_by_meaning(
            unnamed, [_label(s) for s in services], aliases, full_only=first is not None
        )
        meant = [i for i in meaning if i != first]
        if first is None and meant:
            first, meant = meant[0], meant[1:]
        second = meant[0] if meant else None
    again = first is None and _AGAIN.search(folded) is not None
    right_after = _RIGHT_AFTER.search(folded) is not None
    same_time = _SAME_TIME.search(folded) is not None
    return Request(
        first,
        practitioner.index if practitioner else None,
        when,
        earliest,
        second,
        _party(folded),
        again,
        right_after,
        same_time,
    )


_JOINS = frozenset(
    re.findall(
        r"\S+", "and & + plus then also with y e und et ou or luego despues dann danach puis ensuite depois"
    )
)
_MAX_BETWEEN = 6  # words between two services asked for together: "a colour and then a blow-dry"


def _joined(between: str) -> bool:
    """Two services are asked for together when a joining word ("and", "+", "y", "und") stands between
    them, a few words apart at most."""
    words = re.findall(r"[^\s,.;:!?]+", between)
    return len(words) <= _MAX_BETWEEN and any(w in _JOINS for w in words)


def _party(folded: str) -> int:
    """2 when the booking is for two people: "me and my son", "both of us", "two haircuts"."""
    if _PARTY.search(folded):
        return 2
    # "two haircuts", "zwei Haarschnitte": a count of a service (not "two weeks", "2 de la tarde")
    return 2 if any(concepts_in(m.group(1)) for m in _TWO_OF.finditer(folded)) else 1


def _overlap(one: _Hit, other: _Hit) -> bool:
    return one.start < other.end and other.start < one.end
