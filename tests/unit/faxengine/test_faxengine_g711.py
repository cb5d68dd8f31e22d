"""G.711 tables against the CPython reference implementation (audioop, Sun's g711.c)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest

from faxgate.faxengine.g711 import Codec, decode, encode, round_trip

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    audioop = pytest.importorskip("audioop")

EVERY_SAMPLE = np.arange(-32768, 32768, dtype=np.int16)
EVERY_CODE = bytes(range(256))

REFERENCE: dict[Codec, tuple[Callable[[bytes, int], bytes], Callable[[bytes, int], bytes]]] = {
    Codec.ULAW: (audioop.lin2ulaw, audioop.ulaw2lin),
    Codec.ALAW: (audioop.lin2alaw, audioop.alaw2lin),
}


@pytest.mark.parametrize("codec", [Codec.ULAW, Codec.ALAW])
def test_encode_matches_reference_for_every_sample(codec: Codec) -> None:
    reference_encode, _ = REFERENCE[codec]
    assert encode(EVERY_SAMPLE, codec) == reference_encode(EVERY_SAMPLE.tobytes(), 2)


@pytest.mark.parametrize("codec", [Codec.ULAW, Codec.ALAW])
def test_decode_matches_reference_for_every_code(codec: Codec) -> None:
    _, reference_decode = REFERENCE[codec]
    expected = np.frombuffer(reference_decode(EVERY_CODE, 2), dtype=np.int16)
    assert np.array_equal(decode(EVERY_CODE, codec), expected)


@pytest.mark.parametrize("codec", [Codec.ULAW, Codec.ALAW])
def test_round_trip_error_is_within_the_segment_step(codec: Codec) -> None:
    out = round_trip(EVERY_SAMPLE, codec)
    error = np.abs(out.astype(np.int32) - EVERY_SAMPLE.astype(np.int32))
    relative = error / np.maximum(np.abs(EVERY_SAMPLE.astype(np.int32)), 256)
    assert relative.max() < 0.07  # 8-bit companding: about 1/16 of the value at worst
    assert np.array_equal(round_trip(out, codec), out)  # decoded values are fixed points


def test_slinear_is_untouched() -> None:
    assert round_trip(EVERY_SAMPLE, Codec.SLINEAR) is EVERY_SAMPLE
