"""Reading webhook bodies safely: a size limit while streaming, and JSON parsed with a depth limit.

Whatever a client sends, the answer is a 4xx, never a 500: a platform retries a 5xx (Telegram
relentlessly, holding the chat's later updates behind it), so a junk body answered 500 comes back
forever. ``json.loads`` recurses once per nesting level and raises ``RecursionError`` (not a
``ValueError``) on a body nested about 1,000 deep; a body it can parse but that nests deeper than any
real update would then make python-telegram-bot's model recurse in turn. Both are refused here.
"""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.requests import Request

__all__ = ["MAX_DEPTH", "BadBody", "depth", "parse_json_object", "read_limited"]

MAX_DEPTH: Final = 64
"""Deeper than any Telegram update (a tapped message's keyboard is about 8 levels down, a reply
to a reply to a message a few more), shallow enough for any parser's recursion."""


class BadBody(ValueError):
    """The body is not what the endpoint takes; the reason is short and safe to answer with."""


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to be larger than ``limit`` bytes (declared or sent)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0), without recursing."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        stack.extend((child, level) for child in children)
    return deepest


def parse_json_object(body: bytes, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """``body`` as a JSON object nested at most ``max_depth`` deep; :class:`BadBody` for anything else."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError too
        raise BadBody("not json") from None
    if not isinstance(data, dict):
        raise BadBody("not a json object")
    if depth(data) > max_depth:
        raise BadBody("nested too deep")
    return data
