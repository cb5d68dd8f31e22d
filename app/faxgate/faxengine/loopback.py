"""Fax a TIFF from one in-process terminal to another: proof that spandsp sends a document.

Two :class:`FaxTerminal` s are pumped against each other, 160 samples (one 20 ms frame) a step in
both directions, optionally through a G.711 round trip and with 20 ms frames dropped at random (a
seeded RNG, so a failure can be replayed). No clock and no sockets: a page takes a few
hundredths of a second of wall time for about 20–50 s of line time. The conversion tests use this
to prove that a converted document is accepted, transmitted and received unchanged.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from faxgate.faxengine.codes import FRAME_SAMPLES, SAMPLE_RATE
from faxgate.faxengine.g711 import Codec, round_trip
from faxgate.faxengine.reports import CallReport
from faxgate.faxengine.terminal import FaxTerminal

# A few minutes of line time is far beyond any test document; spandsp's own T.30 timers end a
# stuck call well before this, so reaching it means the pair is wedged (it is then terminated).
DEFAULT_MAX_LINE_SECONDS = 900.0
# When one end has finished, a real call is hung up; the other end gets this much line time to
# finish on its own first (it normally needs well under a second to take the final DCN).
# spandsp does not bound it by itself: a receiver whose sender gave up in training waits forever.
HANGUP_GRACE_SECONDS = 5.0


class LossFill(enum.Enum):
    """What the receiving terminal is given in place of a lost 20 ms frame."""

    SILENCE = "silence"  # 160 zero samples, what a plain audio path plays
    FILLIN = "fillin"  # fax_rx_fillin(): spandsp keeps time without made-up audio


@dataclass(frozen=True)
class LineModel:
    """What happens to audio between the two terminals."""

    codec: Codec = Codec.SLINEAR
    drop_rate: float = 0.0  # share of 20 ms frames lost, each direction independently
    seed: int = 0
    loss_fill: LossFill = LossFill.FILLIN

    def __post_init__(self) -> None:
        if not 0.0 <= self.drop_rate < 1.0:
            raise ValueError(f"drop_rate must be in [0, 1), not {self.drop_rate}")


class _Line:
    """One direction of the line: codec round trip and frame loss, delivered to a terminal."""

    def __init__(self, model: LineModel, rng: np.random.Generator) -> None:
        self._model = model
        self._rng = rng
        self._silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        self.dropped = 0

    def deliver(self, frame: npt.NDArray[np.int16], to: FaxTerminal) -> None:
        if self._model.drop_rate and self._rng.random() < self._model.drop_rate:
            self.dropped += 1
            if self._model.loss_fill is LossFill.FILLIN:
                to.rx_fillin(len(frame))
            else:
                to.rx(self._silence[: len(frame)])
            return
        to.rx(round_trip(frame, self._model.codec))


@dataclass(frozen=True)
class LoopbackResult:
    """Both ends' records of a loopback fax, with what the line did."""

    sender: CallReport
    receiver: CallReport
    steps: int  # 20 ms frames pumped each way
    frames_dropped: int  # both directions
    wall_seconds: float
    hit_step_limit: bool  # True if neither end finished within max_line_seconds (a wedge)

    @property
    def succeeded(self) -> bool:
        """True when both ends agree the document went through."""
        return self.sender.succeeded and self.receiver.succeeded

    @property
    def line_seconds(self) -> float:
        """Line time of the call."""
        return self.steps * FRAME_SAMPLES / SAMPLE_RATE


def transfer(
    src_tiff: Path,
    dst_tiff: Path,
    *,
    ecm: bool = True,
    header: str | None = None,
    sender_ident: str = "faxgate sender",
    receiver_ident: str = "faxgate receiver",
    line: LineModel | None = None,
    sender_calls: bool = True,
    max_line_seconds: float = DEFAULT_MAX_LINE_SECONDS,
    sender_options: dict[str, Any] | None = None,
    receiver_options: dict[str, Any] | None = None,
    logger: logging.Logger | None = None,
) -> LoopbackResult:
    """Fax `src_tiff` from a sender terminal to a receiver terminal that writes `dst_tiff`.

    Returns when both ends reached phase E. Like a real call, the line is hung up
    :data:`HANGUP_GRACE_SECONDS` after the first end finished, and never later than
    `max_line_seconds`; an end still running then is terminated, which ends it with a
    call-dropped outcome. It never hangs. `header=None`
    sends pages without a header line, so the received pages equal the sent ones exactly.
    `sender_options`/`receiver_options` go to :class:`FaxTerminal` (modems, compressions,
    resolutions, image_sizes …).
    """
    model = line if line is not None else LineModel()
    rng = np.random.default_rng(model.seed)
    forward, backward = _Line(model, rng), _Line(model, rng)
    max_steps = int(max_line_seconds * SAMPLE_RATE / FRAME_SAMPLES)
    started = time.perf_counter()
    common: dict[str, Any] = {"logger": logger} if logger is not None else {}
    with (
        FaxTerminal.sender(
            src_tiff,
            sender_ident,
            header,
            ecm=ecm,
            calling=sender_calls,
            log_tag="loopback-sender",
            **common,
            **(sender_options or {}),
        ) as sender,
        FaxTerminal.receiver(
            dst_tiff,
            receiver_ident,
            ecm=ecm,
            calling=not sender_calls,
            log_tag="loopback-receiver",
            **common,
            **(receiver_options or {}),
        ) as receiver,
    ):
        steps = 0
        grace_steps = int(HANGUP_GRACE_SECONDS * SAMPLE_RATE / FRAME_SAMPLES)
        hangup_at: int | None = None
        while not (sender.finished and receiver.finished) and steps < max_steps:
            if hangup_at is None and (sender.finished or receiver.finished):
                hangup_at = steps + grace_steps
            if hangup_at is not None and steps >= hangup_at:
                break  # the finished end has hung up: the other is terminated below
            to_receiver = sender.tx()
            to_sender = receiver.tx()
            forward.deliver(to_receiver, receiver)
            backward.deliver(to_sender, sender)
            steps += 1
        hit_limit = steps >= max_steps and not (sender.finished and receiver.finished)
        sender.terminate()
        receiver.terminate()
        return LoopbackResult(
            sender=sender.result(),
            receiver=receiver.result(),
            steps=steps,
            frames_dropped=forward.dropped + backward.dropped,
            wall_seconds=time.perf_counter() - started,
            hit_step_limit=hit_limit,
        )
