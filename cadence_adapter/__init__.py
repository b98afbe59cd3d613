"""Talks to Cadence; knows nothing of chat."""

from cadence_adapter.client import (
    CadenceClient,
    CadencePublicClient,
    RetryPolicy,
    api_root,
    new_http_client,
)
from cadence_adapter.errors import (
    APIError,
    BadRequest,
    CadenceError,
    InvalidWebhook,
    NotFound,
    RateLimited,
    SlotNotOpen,
    SlotTaken,
    Unauthorized,
    Unavailable,
)
from cadence_adapter.models import (
    Availability,
    Booking,
    Customer,
    Org,
    Practitioner,
    Service,
    Slot,
    WebhookEndpoint,
    WebhookEvent,
)
from cadence_adapter.webhooks import parse_event, sign, verify_signature

__all__ = [
    "APIError",
    "Availability",
    "BadRequest",
    "Booking",
    "CadenceClient",
    "CadenceError",
    "CadencePublicClient",
    "Customer",
    "InvalidWebhook",
    "NotFound",
    "Org",
    "Practitioner",
    "RateLimited",
    "RetryPolicy",
    "Service",
    "Slot",
    "SlotNotOpen",
    "SlotTaken",
    "Unauthorized",
    "Unavailable",
    "WebhookEndpoint",
    "WebhookEvent",
    "api_root",
    "new_http_client",
    "parse_event",
    "sign",
    "verify_signature",
]
