"""One exception per failure the Cadence API documents; callers catch at the level they care about.

CadenceError                 anything the adapter raises
  InvalidWebhook             a delivery body that is not a Cadence event
  InvalidResponse            a success answer whose body does not parse: Cadence's fault (or ours), never
                             the caller's; after a POST, whether the change was made is unknown
  APIError                   Cadence answered with an error status (.status, .code, .message)
    BadRequest               400, or a 422 that is not about the slot (validation)
    Unauthorized             401 / 403: missing, wrong or revoked org key
    NotFound                 404: unknown org, service, practitioner or booking
    SlotTaken                409: a concurrent booking took the slot
    SlotNotOpen              422 not_open: the start is not an open slot
    RateLimited              429, with .retry_after seconds
    Unavailable              5xx, or no answer at all: timeouts, refused or dropped connections
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "BadRequest",
    "CadenceError",
    "InvalidResponse",
    "InvalidWebhook",
    "NotFound",
    "RateLimited",
    "SlotNotOpen",
    "SlotTaken",
    "Unauthorized",
    "Unavailable",
]


class CadenceError(Exception):
    """Base of everything the adapter raises."""


class InvalidWebhook(CadenceError):
    """A webhook body that does not parse as a Cadence event."""


class InvalidResponse(CadenceError):
    """Cadence answered with success but a body that is not what the API documents (not JSON, another
    shape): not the caller's fault, so never :class:`BadRequest`; after a POST the change may be made."""


class APIError(CadenceError):
    """Cadence answered with an error status."""

    def __init__(self, message: str, *, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}" if self.status else self.message


class BadRequest(APIError):
    """400, or 422 about the body rather than the slot: the request itself is wrong."""


class Unauthorized(APIError):
    """401 or 403: the org key is missing, wrong or revoked."""


class NotFound(APIError):
    """404: the org, service, practitioner or booking does not exist."""


class SlotTaken(APIError):
    """409: another booking took the slot between the offer and the booking."""


class SlotNotOpen(APIError):
    """422 not_open: the start is not an open slot (outside hours, in the past, off the grid)."""


class RateLimited(APIError):
    """429: too many requests; ``retry_after`` says how long Cadence asked us to wait, in seconds."""

    def __init__(
        self, message: str, *, status: int = 429, code: str = "rate_limited", retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class Unavailable(APIError):
    """Cadence could not answer: a 5xx, a timeout, or a refused or dropped connection."""
