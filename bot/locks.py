"""One lock per key (a conversation, a chat), kept only while someone holds or waits for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

__all__ = ["KeyedLocks"]

K = TypeVar("K", bound=Hashable)


@dataclass
class _Entry:
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    users: int = 0


class KeyedLocks(Generic[K]):
    """``async with locks.hold(key):`` serialises work per key, first come first served; different
    keys run concurrently. Entries are dropped when unused, so the map never grows without bound."""

    def __init__(self) -> None:
        self._entries: dict[K, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def users(self, key: K) -> int:
        """How many hold or wait for ``key``'s lock."""
        entry = self._entries.get(key)
        return entry.users if entry else 0

    @asynccontextmanager
    async def hold(self, key: K) -> AsyncIterator[None]:
        entry = self._entries.get(key) or self._entries.setdefault(key, _Entry())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[key]
