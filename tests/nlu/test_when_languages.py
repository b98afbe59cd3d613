"""interpret_when in Spanish, German, French and Portuguese; reference: Wed 2026-03-04 10:00."""

from __future__ import annotations

import pytest

from bot.nlu import interpret_when
from tests.nlu.conftest import NOW, TZ, describe

SPANISH = [
    ("hoy", "2026-03-04"),
    ("mañana", "2026-03-05"),
    ("manana a las 3", "2026-03-05 15:00"),
    ("pasado mañana", "2026-03-06"),
    ("esta noche", "2026-03-04 [17:00-21:00)"),
    ("mañana por la tarde", "2026-03-05 [12:00-17:00)"),
    ("mañana por la mañana", "2026-03-05 [08:00-12:00)"),
    ("pasado mañana a las 10 de la mañana", "2026-03-06 10:00"),
    ("el viernes a las 5 y media", "2026-03-06 17:30"),
    ("el jueves", "2026-03-05"),
    ("el lunes 9", "2026-03-09"),  # a number after a weekday is the day of the month
    ("lunes 9 de marzo a las 10", "2026-03-09 10:00"),
    ("sábado por la mañana", "2026-03-07 [08:00-12:00)"),
    ("el próximo viernes", "2026-03-06|2026-03-13"),  # the nearest first, unlike English
    ("mañana temprano", "2026-03-05"),
    ("a las doce del mediodía", "12:00"),
    ("a partir de las 6", "[18:00-23:59)"),
    ("el lunes o el martes", "2026-03-09|2026-03-10"),
    ("no, mejor el jueves", "2026-03-05"),
    ("el viernes que viene", "2026-03-06|2026-03-13"),
    ("el miércoles de la semana que viene", "2026-03-11"),
    ("el 5 de marzo", "2026-03-05"),
    ("el primero de abril", "2026-04-01"),
    ("el día 12", "2026-03-12"),
    ("20/03", "2026-03-20"),
    ("a las 15:30", "15:30"),
    ("a la una", "13:00"),
    ("a las 3 de la tarde", "15:00"),
    ("a las 9 de la noche", "21:00"),
    ("hoy a las 4 menos cuarto", "2026-03-04 15:45"),
    ("a las 3 y cuarto", "15:15"),
    ("al mediodía", "12:00"),
    ("en 3 días", "2026-03-07"),
    ("dentro de dos semanas", "2026-03-18"),
    ("la semana que viene", "2026-03-09..2026-03-15"),
    ("la próxima semana", "2026-03-09..2026-03-15"),
    ("este fin de semana", "2026-03-07..2026-03-08"),
    ("en abril", "2026-04-01..2026-04-30"),
    ("después de las 4", "[16:00-23:59)"),
    ("antes del mediodía", "[00:00-12:00)"),
    ("entre las 2 y las 4", "[14:00-16:00)"),
    ("por la tarde", "[12:00-17:00)"),
    ("hola, ¿tienen algo el sábado a la 1?", "2026-03-07 13:00"),
]

GERMAN = [
    ("heute", "2026-03-04"),
    ("morgen", "2026-03-05"),
    ("morgen um 15 Uhr", "2026-03-05 15:00"),
    ("morgen früh", "2026-03-05 [08:00-12:00)"),
    ("übermorgen um halb 4", "2026-03-06 15:30"),  # German "halb 4" is 3:30
    ("heute Abend", "2026-03-04 [17:00-21:00)"),
    ("am Freitag um 10", "2026-03-06 10:00"),
    ("Donnerstag Nachmittag", "2026-03-05 [12:00-17:00)"),
    ("nächsten Freitag", "2026-03-06|2026-03-13"),
    ("kommenden Freitag", "2026-03-06"),
    ("um halb sechs", "17:30"),
    ("Dienstag, den 10. um 16:30", "2026-03-10 16:30"),
    ("nächste Woche Dienstag", "2026-03-10"),
    ("Montag oder Dienstag", "2026-03-09|2026-03-10"),
    ("Mittwoch nächste Woche", "2026-03-11"),
    ("am 5. März", "2026-03-05"),
    ("am Montag, den 9.", "2026-03-09"),
    ("Dienstag, 10. März", "2026-03-10"),
    ("am 12.3.", "2026-03-12"),
    ("am 20.03.2026 um 9 Uhr", "2026-03-20 09:00"),
    ("um 15.30 Uhr", "15:30"),
    ("um viertel nach 3", "15:15"),
    ("um viertel vor 5", "16:45"),
    ("um 12 Uhr mittags", "12:00"),
    ("um 8 Uhr abends", "20:00"),
    ("in 3 Tagen", "2026-03-07"),
    ("in zwei Wochen", "2026-03-18"),
    ("nächste Woche", "2026-03-09..2026-03-15"),
    ("am Wochenende", "2026-03-07..2026-03-08"),
    ("im April", "2026-04-01..2026-04-30"),
    ("nach 16 Uhr", "[16:00-23:59)"),
    ("ab 14 Uhr", "[14:00-23:59)"),
    ("vor 12 Uhr", "[00:00-12:00)"),
    ("zwischen 14 und 16 Uhr", "[14:00-16:00)"),
    ("vormittags", "[08:00-12:00)"),
    ("Hallo, geht Samstag um 1?", "2026-03-07 13:00"),
]

FRENCH = [
    ("aujourd'hui", "2026-03-04"),
    ("demain", "2026-03-05"),
    ("demain à 15h", "2026-03-05 15:00"),
    ("demain matin", "2026-03-05 [08:00-12:00)"),
    ("après-demain à 10h30", "2026-03-06 10:30"),
    ("ce soir", "2026-03-04 [17:00-21:00)"),
    ("jeudi après-midi", "2026-03-05 [12:00-17:00)"),
    ("vendredi prochain", "2026-03-06|2026-03-13"),
    ("à midi et demi", "12:30"),
    ("à cinq heures et demie", "17:30"),
    ("mardi 10 à 16h30", "2026-03-10 16:30"),
    ("entre 10h et 12h", "[10:00-12:00)"),
    ("lundi de la semaine prochaine", "2026-03-09"),
    ("le 5 mars", "2026-03-05"),
    ("lundi 9 mars à 14h", "2026-03-09 14:00"),
    ("le 10", "2026-03-10"),
    ("le 1er avril", "2026-04-01"),
    ("à 15h", "15:00"),
    ("à 3 heures de l'après-midi", "15:00"),
    ("à 8h du soir", "20:00"),
    ("mardi à midi", "2026-03-10 12:00"),
    ("à 4h et demie", "16:30"),
    ("à 5h moins le quart", "16:45"),
    ("aujourd'hui à 17h", "2026-03-04 17:00"),
    ("dans 3 jours", "2026-03-07"),
    ("la semaine prochaine", "2026-03-09..2026-03-15"),
    ("ce week-end", "2026-03-07..2026-03-08"),
    ("en avril", "2026-04-01..2026-04-30"),
    ("après 16h", "[16:00-23:59)"),
    ("avant midi", "[00:00-12:00)"),
    ("le matin", "[08:00-12:00)"),
    ("Bonjour, samedi à 13h c'est possible ?", "2026-03-07 13:00"),
]

PORTUGUESE = [
    ("hoje", "2026-03-04"),
    ("amanhã", "2026-03-05"),
    ("amanhã às 15h", "2026-03-05 15:00"),
    ("amanhã de manhã", "2026-03-05 [08:00-12:00)"),
    ("depois de amanhã às 10", "2026-03-06 10:00"),
    ("hoje à noite", "2026-03-04 [17:00-21:00)"),
    ("sexta-feira às 3 da tarde", "2026-03-06 15:00"),
    ("quinta à tarde", "2026-03-05 [12:00-17:00)"),
    ("próxima sexta", "2026-03-06|2026-03-13"),
    ("sexta que vem", "2026-03-06|2026-03-13"),
    ("ao meio-dia e meia", "12:30"),
    ("terça dia 10 às 16h30", "2026-03-10 16:30"),
    ("entre as 10 e as 12", "[10:00-12:00)"),
    ("nesta sexta", "2026-03-06"),
    ("segunda da semana que vem", "2026-03-09"),
    ("dia 5 de março", "2026-03-05"),
    ("dia 10 às 14h", "2026-03-10 14:00"),
    ("segunda 9", "2026-03-09"),
    ("1 de abril", "2026-04-01"),
    ("às 15h30", "15:30"),
    ("às 3 e meia", "15:30"),
    ("ao meio-dia", "12:00"),
    ("às 9 da noite", "21:00"),
    ("daqui a 3 dias", "2026-03-07"),
    ("em 3 dias", "2026-03-07"),
    ("semana que vem", "2026-03-09..2026-03-15"),
    ("no fim de semana", "2026-03-07..2026-03-08"),
    ("em abril", "2026-04-01..2026-04-30"),
    ("depois das 16h", "[16:00-23:59)"),
    ("antes do meio-dia", "[00:00-12:00)"),
    ("de manhã", "[08:00-12:00)"),
    ("Olá, tem vaga sábado às 13h?", "2026-03-07 13:00"),
]


@pytest.mark.parametrize(("text", "expected"), SPANISH)
def test_spanish(text: str, expected: str) -> None:
    assert describe(interpret_when(text, NOW, TZ, ("es",))) == expected


@pytest.mark.parametrize(("text", "expected"), GERMAN)
def test_german(text: str, expected: str) -> None:
    assert describe(interpret_when(text, NOW, TZ, ("de",))) == expected


@pytest.mark.parametrize(("text", "expected"), FRENCH)
def test_french(text: str, expected: str) -> None:
    assert describe(interpret_when(text, NOW, TZ, ("fr",))) == expected


@pytest.mark.parametrize(("text", "expected"), PORTUGUESE)
def test_portuguese(text: str, expected: str) -> None:
    assert describe(interpret_when(text, NOW, TZ, ("pt",))) == expected


def test_english_still_understood_after_the_customers_language() -> None:
    assert describe(interpret_when("tomorrow at 3", NOW, TZ, ("es", "en"))) == "2026-03-05 15:00"


def test_first_language_wins_on_shared_words() -> None:
    # "am" is a.m. in English but "on the" in German
    assert describe(interpret_when("9 am", NOW, TZ, ("en", "de"))) == "09:00"
    assert describe(interpret_when("am Freitag", NOW, TZ, ("de", "en"))) == "2026-03-06"
