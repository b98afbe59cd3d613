"""The sandbox's one error type and its wire form, ``{"error": {"code": ..., "message": ...}}``.

Rules and handlers raise :class:`ApiProblem`; the app's exception handler renders it, so every 4xx the
sandbox sends has the body DESIGN.md documents. Codes the client maps to typed errors:

==========  =======================  =====================================================
status      code                     when
==========  =======================  =====================================================
400         bad_request              the body is not JSON
401         unauthorized             the org key is missing or wrong
404         not_found                unknown org slug, service, practitioner, booking, route
409         slot_taken               the slot is on the grid but a booking already holds it
422         not_open                 the start is not an open slot (past, off-grid, closed)
422         invalid_request          wrong types, missing or oversized fields, bad contact
422         idempotency_mismatch     an Idempotency-Key reused with a different body
422         booking_cancelled        rescheduling a cancelled booking
429         rate_limited             the public surface's per-client budget is spent
==========  =======================  =====================================================
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

__all__ = [
    "ApiProblem",
    "error_response",
    "invalid_request",
    "not_found",
    "not_open",
    "slot_taken",
]


class ApiProblem(Exception):
    """An answer other than success: an HTTP status, a stable code and a message for humans."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, headers=self.headers)


def error_response(
    status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def invalid_request(message: str) -> ApiProblem:
    return ApiProblem(422, "invalid_request", message)


def not_found(message: str) -> ApiProblem:
    return ApiProblem(404, "not_found", message)


def not_open(message: str) -> ApiProblem:
    return ApiProblem(422, "not_open", message)


def slot_taken(message: str) -> ApiProblem:
    return ApiProblem(409, "slot_taken", message)
