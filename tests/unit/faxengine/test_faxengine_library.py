"""The ctypes binding: the library loads, every function used is declared, errors are clear."""

from __future__ import annotations

import ctypes

import pytest

from faxgate.errors import FaxCallError, FaxgateError
from faxgate.faxengine.codes import T30Error
from faxgate.faxengine.library import PROTOTYPES, FaxEngineError, T30Stats, load, spandsp


def test_library_loads_and_every_function_is_declared() -> None:
    lib = spandsp()
    for name, (restype, argtypes) in PROTOTYPES.items():
        function = getattr(lib.cdll, name)
        assert tuple(function.argtypes) == argtypes, name
        assert function.restype == restype, name


def test_pointer_results_are_not_truncated_to_int() -> None:
    # Without restype=c_void_p a 64-bit pointer comes back as a 32-bit int and crashes later.
    for name in ("fax_init", "fax_get_t30_state", "fax_get_logging_state", "t30_get_logging_state"):
        assert PROTOTYPES[name][0] is ctypes.c_void_p, name


def test_undeclared_functions_are_not_reachable() -> None:
    with pytest.raises(AttributeError):
        _ = spandsp().t30_set_tx_nsf


def test_wrong_argument_types_are_rejected_before_c() -> None:
    with pytest.raises(ctypes.ArgumentError):
        spandsp().t30_completion_code_to_str("not an int")


def test_completion_texts_come_from_the_library() -> None:
    lib = spandsp()
    assert lib.completion_code_text(T30Error.OK) == "OK"
    assert lib.completion_code_text(T30Error.NOSIZESUPPORT) == (
        "Far end cannot receive at the size of image"
    )
    texts = {lib.completion_code_text(code) for code in T30Error}
    assert len(texts) == len(T30Error)  # one distinct text per code: the numbering lines up


def test_stats_structure_is_fifteen_ints() -> None:
    assert ctypes.sizeof(T30Stats) == 15 * ctypes.sizeof(ctypes.c_int)
    assert T30Stats._fields_[0][0] == "bit_rate"
    assert T30Stats._fields_[-1][0] == "current_status"


def test_missing_library_is_a_clear_fax_error() -> None:
    with pytest.raises(FaxEngineError) as caught:
        load(("libspandsp-missing.so.9",))
    assert "libspandsp2" in str(caught.value)
    assert isinstance(caught.value, FaxCallError)
    assert isinstance(caught.value, FaxgateError)
