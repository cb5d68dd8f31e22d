"""The audio clock of a call: one 20 ms frame out every 20 ms, scheduled on the monotonic clock.

The far end (iaxmodem, Asterisk) slaves its own clock to the audio we send, so the stream must
be steady and complete for the whole call, silence included. Frame n is due at start + n × 20 ms
(never "20 ms after the last one", which drifts); a frame sent more than half a period after
its due time counts as late. When the process falls behind by several frames it sends the
missed ones at once, so the far end's count of samples stays equal to wall time.

`FrameSchedule` is the pure part (injected time); `AudioTicker` drives it with asyncio.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

FRAME_SECONDS = 0.020
FRAME_MS = 20
LATE_AFTER = FRAME_SECONDS / 2
# Beyond this backlog the missed frames are skipped instead of sent in a burst: the far end
# would drop a burst that long anyway, and it keeps a stalled process from flooding the line.
MAX_CATCH_UP_FRAMES = 25


@dataclass
class FrameSchedule:
    """Which frames are due at a given moment, and how punctual they were."""

    start: float
    period: float = FRAME_SECONDS
    next_frame: int = 0
    sent: int = 0
    late: int = 0
    skipped: int = 0
    worst_lateness: float = 0.0

    def due(self, now: float) -> int:
        """How many frames to send now (0 when early); updates the late/skip counts."""
        count = int((now - self.start) / self.period) - self.next_frame + 1
        if count <= 0:
            return 0
        lateness = now - self.deadline(self.next_frame)
        if lateness > LATE_AFTER:
            self.late += 1 if count == 1 else count - 1
        self.worst_lateness = max(self.worst_lateness, lateness)
        if count > MAX_CATCH_UP_FRAMES:
            self.skipped += count - MAX_CATCH_UP_FRAMES
            self.next_frame += count - MAX_CATCH_UP_FRAMES
            count = MAX_CATCH_UP_FRAMES
        self.next_frame += count
        self.sent += count
        return count

    def deadline(self, frame: int) -> float:
        return self.start + frame * self.period

    def next_deadline(self) -> float:
        return self.deadline(self.next_frame)

    def timestamp_ms(self, frame: int) -> int:
        """The IAX2 timestamp of frame `frame` (ms since the call's audio started)."""
        return round(frame * self.period * 1000)

    @property
    def late_share(self) -> float:
        return self.late / self.sent if self.sent else 0.0


class AudioTicker:
    """Call `send(frame_index)` for every due frame, on the event loop, until stopped."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        send: Callable[[int], None],
        start: float | None = None,
    ) -> None:
        self._loop = loop
        self._send = send
        self.schedule = FrameSchedule(start if start is not None else loop.time())
        self._handle: asyncio.TimerHandle | None = None
        self._stopped = False

    def start(self) -> None:
        self._handle = self._loop.call_at(self.schedule.next_deadline(), self._tick)

    def _tick(self) -> None:
        if self._stopped:
            return
        count = self.schedule.due(self._loop.time())
        for frame in range(self.schedule.next_frame - count, self.schedule.next_frame):
            if self._stopped:
                return
            self._send(frame)
        if not self._stopped:
            self._handle = self._loop.call_at(self.schedule.next_deadline(), self._tick)

    def stop(self) -> None:
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
