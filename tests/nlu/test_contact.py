"""Names, emails, phone numbers and their log masks."""

from __future__ import annotations

import pytest

from bot.nlu import extract_email, extract_name, extract_phone, mask_email, mask_phone

NAMES = [
    ("I'm Pat Patient", "Pat Patient"),
    ("my name is Pat", "Pat"),
    ("My name's Pat Patient.", "Pat Patient"),
    ("Pat Patient", "Pat Patient"),
    ("pat patient", "Pat Patient"),
    ("PAT PATIENT", "Pat Patient"),
    ("this is Maria, thanks", "Maria"),
    ("Hi, I am Maria here", "Maria"),
    ("ana da silva", "Ana da Silva"),
    ("Jean-Luc Picard", "Jean-Luc Picard"),
    ("O'Brien", "O'Brien"),
    ("McDonald", "McDonald"),
    ("soy Ana", "Ana"),
    ("me llamo José García", "José García"),
    ("ich heiße Max", "Max"),
    ("mein Name ist Max Müller", "Max Müller"),
    ("je m'appelle Claire", "Claire"),
    ("je suis Claire Dubois", "Claire Dubois"),
    ("meu nome é João", "João"),
    ("sou a Maria", "Maria"),
    ("I'm Pat, I'd like a haircut", "Pat"),
    ("my name is Pat and I want a haircut", "Pat"),
    ("soy Ana y quiero una cita", "Ana"),
    # not names
    ("I'm free tomorrow", None),
    ("I'm in New York", None),
    ("yes", None),
    ("Friday", None),
    ("pat@example.com", None),
    ("call me on 555 1234", None),
    ("R2D2", None),
    ("this is a long sentence about many different things", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_extract_name(text: str, expected: str | None) -> None:
    assert extract_name(text) == expected


EMAILS = [
    ("pat@example.com", "pat@example.com"),
    ("mail me at Pat.Patient@Example.COM.", "Pat.Patient@example.com"),
    ("it's pat+salon@mail.example.co.uk thanks", "pat+salon@mail.example.co.uk"),
    ("pat@localhost", None),
    ("pat@@example.com", None),
    ("pat..x@example.com", None),
    ("no email here", None),
]


@pytest.mark.parametrize(("text", "expected"), EMAILS)
def test_extract_email(text: str, expected: str | None) -> None:
    assert extract_email(text) == expected


PHONES = [
    ("+351 912 345 678", None, "+351912345678"),
    ("00351912345678", None, "+351912345678"),
    ("912 345 678", "PT", "+351912345678"),
    ("my number is (415) 555-2671", "US", "+14155552671"),
    ("call 030 1234567", "DE", "+49301234567"),
    ("912 345 678", None, None),  # no region, no country code: unknown
    ("123", "US", None),
    ("+1 555 0000 000", None, None),  # not a valid number
    ("no phone", "PT", None),
]


@pytest.mark.parametrize(("text", "region", "expected"), PHONES)
def test_extract_phone(text: str, region: str | None, expected: str | None) -> None:
    assert extract_phone(text, region) == expected


def test_masks() -> None:
    assert mask_phone("+351912345567") == "+35191****567"
    assert mask_phone("+14155552671") == "+1415****671"
    assert mask_phone("123") == "***"
    assert mask_email("pat@example.com") == "p***@example.com"
    assert mask_email("nonsense") == "***"
