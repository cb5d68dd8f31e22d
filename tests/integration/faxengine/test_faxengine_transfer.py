"""Real spandsp terminals faxing real TIFF-F documents to each other in-process."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faxgate.faxengine import (
    Codec,
    FaxTerminal,
    LineModel,
    LoopbackResult,
    Outcome,
    PageReport,
    check_sendable,
    pages_equal,
    transfer,
)
from faxgate.faxengine.codes import Modem, T30Error
from faxgate.faxengine.compare import read_pages
from faxgate.faxengine.loopback import HANGUP_GRACE_SECONDS, LossFill

SENDER_IDENT = "+49 30 1234567"
RECEIVER_IDENT = "+49 40 7654321"


@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "no-ecm"])
@pytest.mark.parametrize(("name", "pages"), [("fine_g4_1", 1), ("fine_g4_3", 3)])
def test_pages_arrive_identical_at_14400(
    documents: dict[str, Path], tmp_path: Path, name: str, pages: int, ecm: bool
) -> None:
    received = tmp_path / "received.tif"
    result = transfer(
        documents[name],
        received,
        ecm=ecm,
        sender_ident=SENDER_IDENT,
        receiver_ident=RECEIVER_IDENT,
    )
    assert result.succeeded, (result.sender, result.receiver)
    for report in (result.sender, result.receiver):
        assert report.outcome is Outcome.DONE
        assert report.completion_text == "OK"
        assert report.pages == pages
        assert report.bit_rate == 14400
        assert report.ecm is ecm
        assert report.resolution == "fine"
        # T.6 (MMR) needs ECM; without it the best 2-D code is MR.
        assert report.encoding == ("MMR" if ecm else "MR")
        assert [page.page for page in report.page_reports] == list(range(1, pages + 1))
        assert 0 < report.fax_seconds <= report.line_seconds
    assert result.sender.remote_ident == RECEIVER_IDENT
    assert result.receiver.remote_ident == SENDER_IDENT
    assert result.sender.pages_in_file == pages
    assert pages_equal(documents[name], received) == [True] * pages
    with Image.open(received) as image:
        assert image.info["dpi"] == pytest.approx((204, 196), abs=0.5)


def test_g3_source_at_normal_resolution(documents: dict[str, Path], tmp_path: Path) -> None:
    received = tmp_path / "received.tif"
    result = transfer(documents["normal_g3_2"], received)
    assert result.succeeded
    assert result.receiver.pages == 2
    assert result.receiver.resolution == "normal"
    assert all(page.y_resolution == 3850 for page in result.receiver.page_reports)
    assert pages_equal(documents["normal_g3_2"], received) == [True, True]
    with Image.open(received) as image:
        assert image.info["dpi"] == pytest.approx((204, 98), abs=0.5)


def test_g3_source_at_fine_without_ecm(documents: dict[str, Path], tmp_path: Path) -> None:
    received = tmp_path / "received.tif"
    result = transfer(documents["fine_g3_3"], received, ecm=False)
    assert result.succeeded
    assert pages_equal(documents["fine_g3_3"], received) == [True, True, True]


def test_header_line_is_printed_above_each_page(documents: dict[str, Path], tmp_path: Path) -> None:
    received = tmp_path / "received.tif"
    result = transfer(documents["fine_g4_3"], received, header="faxgate Test GmbH")
    assert result.succeeded
    sent_pages, received_pages = read_pages(documents["fine_g4_3"]), read_pages(received)
    for sent, got in zip(sent_pages, received_pages, strict=True):
        band = got.shape[0] - sent.shape[0]
        assert band == 32  # spandsp's header band at fine resolution
        assert got[:band].any()  # the header text is there
        assert np.array_equal(got[band:], sent)
    assert pages_equal(documents["fine_g4_3"], received) == [True] * 3


def _header_text_area(tiff: Path) -> list[np.ndarray]:
    # The header info text sits right of the date and left of the ident (see docs/fax-engine.md).
    return [page[:32, 300:900] for page in read_pages(tiff)]


def test_header_numbers_the_pages(documents: dict[str, Path], tmp_path: Path) -> None:
    numbered, fixed = tmp_path / "numbered.tif", tmp_path / "fixed.tif"
    assert transfer(documents["fine_g4_3"], numbered, header="ACME {page}/{pages}").succeeded
    assert transfer(documents["fine_g4_3"], fixed, header="ACME 1/3").succeeded
    numbered_areas, fixed_areas = _header_text_area(numbered), _header_text_area(fixed)
    assert np.array_equal(numbered_areas[0], fixed_areas[0])  # page 1 reads "ACME 1/3"
    assert not np.array_equal(numbered_areas[1], fixed_areas[1])  # page 2 does not
    assert not np.array_equal(numbered_areas[1], numbered_areas[2])
    assert all(np.array_equal(fixed_areas[0], area) for area in fixed_areas)


@pytest.mark.parametrize(
    ("modems", "bit_rate"), [(Modem.V29, 9600), (Modem.V27TER, 4800)], ids=["v29", "v27ter"]
)
def test_slower_modems_when_only_they_are_offered(
    documents: dict[str, Path], tmp_path: Path, modems: Modem, bit_rate: int
) -> None:
    received = tmp_path / "received.tif"
    result = transfer(documents["fine_g4_1"], received, receiver_options={"modems": modems})
    assert result.succeeded
    assert result.sender.bit_rate == bit_rate
    assert pages_equal(documents["fine_g4_1"], received) == [True]


@pytest.mark.parametrize("name", ["wide_2048", "narrow_1700"])
def test_wrong_width_is_refused_clearly(
    documents: dict[str, Path], tmp_path: Path, name: str
) -> None:
    result = transfer(documents[name], tmp_path / "received.tif")
    assert not result.succeeded
    assert not result.hit_step_limit
    assert result.sender.outcome in (Outcome.REMOTE_REFUSED, Outcome.LOCAL_ERROR)
    assert not result.sender.retryable
    assert "1728" in result.sender.message
    assert result.sender.pages == 0
    assert result.receiver.pages == 0


def test_a_file_that_is_not_a_tiff_is_a_local_error(
    documents: dict[str, Path], tmp_path: Path
) -> None:
    result = transfer(documents["not_a_tiff"], tmp_path / "received.tif")
    assert result.sender.outcome is Outcome.LOCAL_ERROR
    assert not result.sender.retryable
    assert "document file" in result.sender.message
    assert result.receiver.outcome is not Outcome.DONE


@pytest.mark.parametrize("codec", [Codec.ULAW, Codec.ALAW])
@pytest.mark.parametrize("ecm", [True, False], ids=["ecm", "no-ecm"])
def test_g711_round_trip_still_transfers(
    documents: dict[str, Path], tmp_path: Path, codec: Codec, ecm: bool
) -> None:
    received = tmp_path / "received.tif"
    result = transfer(documents["fine_g4_3"], received, ecm=ecm, line=LineModel(codec=codec))
    assert result.succeeded
    assert result.sender.bit_rate == 14400
    assert pages_equal(documents["fine_g4_3"], received) == [True] * 3


CLEAN_FAILURES = {Outcome.PROTOCOL_FAILURE, Outcome.NO_FAX}


@pytest.mark.parametrize("loss_fill", list(LossFill))
@pytest.mark.parametrize("drop_rate", [0.005, 0.02, 0.2])
def test_lost_frames_end_in_success_or_a_clean_retryable_failure(
    documents: dict[str, Path], tmp_path: Path, drop_rate: float, loss_fill: LossFill
) -> None:
    for seed in range(4):
        received = tmp_path / f"received-{seed}.tif"
        line = LineModel(drop_rate=drop_rate, seed=seed, loss_fill=loss_fill)
        result = transfer(documents["fine_g4_3"], received, line=line, max_line_seconds=600)
        assert not result.hit_step_limit  # spandsp's own timers ended it: no hang
        assert result.frames_dropped > 0
        first_end = min(result.sender.line_seconds, result.receiver.line_seconds)
        assert result.line_seconds <= first_end + HANGUP_GRACE_SECONDS + 0.05
        if result.sender.succeeded:
            # What the sender counts as delivered was received intact.
            assert pages_equal(documents["fine_g4_3"], received)[: result.sender.pages] == (
                [True] * result.sender.pages
            )
        else:
            assert result.sender.outcome in CLEAN_FAILURES, result.sender
            assert result.sender.retryable
        assert result.receiver.outcome in CLEAN_FAILURES | {Outcome.DONE}


def test_an_end_left_waiting_is_hung_up(documents: dict[str, Path], tmp_path: Path) -> None:
    # With this seed the sender gives up in training (no answer to DCS/TCF) while the receiver,
    # left to spandsp alone, would wait for ever: the loopback hangs it up like a real line.
    line = LineModel(drop_rate=0.02, seed=9, loss_fill=LossFill.FILLIN)
    result = transfer(documents["fine_g4_3"], tmp_path / "r.tif", line=line)
    assert not result.hit_step_limit
    assert result.sender.completion_code == T30Error.TX_PHBDEAD
    assert result.receiver.completion_code == T30Error.CALLDROPPED
    assert result.receiver.retryable
    assert result.line_seconds <= result.sender.line_seconds + HANGUP_GRACE_SECONDS + 0.05


def test_step_limit_terminates_both_ends(documents: dict[str, Path], tmp_path: Path) -> None:
    result = transfer(documents["fine_g4_3"], tmp_path / "r.tif", max_line_seconds=5)
    assert result.hit_step_limit
    assert result.steps == 250
    for report in (result.sender, result.receiver):
        assert report.outcome is Outcome.PROTOCOL_FAILURE
        assert report.completion_text == "The call dropped prematurely"
        assert report.retryable


def _pump(sender: FaxTerminal, receiver: FaxTerminal, max_steps: int = 30_000) -> None:
    """Exchange 20 ms frames until both ends finished (or `max_steps`)."""
    for _ in range(max_steps):
        receiver.rx(sender.tx())
        sender.rx(receiver.tx())
        if sender.finished and receiver.finished:
            return


def test_events_follow_the_call(documents: dict[str, Path], tmp_path: Path) -> None:
    events: list[tuple[str, object]] = []

    def on_page(page: PageReport) -> None:
        events.append(("page", page.page))

    with (
        FaxTerminal.sender(
            documents["fine_g4_3"],
            SENDER_IDENT,
            on_remote_ident=lambda ident: events.append(("ident", ident)),
            on_page=on_page,
            on_complete=lambda report: events.append(("complete", report.outcome)),
        ) as sender,
        FaxTerminal.receiver(tmp_path / "r.tif", RECEIVER_IDENT) as receiver,
    ):
        _pump(sender, receiver)
        assert events == [
            ("ident", RECEIVER_IDENT),
            ("page", 1),
            ("page", 2),
            ("page", 3),
            ("complete", Outcome.DONE),
        ]
        assert [p.page for p in sender.pages] == [1, 2, 3]
        # Per-page figures were taken in phase D, before phase E resets them.
        assert all(p.length == 2292 and p.image_bytes > 0 for p in sender.pages)


def test_callback_errors_surface_in_the_caller(documents: dict[str, Path], tmp_path: Path) -> None:
    def broken(page: PageReport) -> None:
        raise RuntimeError(f"listener failed on page {page.page}")

    with (
        FaxTerminal.sender(documents["fine_g4_1"], "1", on_page=broken) as sender,
        FaxTerminal.receiver(tmp_path / "r.tif", "2") as receiver,
        pytest.raises(RuntimeError, match="page 1"),
    ):
        _pump(sender, receiver)


def test_spandsp_log_lines_reach_python_logging(
    documents: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    session = logging.getLogger("faxengine.test-session")
    with caplog.at_level(logging.DEBUG, logger="faxengine.test-session"):
        result = transfer(documents["fine_g4_1"], tmp_path / "r.tif", logger=session)
    assert result.succeeded
    messages = [r.getMessage() for r in caplog.records if r.name == "faxengine.test-session"]
    # spandsp's T.30 trace, tagged per terminal, and faxgate's own per-page lines.
    assert any("loopback-sender" in m and "DCS" in m for m in messages)
    assert any("loopback-receiver" in m and "DIS" in m for m in messages)
    assert "loopback-receiver: page 1 done (EOP): 14400 bit/s, ECM on, fine, MMR, 2292 rows" in (
        messages
    )
    assert "loopback-sender: page 1 done (MCF): 14400 bit/s, ECM on, fine, MMR, 2292 rows" in (
        messages
    )
    assert sum("call ended: OK" in m for m in messages) == 2


def test_quiet_logger_gets_no_trace(
    documents: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="faxengine"):
        assert transfer(documents["fine_g4_1"], tmp_path / "r.tif").succeeded
    assert [r for r in caplog.records if r.name.startswith("faxengine")] == []


def test_check_sendable_accepts_a_good_document(documents: dict[str, Path]) -> None:
    check = check_sendable(documents["fine_g3_3"])
    assert check.ok
    assert check.pages_equal == (True, True, True)
    assert check.describe().startswith("sent 3 page(s) at 14400 bit/s, ECM, MMR, fine")


def test_check_sendable_explains_a_bad_document(documents: dict[str, Path], tmp_path: Path) -> None:
    check = check_sendable(documents["wide_2048"], received_tiff=tmp_path / "r.tif")
    assert not check.ok
    assert check.describe().startswith("not sendable: The other fax machine cannot receive pages")


def test_a_voice_answering_is_no_fax(documents: dict[str, Path]) -> None:
    # A person (or voicemail) answers: 440 Hz bursts and pauses, never a fax signal.
    tone = (3000 * np.sin(2 * np.pi * 440 * np.arange(160) / 8000)).astype(np.int16)
    silence = np.zeros(160, dtype=np.int16)
    with FaxTerminal.sender(documents["fine_g4_1"], SENDER_IDENT) as sender:
        for step in range(6000):  # 120 s of line time at most
            sender.rx(tone if (step // 25) % 2 else silence)
            sender.tx()
            if sender.finished:
                break
        report = sender.result()
    assert report.completion_code == T30Error.T0_EXPIRED
    assert report.outcome is Outcome.NO_FAX
    assert report.retryable
    assert report.pages == 0
    assert report.remote_ident == ""


def _first_success(document: Path, tmp_path: Path, ecm: bool) -> tuple[Path, LoopbackResult]:
    for seed in range(10):
        received = tmp_path / f"received-{ecm}-{seed}.tif"
        result = transfer(document, received, ecm=ecm, line=LineModel(drop_rate=0.005, seed=seed))
        if result.succeeded:
            return received, result
    pytest.fail("no transfer over a 0.5 % lossy line completed in 10 tries")


def test_ecm_repairs_lost_frames(documents: dict[str, Path], tmp_path: Path) -> None:
    received, result = _first_success(documents["fine_g4_3"], tmp_path, ecm=True)
    assert result.frames_dropped > 0
    assert sum(page.ecm_retries for page in result.receiver.page_reports) > 0
    assert all(page.bad_rows == 0 for page in result.receiver.page_reports)
    assert pages_equal(documents["fine_g4_3"], received) == [True] * 3


def test_without_ecm_lost_frames_leave_bad_rows(documents: dict[str, Path], tmp_path: Path) -> None:
    received, result = _first_success(documents["fine_g4_3"], tmp_path, ecm=False)
    damaged = [page.bad_rows > 0 for page in result.receiver.page_reports]
    assert any(damaged)
    # The comparison sees exactly the pages the receiver reported damaged.
    assert pages_equal(documents["fine_g4_3"], received) == [not bad for bad in damaged]


def test_interleaved_calls_do_not_mix(documents: dict[str, Path], tmp_path: Path) -> None:
    # Like a daemon serving several lines from one loop: every terminal keeps its own state,
    # callbacks and log tag.
    names = ["fine_g4_1", "fine_g4_3", "normal_g3_2", "fine_g3_3"]
    pairs = [
        (
            FaxTerminal.sender(documents[name], f"S{i}", log_tag=f"line{i}-tx"),
            FaxTerminal.receiver(tmp_path / f"in{i}.tif", f"R{i}", log_tag=f"line{i}-rx"),
        )
        for i, name in enumerate(names)
    ]
    try:
        for _ in range(30_000):
            for sender, receiver in pairs:
                receiver.rx(sender.tx())
                sender.rx(receiver.tx())
            if all(s.finished and r.finished for s, r in pairs):
                break
        for i, (name, (sender, receiver)) in enumerate(zip(names, pairs, strict=True)):
            assert sender.result().succeeded
            assert receiver.result().succeeded
            assert (sender.remote_ident, receiver.remote_ident) == (f"R{i}", f"S{i}")
            assert all(pages_equal(documents[name], tmp_path / f"in{i}.tif"))
    finally:
        for sender, receiver in pairs:
            sender.close()
            receiver.close()
