"""Numbers of the IAX2 protocol (RFC 5456, with the later Asterisk additions real peers send).

Values are named IntEnums so that logs and test failures say `IaxSubclass.REGREQ`, not `13`.
A value a peer sends that is not listed here is still carried as a plain `int`.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

IAX_PROTOCOL_VERSION = 2
DEFAULT_PORT = 4569
MAX_CALL_NUMBER = 0x7FFF  # call numbers are 15-bit; 0 means "not yet known"
FULL_FRAME_HEADER_LENGTH = 12
MINI_FRAME_HEADER_LENGTH = 4
DEFAULT_REFRESH_SECONDS = 60  # RFC 5456 6.1.1: assumed when REGACK carries no REFRESH


class FrameType(IntEnum):
    """Full-frame type octet (RFC 5456 8.2; DTMF_BEGIN/MODEM are Asterisk's later numbers)."""

    DTMF_END = 0x01  # RFC: "DTMF"
    VOICE = 0x02
    VIDEO = 0x03
    CONTROL = 0x04
    NULL = 0x05
    IAX = 0x06
    TEXT = 0x07
    IMAGE = 0x08
    HTML = 0x09
    COMFORT_NOISE = 0x0A
    MODEM = 0x0B
    DTMF_BEGIN = 0x0C


class IaxSubclass(IntEnum):
    """Subclass of an IAX (type 6) frame: the IAX control messages (RFC 5456 8.4)."""

    NEW = 0x01
    PING = 0x02
    PONG = 0x03
    ACK = 0x04
    HANGUP = 0x05
    REJECT = 0x06
    ACCEPT = 0x07
    AUTHREQ = 0x08
    AUTHREP = 0x09
    INVAL = 0x0A
    LAGRQ = 0x0B
    LAGRP = 0x0C
    REGREQ = 0x0D
    REGAUTH = 0x0E
    REGACK = 0x0F
    REGREJ = 0x10
    REGREL = 0x11
    VNAK = 0x12
    DPREQ = 0x13
    DPREP = 0x14
    DIAL = 0x15
    TXREQ = 0x16
    TXCNT = 0x17
    TXACC = 0x18
    TXREADY = 0x19
    TXREL = 0x1A
    TXREJ = 0x1B
    QUELCH = 0x1C
    UNQUELCH = 0x1D
    POKE = 0x1E
    PAGE = 0x1F
    MWI = 0x20
    UNSUPPORT = 0x21
    TRANSFER = 0x22
    PROVISION = 0x23
    FWDOWNL = 0x24
    FWDATA = 0x25
    TXMEDIA = 0x26
    RTKEY = 0x27
    CALLTOKEN = 0x28


class ControlSubclass(IntEnum):
    """Subclass of a CONTROL (type 4) frame (RFC 5456 8.3)."""

    HANGUP = 0x01
    RING = 0x02
    RINGING = 0x03
    ANSWER = 0x04
    BUSY = 0x05
    TAKEOFFHOOK = 0x06
    OFFHOOK = 0x07
    CONGESTION = 0x08
    FLASH = 0x09
    WINK = 0x0A
    OPTION = 0x0B
    KEY_RADIO = 0x0C
    UNKEY_RADIO = 0x0D
    PROGRESS = 0x0E
    PROCEEDING = 0x0F
    HOLD = 0x10
    UNHOLD = 0x11


class IeType(IntEnum):
    """Information element identifiers (RFC 5456 8.6; 0x34 and later as Asterisk numbers them)."""

    CALLED_NUMBER = 0x01
    CALLING_NUMBER = 0x02
    CALLING_ANI = 0x03
    CALLING_NAME = 0x04
    CALLED_CONTEXT = 0x05
    USERNAME = 0x06
    PASSWORD = 0x07
    CAPABILITY = 0x08
    FORMAT = 0x09
    LANGUAGE = 0x0A
    VERSION = 0x0B
    ADSICPE = 0x0C
    DNID = 0x0D
    AUTHMETHODS = 0x0E
    CHALLENGE = 0x0F
    MD5_RESULT = 0x10
    RSA_RESULT = 0x11
    APPARENT_ADDR = 0x12
    REFRESH = 0x13
    DPSTATUS = 0x14
    CALLNO = 0x15
    CAUSE = 0x16
    IAX_UNKNOWN = 0x17
    MSGCOUNT = 0x18
    AUTOANSWER = 0x19
    MUSICONHOLD = 0x1A
    TRANSFERID = 0x1B
    RDNIS = 0x1C
    PROVISIONING = 0x1D
    AESPROVISIONING = 0x1E
    DATETIME = 0x1F
    DEVICETYPE = 0x20
    SERVICEIDENT = 0x21
    FIRMWAREVER = 0x22
    FWBLOCKDESC = 0x23
    FWBLOCKDATA = 0x24
    PROVVER = 0x25
    CALLINGPRES = 0x26
    CALLINGTON = 0x27
    CALLINGTNS = 0x28
    SAMPLINGRATE = 0x29
    CAUSECODE = 0x2A
    ENCRYPTION = 0x2B
    ENCKEY = 0x2C
    CODEC_PREFS = 0x2D
    RR_JITTER = 0x2E
    RR_LOSS = 0x2F
    RR_PKTS = 0x30
    RR_DELAY = 0x31
    RR_DROPPED = 0x32
    RR_OOO = 0x33
    VARIABLE = 0x34
    OSPTOKEN = 0x35
    CALLTOKEN = 0x36
    CAPABILITY2 = 0x37
    FORMAT2 = 0x38


class MediaFormat(IntFlag):
    """Media format bits used in CAPABILITY/FORMAT IEs and voice subclasses (RFC 5456 8.7)."""

    G723_1 = 1 << 0
    GSM = 1 << 1
    ULAW = 1 << 2
    ALAW = 1 << 3
    G726 = 1 << 4
    ADPCM = 1 << 5
    SLINEAR = 1 << 6
    LPC10 = 1 << 7
    G729 = 1 << 8
    SPEEX = 1 << 9
    ILBC = 1 << 10
    G726_AAL2 = 1 << 11
    G722 = 1 << 12
    AMR = 1 << 13
    SLINEAR16 = 1 << 15
    JPEG = 1 << 16
    PNG = 1 << 17
    H261 = 1 << 18
    H263 = 1 << 19
    H263P = 1 << 20
    H264 = 1 << 21


class AuthMethod(IntFlag):
    """AUTHMETHODS bits (RFC 5456 8.6.13)."""

    PLAINTEXT = 0x0001  # withdrawn by the RFC; never offered or used here
    MD5 = 0x0002
    RSA = 0x0004


class CauseCode(IntEnum):
    """The Q.931 cause codes IAX2 carries in CAUSECODE (RFC 5456 8.6.33) that faxgate uses."""

    UNALLOCATED = 1
    NO_ROUTE_DESTINATION = 3
    NORMAL_CLEARING = 16
    USER_BUSY = 17
    NO_USER_RESPONSE = 18
    NO_ANSWER = 19
    CALL_REJECTED = 21
    DESTINATION_OUT_OF_ORDER = 27
    INVALID_NUMBER_FORMAT = 28
    FACILITY_REJECTED = 29
    NORMAL_UNSPECIFIED = 31
    NORMAL_CIRCUIT_CONGESTION = 34
    NETWORK_OUT_OF_ORDER = 38
    TEMPORARY_FAILURE = 41
    SWITCH_CONGESTION = 42
    BEARERCAPABILITY_NOTAVAIL = 58
    INCOMPATIBLE_DESTINATION = 88
    INVALID_MESSAGE = 95
    RECOVERY_ON_TIMER_EXPIRE = 102
    PROTOCOL_ERROR = 111


# IAX messages that never advance the sender's OSeqno nor the receiver's ISeqno (RFC 5456 7).
NON_SEQUENCED_SUBCLASSES = frozenset(
    {IaxSubclass.ACK, IaxSubclass.INVAL, IaxSubclass.TXCNT, IaxSubclass.TXACC, IaxSubclass.VNAK}
)
