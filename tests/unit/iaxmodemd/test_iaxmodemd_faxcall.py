"""A fax session's audio path: lost frames become fill-in, overtaken frames are dropped.

Uses a real spandsp receiver terminal (in-process, no clock), fed by hand.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from faxgate.iaxmodemd.faxcall import CallParams, Direction, FaxSession, SessionHooks


def params(tmp_path: Path) -> CallParams:
    return CallParams(
        direction=Direction.IN,
        line="1",
        number="100",
        caller_id="",
        job=None,
        document=tmp_path / "rx.tif",
        ident="faxgate",
        header=None,
        ecm=True,
    )


def test_gaps_are_filled_in_and_overtaken_frames_dropped(tmp_path: Path) -> None:
    sent: list[int] = []

    async def scenario() -> FaxSession:
        import logging

        session = FaxSession(params(tmp_path), SessionHooks(), logging.getLogger("test.faxcall"))
        session.begin_audio(asyncio.get_running_loop(), lambda samples, frame: sent.append(frame))
        silence = np.zeros(160, dtype=np.int16)
        for timestamp in (1000, 1020, 1080, 1060, 1100):  # 1040 lost, 1060 overtaken by 1080
            session.audio_in(silence, timestamp)
        await asyncio.sleep(0.1)  # the clock sends frames meanwhile
        session.stop()
        return session

    session = asyncio.run(scenario())
    assert session.frames_in == 4
    assert session.frames_filled == 2  # 1040 and 1060 were missing when 1080 came
    assert session.frames_dropped_late == 1
    assert sent[:3] == [0, 1, 2]  # a steady stream from frame 0, silence included


def test_a_stopped_session_reports_an_unfinished_call(tmp_path: Path) -> None:
    async def scenario() -> FaxSession:
        import logging

        session = FaxSession(params(tmp_path), SessionHooks(), logging.getLogger("test.faxcall"))
        session.begin_audio(asyncio.get_running_loop(), lambda samples, frame: None)
        await asyncio.sleep(0.05)
        return session

    session = asyncio.run(scenario())
    report = session.stop()
    assert report is not None
    assert report.outcome.value != "done"
    assert report.pages == 0
