"""A binary min-heap of keys that also removes any key in O(log n) (``heapq`` cannot: it only pops the
smallest, and lazy deletion lets stale entries pile up beyond a store's cap)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
#: (when, tie-breaker): e.g. (expiry on the simulator clock, insertion number)
Priority = tuple[float, int]


class IndexedHeap(Generic[K]):
    def __init__(self) -> None:
        self._items: list[tuple[Priority, K]] = []
        self._pos: dict[K, int] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._pos

    def clear(self) -> None:
        self._items.clear()
        self._pos.clear()

    def push(self, key: K, priority: Priority) -> None:
        """Add ``key`` (replacing its priority if it is there already)."""
        self.remove(key)
        self._items.append((priority, key))
        self._up(len(self._items) - 1)

    def peek(self) -> tuple[Priority, K] | None:
        """The smallest (priority, key), left in place."""
        return self._items[0] if self._items else None

    def remove(self, key: K) -> bool:
        i = self._pos.pop(key, None)
        if i is None:
            return False
        last = self._items.pop()
        if i < len(self._items):
            self._items[i] = last
            if i > 0 and last[0] < self._items[(i - 1) >> 1][0]:
                self._up(i)
            else:
                self._down(i)
        return True

    def _up(self, i: int) -> None:
        items, pos = self._items, self._pos
        item = items[i]
        while i > 0:
            parent = (i - 1) >> 1
            if not item[0] < items[parent][0]:
                break
            items[i] = items[parent]
            pos[items[i][1]] = i
            i = parent
        items[i] = item
        pos[item[1]] = i

    def _down(self, i: int) -> None:
        items, pos = self._items, self._pos
        n = len(items)
        item = items[i]
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            if child + 1 < n and items[child + 1][0] < items[child][0]:
                child += 1
            if not items[child][0] < item[0]:
                break
            items[i] = items[child]
            pos[items[i][1]] = i
            i = child
        items[i] = item
        pos[item[1]] = i
