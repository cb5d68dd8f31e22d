"""The spandsp shared library (Debian `libspandsp2`, 0.0.6) loaded through ctypes.

Only the run-time library is needed: every prototype used is declared here, by hand, from the
0.0.6 headers (`/usr/include/spandsp/fax.h`, `t30.h`, `t30_api.h`, `t30_logging.h`,
`logging.h`). Declaring `argtypes`/`restype` for each function is what keeps 64-bit pointers from
being truncated to C `int` and lets ctypes reject a wrong argument before it reaches C.

The library is loaded once, lazily, by :func:`spandsp`; a missing library is a
:class:`FaxEngineError` that says which package to install.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any

from faxgate.errors import FaxCallError

LIBRARY_NAMES = ("libspandsp.so.2",)


class FaxEngineError(FaxCallError):
    """The fax engine itself cannot work (library missing, state not created, bad use)."""


class T30Stats(ctypes.Structure):
    """`t30_stats_t` of spandsp 0.0.6: fifteen C ints, in this order."""

    _fields_ = (
        ("bit_rate", ctypes.c_int),
        ("error_correcting_mode", ctypes.c_int),
        ("pages_tx", ctypes.c_int),
        ("pages_rx", ctypes.c_int),
        ("pages_in_file", ctypes.c_int),
        ("x_resolution", ctypes.c_int),
        ("y_resolution", ctypes.c_int),
        ("width", ctypes.c_int),
        ("length", ctypes.c_int),
        ("image_size", ctypes.c_int),
        ("encoding", ctypes.c_int),
        ("bad_rows", ctypes.c_int),
        ("longest_bad_row_run", ctypes.c_int),
        ("error_correcting_mode_retries", ctypes.c_int),
        ("current_status", ctypes.c_int),
    )


# Opaque states are plain void pointers: Python never looks inside them.
FaxStatePointer = ctypes.c_void_p
T30StatePointer = ctypes.c_void_p
LoggingStatePointer = ctypes.c_void_p

# int (*)(t30_state_t *, void *user_data, int result) — phase B and D in 0.0.6.
PhaseBHandler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
PhaseDHandler = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
# void (*)(t30_state_t *, void *user_data, int completion_code)
PhaseEHandler = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
# void (*)(int level, const char *text) — no user data, so one closure per terminal.
MessageHandler = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p)

_INT = ctypes.c_int
_VOIDP = ctypes.c_void_p
_CHARP = ctypes.c_char_p
_INT16P = ctypes.POINTER(ctypes.c_int16)

# name -> (restype, argtypes). Every function faxgate calls, and nothing else.
PROTOTYPES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    # fax.h
    "fax_init": (FaxStatePointer, (_VOIDP, _INT)),
    "fax_free": (_INT, (FaxStatePointer,)),
    "fax_rx": (_INT, (FaxStatePointer, _INT16P, _INT)),
    "fax_rx_fillin": (_INT, (FaxStatePointer, _INT)),
    "fax_tx": (_INT, (FaxStatePointer, _INT16P, _INT)),
    "fax_set_transmit_on_idle": (None, (FaxStatePointer, _INT)),
    "fax_set_tep_mode": (None, (FaxStatePointer, _INT)),
    "fax_get_t30_state": (T30StatePointer, (FaxStatePointer,)),
    "fax_get_logging_state": (LoggingStatePointer, (FaxStatePointer,)),
    # t30.h / t30_api.h
    "t30_get_logging_state": (LoggingStatePointer, (T30StatePointer,)),
    "t30_set_tx_file": (None, (T30StatePointer, _CHARP, _INT, _INT)),
    "t30_set_rx_file": (None, (T30StatePointer, _CHARP, _INT)),
    "t30_set_tx_ident": (_INT, (T30StatePointer, _CHARP)),
    "t30_get_rx_ident": (_CHARP, (T30StatePointer,)),
    "t30_set_tx_page_header_info": (_INT, (T30StatePointer, _CHARP)),
    "t30_set_tx_page_header_tz": (_INT, (T30StatePointer, _CHARP)),
    "t30_set_ecm_capability": (_INT, (T30StatePointer, _INT)),
    "t30_set_supported_modems": (_INT, (T30StatePointer, _INT)),
    "t30_set_supported_compressions": (_INT, (T30StatePointer, _INT)),
    "t30_set_supported_resolutions": (_INT, (T30StatePointer, _INT)),
    "t30_set_supported_image_sizes": (_INT, (T30StatePointer, _INT)),
    "t30_set_phase_b_handler": (None, (T30StatePointer, PhaseBHandler, _VOIDP)),
    "t30_set_phase_d_handler": (None, (T30StatePointer, PhaseDHandler, _VOIDP)),
    "t30_set_phase_e_handler": (None, (T30StatePointer, PhaseEHandler, _VOIDP)),
    "t30_get_transfer_statistics": (None, (T30StatePointer, ctypes.POINTER(T30Stats))),
    "t30_call_active": (_INT, (T30StatePointer,)),
    "t30_terminate": (None, (T30StatePointer,)),
    # t30_logging.h
    "t30_completion_code_to_str": (_CHARP, (_INT,)),
    "t30_frametype": (_CHARP, (ctypes.c_uint8,)),
    # logging.h
    "span_log_set_level": (_INT, (LoggingStatePointer, _INT)),
    "span_log_set_tag": (_INT, (LoggingStatePointer, _CHARP)),
    "span_log_set_message_handler": (None, (LoggingStatePointer, MessageHandler)),
}


class SpanDSP:
    """The loaded library with every function of :data:`PROTOTYPES` declared."""

    def __init__(self, cdll: ctypes.CDLL) -> None:
        self.cdll = cdll
        for name, (restype, argtypes) in PROTOTYPES.items():
            try:
                function = getattr(cdll, name)
            except AttributeError as exc:
                raise FaxEngineError(
                    f"The installed spandsp library lacks {name}(); faxgate needs spandsp 0.0.6."
                ) from exc
            function.restype = restype
            function.argtypes = argtypes

    def __getattr__(self, name: str) -> Any:
        # Only declared functions are reachable: an undeclared one would default to int/int.
        if name in PROTOTYPES:
            return getattr(self.cdll, name)
        raise AttributeError(name)

    def completion_code_text(self, code: int) -> str:
        """spandsp's own English text for a T.30 completion code."""
        text: bytes | None = self.cdll.t30_completion_code_to_str(code)
        return text.decode("ascii", "replace") if text else f"completion code {code}"


def load(names: tuple[str, ...] = LIBRARY_NAMES) -> SpanDSP:
    """Load spandsp from the first of `names` that the dynamic linker finds."""
    errors: list[str] = []
    for name in names:
        try:
            return SpanDSP(ctypes.CDLL(name))
        except OSError as exc:
            errors.append(str(exc))
    raise FaxEngineError(
        "The fax engine cannot start: the spandsp library (Debian package libspandsp2) is not "
        "installed. " + "; ".join(errors)
    )


@functools.cache
def spandsp() -> SpanDSP:
    """The process-wide spandsp library (loaded on first use)."""
    return load()
