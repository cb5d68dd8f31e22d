"""The fax engine: spandsp (Debian `libspandsp2`) fax terminals through ctypes.

- :class:`FaxTerminal` — one end of one fax call, fed and drained 20 ms of audio at a time;
- :class:`CallReport` / :class:`PageReport` — what a call and each page did;
- :class:`Outcome` and :func:`classify_completion` — what a finished call means for the scheduler;
- :func:`transfer` — an in-process sender→receiver fax, the proof a document can be sent;
- :func:`pages_equal` — the received pages compared with the sent ones;
- :func:`check_sendable` — both in one call: is this TIFF sendable, page for page?

See docs/fax-engine.md.
"""

from faxgate.faxengine.compare import pages_equal
from faxgate.faxengine.g711 import Codec
from faxgate.faxengine.library import FaxEngineError
from faxgate.faxengine.loopback import LineModel, LoopbackResult, transfer
from faxgate.faxengine.outcomes import (
    Outcome,
    OutcomeInfo,
    classify_completion,
    classify_hangup_cause,
)
from faxgate.faxengine.reports import CallReport, PageReport, Role
from faxgate.faxengine.sendable import SendCheck, check_sendable
from faxgate.faxengine.terminal import FaxTerminal

__all__ = [
    "CallReport",
    "Codec",
    "FaxEngineError",
    "FaxTerminal",
    "LineModel",
    "LoopbackResult",
    "Outcome",
    "OutcomeInfo",
    "PageReport",
    "Role",
    "SendCheck",
    "check_sendable",
    "classify_completion",
    "classify_hangup_cause",
    "pages_equal",
    "transfer",
]
