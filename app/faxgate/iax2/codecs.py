"""The three voice codecs a fax line needs, and the choice of one per call.

Audio inside faxgate is 8 kHz signed 16-bit samples in a numpy `int16` array (what spandsp reads
and writes). On the wire IAX2 carries SLINEAR big-endian (Asterisk byte-swaps it, iaxmodem
sends it so), and G.711 µ-law / A-law one octet per sample. The G.711 tables follow spandsp's
`g711.h`, so a sample survives the same way it would inside iaxmodem.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from faxgate.iax2.constants import MediaFormat

Samples = npt.NDArray[np.int16]

SAMPLE_RATE = 8000
# Our preference: SLINEAR is lossless (best for fax modulations), then the two G.711 laws.
SUPPORTED_FORMATS: tuple[MediaFormat, ...] = (
    MediaFormat.SLINEAR,
    MediaFormat.ULAW,
    MediaFormat.ALAW,
)
SUPPORTED_CAPABILITY = int(MediaFormat.SLINEAR | MediaFormat.ULAW | MediaFormat.ALAW)

_ULAW_BIAS = 0x84
_ALAW_AMI_MASK = 0x55


def _top_bit(values: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Index of the highest set bit of each (positive) value."""
    return np.floor(np.log2(values)).astype(np.int32)


def _build_ulaw_encoder() -> npt.NDArray[np.uint8]:
    linear = np.arange(-32768, 32768, dtype=np.int32)
    negative = linear < 0
    biased = np.where(negative, _ULAW_BIAS - linear - 1, _ULAW_BIAS + linear)
    mask = np.where(negative, 0x7F, 0xFF)
    segment = _top_bit(biased | 0xFF) - 7
    shift = np.minimum(segment, 7) + 3
    code = (segment << 4) | ((biased >> shift) & 0x0F)
    saturated = np.where(segment >= 8, 0x7F, code) ^ mask
    return saturated.astype(np.uint8)


def _build_ulaw_decoder() -> npt.NDArray[np.int16]:
    code: npt.NDArray[np.int32] = ~np.arange(256, dtype=np.int32) & 0xFF
    magnitude = (((code & 0x0F) << 3) + _ULAW_BIAS) << ((code & 0x70) >> 4)
    return np.where(code & 0x80, _ULAW_BIAS - magnitude, magnitude - _ULAW_BIAS).astype(np.int16)


def _build_alaw_encoder() -> npt.NDArray[np.uint8]:
    linear = np.arange(-32768, 32768, dtype=np.int32)
    negative = linear < 0
    magnitude = np.where(negative, -linear - 1, linear)
    mask = np.where(negative, _ALAW_AMI_MASK, _ALAW_AMI_MASK | 0x80)
    segment = _top_bit(magnitude | 0xFF) - 7
    shift = np.where(segment > 0, np.minimum(segment, 7) + 3, 4)
    code = (segment << 4) | ((magnitude >> shift) & 0x0F)
    saturated = np.where(segment >= 8, 0x7F, code) ^ mask
    return saturated.astype(np.uint8)


def _build_alaw_decoder() -> npt.NDArray[np.int16]:
    code = np.arange(256, dtype=np.int32) ^ _ALAW_AMI_MASK
    base = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    magnitude = np.where(segment > 0, (base + 0x108) << np.maximum(segment - 1, 0), base + 8)
    return np.where(code & 0x80, magnitude, -magnitude).astype(np.int16)


_ULAW_ENCODE = _build_ulaw_encoder()
_ULAW_DECODE = _build_ulaw_decoder()
_ALAW_ENCODE = _build_alaw_encoder()
_ALAW_DECODE = _build_alaw_decoder()


def bytes_per_sample(media_format: int) -> int:
    """Octets one sample takes on the wire in a supported format."""
    if media_format == MediaFormat.SLINEAR:
        return 2
    if media_format in (MediaFormat.ULAW, MediaFormat.ALAW):
        return 1
    raise ValueError(f"unsupported media format {media_format:#x}")


def encode(media_format: int, samples: Samples) -> bytes:
    """Turn int16 samples into the wire payload of `media_format`."""
    pcm = np.asarray(samples, dtype=np.int16)
    if media_format == MediaFormat.SLINEAR:
        return pcm.astype(">i2").tobytes()
    index = pcm.astype(np.int32) + 32768
    if media_format == MediaFormat.ULAW:
        return bytes(_ULAW_ENCODE[index].tobytes())
    if media_format == MediaFormat.ALAW:
        return bytes(_ALAW_ENCODE[index].tobytes())
    raise ValueError(f"unsupported media format {media_format:#x}")


def decode(media_format: int, payload: bytes) -> Samples:
    """Turn a wire payload of `media_format` into int16 samples; ValueError if malformed."""
    if media_format == MediaFormat.SLINEAR:
        if len(payload) % 2:
            raise ValueError(f"SLINEAR payload of odd length {len(payload)}")
        return np.frombuffer(payload, dtype=">i2").astype(np.int16)
    codes = np.frombuffer(payload, dtype=np.uint8)
    if media_format == MediaFormat.ULAW:
        return _ULAW_DECODE[codes]
    if media_format == MediaFormat.ALAW:
        return _ALAW_DECODE[codes]
    raise ValueError(f"unsupported media format {media_format:#x}")


def negotiate(
    capability: int,
    requested: int | None,
    preference: Sequence[MediaFormat] = SUPPORTED_FORMATS,
) -> MediaFormat | None:
    """Choose the call's format from a NEW's CAPABILITY and FORMAT, or None if none fits.

    Our own order wins among formats both sides can do (SLINEAR first: a fax survives it
    untouched); a peer that lists no CAPABILITY is taken at its FORMAT word.
    """
    offered = capability or (requested or 0)
    for candidate in preference:
        if offered & candidate:
            return candidate
    return None
