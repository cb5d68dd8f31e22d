"""One fax call on a line: the spandsp terminal, its audio clock and what the call reports.

A `FaxSession` knows nothing of IAX2: the line hands it the peer's audio (`audio_in`) and gives
it a function that puts 160 samples on the line (`begin_audio`). It keeps a steady 20 ms stream
going out from the moment the call is answered, feeds received audio to spandsp as it arrives
(no jitter buffer: spandsp counts samples, not wall time, so a frame that arrives a little late
is still in order; a frame lost on the way is reported with `rx_fillin`, one that arrives after
a later one is dropped) and notices a peer that has gone silent.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from faxgate.faxengine import CallReport, FaxEngineError, FaxTerminal, PageReport
from faxgate.iaxmodemd.audio import FRAME_MS, AudioTicker

Samples = npt.NDArray[np.int16]
FRAME_SAMPLES = 160

# No audio from the far end for this long while the call is up: the peer is gone (a LAN peer
# sends 50 frames a second; spandsp's own T.30 timers would take up to a minute to notice).
PEER_SILENT_SECONDS = 10.0
# A gap in the peer's timestamps larger than this is not loss but a restart of its stream.
MAX_FILLIN_FRAMES = 50


class Direction(enum.Enum):
    OUT = "out"
    IN = "in"


@dataclass(frozen=True)
class CallParams:
    """What one fax call is for."""

    direction: Direction
    line: str
    number: str  # the number dialled (out) or the DNID (in)
    caller_id: str  # the caller's number (in)
    job: int | None
    document: Path  # the TIFF to send (out) or the file to receive into (in)
    ident: str
    header: str | None
    ecm: bool


class SessionHooks:
    """What a session tells the line about; the line overrides what it needs."""

    def remote_ident(self, ident: str) -> None:
        """The far fax machine identified itself."""

    def page_started(self, page: int, bit_rate: int) -> None:
        """A page began (after the previous one finished, or at the first training)."""

    def page_done(self, report: PageReport) -> None:
        """A page was transferred."""

    def fax_finished(self, report: CallReport) -> None:
        """spandsp ended the fax call (phase E): the line should hang up."""

    def peer_silent(self, seconds: float) -> None:
        """No audio from the peer for `seconds`: the line should end the call."""


class FaxSession:
    """The fax side of one call."""

    def __init__(self, params: CallParams, hooks: SessionHooks, log: logging.Logger) -> None:
        self.params = params
        self._hooks = hooks
        self._log = log
        self.terminal: FaxTerminal | None = None
        self.ticker: AudioTicker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._send: Callable[[Samples, int], None] | None = None
        self._last_peer_timestamp: int | None = None
        self._last_audio_at = 0.0
        self._finished_reported = False
        self.frames_in = 0
        self.frames_filled = 0
        self.frames_dropped_late = 0

    def _new_terminal(self) -> FaxTerminal:
        p = self.params
        options: dict[str, Any] = {
            "logger": self._log,
            "log_tag": f"line{p.line}",
            "on_remote_ident": self._hooks.remote_ident,
            "on_page": self._on_page,
            "on_complete": self._on_complete,
        }
        if p.direction is Direction.OUT:
            return FaxTerminal.sender(p.document, p.ident, p.header, ecm=p.ecm, **options)
        return FaxTerminal.receiver(p.document, p.ident, ecm=p.ecm, **options)

    def begin_audio(
        self, loop: asyncio.AbstractEventLoop, send: Callable[[Samples, int], None]
    ) -> None:
        """The call is answered: create the terminal and start the 20 ms stream.

        `send(samples, frame_index)` puts one frame on the line. Raises FaxEngineError when
        the terminal cannot be made (a bad document): the line then hangs up.
        """
        self.terminal = self._new_terminal()
        self._loop, self._send = loop, send
        self._last_audio_at = loop.time()
        self.ticker = AudioTicker(loop, self._tick)
        self.ticker.start()
        self._hooks.page_started(1, 0)

    def _tick(self, frame: int) -> None:
        terminal, send, loop = self.terminal, self._send, self._loop
        if terminal is None or send is None or loop is None:
            return
        try:
            samples = terminal.tx(FRAME_SAMPLES)
        except FaxEngineError:
            samples = np.zeros(FRAME_SAMPLES, dtype=np.int16)  # closed meanwhile: silence
        send(samples, frame)
        silent_for = loop.time() - self._last_audio_at
        if silent_for > PEER_SILENT_SECONDS and not self._finished_reported:
            self._finished_reported = True
            loop.call_soon(self._hooks.peer_silent, silent_for)

    def audio_in(self, samples: Samples, timestamp: int) -> None:
        """Audio from the peer with its timestamp (ms); lost frames become `rx_fillin`."""
        terminal = self.terminal
        if terminal is None or terminal.finished:
            return
        if self._loop is not None:
            self._last_audio_at = self._loop.time()
        last = self._last_peer_timestamp
        if last is not None:
            step = timestamp - last
            if step <= 0:
                self.frames_dropped_late += 1  # overtaken by a later frame: too late to use
                return
            missing = round(step / FRAME_MS) - 1
            if 0 < missing <= MAX_FILLIN_FRAMES:
                for _ in range(missing):
                    terminal.rx_fillin(FRAME_SAMPLES)
                self.frames_filled += missing
        self._last_peer_timestamp = timestamp
        self.frames_in += 1
        for start in range(0, len(samples), FRAME_SAMPLES):
            terminal.rx(samples[start : start + FRAME_SAMPLES])

    def _on_page(self, report: PageReport) -> None:
        self._hooks.page_done(report)
        total = report.pages_in_file
        if total is None or report.page < total:
            self._hooks.page_started(report.page + 1, report.bit_rate)

    def _on_complete(self, report: CallReport) -> None:
        if self._finished_reported:
            return
        self._finished_reported = True
        # Called from inside fax_rx/fax_tx: the line must not free the terminal from here.
        if self._loop is not None:
            self._loop.call_soon(self._hooks.fax_finished, report)

    @property
    def answered(self) -> bool:
        return self.terminal is not None

    def stop(self) -> CallReport | None:
        """Stop the audio and end the fax call; its report (None if never answered)."""
        self._finished_reported = True
        if self.ticker is not None:
            self.ticker.stop()
        terminal = self.terminal
        if terminal is None:
            return None
        try:
            terminal.terminate()
        except Exception:  # ending must not fail; the report says what happened
            self._log.exception("terminating the fax engine failed")
        report = terminal.result()
        terminal.close()
        return report
