"""Reliable delivery of full frames on one IAX2 dialog (a call or a registration exchange).

`Dialog` numbers the frames we send (OSeqno), tracks the next frame we expect (ISeqno), keeps
every reliable frame until the peer acknowledges it (explicitly by ACK or implicitly by any frame
whose ISeqno has moved past it, RFC 5456 7), retransmits with exponential backoff, answers
out-of-order frames with VNAK and re-sends on VNAK. It never reads a clock: every method takes
`now` (seconds, any monotonic origin).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from faxgate.iax2.constants import NON_SEQUENCED_SUBCLASSES, FrameType, IaxSubclass
from faxgate.iax2.events import Address, Transmit
from faxgate.iax2.frames import FullFrame
from faxgate.iax2.ies import InformationElements

# Messages the state machines answer with a defined response, which is the acknowledgement
# (RFC 5456 6.9.1); every other sequenced full frame gets an explicit ACK from `receive`.
IMPLICITLY_ACKNOWLEDGED = frozenset(
    {
        IaxSubclass.NEW,
        IaxSubclass.PING,
        IaxSubclass.POKE,
        IaxSubclass.LAGRQ,
        IaxSubclass.AUTHREQ,
        IaxSubclass.AUTHREP,
        IaxSubclass.REGREQ,
        IaxSubclass.REGAUTH,
        IaxSubclass.REGREL,
    }
)


@dataclass(frozen=True)
class RetransmitPolicy:
    """When to resend an unacknowledged full frame and when to give the dialog up.

    RFC 5456 7.2.1 starts at twice the measured round trip and caps at 10 s; on a LAN we start
    at `initial` until a PING/PONG measured better, double each time, and give up after
    `attempts` retransmissions (RFC default 4; a fax call prefers a little more patience).
    """

    initial: float = 0.5
    minimum: float = 0.1
    maximum: float = 4.0
    attempts: int = 6


@dataclass
class _Pending:
    frame: FullFrame
    due: float
    interval: float
    retries: int = 0


def _is_sequenced(frame: FullFrame) -> bool:
    return not (frame.frame_type == FrameType.IAX and frame.subclass in NON_SEQUENCED_SUBCLASSES)


@dataclass
class Received:
    """What `Dialog.receive` decided: whether the frame is new (act on it) and what to send."""

    deliver: bool
    outputs: list[Transmit] = field(default_factory=list)


class Dialog:
    """Sequence numbers, timestamps, acknowledgement and retransmission of one call leg."""

    def __init__(
        self,
        local_call: int,
        peer: Address,
        start: float,
        remote_call: int = 0,
        policy: RetransmitPolicy | None = None,
    ) -> None:
        self.local_call = local_call
        self.remote_call = remote_call
        self.peer = peer
        self.start = start
        self.policy = policy or RetransmitPolicy()
        self.oseqno = 0
        self.iseqno = 0
        self.last_timestamp = -1
        self.round_trip: float | None = None
        self.retransmissions = 0
        self._pending: list[_Pending] = []
        self._last_vnak = float("-inf")

    # -- sending ---------------------------------------------------------------------------

    def timestamp(self, now: float) -> int:
        """Milliseconds since the dialog started, strictly increasing across full frames."""
        elapsed = max(0, int((now - self.start) * 1000)) & 0xFFFFFFFF
        stamp = elapsed if elapsed > self.last_timestamp else self.last_timestamp + 1
        return stamp & 0xFFFFFFFF

    def send(
        self,
        frame_type: int,
        subclass: int,
        now: float,
        *,
        ies: InformationElements | None = None,
        payload: bytes = b"",
        timestamp: int | None = None,
    ) -> Transmit:
        """Build the next full frame of this dialog; reliable ones are kept until acknowledged."""
        stamp = self.timestamp(now) if timestamp is None else timestamp
        frame = FullFrame(
            source_call=self.local_call,
            destination_call=self.remote_call,
            timestamp=stamp,
            oseqno=self.oseqno,
            iseqno=self.iseqno,
            frame_type=frame_type,
            subclass=subclass,
            ies=ies or InformationElements(),
            payload=payload,
        )
        self.last_timestamp = max(self.last_timestamp, stamp)
        if _is_sequenced(frame):
            self.oseqno = (self.oseqno + 1) & 0xFF
            interval = self._first_interval()
            self._pending.append(_Pending(frame, now + interval, interval))
        return Transmit(frame, self.peer)

    def send_iax(
        self, subclass: IaxSubclass, now: float, ies: InformationElements | None = None
    ) -> Transmit:
        return self.send(FrameType.IAX, subclass, now, ies=ies)

    def ack(self, frame: FullFrame) -> Transmit:
        """An explicit ACK of `frame`: same timestamp, our current counters (RFC 5456 6.9.1)."""
        return self._unsequenced(IaxSubclass.ACK, frame.timestamp)

    def _unsequenced(self, subclass: IaxSubclass, timestamp: int) -> Transmit:
        frame = FullFrame(
            source_call=self.local_call,
            destination_call=self.remote_call,
            timestamp=timestamp,
            oseqno=self.oseqno,
            iseqno=self.iseqno,
            frame_type=FrameType.IAX,
            subclass=subclass,
        )
        return Transmit(frame, self.peer)

    def _first_interval(self) -> float:
        if self.round_trip is None:
            return self.policy.initial
        return min(self.policy.maximum, max(self.policy.minimum, 2 * self.round_trip))

    # -- receiving -------------------------------------------------------------------------

    def receive(self, frame: FullFrame, now: float) -> Received:
        """Account for one full frame of this dialog from the peer.

        Acknowledges what the frame's ISeqno covers; a new sequenced frame advances ISeqno and
        is acknowledged unless a defined response will do it; a duplicate is re-ACKed and
        not delivered; a frame from beyond a gap is answered with VNAK and not delivered.
        """
        if self.remote_call == 0 and frame.source_call:
            self.remote_call = frame.source_call
        self._acknowledge_up_to(frame.iseqno)
        if not _is_sequenced(frame):
            outputs: list[Transmit] = []
            if frame.is_iax(IaxSubclass.VNAK):
                outputs = self._resend_from(frame.iseqno, now)
            return Received(True, outputs)
        if frame.oseqno == self.iseqno:
            self.iseqno = (self.iseqno + 1) & 0xFF
            implicit = (
                frame.frame_type == FrameType.IAX and frame.subclass in IMPLICITLY_ACKNOWLEDGED
            )
            return Received(True, [] if implicit else [self.ack(frame)])
        behind = (self.iseqno - frame.oseqno) & 0xFF
        if 0 < behind <= 128:  # already had it: our ACK or response went missing
            return Received(False, [self.ack(frame)])
        if now - self._last_vnak < self.policy.minimum:
            return Received(False)
        self._last_vnak = now
        return Received(False, [self._unsequenced(IaxSubclass.VNAK, self.timestamp(now))])

    def _acknowledge_up_to(self, iseqno: int) -> None:
        sent_ahead = self.oseqno
        kept = []
        for pending in self._pending:
            distance = (iseqno - pending.frame.oseqno) & 0xFF
            outstanding = (sent_ahead - pending.frame.oseqno) & 0xFF
            if 0 < distance <= outstanding:
                continue
            kept.append(pending)
        if len(kept) < len(self._pending):
            # Progress: the peer is taking our frames, just not all yet (loss, reordering).
            # Giving up means `attempts` resends without any progress, not per frame: under
            # heavy reordering a go-back-N receiver takes one frame per round.
            for pending in kept:
                pending.retries = 0
        self._pending = kept

    def _resend_from(self, iseqno: int, now: float) -> list[Transmit]:
        """Answer a VNAK. The peer is evidently alive, so this neither backs off nor counts
        towards giving up: under reordering VNAKs come often, and counting them would end a
        healthy call."""
        outputs: list[Transmit] = []
        for pending in self._pending:
            if (pending.frame.oseqno - iseqno) & 0xFF < 128:
                pending.due = max(pending.due, now + pending.interval)
                outputs.append(self._mark_retransmitted(pending))
        return outputs

    def measured_round_trip(self, seconds: float) -> None:
        """Record a PING/PONG or LAGRQ/LAGRP round trip; later frames time out relative to it."""
        self.round_trip = seconds

    # -- time ------------------------------------------------------------------------------

    def tick(self, now: float) -> tuple[list[Transmit], bool]:
        """Retransmit what is due. Returns the datagrams and whether the dialog gave up."""
        outputs: list[Transmit] = []
        for pending in self._pending:
            if pending.due > now:
                continue
            if pending.retries >= self.policy.attempts:
                return outputs, True
            outputs.append(self._retransmit(pending, now))
        return outputs, False

    def _retransmit(self, pending: _Pending, now: float) -> Transmit:
        pending.retries += 1
        pending.interval = min(self.policy.maximum, pending.interval * 2)
        pending.due = now + pending.interval
        return self._mark_retransmitted(pending)

    def _mark_retransmitted(self, pending: _Pending) -> Transmit:
        self.retransmissions += 1
        pending.frame = dataclasses.replace(
            pending.frame, retransmission=True, destination_call=self.remote_call
        )
        return Transmit(pending.frame, self.peer)

    def next_deadline(self) -> float | None:
        """When `tick` next has work, so the daemon can sleep until then."""
        return min((pending.due for pending in self._pending), default=None)

    @property
    def unacknowledged(self) -> int:
        return len(self._pending)

    def reset(self, now: float) -> None:
        """Forget everything sent and received: used when a NEW is re-sent with a call token."""
        self.oseqno = self.iseqno = 0
        self.remote_call = 0
        self._pending.clear()
        self.last_timestamp = -1
        self.start = now
