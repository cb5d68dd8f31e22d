"""What a finished fax call means for the scheduler: outcome classes and plain-words messages.

spandsp ends every call with a T.30 completion code (`T30_ERR_*`, see :class:`T30Error`). The
scheduler does not care which of sixty codes it was; it needs to know whether the fax went
through, whether trying again can help, and what to tell the person who sent it. This module is
pure: it maps codes (and, for calls that never reached the fax stage, Q.850 hang-up causes from
the telephony side) to an :class:`OutcomeInfo`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from faxgate.faxengine.codes import T30Error


class Outcome(enum.Enum):
    """The outcome classes the scheduler acts on."""

    DONE = "done"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    NO_FAX = "no_fax"  # answered, but no fax machine spoke (a person, a voicemail, a modem)
    PROTOCOL_FAILURE = "protocol_failure"  # the fax conversation broke down; worth another try
    REMOTE_REFUSED = "remote_refused"  # the far machine cannot take this document
    LOCAL_ERROR = "local_error"  # our side: the document file, memory, a misconfiguration


# Whether another attempt can help, per class; a code may override it (see _RETRYABLE_OVERRIDES).
RETRYABLE_BY_OUTCOME: dict[Outcome, bool] = {
    Outcome.DONE: False,
    Outcome.BUSY: True,
    Outcome.NO_ANSWER: True,
    Outcome.NO_FAX: True,
    Outcome.PROTOCOL_FAILURE: True,
    Outcome.REMOTE_REFUSED: False,
    Outcome.LOCAL_ERROR: False,
}


@dataclass(frozen=True)
class OutcomeInfo:
    """The meaning of one way a call ended."""

    outcome: Outcome
    message: str  # plain words for a notification mail or the admin page
    retryable: bool
    code: int | None = None  # the T.30 completion code, when the call reached the fax stage

    @property
    def succeeded(self) -> bool:
        """True when the document was transferred completely."""
        return self.outcome is Outcome.DONE


_E = T30Error
_P = Outcome.PROTOCOL_FAILURE
_R = Outcome.REMOTE_REFUSED
_L = Outcome.LOCAL_ERROR
_BROKE = "The fax connection broke down"

COMPLETION_CODES: dict[T30Error, tuple[Outcome, str]] = {
    _E.OK: (Outcome.DONE, "The fax was transferred successfully."),
    # Link problems
    _E.CEDTONE: (_P, "The other machine's answer tone went on too long; the call was abandoned."),
    _E.T0_EXPIRED: (
        Outcome.NO_FAX,
        "The call was answered, but no fax machine responded (a person or voicemail may have"
        " answered).",
    ),
    _E.T1_EXPIRED: (
        Outcome.NO_FAX,
        "The call was answered, but no fax machine responded in time.",
    ),
    _E.T3_EXPIRED: (_P, f"{_BROKE}: the other machine did not answer an operator request."),
    _E.HDLC_CARRIER: (_P, f"{_BROKE}: the other machine's signal did not stop when expected."),
    _E.CANNOT_TRAIN: (
        _P,
        "The two fax machines could not agree on a working speed; the line may be poor.",
    ),
    _E.OPER_INT_FAIL: (_P, f"{_BROKE}: an operator interrupt failed."),
    _E.INCOMPATIBLE: (_R, "The other fax machine is not compatible with this one."),
    _E.RX_INCAPABLE: (_R, "The other fax machine is not able to receive faxes."),
    _E.TX_INCAPABLE: (_R, "The other fax machine has nothing to send."),
    _E.NORESSUPPORT: (
        _R,
        "The other fax machine cannot receive at the document's resolution; try normal resolution.",
    ),
    _E.NOSIZESUPPORT: (
        _R,
        "The other fax machine cannot receive pages of this size (the pages must be 1728"
        " pixels, A4 width).",
    ),
    _E.UNEXPECTED: (_P, f"{_BROKE}: an unexpected message was received."),
    # Sender side
    _E.TX_BADDCS: (_P, f"{_BROKE}: the other machine rejected the speed training."),
    _E.TX_BADPG: (_P, "The other fax machine hung up after a page was sent."),
    _E.TX_ECMPHD: (_P, f"{_BROKE}: the error correction exchange failed."),
    _E.TX_GOTDCN: (_P, "The other fax machine hung up before the transfer started."),
    _E.TX_INVALRSP: (_P, f"{_BROKE}: the other machine gave an invalid answer after a page."),
    _E.TX_NODIS: (_P, f"{_BROKE}: the other machine did not announce its capabilities."),
    _E.TX_PHBDEAD: (_P, "The other fax machine stopped answering before the first page."),
    _E.TX_PHDDEAD: (_P, "The other fax machine stopped answering after a page was sent."),
    _E.TX_T5EXP: (_P, "The other fax machine stayed busy (not ready) for too long."),
    # Receiver side
    _E.RX_ECMPHD: (_P, f"{_BROKE}: the error correction exchange failed."),
    _E.RX_GOTDCS: (_P, f"{_BROKE}: the sender sent settings when a poll was expected."),
    _E.RX_INVALCMD: (_P, f"{_BROKE}: an unexpected command followed a page."),
    _E.RX_NOCARRIER: (_P, "The sender's signal was lost during the fax."),
    _E.RX_NOEOL: (_P, "The page data stopped arriving in the middle of a page."),
    _E.RX_NOFAX: (_P, "No page data arrived after the fax machines had agreed to send."),
    _E.RX_T2EXPDCN: (_P, "The sender did not hang up properly at the end of the fax."),
    _E.RX_T2EXPD: (_P, "The sender stopped responding after a page."),
    _E.RX_T2EXPFAX: (_P, "The sender stopped responding before a page."),
    _E.RX_T2EXPMPS: (_P, "The sender stopped responding before the next page."),
    _E.RX_T2EXPRR: (_P, "The sender stopped responding during error correction."),
    _E.RX_T2EXP: (_P, "The sender stopped responding."),
    _E.RX_DCNWHY: (_P, "The sender hung up before sending anything."),
    _E.RX_DCNDATA: (_P, "The sender hung up while sending a page."),
    _E.RX_DCNFAX: (_P, "The sender hung up before saying whether more pages follow."),
    _E.RX_DCNPHD: (_P, "The sender hung up between pages."),
    _E.RX_DCNRRD: (_P, "The sender hung up during error correction."),
    _E.RX_DCNNORTN: (_P, "The sender hung up after being asked to send a page again."),
    # The document file
    _E.FILEERROR: (_L, "The document file could not be opened."),
    _E.NOPAGE: (_L, "The document file has no page to send (or the requested page is missing)."),
    _E.BADTIFF: (_L, "The document file is not a fax TIFF the fax engine can send."),
    _E.BADPAGE: (_L, "A page of the document file lacks its page number."),
    _E.BADTAG: (_L, "The document file has invalid fax settings (TIFF tags)."),
    _E.BADTIFFHDR: (_L, "The document file's header is damaged."),
    _E.NOMEM: (_L, "The fax server ran out of memory for the pages."),
    # General
    _E.RETRYDCN: (_P, "The call was ended after too many failed retries of one step."),
    _E.CALLDROPPED: (_P, "The call was cut off before the fax was complete."),
    # Feature negotiation
    _E.NOPOLL: (_R, "The other fax machine does not allow polling."),
    _E.IDENT_UNACCEPTABLE: (_R, "The other fax machine's identity (TSI/CSI) was not accepted."),
    _E.SUB_UNACCEPTABLE: (_R, "The sub-address was not accepted."),
    _E.SEP_UNACCEPTABLE: (_R, "The selective polling address was not accepted."),
    _E.PSA_UNACCEPTABLE: (_R, "The polled sub-address was not accepted."),
    _E.SID_UNACCEPTABLE: (_R, "The sender identification was not accepted."),
    _E.PWD_UNACCEPTABLE: (_R, "The fax password was not accepted."),
    _E.TSA_UNACCEPTABLE: (_R, "The sender's internet address was not accepted."),
    _E.IRA_UNACCEPTABLE: (_R, "The internet routing address was not accepted."),
    _E.CIA_UNACCEPTABLE: (_R, "The caller's internet address was not accepted."),
    _E.ISP_UNACCEPTABLE: (_R, "The internet selective polling address was not accepted."),
    _E.CSA_UNACCEPTABLE: (_R, "The called party's internet address was not accepted."),
}

# Codes whose class default is wrong for retrying: memory may be free again on the next attempt.
_RETRYABLE_OVERRIDES: dict[T30Error, bool] = {T30Error.NOMEM: True}


def classify_completion(code: int) -> OutcomeInfo:
    """The meaning of a spandsp phase-E completion code (an unknown code is a protocol failure)."""
    try:
        error = T30Error(code)
    except ValueError:
        return OutcomeInfo(
            Outcome.PROTOCOL_FAILURE,
            f"The fax call failed for a reason the fax engine did not name (code {code}).",
            retryable=True,
            code=code,
        )
    outcome, message = COMPLETION_CODES[error]
    retryable = _RETRYABLE_OVERRIDES.get(error, RETRYABLE_BY_OUTCOME[outcome])
    return OutcomeInfo(outcome, message, retryable, code=int(error))


# Q.850 cause codes (IAX2 CAUSECODE information element) for calls that ended before any fax
# signal: the telephony side reports these, the fax engine never sees them.
_BUSY_CAUSES = frozenset({17, 34, 38, 41, 42, 44, 47})  # user busy, no circuit, congestion …
_NO_ANSWER_CAUSES = frozenset({18, 19, 20, 21, 31})  # no user responding, no answer, rejected …
_BAD_NUMBER_CAUSES = frozenset({1, 2, 3, 22, 27, 28})  # unallocated, out of order, bad format


def classify_hangup_cause(cause: int) -> OutcomeInfo:
    """The meaning of a call that ended with Q.850 `cause` before the fax stage."""
    if cause in _BUSY_CAUSES:
        busy = Outcome.BUSY
        return OutcomeInfo(busy, f"The number was busy (cause {cause}).", retryable=True)
    if cause in _NO_ANSWER_CAUSES:
        return OutcomeInfo(
            Outcome.NO_ANSWER,
            f"The number did not answer (cause {cause}).",
            RETRYABLE_BY_OUTCOME[Outcome.NO_ANSWER],
        )
    if cause in _BAD_NUMBER_CAUSES:
        return OutcomeInfo(
            Outcome.LOCAL_ERROR,
            f"The fax number cannot be reached; check that it is right (cause {cause}).",
            retryable=False,
        )
    return OutcomeInfo(
        Outcome.PROTOCOL_FAILURE,
        f"The telephone network ended the call before the fax started (cause {cause}).",
        retryable=True,
    )
