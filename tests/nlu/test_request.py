"""extract_request: service, practitioner and when from one message."""

from __future__ import annotations

import pytest

from bot.nlu import Choice, extract_request
from tests.nlu.conftest import NOW, TZ, describe

SERVICES = [
    ("svc_1", "Haircut"),
    ("svc_2", "Hair colouring"),
    ("svc_3", "Sports massage"),
    ("svc_4", "Initial assessment"),
    ("svc_5", "Deep tissue massage"),
    ("svc_6", "Follow-up session"),
]
PEOPLE = [("p1", "Ana Silva"), ("p2", "Bruno Costa"), ("p3", "April Jones"), ("p4", "Dr. Maria Santos")]

CASES = [
    ("a haircut with Ana tomorrow at 3", "en", 0, 0, "2026-03-05 15:00"),
    ("hair cut with bruno on friday", "en", 0, 1, "2026-03-06"),
    ("sports massage next week", "en", 2, None, "2026-03-09..2026-03-15"),
    ("I want an initial assesment please", "en", 3, None, ""),
    ("with april on monday", "en", None, 2, "2026-03-09"),  # a name, not the month
    ("can I see Bruno", "en", None, 1, ""),
    ("with anna", "en", None, 0, ""),
    ("tomorrow at 3", "en", None, None, "2026-03-05 15:00"),
    ("a haircut in april", "en", 0, None, "2026-04-01..2026-04-30"),
    ("hello", "en", None, None, ""),
    ("a massage tomorrow", "en", None, None, "2026-03-05"),  # two massages: ask
    ("deep tissue with maria", "en", 4, 3, ""),
    ("followup with Dr Santos on friday at 10", "en", 5, 3, "2026-03-06 10:00"),
    ("can I book with Bruno for a follow-up", "en", 5, 1, ""),
    ("un corte con Ana mañana a las 3", "es", 0, 0, "2026-03-05 15:00"),  # "corte": a haircut, by meaning
    ("Haircut mit Bruno morgen um 10", "de", 0, 1, "2026-03-05 10:00"),
    ("sports massage avec Ana demain à 15h", "fr", 2, 0, "2026-03-05 15:00"),
    ("haircut com a Ana amanhã às 15h", "pt", 0, 0, "2026-03-05 15:00"),
]


@pytest.mark.parametrize(("text", "language", "service", "practitioner", "when"), CASES)
def test_extract_request(
    text: str, language: str, service: int | None, practitioner: int | None, when: str
) -> None:
    request = extract_request(text, SERVICES, PEOPLE, NOW, TZ, (language,))
    assert (request.service_index, request.practitioner_index, describe(request.when)) == (
        service,
        practitioner,
        when,
    )


def test_accepts_choices_and_strings() -> None:
    request = extract_request("sports massage", [Choice("Sports massage")], ["Ana"], NOW)
    assert request.service_index == 0
    assert extract_request("ana", [], ["Ana"], NOW).practitioner_index == 0


def test_a_long_story_is_read_to_its_end() -> None:
    # what is asked for often comes last, after a thousand characters of why
    story = "My sister is getting married and I have been running around for weeks. " * 16
    request = extract_request(story + "So: a haircut with Bruno on friday at 10?", SERVICES, PEOPLE, NOW, TZ)
    assert (request.service_index, request.practitioner_index, describe(request.when)) == (
        0,
        1,
        "2026-03-06 10:00",
    )


def test_everything_in_a_list_ruled_out_is_not_asked_for() -> None:
    request = extract_request(
        "no colouring or cut or anything, just a sports massage", SERVICES, PEOPLE, NOW, TZ
    )
    assert (request.service_index, request.also) == (2, None)
    request = extract_request("not with Ana or Bruno, with Maria", SERVICES, PEOPLE, NOW, TZ)
    assert request.practitioner_index == 3
