"""Lock-free hand-off between the player's threads and the audio callback.

:class:`CommandRing` is a single-producer, single-consumer ring of preallocated slots: the
producer fills a slot, then publishes it by moving ``tail``; the consumer reads it, then frees it
by moving ``head``. Each index is written by one side only, so neither side ever waits for the
other. (Several player threads may produce: they agree among themselves with a lock of their own,
which the callback never touches.) :class:`Graveyard` goes the other way: clips the callback lets
go of are parked there and dropped by the player's thread, so no array is freed on the audio thread.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

#: Float arguments a command carries.
ARGS = 4


class CommandRing:
    """Commands for the callback: an op code, up to :data:`ARGS` floats and two object references."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self.op = np.zeros(capacity, dtype=np.int64)
        self.args = np.zeros((capacity, ARGS), dtype=np.float64)
        self.obj: list[Any] = [None] * capacity
        self.obj2: list[Any] = [None] * capacity
        self.head = 0  # written by the consumer only
        self.tail = 0  # written by the producer only
        self._producers = threading.Lock()  # between producer threads; never taken by the consumer

    def push(self, op: int, *args: float, obj: Any = None, obj2: Any = None) -> bool:
        """Queue a command; ``False`` when the ring is full (the callback has stopped draining it)."""
        with self._producers:
            tail = self.tail
            if tail - self.head >= self.capacity:
                return False
            i = tail % self.capacity
            self.op[i] = op
            row = self.args[i]
            row[:] = 0.0
            row[:len(args)] = args
            self.obj[i] = obj
            self.obj2[i] = obj2
            self.tail = tail + 1  # publish: the slot is complete before the consumer can see it
            return True

    def peek(self) -> int:
        """The slot of the oldest command, or -1 when there is none (consumer side)."""
        head = self.head
        return -1 if head == self.tail else head % self.capacity

    def pop(self) -> None:
        """Free the slot :meth:`peek` returned (consumer side)."""
        self.head += 1

    def pending(self) -> int:
        return self.tail - self.head


class Graveyard:
    """References the callback lets go of, parked until the player's thread drops them."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self.slots: list[Any] = [None] * capacity
        self.head = 0  # written by the dropping thread only
        self.tail = 0  # written by the callback only

    def park(self, obj: Any) -> None:
        """Callback side: keep ``obj`` alive until :meth:`drop`. A full graveyard keeps the newest."""
        if obj is None:
            return
        if self.tail - self.head >= self.capacity:
            # the player's thread has stopped dropping (it drains every 10 ms): the caller's reference is
            # then the last but for the preparer's cache, which keeps every clip it handed out recently
            return
        self.slots[self.tail % self.capacity] = obj
        self.tail += 1

    def drop(self) -> int:
        """Player side: let go of everything parked; returns how many."""
        n = 0
        while self.head != self.tail:
            self.slots[self.head % self.capacity] = None
            self.head += 1
            n += 1
        return n
