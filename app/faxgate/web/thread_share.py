"""A fair share of a worker's pool threads per client address.

Deadlines end a slow client's request eventually, but until they do, every thread it holds is
one a good client cannot have. One address may hold at most `share` threads at once; its
further requests (their heads complete) wait, in the order they came, until one of its threads
is free. They are not dropped: a busy office behind one NAT address is served, only more slowly.
Used by the worker's poller thread only, so nothing here is locked.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Generic, TypeVar

T = TypeVar("T")


class ThreadShare(Generic[T]):
    def __init__(self, share: int) -> None:
        self.share = share
        self._running: Counter[str] = Counter()
        self._waiting: dict[str, deque[T]] = {}

    def admit(self, address: str, item: T) -> bool:
        """Whether `item` may have a thread now (it is then counted); otherwise it waits."""
        if self._running[address] < self.share:
            self._running[address] += 1
            return True
        self._waiting.setdefault(address, deque()).append(item)
        return False

    def release(self, address: str) -> T | None:
        """A thread of `address` is free: the next of its waiting items, which now has it."""
        queue = self._waiting.get(address)
        if queue:
            item = queue.popleft()
            if not queue:
                del self._waiting[address]
            return item  # the thread goes from one of the address's items to the next
        self._running[address] -= 1
        if self._running[address] <= 0:
            del self._running[address]
        return None

    def running(self, address: str) -> int:
        return self._running[address]

    def waiting(self, address: str) -> int:
        return len(self._waiting.get(address, ()))
