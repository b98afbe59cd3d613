from __future__ import annotations

import json

import pytest

from cadence_adapter import InvalidWebhook, parse_event, sign, verify_signature

BODY = json.dumps(
    {
        "id": "evt_1",
        "type": "booking.cancelled",
        "created_at": "2026-06-01T08:00:00Z",
        "data": {"id": "bk_1", "service_id": "svc_1", "start": "2026-06-02T09:00:00Z", "extra": 1},
        "future_field": True,
    }
).encode()


def test_signature_round_trip() -> None:
    header = sign("whsec_abc", BODY)
    assert header.startswith("sha256=") and len(header) == len("sha256=") + 64
    assert verify_signature("whsec_abc", BODY, header)


@pytest.mark.parametrize(
    ("secret", "body", "header"),
    [
        ("whsec_other", BODY, sign("whsec_abc", BODY)),
        ("whsec_abc", BODY + b" ", sign("whsec_abc", BODY)),
        ("whsec_abc", BODY, None),
        ("whsec_abc", BODY, ""),
        ("whsec_abc", BODY, "sha256=" + "0" * 64),
        ("whsec_abc", BODY, "sha256=é"),
        ("", BODY, sign("", BODY)),
    ],
)
def test_forgeries_are_refused(secret: str, body: bytes, header: str | None) -> None:
    assert not verify_signature(secret, body, header)


def test_parse_event_is_lenient_and_typed() -> None:
    event = parse_event(BODY)
    assert (event.type, event.data.id, event.data.start.isoformat()) == (
        "booking.cancelled",
        "bk_1",
        "2026-06-02T09:00:00+00:00",
    )
    with pytest.raises(InvalidWebhook):
        parse_event(b"{not json")
    with pytest.raises(InvalidWebhook):
        parse_event(b'{"id": "evt", "type": "booking.created"}')
