"""Numeric constants of spandsp 0.0.6, copied from its headers so no header is needed at run time.

`tests/unit/faxengine/test_codes.py` re-reads `/usr/include/spandsp/t30.h` (when the -dev package
is installed) to prove these numbers match the library faxgate runs against.
"""

from __future__ import annotations

import enum


class T30Error(enum.IntEnum):
    """T.30 completion codes, `T30_ERR_*` of `t30.h`, in the header's order."""

    OK = 0
    CEDTONE = 1
    T0_EXPIRED = 2
    T1_EXPIRED = 3
    T3_EXPIRED = 4
    HDLC_CARRIER = 5
    CANNOT_TRAIN = 6
    OPER_INT_FAIL = 7
    INCOMPATIBLE = 8
    RX_INCAPABLE = 9
    TX_INCAPABLE = 10
    NORESSUPPORT = 11
    NOSIZESUPPORT = 12
    UNEXPECTED = 13
    TX_BADDCS = 14
    TX_BADPG = 15
    TX_ECMPHD = 16
    TX_GOTDCN = 17
    TX_INVALRSP = 18
    TX_NODIS = 19
    TX_PHBDEAD = 20
    TX_PHDDEAD = 21
    TX_T5EXP = 22
    RX_ECMPHD = 23
    RX_GOTDCS = 24
    RX_INVALCMD = 25
    RX_NOCARRIER = 26
    RX_NOEOL = 27
    RX_NOFAX = 28
    RX_T2EXPDCN = 29
    RX_T2EXPD = 30
    RX_T2EXPFAX = 31
    RX_T2EXPMPS = 32
    RX_T2EXPRR = 33
    RX_T2EXP = 34
    RX_DCNWHY = 35
    RX_DCNDATA = 36
    RX_DCNFAX = 37
    RX_DCNPHD = 38
    RX_DCNRRD = 39
    RX_DCNNORTN = 40
    FILEERROR = 41
    NOPAGE = 42
    BADTIFF = 43
    BADPAGE = 44
    BADTAG = 45
    BADTIFFHDR = 46
    NOMEM = 47
    RETRYDCN = 48
    CALLDROPPED = 49
    NOPOLL = 50
    IDENT_UNACCEPTABLE = 51
    SUB_UNACCEPTABLE = 52
    SEP_UNACCEPTABLE = 53
    PSA_UNACCEPTABLE = 54
    SID_UNACCEPTABLE = 55
    PWD_UNACCEPTABLE = 56
    TSA_UNACCEPTABLE = 57
    IRA_UNACCEPTABLE = 58
    CIA_UNACCEPTABLE = 59
    ISP_UNACCEPTABLE = 60
    CSA_UNACCEPTABLE = 61


class Modem(enum.IntFlag):
    """`T30_SUPPORT_V27TER` … : image-transfer modems a terminal offers."""

    V27TER = 0x01
    V29 = 0x02
    V17 = 0x04


class Compression(enum.IntFlag):
    """`T30_SUPPORT_*_COMPRESSION`: page encodings a terminal offers (bilevel only here)."""

    T4_1D = 0x02
    T4_2D = 0x04
    T6 = 0x08


class Resolution(enum.IntFlag):
    """`T30_SUPPORT_*_RESOLUTION` bits."""

    STANDARD = 0x01
    FINE = 0x02
    SUPERFINE = 0x04
    R8 = 0x20000
    R16 = 0x40000


class ImageSize(enum.IntFlag):
    """`T30_SUPPORT_*_WIDTH` / `*_LENGTH` bits."""

    WIDTH_215MM = 0x01
    WIDTH_255MM = 0x02
    WIDTH_303MM = 0x04
    UNLIMITED_LENGTH = 0x10000
    A4_LENGTH = 0x20000
    B4_LENGTH = 0x40000
    US_LETTER_LENGTH = 0x80000
    US_LEGAL_LENGTH = 0x100000


class Encoding(enum.IntEnum):
    """`T4_COMPRESSION_ITU_*` of `t4_rx.h`: the line encoding (`t30_stats_t.encoding`)."""

    NONE = 0
    T4_1D = 1
    T4_2D = 2
    T6 = 3
    T85 = 4
    T85_L0 = 5
    T43 = 6
    T45 = 7
    T42 = 8
    SYCC_T42 = 9

    @property
    def label(self) -> str:
        """The name fax people use: MH, MR, MMR, JBIG …"""
        return _ENCODING_LABELS.get(self, self.name)


_ENCODING_LABELS = {
    Encoding.T4_1D: "MH",
    Encoding.T4_2D: "MR",
    Encoding.T6: "MMR",
    Encoding.T85: "JBIG",
    Encoding.T85_L0: "JBIG",
}


class SpanLogLevel(enum.IntEnum):
    """`SPAN_LOG_*` severities of `logging.h`."""

    NONE = 0
    ERROR = 1
    WARNING = 2
    PROTOCOL_ERROR = 3
    PROTOCOL_WARNING = 4
    FLOW = 5
    FLOW_2 = 6
    FLOW_3 = 7
    DEBUG = 8
    DEBUG_2 = 9
    DEBUG_3 = 10


# Flags OR-ed into the level given to span_log_set_level (what each line is prefixed with).
SPAN_LOG_SEVERITY_MASK = 0x00FF
SPAN_LOG_SHOW_SEVERITY = 0x0400
SPAN_LOG_SHOW_PROTOCOL = 0x0800
SPAN_LOG_SHOW_TAG = 0x2000

# Y resolutions in pixels per metre as spandsp reports them (`T4_Y_RESOLUTION_*`).
Y_RESOLUTION_STANDARD = 3850
Y_RESOLUTION_FINE = 7700
Y_RESOLUTION_SUPERFINE = 15400
X_RESOLUTION_R8 = 8031

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160  # 20 ms at 8 kHz: one IAX2 voice frame
