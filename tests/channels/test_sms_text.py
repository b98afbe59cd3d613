"""The SMS text rules, pure: the GSM-7 alphabet, segment counting, replies as messages, carrier keywords,
and the catalog read as SMS."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import LANGUAGES
from bot.types import Option, Reply
from channels.sms.compose import (
    HELP_WORDS,
    MAX_SEGMENTS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    Keyword,
    compose,
    keyword,
    render_reply,
)
from channels.sms.gsm import BASIC, EXTENSION, is_gsm, segments, septets, to_gsm

KEYWORDS = OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS

# -- the alphabet ---------------------------------------------------------------------------------


def test_the_gsm_03_38_tables() -> None:
    assert len(BASIC) == 127, "128 code points, less the escape to the extension table"
    assert set(string.ascii_letters + string.digits + " \n!\"#%&'()*+,-./:;<=>?_@$") <= BASIC
    assert set("£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà") <= BASIC
    assert set("^{}\\[~]|€") == EXTENSION
    for outside in "áíóúÁÍÓÚçãõâêôÀÈ`’“”–—…\t\u00a0😀€":
        assert outside not in BASIC, outside


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Olá, São João", "Ola, Sao Joao"),
        ("¿Qué día? ¡Mañana a las 3!", "¿Qué dia? ¡Mañana a las 3!"),  # é ñ ¿ ¡ are GSM; í is not
        ("Ação às 15h", "Acao às 15h"),
        ("Crème brûlée façade", "Crème brulée facade"),
        ("Müller, Straße, Øresund, Ålesund", "Müller, Straße, Øresund, Ålesund"),
        ("Łódź, Œuvre, Þór", "Lodz, OEuvre, Thor"),
        ("It’s “quoted” ‘too’ «and this»", 'It\'s "quoted" \'too\' "and this"'),
        ("9–5 — then…", "9-5 - then..."),
        ("3:00\u202fPM\u00a0sharp", "3:00 PM sharp"),
        ("See you 👋 soon 😀!", "See you soon !"),
        ("👍🏽 Thanks", "Thanks"),
        ("Hi 👨‍👩‍👧 family", "Hi family"),
        ("王小明 booked", "? booked"),
        ("Привет, мир", "?, ?"),
        ("€10 {x} [y] ~z^ a|b \\", "€10 {x} [y] ~z^ a|b \\"),
        ("line one\r\nline two\rthree", "line one\nline two\nthree"),
        ("tab\there", "tab here"),
        ("ﬁne ½ ×2 ©", "fine 1/2 x2 (c)"),
        ("zero\u200bwidth", "zerowidth"),
    ],
)
def test_to_gsm(text: str, expected: str) -> None:
    assert to_gsm(text) == expected
    assert is_gsm(to_gsm(text))


@given(st.text(max_size=300))
@settings(max_examples=400, deadline=None)
def test_to_gsm_always_gives_gsm_and_is_idempotent(text: str) -> None:
    plain = to_gsm(text)
    assert is_gsm(plain)
    assert to_gsm(plain) == plain


@given(st.text(alphabet=sorted((BASIC | EXTENSION) - {"\r"}), max_size=200))
def test_gsm_text_is_left_alone(text: str) -> None:
    assert to_gsm(text) == text


# -- segments -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # 160 septets
        ("€" * 81, 2),
        ("a" * 152 + "€" + "a" * 10, 2),  # the escape pair moves whole into segment two
        ("a" * 152 + "€" + "a" * 152, 3),
        ("á" * 70, 1),  # one character outside GSM-7: UCS-2, 70 per segment
        ("á" * 71, 2),
        ("á" * 134, 2),
        ("á" * 135, 3),
        ("😀" * 35, 1),  # two UTF-16 units each
        ("a" * 69 + "😀", 2),  # 71 UTF-16 units
        ("a" * 66 + "😀" + "a" * 66, 3),  # 134 units, but the surrogate pair is not cut
    ],
)
def test_segments(text: str, count: int) -> None:
    assert segments(text) == count


def test_septets_count_extension_characters_twice() -> None:
    assert septets("Hi {there}") == 12
    assert septets("€5") == 3


def test_one_accent_would_cost_more_than_double() -> None:
    text = "Your Haircut is on Tue 2 Jun, 3:00 PM. " * 3 + "Olá"
    assert segments(text) == 2 and segments(to_gsm(text)) == 1


# -- replies as messages --------------------------------------------------------------------------


def options(*labels: str) -> tuple[Option, ...]:
    return tuple(Option(value=f"1.{i}", label=label) for i, label in enumerate(labels))


def test_options_are_numbered_lines_with_a_short_hint() -> None:
    reply = Reply(text="What would you like to book?", options=options("Haircut", "Colour", "Beard trim"))
    assert render_reply(reply) == (
        "What would you like to book?\n1 Haircut\n2 Colour\n3 Beard trim\nReply 1-3"
    )
    assert render_reply(Reply(text="Your bookings:", options=options("Haircut, Tue"))).endswith("\nReply 1")
    assert render_reply(reply, "es").endswith("\nResponde 1-3")
    assert render_reply(reply, "pt-PT").endswith("\nResponda 1-3")
    assert render_reply(reply, "it").endswith("\nReply 1-3"), "a language we don't speak: English"
    assert render_reply(Reply(text="No options")) == "No options"


def test_a_turns_replies_are_joined_into_one_text() -> None:
    replies = [
        Reply(text="Hi! I’m the booking assistant for Studio Salon."),
        Reply(text="What would you like to book?", options=options("Haircut", "Colour")),
    ]
    assert compose(replies) == [
        "Hi! I'm the booking assistant for Studio Salon.\nWhat would you like to book?\n"
        "1 Haircut\n2 Colour\nReply 1-2"
    ]


def test_a_link_goes_on_its_own_line() -> None:
    reply = Reply(text="Pay here:", link="https://pay.example.com/x?a=1")
    assert compose([reply]) == ["Pay here:\nhttps://pay.example.com/x?a=1"]


def test_replies_too_long_together_go_in_separate_texts_each_whole() -> None:
    first = Reply(text="A" * 290)
    second = Reply(text="Pick one:", options=options("one", "two"))
    assert compose([first, second]) == ["A" * 290, "Pick one:\n1 one\n2 two\nReply 1-2"]


def test_a_long_reply_is_split_between_sentences_never_cut() -> None:
    sentence = "This sentence is exactly as long as it needs to be for the test. "
    reply = Reply(text=(sentence * 8).strip(), options=options("Yes, please", "No"))
    messages = compose([reply])
    assert len(messages) == 2
    assert all(segments(m) <= MAX_SEGMENTS for m in messages)
    assert " ".join(messages).split() == (reply.text + " 1 Yes, please 2 No Reply 1-2").split()
    assert messages[-1].endswith("1 Yes, please\n2 No\nReply 1-2"), "the question keeps its options"


def test_an_endless_word_is_cut_where_it_must_be() -> None:
    messages = compose([Reply(text="x" * 700)])
    assert [len(m) for m in messages] == [306, 306, 88]


def test_the_question_stays_with_its_options() -> None:
    long = "Some preamble that takes room. " * 9
    reply = Reply(text=long.strip() + "\nWhich time suits you?", options=options("9:00", "9:15", "9:30"))
    messages = compose([reply])
    assert messages[-1].startswith("Which time suits you?\n1 9:00"), messages


words = st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20)
texts = st.lists(words, max_size=60).map(" ".join)


@given(
    st.lists(
        st.builds(
            lambda text, labels: Reply(text=text, options=options(*labels)),
            texts,
            st.lists(st.text(min_size=1, max_size=30), max_size=9),
        ),
        min_size=1,
        max_size=4,
    )
)
@settings(max_examples=300, deadline=None)
def test_every_message_is_gsm_within_two_segments_and_nothing_is_lost(replies: list[Reply]) -> None:
    messages = compose(replies)
    for message in messages:
        assert is_gsm(message) and segments(message) <= MAX_SEGMENTS
    expected = [render_reply(reply) for reply in replies]
    assert " ".join(messages).split() == " ".join(expected).split()


# -- carrier keywords -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("STOP", Keyword.OPT_OUT),
        ("stop", Keyword.OPT_OUT),
        ("  Stop \n", Keyword.OPT_OUT),
        ("Stop!", Keyword.OPT_OUT),
        ("STOPALL", Keyword.OPT_OUT),
        ("unsubscribe", Keyword.OPT_OUT),
        ("Cancel", Keyword.OPT_OUT),
        ("end", Keyword.OPT_OUT),
        ("quit", Keyword.OPT_OUT),
        ("OptOut", Keyword.OPT_OUT),
        ("revoke", Keyword.OPT_OUT),
        ("START", Keyword.OPT_IN),
        ("unstop", Keyword.OPT_IN),
        ("Yes", Keyword.OPT_IN),
        ("HELP", Keyword.HELP),
        ("info", Keyword.HELP),
        ("stop please", None),
        ("please cancel", None),
        ("cancel booking", None),
        ("cancel my booking", None),
        ("yes please", None),
        ("start over", None),
        ("help me", None),
        ("1", None),
        ("", None),
    ],
)
def test_keyword(text: str, kind: Keyword | None) -> None:
    assert keyword(text) is kind


def test_advanced_opt_out_says_which_keyword_matched() -> None:
    assert keyword("PARAR", "STOP") is Keyword.OPT_OUT
    assert keyword("SEGUIR", "start") is Keyword.OPT_IN
    assert keyword("AYUDA", "HELP") is Keyword.HELP
    assert keyword("hola", "") is None


# -- the catalog, read as SMS ---------------------------------------------------------------------

CATALOG = [(language, key, text) for language, table in LANGUAGES.items() for key, text in table.items()]
_QUOTED = re.compile(r"[“\"«'‘]\s*([A-Za-z]+)\s*[”\"»'’]")
_REPLY_WITH = re.compile(r"\b(?:reply|text|send|say|type|responde|envía|di)\s+([A-Z]{3,})\b")


@pytest.mark.parametrize(
    ("language", "key", "text"), CATALOG, ids=[f"{lang}:{key}" for lang, key, _ in CATALOG]
)
def test_no_catalog_text_asks_for_a_bare_carrier_keyword(language: str, key: str, text: str) -> None:
    quoted = {word.upper() for word in _QUOTED.findall(text)}
    assert not quoted & KEYWORDS, f"{language}:{key} asks the customer to send {quoted & KEYWORDS}"
    assert not {w.upper() for w in _REPLY_WITH.findall(text)} & KEYWORDS, text
    assert text.strip().upper() not in KEYWORDS, "an option labelled with a keyword invites typing it"


SAMPLE = {
    "business": "Studio Salon & Spa Lisboa",
    "text": "x" * 60,
    "service": "Deep tissue massage",
    "practitioner": "Ana Costa",
    "duration": "1 hour 30 minutes",
    "when": "Wed 10 Jun, 12:30 PM (Lisbon)",
    "old": "Tue 9 Jun, 12:30 PM (Lisbon)",
    "day": "Wed 10 Jun",
    "summary": "Deep tissue massage with Ana Costa on Wed 10 Jun, 12:30 PM (Lisbon)",
    "who": "Bruno Reis, Carla Mendes",
    "days": "Sat 6 Jun, Sun 7 Jun, Mon 8 Jun",
    "time": "12:30 PM",
    "name": "Maria Fernanda Oliveira",
    "contact": "maria.fernanda.oliveira@example.com",
    "reference": "bk_7c4b0fc1c4b5e85ad19d5482",
    "example": "a massage tomorrow at 3pm",
    "city": "New York",
    "question": "What would you like to book?",
    "customer": "Maria Fernanda Oliveira",
    "source": "sms",
    "last": "9",
    "hours": "Mon–Fri 9:00 AM–7:30 PM, Sat 9:00 AM–1:00 PM, Sun 10:00 AM–2:00 PM",
    "opens": "9:00 AM",
    "closes": "7:30 PM",
    "thing": "manicure",
    "services": "- Initial assessment, 60 minutes\n- Follow-up session, 30 minutes"
    "\n- Sports massage, 45 minutes\n- Pilates rehab, 50 minutes",
}


@pytest.mark.parametrize(
    ("language", "key", "text"), CATALOG, ids=[f"{lang}:{key}" for lang, key, _ in CATALOG]
)
def test_every_catalog_text_fits_two_segments_without_replacements(
    language: str, key: str, text: str
) -> None:
    formatted = text.format(**SAMPLE)
    plain = to_gsm(formatted)
    assert plain.count("?") == formatted.count("?"), f"{language}:{key} has characters SMS can't spell"
    assert segments(plain) <= MAX_SEGMENTS, (segments(plain), plain)
