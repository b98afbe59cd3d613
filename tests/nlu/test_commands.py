"""detect_command: fires only when the message is mainly the command."""

from __future__ import annotations

import pytest

from bot.nlu import Command, CommandKind, detect_command

K = CommandKind
CASES = [
    ("help", "en", Command(K.HELP)),
    ("Help me please", "en", Command(K.HELP)),
    ("/help", "en", Command(K.HELP)),
    ("start over", "en", Command(K.RESTART)),
    ("restart", "en", Command(K.RESTART)),
    ("reset", "en", Command(K.RESTART)),
    ("restart the booking", "en", Command(K.RESTART)),
    ("start all over", "en", Command(K.RESTART)),
    ("can you cancel my booking please", "en", Command(K.CANCEL_BOOKING)),
    ("I want to reschedule", "en", Command(K.MOVE_BOOKING)),
    ("quiero cancelar mi cita", "es", Command(K.CANCEL_BOOKING)),
    ("je veux annuler mon rendez-vous", "fr", Command(K.CANCEL_BOOKING)),
    ("/start", "en", Command(K.RESTART)),
    ("/start movela", "en", Command(K.RESTART, "movela")),
    ("my bookings", "en", Command(K.MY_BOOKINGS)),
    ("my appointments", "en", Command(K.MY_BOOKINGS)),
    ("hi, can you show me my bookings?", "en", Command(K.MY_BOOKINGS)),
    ("/bookings", "en", Command(K.MY_BOOKINGS)),
    ("cancel my booking", "en", Command(K.CANCEL_BOOKING)),
    ("cancel booking", "en", Command(K.CANCEL_BOOKING)),
    ("Cancel my appointment please", "en", Command(K.CANCEL_BOOKING)),
    ("/cancel", "en", Command(K.CANCEL_BOOKING)),
    ("cancel", "en", None),  # an SMS carrier keyword, handled by the channel
    ("move my booking", "en", Command(K.MOVE_BOOKING)),
    ("reschedule", "en", Command(K.MOVE_BOOKING)),
    ("change my appointment", "en", Command(K.MOVE_BOOKING)),
    ("my time zone is Berlin", "en", Command(K.TIMEZONE, "Europe/Berlin")),
    ("time zone: America/New_York", "en", Command(K.TIMEZONE, "America/New_York")),
    ("I'm in New York", "en", Command(K.TIMEZONE, "America/New_York")),
    ("tz EST", "en", Command(K.TIMEZONE, "America/New_York")),
    ("my timezone is PST", "en", Command(K.TIMEZONE, "America/Los_Angeles")),
    ("set my time zone to UTC+2", "en", Command(K.TIMEZONE, "Etc/GMT-2")),
    ("I live in London", "en", Command(K.TIMEZONE, "Europe/London")),
    ("/tz Europe/Lisbon", "en", Command(K.TIMEZONE, "Europe/Lisbon")),
    ("time zone", "en", Command(K.TIMEZONE)),
    ("change my time zone", "en", Command(K.TIMEZONE)),
    ("I'm in pain", "en", None),
    ("language es", "en", Command(K.LANGUAGE, "es")),
    ("language: german", "en", Command(K.LANGUAGE, "de")),
    ("in spanish please", "en", Command(K.LANGUAGE, "es")),
    ("español", "en", Command(K.LANGUAGE, "es")),
    ("auf deutsch", "en", Command(K.LANGUAGE, "de")),
    ("/language pt", "en", Command(K.LANGUAGE, "pt")),
    ("language", "en", Command(K.LANGUAGE)),
    ("try again", "en", Command(K.TRY_AGAIN)),
    ("retry", "en", Command(K.TRY_AGAIN)),
    ("earlier", "en", Command(K.EARLIER)),
    ("anything earlier?", "en", Command(K.EARLIER)),
    ("later", "en", Command(K.LATER)),
    ("something later please", "en", Command(K.LATER)),
    ("another day", "en", Command(K.ANOTHER_DAY)),
    ("other day", "en", Command(K.ANOTHER_DAY)),
    ("a different day please", "en", Command(K.ANOTHER_DAY)),
    # not mainly a command
    ("can I book later this week", "en", None),
    ("I need help choosing a haircut for my wedding next month", "en", None),
    ("tomorrow at 3", "en", None),
    ("", "en", None),
    ("/unknown", "en", None),
    # other languages
    ("ayuda", "es", Command(K.HELP)),
    ("empezar de nuevo", "es", Command(K.RESTART)),
    ("mis reservas", "es", Command(K.MY_BOOKINGS)),
    ("cancelar mi cita", "es", Command(K.CANCEL_BOOKING)),
    ("cambiar mi cita", "es", Command(K.MOVE_BOOKING)),
    ("mi zona horaria es Madrid", "es", Command(K.TIMEZONE, "Europe/Madrid")),
    ("estoy en Lisboa", "es", Command(K.TIMEZONE, "Europe/Lisbon")),
    ("más tarde", "es", Command(K.LATER)),
    ("otro día", "es", Command(K.ANOTHER_DAY)),
    ("hilfe", "de", Command(K.HELP)),
    ("meine Termine", "de", Command(K.MY_BOOKINGS)),
    ("Termin absagen", "de", Command(K.CANCEL_BOOKING)),
    ("Termin verschieben", "de", Command(K.MOVE_BOOKING)),
    ("Zeitzone Berlin", "de", Command(K.TIMEZONE, "Europe/Berlin")),
    ("auf Deutsch bitte", "de", Command(K.LANGUAGE, "de")),
    ("später", "de", Command(K.LATER)),
    ("früher", "de", Command(K.EARLIER)),
    ("aide", "fr", Command(K.HELP)),
    ("mes rendez-vous", "fr", Command(K.MY_BOOKINGS)),
    ("annuler mon rendez-vous", "fr", Command(K.CANCEL_BOOKING)),
    ("plus tard", "fr", Command(K.LATER)),
    ("un autre jour", "fr", Command(K.ANOTHER_DAY)),
    ("en français", "fr", Command(K.LANGUAGE, "fr")),
    ("ajuda", "pt", Command(K.HELP)),
    ("minhas marcações", "pt", Command(K.MY_BOOKINGS)),
    ("cancelar a minha marcação", "pt", Command(K.CANCEL_BOOKING)),
    ("remarcar", "pt", Command(K.MOVE_BOOKING)),
    ("mais cedo", "pt", Command(K.EARLIER)),
    ("outro dia", "pt", Command(K.ANOTHER_DAY)),
    ("em português", "pt", Command(K.LANGUAGE, "pt")),
]


@pytest.mark.parametrize(("text", "language", "expected"), CASES)
def test_detect_command(text: str, language: str, expected: Command | None) -> None:
    assert detect_command(text, (language,)) == expected


def test_kind_is_a_str_enum() -> None:
    assert CommandKind.MY_BOOKINGS == "my_bookings"
