"""SLINEAR (big-endian on the wire), G.711 µ-law and A-law, and the codec choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faxgate.iax2 import codecs
from faxgate.iax2.constants import MediaFormat
from faxgate.iax2.frames import MiniFrame, parse_frame

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "iax2"
ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)


def test_slinear_is_big_endian_on_the_wire() -> None:
    assert (
        codecs.encode(MediaFormat.SLINEAR, np.array([1, -2], dtype=np.int16)) == b"\x00\x01\xff\xfe"
    )
    decoded = codecs.decode(MediaFormat.SLINEAR, b"\x12\x34\x80\x00")
    assert decoded.tolist() == [0x1234, -32768]
    assert decoded.dtype == np.int16


def test_slinear_round_trips_every_sample_and_refuses_odd_payloads() -> None:
    wire = codecs.encode(MediaFormat.SLINEAR, ALL_SAMPLES)
    assert np.array_equal(codecs.decode(MediaFormat.SLINEAR, wire), ALL_SAMPLES)
    with pytest.raises(ValueError, match="odd"):
        codecs.decode(MediaFormat.SLINEAR, b"\x00\x01\x02")


def test_iaxmodem_mini_frame_is_160_slinear_samples() -> None:
    mini = parse_frame((FIXTURES / "mini_voice_slinear.bin").read_bytes())
    assert isinstance(mini, MiniFrame)
    assert len(codecs.decode(MediaFormat.SLINEAR, mini.payload)) == 160


# Reference points of G.711 (ITU-T G.711 tables; the same as spandsp's g711.h).
@pytest.mark.parametrize(
    ("sample", "ulaw", "alaw"),
    [(0, 0xFF, 0xD5), (-1, 0x7F, 0x55), (1000, 0xCE, 0xFA), (-1000, 0x4E, 0x7A),
     (32767, 0x80, 0xAA), (-32768, 0x00, 0x2A)],
)  # fmt: skip
def test_g711_reference_codes(sample: int, ulaw: int, alaw: int) -> None:
    pcm = np.array([sample], dtype=np.int16)
    assert codecs.encode(MediaFormat.ULAW, pcm) == bytes([ulaw])
    assert codecs.encode(MediaFormat.ALAW, pcm) == bytes([alaw])


def test_g711_decoding_reference_values() -> None:
    ulaw = codecs.decode(MediaFormat.ULAW, bytes([0xFF, 0x80, 0x00, 0xEF]))
    alaw = codecs.decode(MediaFormat.ALAW, bytes([0xD5, 0xAA, 0x2A, 0x55]))
    assert ulaw.tolist() == [0, 32124, -32124, 132]
    assert alaw.tolist() == [8, 32256, -32256, -8]


@pytest.mark.parametrize("media_format", [MediaFormat.ULAW, MediaFormat.ALAW])
def test_g711_codes_survive_decode_then_encode(media_format: MediaFormat) -> None:
    codes = bytes(range(256))
    again = codecs.encode(media_format, codecs.decode(media_format, codes))
    differing = [code for code in range(256) if again[code] != code]
    # µ-law has two zeros (0x7F is "negative zero"), which encode back as 0xFF.
    assert differing == ([0x7F] if media_format == MediaFormat.ULAW else [])


@pytest.mark.parametrize("media_format", [MediaFormat.ULAW, MediaFormat.ALAW])
def test_g711_quantisation_is_monotonic_and_within_a_step(media_format: MediaFormat) -> None:
    restored = codecs.decode(media_format, codecs.encode(media_format, ALL_SAMPLES)).astype(
        np.int32
    )
    assert np.all(np.diff(restored) >= 0)
    error = np.abs(restored - ALL_SAMPLES.astype(np.int32))
    # Logarithmic: the error grows with the level, never beyond 1/16 of it plus the smallest step.
    assert np.all(error <= np.abs(ALL_SAMPLES.astype(np.int32)) / 16 + 16)


def test_unsupported_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        codecs.encode(MediaFormat.GSM, np.zeros(160, dtype=np.int16))
    with pytest.raises(ValueError, match="unsupported"):
        codecs.decode(MediaFormat.G729, b"\x00" * 20)
    assert codecs.bytes_per_sample(MediaFormat.SLINEAR) == 2
    assert codecs.bytes_per_sample(MediaFormat.ALAW) == 1


IAXMODEM_CAPABILITY = MediaFormat.ULAW | MediaFormat.ALAW | MediaFormat.SLINEAR


@pytest.mark.parametrize(
    ("capability", "requested", "chosen"),
    [
        (IAXMODEM_CAPABILITY, MediaFormat.SLINEAR, MediaFormat.SLINEAR),
        (IAXMODEM_CAPABILITY, MediaFormat.ULAW, MediaFormat.SLINEAR),  # our preference wins
        (MediaFormat.ULAW | MediaFormat.ALAW | MediaFormat.GSM, MediaFormat.GSM, MediaFormat.ULAW),
        (MediaFormat.ALAW, MediaFormat.ALAW, MediaFormat.ALAW),
        (0, MediaFormat.ALAW, MediaFormat.ALAW),  # no CAPABILITY: take the FORMAT word
        (MediaFormat.GSM | MediaFormat.G729, MediaFormat.GSM, None),
    ],
)
def test_negotiation(capability: int, requested: int, chosen: MediaFormat | None) -> None:
    assert codecs.negotiate(capability, requested) == chosen


def test_negotiation_follows_a_configured_preference() -> None:
    ulaw_first = (MediaFormat.ULAW, MediaFormat.SLINEAR)
    assert codecs.negotiate(IAXMODEM_CAPABILITY, None, ulaw_first) == MediaFormat.ULAW
