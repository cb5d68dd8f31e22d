"""One fax endpoint of one call: a spandsp `fax_state_t` that turns audio into pages and back.

A :class:`FaxTerminal` is sans-io: the caller moves audio. Every 20 ms it hands the terminal
the samples that came from the line (:meth:`FaxTerminal.rx`) and asks for the samples to put on
the line (:meth:`FaxTerminal.tx`). Line time is counted in samples (8000 a second), never read
from a clock, so a call pumped in-process runs hundreds of times faster than real time and a
call on a real line keeps real time.

spandsp reports progress through C callbacks (phase B: the far end identified itself; phase D:
a page finished; phase E: the call ended). They are turned into :class:`PageReport` and
:class:`CallReport` values and handed to the optional Python callbacks; an exception raised by
one of those is re-raised from the :meth:`rx`/:meth:`tx` call that triggered it.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from PIL import Image

from faxgate.faxengine.codes import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    Compression,
    ImageSize,
    Modem,
    Resolution,
    SpanLogLevel,
    T30Error,
)
from faxgate.faxengine.library import (
    FaxEngineError,
    PhaseBHandler,
    PhaseDHandler,
    PhaseEHandler,
    SpanDSP,
    T30Stats,
    spandsp,
)
from faxgate.faxengine.outcomes import classify_completion
from faxgate.faxengine.reports import CallReport, PageReport, Role
from faxgate.faxengine.spanlog import route_span_logs

LOGGER_NAME = "faxengine"
MAX_IDENT_LENGTH = 20  # T30_MAX_IDENT_LEN
MAX_HEADER_LENGTH = 50  # T30_MAX_PAGE_HEADER_INFO

ALL_MODEMS = Modem.V17 | Modem.V29 | Modem.V27TER
ALL_COMPRESSIONS = Compression.T4_1D | Compression.T4_2D | Compression.T6
ALL_RESOLUTIONS = (
    Resolution.STANDARD | Resolution.FINE | Resolution.SUPERFINE | Resolution.R8 | Resolution.R16
)
# A4-width machines (1728 px) with any page length: what practically every fax machine takes.
A4_WIDTH_ANY_LENGTH = (
    ImageSize.WIDTH_215MM
    | ImageSize.UNLIMITED_LENGTH
    | ImageSize.A4_LENGTH
    | ImageSize.B4_LENGTH
    | ImageSize.US_LETTER_LENGTH
    | ImageSize.US_LEGAL_LENGTH
)

Samples = npt.NDArray[np.int16]
SampleInput = bytes | bytearray | memoryview | Samples


def _ident_bytes(value: str, what: str, limit: int) -> bytes:
    try:
        encoded = value.encode("ascii")
    except UnicodeEncodeError as exc:
        raise FaxEngineError(f"The fax {what} {value!r} may only use plain ASCII letters.") from exc
    if len(encoded) > limit or not encoded.isascii() or not value.isprintable():
        raise FaxEngineError(
            f"The fax {what} {value!r} must be at most {limit} printable characters."
        )
    return encoded


def _count_pages(path: Path) -> int:
    """Pages in a TIFF (0 if it cannot be read: spandsp will then report the file error)."""
    try:
        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1))
    except (OSError, ValueError):
        return 0


PageCallback = Callable[[PageReport], None]
IdentCallback = Callable[[str], None]
CompletionCallback = Callable[[CallReport], None]


class FaxTerminal:
    """A spandsp audio fax terminal for one call (use :meth:`sender` or :meth:`receiver`).

    Always closed: use it as a context manager or call :meth:`close`, which frees the C state.
    """

    def __init__(
        self,
        role: Role,
        path: Path,
        *,
        ident: str = "",
        header: str | None = None,
        header_timezone: str | None = None,
        calling: bool,
        ecm: bool = True,
        modems: Modem = ALL_MODEMS,
        compressions: Compression = ALL_COMPRESSIONS,
        resolutions: Resolution = ALL_RESOLUTIONS,
        image_sizes: ImageSize = A4_WIDTH_ANY_LENGTH,
        tep: bool = False,
        on_remote_ident: IdentCallback | None = None,
        on_page: PageCallback | None = None,
        on_complete: CompletionCallback | None = None,
        logger: logging.Logger | None = None,
        log_tag: str | None = None,
        span_log_level: SpanLogLevel | None = None,
        library: SpanDSP | None = None,
    ) -> None:
        self.role = role
        self.path = path
        self.local_ident = ident
        self.log_tag = log_tag or role.value
        self._lib = library if library is not None else spandsp()
        self._logger = logger if logger is not None else logging.getLogger(LOGGER_NAME)
        self._on_remote_ident = on_remote_ident
        self._on_page = on_page
        self._on_complete = on_complete
        ident_c = _ident_bytes(ident, "identity (TSI/CSI)", MAX_IDENT_LENGTH)
        if role is Role.SENDER and not path.is_file():
            raise FaxEngineError(f"The document to fax does not exist: {path}")
        self._header_template = header
        self._document_pages = _count_pages(path) if header and "{pages}" in header else 0
        header_c = None if header is None else self._header_for_page(1)
        if header is not None:
            self._header_for_page(max(self._document_pages, 1))  # the longest: checked now

        self._samples_in = 0
        self._samples_out = 0
        self._phase_b_samples: int | None = None
        self._remote_ident = ""
        self._pages: list[PageReport] = []
        self._report: CallReport | None = None
        self._callback_error: BaseException | None = None
        # Buffers spandsp reads from or writes into; it modifies rx audio in place (DC restore).
        self._rx_buffer = (ctypes.c_int16 * FRAME_SAMPLES)()
        self._tx_buffer = (ctypes.c_int16 * FRAME_SAMPLES)()
        self._t30: int = 0

        state = self._lib.fax_init(None, 1 if calling else 0)
        if not state:
            raise FaxEngineError("The fax engine could not create a fax terminal.")
        self._state: int | None = state
        try:
            self._t30 = self._lib.fax_get_t30_state(state)
            self._keep_alive: list[Any] = []  # C holds pointers to these: they must outlive it
            self._setup_logging(span_log_level)
            self._lib.fax_set_transmit_on_idle(state, 1)
            self._lib.fax_set_tep_mode(state, 1 if tep else 0)
            self._setup_t30(ident_c, header_c, header_timezone, ecm, modems, compressions)
            self._lib.t30_set_supported_resolutions(self._t30, int(resolutions))
            self._lib.t30_set_supported_image_sizes(self._t30, int(image_sizes))
            self._setup_handlers()
        except BaseException:
            self.close()
            raise

    # -- construction helpers -------------------------------------------------------------

    @classmethod
    def sender(
        cls,
        tiff_path: Path,
        ident: str = "",
        header: str | None = None,
        *,
        ecm: bool = True,
        calling: bool = True,
        **options: Any,
    ) -> FaxTerminal:
        """A terminal that sends the pages of the TIFF-F `tiff_path` (the calling side by default).

        `header` is the text spandsp prints in the line at the top of every page, between the
        date and `ident` (spandsp adds "p.N" at the right); `{page}` and `{pages}` in it are
        replaced by the page number and the document's page count, page by page. None prints
        no header line.
        """
        return cls(
            Role.SENDER, tiff_path, ident=ident, header=header, calling=calling, ecm=ecm, **options
        )

    @classmethod
    def receiver(
        cls,
        out_tiff_path: Path,
        ident: str = "",
        *,
        ecm: bool = True,
        calling: bool = False,
        **options: Any,
    ) -> FaxTerminal:
        """A terminal that receives pages into `out_tiff_path` (the answering side by default)."""
        return cls(Role.RECEIVER, out_tiff_path, ident=ident, calling=calling, ecm=ecm, **options)

    def _setup_logging(self, span_log_level: SpanLogLevel | None) -> None:
        assert self._state is not None
        self._keep_alive += route_span_logs(
            self._lib,
            (
                self._lib.fax_get_logging_state(self._state),
                self._lib.t30_get_logging_state(self._t30),
            ),
            self._logger,
            self.log_tag,
            span_log_level,
        )

    def _setup_t30(
        self,
        ident: bytes,
        header: bytes | None,
        header_timezone: str | None,
        ecm: bool,
        modems: Modem,
        compressions: Compression,
    ) -> None:
        lib, t30 = self._lib, self._t30
        path = str(self.path).encode()
        if self.role is Role.SENDER:
            lib.t30_set_tx_file(t30, path, -1, -1)
        else:
            lib.t30_set_rx_file(t30, path, -1)
        if ident:
            lib.t30_set_tx_ident(t30, ident)
        if header is not None:
            lib.t30_set_tx_page_header_info(t30, header)
        if header_timezone is not None:
            tz_buffer = ctypes.create_string_buffer(header_timezone.encode("ascii"))
            self._keep_alive.append(tz_buffer)
            lib.t30_set_tx_page_header_tz(t30, tz_buffer)
        lib.t30_set_ecm_capability(t30, 1 if ecm else 0)
        lib.t30_set_supported_modems(t30, int(modems))
        lib.t30_set_supported_compressions(t30, int(compressions))

    def _setup_handlers(self) -> None:
        phase_b = PhaseBHandler(self._guarded(self._handle_phase_b, 0))
        phase_d = PhaseDHandler(self._guarded(self._handle_phase_d, 0))
        phase_e = PhaseEHandler(self._guarded(self._handle_phase_e, None))
        self._keep_alive += [phase_b, phase_d, phase_e]
        self._lib.t30_set_phase_b_handler(self._t30, phase_b, None)
        self._lib.t30_set_phase_d_handler(self._t30, phase_d, None)
        self._lib.t30_set_phase_e_handler(self._t30, phase_e, None)

    def _guarded(self, handler: Callable[[int], None], result: Any) -> Callable[..., Any]:
        """Wrap a handler so no Python exception ever unwinds into C; it is re-raised later."""

        def call(_t30: Any, _user_data: Any, value: int) -> Any:
            try:
                handler(value)
            except BaseException as exc:  # re-raised from rx()/tx(), never into C
                if self._callback_error is None:
                    self._callback_error = exc
            return result

        return call

    def _header_for_page(self, page: int) -> bytes:
        assert self._header_template is not None
        text = self._header_template.replace("{pages}", str(self._document_pages or "?"))
        text = text.replace("{page}", str(page))
        return _ident_bytes(text, "header line", MAX_HEADER_LENGTH)

    # -- spandsp callbacks ------------------------------------------------------------------

    def _stats(self) -> T30Stats:
        stats = T30Stats()
        self._lib.t30_get_transfer_statistics(self._t30, ctypes.byref(stats))
        return stats

    @property
    def _line_samples(self) -> int:
        return max(self._samples_in, self._samples_out)

    def _read_remote_ident(self) -> str:
        raw: bytes | None = self._lib.t30_get_rx_ident(self._t30)
        return raw.decode("latin-1").strip() if raw else ""

    def _frame_name(self, frame_type: int) -> str:
        name: bytes | None = self._lib.t30_frametype(frame_type & 0xFF)
        return name.decode("ascii", "replace") if name else f"0x{frame_type:02x}"

    def _handle_phase_b(self, frame_type: int) -> None:
        if self._phase_b_samples is None:
            self._phase_b_samples = self._line_samples
        ident = self._read_remote_ident()
        if ident != self._remote_ident:
            self._remote_ident = ident
            self._logger.info(
                "%s: remote ident %r (%s)", self.log_tag, ident, self._frame_name(frame_type)
            )
            if self._on_remote_ident is not None:
                self._on_remote_ident(ident)

    def _handle_phase_d(self, frame_type: int) -> None:
        # Per-page figures must be read here: after phase E spandsp resets length and size.
        page = PageReport.from_stats(self.role, self._stats(), self._line_samples)
        if self._header_template is not None and "{page" in self._header_template:
            # spandsp renders each page's header from this buffer when the page starts, so
            # setting it now numbers the next page (or this one again, if it is repeated).
            self._lib.t30_set_tx_page_header_info(self._t30, self._header_for_page(page.page + 1))
        if page.page == 0 or (self._pages and self._pages[-1].page == page.page):
            return  # phase D repeats for a page that was not confirmed (RTN / retrain)
        self._pages.append(page)
        self._logger.info(
            "%s: page %d done (%s): %d bit/s, ECM %s, %s, %s, %d rows",
            self.log_tag,
            page.page,
            self._frame_name(frame_type),
            page.bit_rate,
            "on" if page.ecm else "off",
            page.resolution,
            page.encoding,
            page.length,
        )
        if self._on_page is not None:
            self._on_page(page)

    def _handle_phase_e(self, completion_code: int) -> None:
        self._report = self._build_report(completion_code)
        self._logger.info(
            "%s: call ended: %s (%s), %d page(s)",
            self.log_tag,
            self._report.completion_text,
            self._report.outcome.value,
            self._report.pages,
        )
        if self._on_complete is not None:
            self._on_complete(self._report)

    def _build_report(self, completion_code: int | None) -> CallReport:
        if self._remote_ident == "":
            self._remote_ident = self._read_remote_ident()
        stats = self._stats()
        if completion_code is None:
            # The line went away (or the terminal was closed) before spandsp ended the call.
            info = classify_completion(T30Error.CALLDROPPED)
            text = "the call ended before the fax engine finished"
        else:
            info = classify_completion(completion_code)
            text = self._lib.completion_code_text(completion_code)
        pages = stats.pages_tx if self.role is Role.SENDER else stats.pages_rx
        pages_in_file = stats.pages_in_file if stats.pages_in_file >= 0 else None
        line_samples = self._line_samples
        start = self._phase_b_samples if self._phase_b_samples is not None else line_samples
        # Line figures describe the last page transferred; a call without one has none.
        last = self._pages[-1] if self._pages else None
        return CallReport(
            role=self.role,
            outcome=info.outcome,
            completion_code=completion_code,
            completion_text=text,
            message=info.message,
            retryable=info.retryable,
            local_ident=self.local_ident,
            remote_ident=self._remote_ident,
            pages=pages,
            pages_in_file=pages_in_file if self.role is Role.SENDER else None,
            bit_rate=last.bit_rate if last else 0,
            ecm=last.ecm if last else False,
            resolution=last.resolution if last else "",
            encoding=last.encoding if last else "",
            line_seconds=line_samples / SAMPLE_RATE,
            fax_seconds=(line_samples - start) / SAMPLE_RATE,
            page_reports=tuple(self._pages),
        )

    # -- the audio path ---------------------------------------------------------------------

    def _live_state(self) -> int:
        if self._state is None:
            raise FaxEngineError("This fax terminal is closed.")
        return self._state

    def _raise_callback_error(self) -> None:
        if self._callback_error is not None:
            error, self._callback_error = self._callback_error, None
            raise error

    def rx(self, samples: SampleInput) -> None:
        """Feed audio received from the line: up to 160 native-endian signed 16-bit samples."""
        state = self._live_state()
        if isinstance(samples, np.ndarray):
            frame = np.ascontiguousarray(samples, dtype=np.int16)
        else:
            if len(samples) % 2:
                raise FaxEngineError("rx takes 16-bit samples: an even number of bytes")
            frame = np.frombuffer(samples, dtype=np.int16)
        count = len(frame)
        if count > FRAME_SAMPLES:
            raise FaxEngineError(f"rx takes at most {FRAME_SAMPLES} samples, got {count}")
        ctypes.memmove(self._rx_buffer, frame.ctypes.data, count * 2)
        self._lib.fax_rx(state, self._rx_buffer, count)
        self._samples_in += count
        self._raise_callback_error()

    def rx_fillin(self, count: int = FRAME_SAMPLES) -> None:
        """Tell spandsp that `count` samples were lost (a missing 20 ms frame).

        spandsp keeps its modems' timing running without being fed made-up audio, which
        disturbs an HDLC frame or an image line less than feeding silence would.
        """
        state = self._live_state()
        if not 0 < count <= FRAME_SAMPLES:
            raise FaxEngineError(f"rx_fillin takes 1 to {FRAME_SAMPLES} samples, not {count}")
        self._lib.fax_rx_fillin(state, count)
        self._samples_in += count
        self._raise_callback_error()

    def tx(self, count: int = FRAME_SAMPLES) -> Samples:
        """The next `count` (≤160) samples to send to the line (silence when there is nothing)."""
        state = self._live_state()
        if not 0 < count <= FRAME_SAMPLES:
            raise FaxEngineError(f"tx gives 1 to {FRAME_SAMPLES} samples, {count} were asked")
        produced = self._lib.fax_tx(state, self._tx_buffer, count)
        out = np.zeros(count, dtype=np.int16)
        if produced > 0:
            ctypes.memmove(out.ctypes.data, self._tx_buffer, produced * 2)
        self._samples_out += count
        self._raise_callback_error()
        return out

    def tx_bytes(self, count: int = FRAME_SAMPLES) -> bytes:
        """:meth:`tx` as native-endian bytes (2 × `count`)."""
        return self.tx(count).tobytes()

    # -- state ------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once spandsp reported the end of the call (phase E)."""
        return self._report is not None

    @property
    def remote_ident(self) -> str:
        """The far end's TSI/CSI, once phase B has passed ('' before)."""
        return self._remote_ident

    @property
    def pages(self) -> tuple[PageReport, ...]:
        """The pages finished so far."""
        return tuple(self._pages)

    @property
    def line_seconds(self) -> float:
        """Line time of the call so far (samples exchanged / 8000)."""
        return self._line_samples / SAMPLE_RATE

    def terminate(self) -> None:
        """End the fax call now (the line hung up or the job was aborted): phase E follows."""
        if self._state is not None and self._report is None:
            self._lib.t30_terminate(self._t30)
            self._raise_callback_error()

    def result(self) -> CallReport:
        """The call's record: the phase-E report, or a call-dropped report if phase E never came."""
        if self._report is not None:
            return self._report
        if self._state is None:
            raise FaxEngineError("This fax terminal was closed before its call ended.")
        return self._build_report(None)

    def close(self) -> None:
        """Free the spandsp state (idempotent). Ends an unfinished call first."""
        state, self._state = self._state, None
        if state is not None:
            if self._report is None and self._t30:
                try:
                    self._report = self._build_report(None)
                except Exception:  # closing must not fail
                    self._logger.exception("could not record the unfinished call")
            self._lib.fax_free(state)
            self._t30 = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # A safety net only: callers close terminals explicitly.
        if getattr(self, "_state", None) is not None:
            self.close()
