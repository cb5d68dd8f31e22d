"""FaxTerminal's guards: bad arguments are clear errors, the C state is always freed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faxgate.faxengine import CallReport, FaxEngineError, FaxTerminal, Outcome, Role


@pytest.fixture
def any_file(tmp_path: Path) -> Path:
    path = tmp_path / "doc.tif"
    path.write_bytes(b"II*\x00")
    return path


@pytest.mark.parametrize(
    "ident", ["+49 30 1234 5678 9012 345", "Bürofax", "line\nbreak"], ids=["long", "umlaut", "nl"]
)
def test_unusable_idents_are_refused(any_file: Path, ident: str) -> None:
    with pytest.raises(FaxEngineError, match="identity"):
        FaxTerminal.sender(any_file, ident)


def test_header_longer_than_spandsp_allows_is_refused(any_file: Path) -> None:
    with pytest.raises(FaxEngineError, match="header line"):
        FaxTerminal.sender(any_file, "+49 30 1234", "x" * 51)


def test_missing_document_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FaxEngineError, match="does not exist"):
        FaxTerminal.sender(tmp_path / "nowhere.tif", "1")


def test_frames_longer_than_20_ms_are_refused(tmp_path: Path) -> None:
    with FaxTerminal.receiver(tmp_path / "in.tif", "1") as terminal:
        with pytest.raises(FaxEngineError):
            terminal.rx(np.zeros(161, dtype=np.int16))
        with pytest.raises(FaxEngineError):
            terminal.tx(0)


def test_rx_takes_bytes_and_arrays_and_tx_always_fills_the_frame(tmp_path: Path) -> None:
    with FaxTerminal.receiver(tmp_path / "in.tif", "1") as terminal:
        terminal.rx(bytes(320))
        terminal.rx(np.zeros(160, dtype=np.int16))
        out = terminal.tx()
        assert out.dtype == np.int16
        assert len(out) == 160
        assert len(terminal.tx_bytes(80)) == 160
        assert terminal.line_seconds == pytest.approx(320 / 8000)  # 2 frames in, 1.5 out
        # An answering terminal sends its CED tone within the first second: audio, not silence.
        # (spandsp's timers run on received audio, so the line is fed too.)
        first_second = []
        for _ in range(50):
            terminal.rx(bytes(320))
            first_second.append(terminal.tx())
        assert np.abs(np.concatenate(first_second)).max() > 1000


def test_odd_byte_counts_are_refused(tmp_path: Path) -> None:
    with (
        FaxTerminal.receiver(tmp_path / "in.tif", "1") as terminal,
        pytest.raises(FaxEngineError, match="even number"),
    ):
        terminal.rx(bytes(319))


def test_closing_an_unfinished_call_reports_it_dropped(tmp_path: Path) -> None:
    terminal = FaxTerminal.receiver(tmp_path / "in.tif", "1")
    terminal.rx(bytes(320))
    terminal.close()
    terminal.close()  # idempotent
    report = terminal.result()
    assert report.role is Role.RECEIVER
    assert report.outcome is Outcome.PROTOCOL_FAILURE
    assert report.completion_code is None
    assert report.retryable
    assert report.pages == 0
    with pytest.raises(FaxEngineError, match="closed"):
        terminal.rx(bytes(320))


def test_terminate_ends_the_call_through_phase_e(tmp_path: Path) -> None:
    completed: list[CallReport] = []
    with FaxTerminal.receiver(tmp_path / "in.tif", "1", on_complete=completed.append) as t:
        t.rx(bytes(320))
        t.terminate()
        assert t.finished
        assert completed == [t.result()]
        assert t.result().completion_code is not None
        assert t.result().outcome is not Outcome.DONE
