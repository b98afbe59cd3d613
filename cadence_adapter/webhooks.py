"""Cadence webhook signatures: HMAC-SHA256 of the raw body, sent as ``X-Cadence-Signature: sha256=<hex>``.

Verify before parsing: a forged body must never reach a JSON parser, let alone a handler.
"""

from __future__ import annotations

import hashlib
import hmac

from pydantic import ValidationError

from cadence_adapter.errors import InvalidWebhook
from cadence_adapter.models import WebhookEvent

__all__ = ["EVENT_HEADER", "SIGNATURE_HEADER", "parse_event", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-Cadence-Signature"
EVENT_HEADER = "X-Cadence-Event"
_PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value Cadence sends for ``body``: ``sha256=<hex hmac>``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify_signature(secret: str, raw_body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``raw_body`` under ``secret``; compared in constant time."""
    if not secret or not header:
        return False
    expected = sign(secret, raw_body)
    # compare_digest wants both sides ASCII; a header with other characters is simply wrong.
    candidate = header.strip()
    if not candidate.isascii():
        return False
    return hmac.compare_digest(expected.encode(), candidate.encode())


def parse_event(raw_body: bytes) -> WebhookEvent:
    """The event in a delivery body. Call only after :func:`verify_signature` accepted it."""
    try:
        return WebhookEvent.model_validate_json(raw_body)
    except ValidationError as exc:
        raise InvalidWebhook(f"not a Cadence event: {exc.error_count()} problem(s)") from exc
