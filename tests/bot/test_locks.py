from __future__ import annotations

import anyio
import pytest

from bot.locks import KeyedLocks


@pytest.mark.anyio
async def test_same_key_serialises_other_keys_overlap_and_entries_are_dropped() -> None:
    locks: KeyedLocks[str] = KeyedLocks()
    order: list[str] = []

    async def work(key: str, name: str) -> None:
        async with locks.hold(key):
            order.append(f"{name}+")
            await anyio.sleep(0.01)
            order.append(f"{name}-")

    async with anyio.create_task_group() as group:
        group.start_soon(work, "a", "a1")
        group.start_soon(work, "a", "a2")
        group.start_soon(work, "b", "b1")
    assert order.index("a1-") < order.index("a2+")
    assert order.index("b1+") < order.index("a1-")
    assert len(locks) == 0 and "a" not in locks and locks.users("a") == 0
