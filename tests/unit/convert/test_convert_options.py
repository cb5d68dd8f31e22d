"""Fax page options and their passage to converter processes through the environment."""

from __future__ import annotations

import pytest

from faxgate.convert.options import Compression, FaxPageOptions, Resolution
from faxgate.errors import ConversionError


def test_defaults_are_fine_g4() -> None:
    options = FaxPageOptions()
    assert options.resolution is Resolution.FINE
    assert options.compression is Compression.G4
    assert options.y_dpi == 196
    assert FaxPageOptions(resolution=Resolution.NORMAL).y_dpi == 98


def test_environment_round_trip() -> None:
    options = FaxPageOptions(Resolution.NORMAL, Compression.G3_2D, 7, 12.5, 300)
    assert FaxPageOptions.from_environment(options.to_environment()) == options


def test_missing_environment_gives_defaults() -> None:
    assert FaxPageOptions.from_environment({}) == FaxPageOptions()


def test_bad_environment_value_is_a_conversion_error() -> None:
    with pytest.raises(ConversionError, match="invalid conversion option"):
        FaxPageOptions.from_environment({"FAXGATE_RESOLUTION": "superfine"})


@pytest.mark.parametrize("bad", [{"page_limit": 0}, {"time_limit_s": 0.0}, {"memory_limit_mb": 10}])
def test_limits_are_validated(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message names the field
        FaxPageOptions(**bad)  # type: ignore[arg-type]


def test_cache_key_ignores_limits_but_not_format() -> None:
    base = FaxPageOptions()
    assert base.cache_key() == FaxPageOptions(page_limit=5, time_limit_s=3).cache_key()
    assert base.cache_key() != FaxPageOptions(resolution=Resolution.NORMAL).cache_key()
    assert base.cache_key() != FaxPageOptions(compression=Compression.G3_1D).cache_key()
