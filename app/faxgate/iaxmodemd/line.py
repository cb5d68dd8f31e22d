"""One virtual fax line: a UDP socket, an IAX2 endpoint, its registration and its one call.

The line parses nothing itself: datagrams go to the sans-io IAX2 endpoint (through
:mod:`faxgate.iaxmodemd.link`), whose outputs are datagrams to send and events. Events drive
the line's call: an answered call gets a :class:`FaxSession`, a finished fax hangs up, a hangup
ends the session and writes the result. The line wakes up for the endpoint's timers
(retransmissions, registration refresh) and for nothing else; audio runs on the session's own
20 ms clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from faxgate.errors import FaxgateError
from faxgate.faxengine import CallReport, FaxEngineError, Outcome, PageReport
from faxgate.faxengine.outcomes import classify_hangup_cause
from faxgate.iax2 import events as ev
from faxgate.iax2.constants import CauseCode
from faxgate.iax2.frames import MiniFrame
from faxgate.iaxmodemd.config import LinesConfig, TrunkMode
from faxgate.iaxmodemd.faxcall import CallParams, Direction, FaxSession, Samples, SessionHooks
from faxgate.iaxmodemd.link import TrunkLink
from faxgate.iaxmodemd.records import CallEnd
from faxgate.iaxmodemd.status import LineState, page_detail

if TYPE_CHECKING:
    from faxgate.iaxmodemd.daemon import Daemon

logger = logging.getLogger("iaxmodemd")

ANSWER_TIMEOUT_SECONDS = 60.0  # an outgoing call not answered by then: no answer
TIMER_IDLE_SECONDS = 1.0  # longest sleep between endpoint timer checks

Address = tuple[str, int]


@dataclass
class LineCall:
    """The call a line is on."""

    params: CallParams
    peer: Address
    call_id: int | None = None  # the endpoint's (local) call number
    ledger_id: asyncio.Future[int] | None = None
    session: FaxSession | None = None
    session_log: logging.Logger | None = None
    session_handler: logging.Handler | None = None
    log_name: str = ""
    started: float = field(default_factory=time.time)
    answered_at: float | None = None
    hangup_reason: str | None = None  # set when we end the call
    end_info: tuple[Outcome, str] | None = None  # telephony outcome when the fax never ran
    ended: bool = False
    answer_timer: asyncio.TimerHandle | None = None
    pages_done: int = 0
    frames_sent: int = 0  # 20 ms audio frames we sent, and how many of them late
    frames_late: int = 0


class _Hooks(SessionHooks):
    def __init__(self, line: Line, call: LineCall) -> None:
        self.line, self.call = line, call

    def remote_ident(self, ident: str) -> None:
        self.line.on_remote_ident(self.call, ident)

    def page_started(self, page: int, bit_rate: int) -> None:
        self.line.on_page_started(self.call, page, bit_rate)

    def page_done(self, report: PageReport) -> None:
        self.line.on_page_done(self.call, report)

    def fax_finished(self, report: CallReport) -> None:
        self.line.hang_up(self.call, "the fax call ended")

    def peer_silent(self, seconds: float) -> None:
        self.line.peer_lost(self.call, seconds)


class CallNotPlaced(FaxgateError):
    """A dial order could not be carried out on this line (the message says why)."""


WILDCARD_REACHED_AT = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


def reachable_host(bind: str) -> str:
    """The address a line bound to `bind` is reached at from this machine."""
    return WILDCARD_REACHED_AT.get(bind, bind)


class Line(asyncio.DatagramProtocol):
    """Line `name` of the daemon."""

    def __init__(self, name: str, config: LinesConfig, daemon: Daemon) -> None:
        self.name = name
        self.config = config
        self.daemon = daemon
        self.loop = asyncio.get_running_loop()
        # Where the socket binds, and where another line reaches it: a wildcard bind (0.0.0.0 in
        # the container) is reached on loopback, and the replies to a loopback call come from
        # there too. Dialling 0.0.0.0 would get answers from 127.0.0.1 that the call drops.
        self.bind_address: Address = (config.bind, config.port_of(name))
        self.address: Address = (reachable_host(config.bind), config.port_of(name))
        self.link = TrunkLink(self, config, self.loop.time)
        self.transport: asyncio.DatagramTransport | None = None
        self.call: LineCall | None = None
        # Chosen as the answering line of a loopback call in flight, until this loop time.
        self.reserved_until = 0.0
        self.registered_peer: Address | None = None  # who registered to us (registrar)
        self.registered = config.mode is not TrunkMode.REGISTER or config.server is None
        self._timer: asyncio.TimerHandle | None = None
        self.closing = False

    # -- life -----------------------------------------------------------------------------

    async def open(self) -> None:
        await self.loop.create_datagram_endpoint(lambda: self, local_addr=self.bind_address)
        if self.config.mode is TrunkMode.REGISTER and self.config.server is not None:
            self.daemon.set_status(self.name, LineState.REGISTERING, "registering")
            self.process(self.link.register(self.config.server))
        self._schedule_timer()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport is not a DatagramTransport subclass.
        self.transport = cast(asyncio.DatagramTransport, transport)

    @property
    def free(self) -> bool:
        return self.call is None and not self.reserved and not self.closing

    @property
    def reserved(self) -> bool:
        return self.loop.time() < self.reserved_until

    def reserve(self, seconds: float) -> None:
        """Keep the line for a loopback call that is on its way to it."""
        self.reserved_until = self.loop.time() + seconds

    async def close(self) -> None:
        """Hang up, release the registration, close the socket (bounded time)."""
        self.closing = True
        if self.call is not None:
            stopped = "The fax was interrupted because the fax line program (iaxmodemd) stopped."
            self.hang_up(
                self.call, "iaxmodemd is shutting down", (Outcome.PROTOCOL_FAILURE, stopped)
            )
        self.process(self.link.shutdown())
        for _ in range(20):  # wait up to 2 s for HANGUP/REGREL acknowledgements
            if self.link.idle():
                break
            await asyncio.sleep(0.1)
        if self.call is not None:
            self._finish(self.call)
        if self._timer is not None:
            self._timer.cancel()
        if self.transport is not None:
            self.transport.close()

    # -- the endpoint ---------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        source: Address = (str(addr[0]), int(str(addr[1])))
        self.process(self.link.datagram(data, source))

    def error_received(self, exc: Exception) -> None:
        logger.debug("line %s: socket error %s", self.name, exc)

    def process(self, outputs: list[ev.Output]) -> None:
        media_only = True
        for output in outputs:
            if isinstance(output, ev.Transmit):
                if self.transport is not None and not self.transport.is_closing():
                    self.transport.sendto(output.data, output.address)
                media_only = media_only and isinstance(output.frame, MiniFrame)
            elif isinstance(output, ev.AudioReceived):
                self._audio(output)
            else:
                media_only = False
                try:
                    self._event(output)
                except Exception:  # one bad event must not take the line down
                    logger.exception("line %s: handling %s failed", self.name, output)
        # Mini frames and audio leave the endpoint's timers as they were: skip the recomputation
        # 100 times a second per call (the timer fires at the latest every second anyway).
        if not media_only or not outputs:
            self._schedule_timer()

    def _audio(self, event: ev.AudioReceived) -> None:
        call = self.call
        if call is not None and call.session is not None and event.call_id == call.call_id:
            try:
                call.session.audio_in(event.samples, event.timestamp)
            except Exception:  # a fax engine error ends this call, not the line
                logger.exception("line %s: feeding audio to the fax engine failed", self.name)
                self.hang_up(
                    call, "fax engine error", (Outcome.LOCAL_ERROR, "The fax engine failed.")
                )

    def _schedule_timer(self) -> None:
        deadline = self.link.next_deadline()
        now = self.loop.time()
        when = now + TIMER_IDLE_SECONDS if deadline is None else min(deadline, now + 1.0)
        if self._timer is not None:
            if self._timer.when() <= when:
                return
            self._timer.cancel()
        self._timer = self.loop.call_at(max(when, now), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.process(self.link.tick())

    # -- events ---------------------------------------------------------------------------

    def _event(self, event: ev.Event) -> None:
        if isinstance(event, ev.AudioReceived):
            self._audio(event)
        elif isinstance(event, ev.IncomingCall):
            self._incoming(event)
        elif isinstance(event, ev.CallRinging):
            self._with_call(event, self._ringing)
        elif isinstance(event, ev.CallAnswered):
            self._with_call(event, self._answered)
        elif isinstance(event, ev.CallEnded):
            self._with_call(event, lambda call: self._remote_ended(call, event))
        elif isinstance(event, ev.Registered):
            self.registered = True
            logger.info("line %s: registered with %s:%d", self.name, *event.server)
            self._status_idle()
        elif isinstance(event, ev.RegistrationFailed):
            self.registered = False
            logger.warning("line %s: registration failed: %s", self.name, event.reason)
            if self.call is None:
                self.daemon.set_status(self.name, LineState.DOWN, f"not registered: {event.reason}")
        elif isinstance(event, ev.PeerRegistered):
            self.registered_peer = event.address
            logger.info(
                "line %s: %s registered from %s:%d", self.name, event.username, *event.address
            )
        elif isinstance(event, ev.PeerRegistrationRejected):
            logger.warning(
                "line %s: registration of %r from %s:%d refused: %s",
                self.name,
                event.username,
                *event.address,
                event.reason,
            )
        elif isinstance(event, ev.PeerUnregistered):
            if self.registered_peer == event.address:
                self.registered_peer = None
            logger.info("line %s: %s unregistered", self.name, event.username)

    def _with_call(self, event: ev.CallEvent, action: Callable[[LineCall], None]) -> None:
        call = self.call
        if call is None or call.call_id != event.call_id:
            return
        action(call)

    def may_call(self, source: Address) -> bool:
        """Access policy for the endpoint: may `source` ring this line now?"""
        from faxgate.iaxmodemd.policy import may_call

        return may_call(self.config, source, self.registered_peer)

    def _abandon(self, call: LineCall) -> None:
        """Forget a call that could not be set up, so the line is free again."""
        if call.session_handler is not None and call.session_log is not None:
            call.session_log.removeHandler(call.session_handler)
            call.session_handler.close()
        if self.call is call:
            self.call = None
        self._status_idle()

    def _status_idle(self) -> None:
        if self.call is None and not self.closing:
            self.daemon.set_status(self.name, LineState.IDLE, "idle")

    # -- outgoing -------------------------------------------------------------------------

    def dial(self, params: CallParams, peer: Address) -> None:
        """Place an outgoing fax call to `peer` (status, ledger row, NEW)."""
        call = LineCall(params=params, peer=peer)
        self.call = call
        try:
            self._open_records(call)
            self.daemon.set_status(
                self.name, LineState.DIALLING, f"dialling {params.number}", params.job
            )
            self._log(call, f"dialling {params.number} via {peer[0]}:{peer[1]}")
            call_id, outputs = self.link.dial(peer, params.number, calling_number=self.config.ident)
        except Exception as exc:
            # A call that never started must not keep the line taken (out of file handles, a
            # full log/, a ledger that refused the row): the line is free again and the dial
            # order is refused with the reason, which faxqueued retries.
            self._abandon(call)
            raise CallNotPlaced(f"line {self.name} could not place the call: {exc}") from exc
        call.call_id = call_id
        call.answer_timer = self.loop.call_later(ANSWER_TIMEOUT_SECONDS, self._answer_timeout, call)
        self.process(outputs)

    def _answer_timeout(self, call: LineCall) -> None:
        if call.ended or call.answered_at is not None:
            return
        self.hang_up(call, "no answer", (Outcome.NO_ANSWER, "The number did not answer."))

    def _ringing(self, call: LineCall) -> None:
        self._log(call, "ringing")
        self.daemon.publish(
            {
                "event": "ringing",
                "line": self.name,
                "job": call.params.job,
                "number": call.params.number,
            }
        )

    def _answered(self, call: LineCall) -> None:
        self._log(call, "answered")
        self._start_session(call)

    # -- incoming -------------------------------------------------------------------------

    def _incoming(self, event: ev.IncomingCall) -> None:
        if not self.free and not self.reserved:
            self.process(self.link.hangup(event.call_id, "busy", busy=True))
            return
        self.reserved_until = 0.0
        dnid = event.dnid or event.called_number
        receive_to = self.daemon.spool.tmp / f"receiving-line{self.name}-{time.monotonic_ns()}.tif"
        params = CallParams(
            direction=Direction.IN,
            line=self.name,
            number=dnid,
            caller_id=event.calling_number,
            job=None,
            document=receive_to,
            ident=self.config.ident,
            header=None,
            ecm=self.config.ecm,
        )
        call = LineCall(params=params, peer=event.peer, call_id=event.call_id)
        self.call = call
        try:
            self._open_records(call)
        except Exception:
            logger.exception("line %s: cannot take the incoming call", self.name)
            self._abandon(call)
            self.process(self.link.hangup(event.call_id, "temporary failure"))
            return
        caller = event.calling_number or event.peer[0]
        self._log(call, f"incoming call from {caller} for {dnid!r}")
        self.daemon.set_status(self.name, LineState.RECEIVING, f"receiving from {caller}")
        self.daemon.publish(
            {"event": "ringing", "line": self.name, "direction": "in", "dnid": dnid}
        )
        self.process(self.link.answer(event.call_id))  # CallAnswered starts the session

    # -- the fax session ------------------------------------------------------------------

    def _start_session(self, call: LineCall) -> None:
        if call.answer_timer is not None:
            call.answer_timer.cancel()
        call.answered_at = time.time()
        assert call.session_log is not None
        session = FaxSession(call.params, _Hooks(self, call), call.session_log)
        call.session = session
        self.daemon.publish(
            {
                "event": "connected",
                "line": self.name,
                "job": call.params.job,
                "direction": call.params.direction.value,
            }
        )
        call_id = call.call_id
        assert call_id is not None

        def send(samples: Samples, frame: int) -> None:
            if not call.ended:
                self.process(self.link.send_audio(call_id, samples))

        try:
            session.begin_audio(self.loop, send)
        except FaxEngineError as exc:
            self.hang_up(call, str(exc), (Outcome.LOCAL_ERROR, str(exc)))

    def on_remote_ident(self, call: LineCall, ident: str) -> None:
        self._log(call, f"remote ident {ident!r}")
        if call.params.direction is Direction.IN:
            self.daemon.set_status(self.name, LineState.RECEIVING, f"receiving from {ident}")

    def on_page_started(self, call: LineCall, page: int, bit_rate: int) -> None:
        if call.params.direction is Direction.IN:
            if page > 1:  # a receiver cannot know how many pages are coming
                who = (
                    call.session.terminal.remote_ident
                    if call.session and call.session.terminal
                    else ""
                )
                detail = f"receiving from {who or call.params.caller_id or 'unknown'}: "
                detail += f"{page - 1} page(s) at {bit_rate}"
                self.daemon.set_status(self.name, LineState.RECEIVING, detail)
            return
        session = call.session
        total = None
        if (
            session is not None
            and session.terminal is not None
            and call.params.direction is Direction.OUT
        ):
            pages = session.terminal.pages
            total = pages[-1].pages_in_file if pages else None
        self.daemon.set_status(
            self.name,
            LineState.SENDING,
            page_detail("sending", page, total, bit_rate),
            call.params.job,
        )

    def on_page_done(self, call: LineCall, report: PageReport) -> None:
        call.pages_done = report.page
        self._log(
            call,
            f"page {report.page} done at {report.bit_rate} bit/s, ECM {'on' if report.ecm else 'off'}",
        )
        self.daemon.publish(
            {
                "event": "page",
                "line": self.name,
                "job": call.params.job,
                "direction": call.params.direction.value,
                "page": report.page,
                "pages": report.pages_in_file,
                "bit_rate": report.bit_rate,
                "ecm": report.ecm,
            }
        )

    def peer_lost(self, call: LineCall, seconds: float) -> None:
        lost = f"The connection to the other side was lost (no sound for {seconds:.0f} seconds)."
        self.hang_up(call, "the other side went silent", (Outcome.PROTOCOL_FAILURE, lost))

    # -- ending ---------------------------------------------------------------------------

    def hang_up(
        self, call: LineCall, reason: str, outcome: tuple[Outcome, str] | None = None
    ) -> None:
        """We end the call: HANGUP to the peer, then the call's records.

        `outcome` is what to record if the fax did not complete (default: what spandsp says).
        """
        if call.ended or call.hangup_reason is not None:
            return
        if outcome is not None and call.end_info is None:
            call.end_info = outcome
        call.hangup_reason = reason
        self._log(call, f"hanging up: {reason}")
        if call.call_id is not None:
            self.process(self.link.hangup(call.call_id, reason))
        self._finish(call)

    def _remote_ended(self, call: LineCall, event: ev.CallEnded) -> None:
        if call.hangup_reason is not None:
            return  # our own HANGUP: hang_up() finishes the call
        self._log(
            call,
            f"call ended by {'the peer' if event.remote else 'the line'}: {event.reason} (cause {event.cause_code})",
        )
        if call.session is None or not call.session.answered:
            cause = event.cause_code
            if cause == CauseCode.NORMAL_CLEARING and "busy" in event.reason.lower():
                cause = CauseCode.USER_BUSY  # iaxmodem REJECTs with the text "Busy" only
            info = classify_hangup_cause(cause)
            outcome, message = info.outcome, info.message
            if not event.remote:  # our side gave up (retransmissions): the peer is unreachable
                outcome = Outcome.NO_ANSWER
                message = f"The other side could not be reached: {event.reason}."
            call.end_info = (outcome, message)
        elif not event.remote:
            # The fax was under way and the line lost the peer (silence, no acknowledgements).
            message = f"The connection to the other side was lost: {event.reason}."
            call.end_info = (Outcome.PROTOCOL_FAILURE, message)
        else:
            message = f"The other side hung up during the fax ({event.reason})."
            call.end_info = (Outcome.PROTOCOL_FAILURE, message)
        self._finish(call)

    def _finish(self, call: LineCall) -> None:
        if call.ended:
            return
        call.ended = True
        if call.answer_timer is not None:
            call.answer_timer.cancel()
        report = call.session.stop() if call.session is not None else None
        if report is not None and call.end_info is not None and report.outcome is not Outcome.DONE:
            end = CallEnd.from_report(report)
            end = CallEnd(
                call.end_info[0].value,
                call.end_info[1],
                end.reached_handshake,
                end.pages,
                end.remote_ident,
                end.bit_rate,
                end.ecm,
                end.resolution,
            )
        elif report is not None:
            end = CallEnd.from_report(report)
        else:
            outcome, message = call.end_info or (
                Outcome.PROTOCOL_FAILURE,
                f"The call ended before it was answered ({call.hangup_reason or 'hang-up'}).",
            )
            end = CallEnd(outcome.value, message, False, 0, "", None, None, None)
        if call.session is not None and call.session.ticker is not None:
            schedule = call.session.ticker.schedule
            self._log(
                call,
                f"audio: {schedule.sent} frames sent, {schedule.late} late, "
                f"{call.session.frames_in} received, {call.session.frames_filled} lost, "
                f"{call.session.frames_dropped_late} dropped late",
            )
            call.frames_sent, call.frames_late = schedule.sent, schedule.late
        self._log(call, f"IAX2 counters: {dict(self.link.endpoint.stats)}")
        self._log(call, f"result: {end.outcome}: {end.message} ({end.pages} page(s))")
        self.call = None
        self.daemon.call_finished(self, call, end, report)
        self._status_idle()

    # -- records --------------------------------------------------------------------------

    def _open_records(self, call: LineCall) -> None:
        call.log_name, call.session_log, call.session_handler = self.daemon.open_session_log(
            self.name
        )
        call.ledger_id = self.daemon.start_call_record(
            call.params, self.daemon.spool.log / call.log_name
        )

    def _log(self, call: LineCall, message: str) -> None:
        logger.info("line %s: %s", self.name, message)
        if call.session_log is not None:
            call.session_log.info("IAX2: %s", message)
