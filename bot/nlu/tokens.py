"""Turn a message into canonical date/time tokens (see `lexicon`), one space between each.

Numbers stay digits ("15", "fifteen" too), ordinals become "15th" ("15tw" when spelt out, since
"second" alone is rarely a date), clocks "15:30" (zero padding kept: "07:30" is a 24-hour clock),
dotted clocks "3.30", numeric dates "ymd2019-03-05" or "md3-5" (month-day), sentence ends "|".
Words outside the vocabulary become "_" so rules never join across them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.nlu.lexicon import FUZZY_TARGETS, MAX_PHRASE, PHRASES, WORDS
from bot.nlu.text import fold

_PRE = (
    (re.compile(r"(?<![a-z])([ap])\.\s?m\b\.?"), r" \1m "),  # a.m. / p.m.
    (re.compile(r"(?<=\d)\s*([ap])\s?m\b"), r" \1m"),  # 3 p m
    (re.compile(r"(?<=\d:\d\d)([ap])\b(?!\.)"), r" \1m"),  # 9:30a
    (
        re.compile(
            r"\b(jan|feb|febr|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|mon|tue|tues|wed|weds"
            r"|thu|thur|thurs|fri|sat|sun)\.(?=\s*\w)"
        ),
        r"\1 ",
    ),  # "Mar. 5", "Fri. at 3"
    # German "So." (Sonntag) before a time or date: "so" alone is an everyday word, the dotted form is not
    (re.compile(r"\bso\.(?=\s*(?:\d|um\b|den\b|,))"), "sonntag "),
    (re.compile(r"-ish\b"), " ish"),
    (re.compile(r"\bb4\b"), "before"),
    (re.compile(r"(?<=[a-z])-(?=[a-z])"), " "),  # "twenty-first", "apres-midi", "week-end"
)

_LEX = re.compile(
    r"(?P<iso>(?<!\d)\d{4}([-/.])\d{1,2}\2\d{1,2}(?!\d))"
    r"|(?P<dmy>(?<!\d)\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?![\d]))"
    r"|(?P<clock>(?<![\d.])\d{1,2}:\d{2}(?::\d{2})?(?!\d))"
    r"|(?P<hclock>(?<!\d)\d{1,2}h\d{2}(?!\d))"
    r"|(?P<dm>(?<![\d.])\d{1,2}/\d{1,2}(?![\d/]))"
    # "2-15", "15-02": a date only when one side can't be an hour; "2-4" stays a range
    r"|(?P<dashdm>(?<![\d.:/\-])\d{1,2}-\d{1,2}(?![\d/\-:]|\s?(?:am|pm|h)\b))"
    # "17 02": a day that can't be an hour, then a zero-padded month
    r"|(?P<spacedm>(?<![\d.:])(?:1[3-9]|2\d|3[01]) 0[1-9](?![\d:]))"
    r"|(?P<dotdm>(?<![\d.])\d{1,2}\.\d{1,2}\.(?!\d))"
    r"|(?P<dot>(?<![\d.])\d{1,2}\.\d{2}(?![\d.]))"
    r"|(?P<numword>\d+[a-z]+)"
    r"|(?P<num>\d+)"
    r"|(?P<word>[a-z]+(?:'[a-z]+)?'?)"
    r"|(?P<punct>[.!?;,@~&#\-–/])"
)
_GLUED = re.compile(r"(\d+)([a-z]+)")
# No bare "d": "3d" is a 3D film far more often than "the third".
_ORDINAL_SUFFIXES = frozenset(
    {"st", "nd", "rd", "th", "o", "er", "re", "e", "eme", "ro", "ten", "ter", "te", "tes", "sten", "ste"}
)
_GLUED_WORDS = {
    "a": "am",
    "p": "pm",
    "h": "oclock",
    "hs": "oclock",
    "hrs": "hours",
    "uhr": "oclock",
    "ish": "ish",
    "am": "am",
    "pm": "pm",
}
_PUNCT = {
    ".": "|",
    "!": "|",
    "?": "|",
    ";": "|",
    ",": ",",
    "@": "at",
    "~": "around",
    "&": "and",
    "#": "#",
    "-": "-",
    "–": "-",
    "/": "/",
}
_ELISION = re.compile(r"^(l|d|j|qu|n|s|c|m|t|jusqu)'(.+)$")
_NUMBER_WORD_TENS = frozenset({"20", "30", "40", "50"})
_PART_AFTER = re.compile(r"\s+(?:in the |this |at )?(?:morning|afternoon|evening|night|tonight)\b")


def _numeric_date(first: int, second: int, year: int | None, day_first: bool) -> str:
    day, month = (first, second) if day_first else (second, first)
    if month > 12 >= day:  # only one order is possible
        day, month = month, day
    if year is not None and year < 100:
        year += 2000 if year < 69 else 1900  # the POSIX pivot: "10/31/74" is 1974, "3/5/27" 2027
    if year is None:
        return f"md{month}-{day}"
    try:
        date(year, month, day)
    except ValueError:
        return "_"
    return f"ymd{year}-{month}-{day}"


def _raw(text: str, day_first: bool) -> list[tuple[str, bool]]:
    """Lexical tokens, each with whether it is a word still to be looked up."""
    out: list[tuple[str, bool]] = []
    for m in _LEX.finditer(text):
        kind = m.lastgroup
        value = m.group()
        if kind == "iso":
            y, mo, d = (int(x) for x in re.split(r"[-/.]", value))
            try:
                date(y, mo, d)
                out.append((f"ymd{y}-{mo}-{d}", False))
            except ValueError:
                out.append(("_", False))
        elif kind == "dmy":
            a, b, c = (int(x) for x in re.split(r"[/.\-]", value))
            out.append((_numeric_date(a, b, c, day_first), False))
        elif kind == "clock":
            out.append((value[:5] if value[2:3] == ":" else value[:4], False))
        elif kind == "hclock":
            h, mi = value.split("h")
            out.append((f"{h}:{mi}", False))
        elif kind == "dm":
            a, b = (int(x) for x in value.split("/"))
            out.append((_numeric_date(a, b, None, day_first), False))
        elif kind == "dashdm":
            a, b = (int(x) for x in value.split("-"))
            if 12 < max(a, b) <= 31 and min(a, b) >= 1:
                out.append((_numeric_date(a, b, None, day_first), False))
            else:
                out += [(str(a), False), ("-", False), (str(b), False)]
        elif kind == "spacedm":
            a, b = (int(x) for x in value.split())
            out.append((_numeric_date(a, b, None, True), False))
        elif kind == "dotdm":
            a, b = (int(x) for x in value.rstrip(".").split("."))
            out.append((_numeric_date(a, b, None, True), False))  # 5.3. is always day first
        elif kind == "dot":
            out.append((value, False))
        elif kind == "numword":
            g = _GLUED.fullmatch(value)
            assert g is not None
            number, suffix = g.group(1), g.group(2)
            if suffix in _ORDINAL_SUFFIXES:
                out.append((f"{int(number)}th", False))
            elif suffix in _GLUED_WORDS:
                out.append((str(int(number)), False))
                out.append((_GLUED_WORDS[suffix], False))
            else:
                out.append((value, True))  # "2moro", "2nite"; else split when looked up
        elif kind == "num":
            if len(value) == 4 and value[0] == "0" and int(value[2:]) < 60:
                out.append((f"{value[:2]}:{value[2:]}", False))  # "0930": a 24-hour clock
            elif len(value) == 3 and int(value[1:]) < 60 and _PART_AFTER.match(text, m.end()):
                out.append((f"{value[0]}:{value[1:]}", False))  # "at 730 in the evening"
            else:
                out.append((str(int(value)) if len(value) < 6 else "_", False))
        elif kind == "word":
            out.append((value, True))
        else:
            out.append((_PUNCT.get(value, "_"), False))
    return out


def _lookup(word: str, languages: Sequence[str]) -> str | None:
    for lang in languages:
        found = WORDS[lang].get(word)
        if found is not None:
            return found
    if word.endswith("'s"):  # "today's", "friday's"
        return _lookup(word[:-2], languages)
    return None


_FUZZY_BY_LETTER = {
    lang: {letter: tuple(t for t in targets if t[0] == letter) for letter in {t[0] for t in targets}}
    for lang, targets in FUZZY_TARGETS.items()
}
# The words that can start a multi-word phrase, so most words skip the phrase search.
_PHRASE_STARTS = {lang: frozenset(key[0] for key in table) for lang, table in PHRASES.items()}


def _fuzzy(word: str, languages: Sequence[str]) -> str | None:
    """A typo of a long date word ("wendsday", "tomorow", "fridya"), by edit distance counting
    a swap of two neighbouring letters as one edit."""
    if len(word) < 5 or not word.isalpha():
        return None
    limit = 1 if len(word) < 8 else 2
    for lang in languages:
        targets = _FUZZY_BY_LETTER[lang].get(word[0])
        if not targets:
            continue
        hit = process.extractOne(word, targets, scorer=OSA.distance, score_cutoff=limit)
        if hit is not None:
            return WORDS[lang].get(hit[0])
    return None


def tokenize(text: str, languages: Sequence[str], day_first: bool) -> list[str]:
    """Canonical tokens of `text` for the given languages (first language wins on conflicts)."""
    folded = fold(text)
    for pattern, repl in _PRE:
        folded = pattern.sub(repl, folded)
    raw = _raw(folded, day_first)
    # Split French/English elisions ("l'apres") unless the whole word is known ("aujourd'hui").
    expanded: list[tuple[str, bool]] = []
    for tok, is_word in raw:
        if is_word and "'" in tok and _lookup(tok, languages) is None:
            m = _ELISION.match(tok)
            if m is not None:
                expanded.append((m.group(1) + "'", True))
                expanded.append((m.group(2), True))
                continue
        expanded.append((tok, is_word))
    longest = max(MAX_PHRASE[lang] for lang in languages)
    out: list[str] = []
    from_words: list[bool] = []
    i = 0
    n = len(expanded)
    while i < n:
        tok, is_word = expanded[i]
        if not is_word:
            out.append(tok)
            from_words.append(False)
            i += 1
            continue
        matched = False
        starts = any(tok in _PHRASE_STARTS[lang] for lang in languages)
        for size in range(min(longest, n - i) if starts else 1, 1, -1):
            window = expanded[i : i + size]
            if not all(w for _, w in window):
                continue
            key = tuple(t for t, _ in window)
            for lang in languages:
                phrase = PHRASES[lang].get(key)
                if phrase is not None:
                    for part in phrase.split():
                        out.append(part)
                        from_words.append(True)
                    i += size
                    matched = True
                    break
            if matched:
                break
        if matched:
            continue
        canon = _lookup(tok, languages) or _fuzzy(tok, languages)
        if canon is None and tok[0].isdigit():
            glued = _GLUED.fullmatch(tok)
            number = glued.group(1) if glued else ""
            rest = _lookup(glued.group(2), languages) if glued else None
            canon = f"{int(number) if len(number) < 6 else '_'} {rest or '_'}"
        canon = canon or "_"
        for part in canon.split():
            if part.endswith("th") and part[:-2].isdigit():
                part = part[:-2] + "tw"  # an ordinal word: "second" is rarely a date alone
            # "twenty one", "thirty first": a tens word and a unit word make one number.
            if (
                out
                and from_words[-1]
                and out[-1] in _NUMBER_WORD_TENS
                and ((part.isdigit() and int(part) < 10) or (part.endswith("tw") and int(part[:-2]) < 10))
            ):
                tens = int(out.pop())
                from_words.pop()
                part = f"{tens + int(part)}" if part.isdigit() else f"{tens + int(part[:-2])}tw"
            elif (  # "cuarenta y cinco", "quarante et un", "vinte e cinco": tens and a unit, joined
                len(out) >= 2
                and all(from_words[-2:])
                and out[-1] == "and"
                and out[-2] in _NUMBER_WORD_TENS
                and part.isdigit()
                and int(part) < 10
            ):
                out.pop()
                from_words.pop()
                part = str(int(out.pop()) + int(part))
                from_words.pop()
            out.append(part)
            from_words.append(True)
        i += 1
    return out
