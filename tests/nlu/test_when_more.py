"""The rest of what people write about dates and times, in five languages (issue 15's kinds).

Written from descriptions of the kinds, not from any parser's corpus. Reference: Wednesday 4 March
2026, 10:00 in Lisbon (``tests.nlu.conftest``).
"""

from __future__ import annotations

import pytest

from bot.nlu import interpret_when
from tests.nlu.conftest import NOW, TZ, describe

CASES = [
    # numeric dates with a dash or a space (a side that can't be an hour makes it a date)
    ("2-15", "en", "2026-02-15|passed"),
    ("15-03 at 3pm", "es", "2026-03-15 15:00"),
    ("17 03", "de", "2026-03-17"),
    ("2-4pm", "en", "[14:00-16:00)"),  # a range of hours stays one
    # weeks on, and a weekday counted from now
    ("in 2 weeks on tuesday", "en", "2026-03-17"),
    ("tuesday in 2 weeks", "en", "2026-03-17"),
    ("mittwoch in 2 wochen", "de", "2026-03-18"),
    ("3 fridays from now", "en", "2026-03-20"),
    ("lundi en huit", "fr", "2026-03-16"),
    ("lundi en quinze", "fr", "2026-03-23"),
    # hour offsets and now
    ("in 1h", "en", "2026-03-04 11:00"),
    ("dans 2 heures", "fr", "2026-03-04 12:00"),
    ("en 3 horas", "es", "2026-03-04 13:00"),
    ("in 2 Stunden", "de", "2026-03-04 12:00"),
    ("daqui a 2 horas", "pt", "2026-03-04 12:00"),
    ("now", "en", "2026-03-04 10:00"),
    ("right now please", "en", "2026-03-04 10:00"),
    ("that's all for now", "en", ""),
    ("a week hence", "en", "2026-03-11"),
    ("in a couple of hours", "en", "2026-03-04 12:00"),
    ("upcoming 2 days", "en", "2026-03-05..2026-03-06"),
    ("en ce moment", "fr", "2026-03-04 10:00"),
    ("ahora", "es", "2026-03-04 10:00"),
    ("jetzt", "de", "2026-03-04 10:00"),
    ("agora", "pt", "2026-03-04 10:00"),
    # spelled times of day
    ("medio día", "es", "12:00"),
    ("à meia-noite", "pt", "00:00"),
    ("9h du mat", "fr", "09:00"),
    # ordinal day words, short weekday forms, the next day
    ("fünfter Dezember", "de", "2026-12-05"),
    ("le premier avril", "fr", "2026-04-01"),
    ("mx a las 5", "es", "2026-03-04 17:00"),
    ("So. um 10", "de", "2026-03-08 10:00"),
    ("so um 10", "de", "10:00"),  # "so" alone is an everyday word
    ("le lendemain", "fr", "2026-03-05"),
    ("le jour suivant à 10h", "fr", "2026-03-05 10:00"),
    # the last day of a month, the nth weekday of a month
    ("the last day of october", "en", "2026-10-31"),
    ("the first monday of april", "en", "2026-04-06"),
    ("the last friday in june", "en", "2026-06-26"),
    # a weekday of next week, in every language
    ("mercredi de la semaine prochaine", "fr", "2026-03-11"),
    ("miércoles de la semana que viene", "es", "2026-03-11"),
    ("quarta da próxima semana", "pt", "2026-03-11"),
    # a date keeps its time nearby; a full date beats a weekday said after it
    ("le 16 vers 18h", "fr", "2026-03-16 18:00"),
    ("12 de setembro de 2026, sexta", "pt", "2026-09-12"),
    # run-together clock digits beside a part of the day
    ("at 730 in the evening", "en", "19:30"),
    ("at 615 Main St", "en", ""),  # an address
    ("a quarter past noon", "en", "12:15"),
    ("ten to midnight", "en", "23:50"),
    # compound number words and ordinal digits
    ("a las seis y cuarenta y cinco", "es", "18:45"),
    ("am 15ten", "de", "2026-03-15"),
    ("vinte e cinco de dezembro", "pt", "2026-12-25"),
    # past, outside the booking subset: said as what they are
    ("last wednesday", "en", "2026-02-25"),
    ("last sunday", "en", "2026-03-01"),
    ("10/31/74", "en", "1974-10-31"),
    # holidays, in every language
    ("christmas eve at 3", "en", "2026-12-24 15:00"),
    ("Nochevieja", "es", "2026-12-31"),
    ("el día de Navidad", "es", "2026-12-25"),
    ("Heiligabend um 10", "de", "2026-12-24 10:00"),
    ("Silvester", "de", "2026-12-31"),
    ("la Toussaint", "fr", "2026-11-01"),
    ("le jour de Noël", "fr", "2026-12-25"),
    ("véspera de Natal às 11h", "pt", "2026-12-24 11:00"),
    ("Páscoa", "pt", "2026-04-05"),
    ("easter monday", "en", "2026-04-06"),
    ("thanksgiving", "en", "2026-11-26"),
    # a number put in place of a time is an hour; one ruled out is no answer
    ("can we do 11 instead of 10?", "en", "11:00"),
    ("could we do 3 instead", "en", "15:00"),
    ("can we do 2 instead of 3 people?", "en", ""),
    ("not friday", "en", ""),
    ("any day but not friday", "en", ""),
    ("not tomorrow, friday", "en", "2026-03-06"),
]


@pytest.mark.parametrize(("text", "language", "expected"), CASES)
def test_the_rest_of_what_people_write(text: str, language: str, expected: str) -> None:
    got = describe(interpret_when(text, NOW, TZ, (language, "en") if language != "en" else ("en",)))
    if expected.endswith("|passed"):  # a date that has just passed this year is said to have
        assert got == "passed " + expected.split("|")[0], got
    else:
        assert got == expected


def test_a_name_is_not_a_holiday() -> None:
    assert describe(interpret_when("I'm Noel, at 3 please", NOW, TZ)) == "15:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thursday 8:00 PST", "2026-03-05 16:00"),  # 8 am in Los Angeles is 4 pm in Lisbon
        ("4pm CET", "2026-03-04 15:00"),
        ("6am São Paulo time", "2026-03-04 09:00"),
        ("tomorrow at 3pm", "2026-03-05 15:00"),  # no zone said: Lisbon's
    ],
)
def test_a_time_in_another_zone_is_converted(text: str, expected: str) -> None:
    assert describe(interpret_when(text, NOW, TZ)) == expected
