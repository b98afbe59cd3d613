"""Issue 16: log masking hides customers' phone numbers and emails, never the ids operators search for."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import JsonFormatter, mask


@pytest.mark.parametrize(
    "text",
    [
        "telegram update 260000006 failed (TimedOut), attempt 1",
        "telegram updates 260000006 260000007 resumed",  # two ids side by side are not one phone
        "chat -1001234567890 is the staff group",
        "job reminder:salon:bk_1 at 2026-06-01, ref 12345, took 1234567.89 ms",
        "SMS SM0123456789abcdef0123456789abcdef answered",
    ],
)
def test_ids_dates_and_amounts_are_left_alone(text: str) -> None:
    assert mask(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("from +351912345678", "from +351****678"),
        ("from +351 912 345 678", "from +351****678"),
        ("call 912 345 678", "call 91****678"),
        ("call 555-123-4567", "call 55****567"),
        ("call 07700 900123", "call 07****123"),
        ("mail pat.patient@example.com", "mail p***@example.com"),
    ],
)
def test_phone_numbers_and_emails_are_masked(text: str, masked: str) -> None:
    assert mask(text) == masked


def test_the_json_log_keeps_an_update_id_and_masks_the_phone_beside_it() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("tests.reliability.masking")
    log.addHandler(handler)
    try:
        log.error("update %s from %s failed", 260000006, "+351912345678")
    finally:
        log.removeHandler(handler)
    message = json.loads(stream.getvalue())["message"]
    assert message == "update 260000006 from +351****678 failed"
