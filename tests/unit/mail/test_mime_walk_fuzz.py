"""Bad input never crashes the walk: damaged copies of real mails and arbitrary bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faxgate.appliance import rootfs_dir
from faxgate.mail.mime_walk import WalkedMail, walk_mail
from faxgate.settings import load_settings
from faxgate.smtpfaxd.interpret import interpret
from faxgate.spool.layout import Spool
from faxgate.spool.requests import FaxRequest, InterpretContext, Rejection

CORPUS = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "mail").glob("*.eml"))
MAILS = [path.read_bytes() for path in CORPUS]
SETTINGS = load_settings(environ={})


def damaged(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data[: max(1, cut % (len(data) + 1))])
    for position, value in flips:
        if out:
            out[position % len(out)] = value
    return bytes(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(min_value=0, max_value=len(MAILS) - 1),
    cut=st.integers(min_value=0, max_value=200_000),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=20),
)
def test_damaged_real_mails_are_walked_without_crashing(
    index: int, cut: int, flips: list[tuple[int, int]]
) -> None:
    result = walk_mail(damaged(MAILS[index], cut, flips))
    assert isinstance(result, WalkedMail)
    assert all(isinstance(a.data, bytes) for a in result.attachments)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_are_walked_without_crashing(data: bytes) -> None:
    assert isinstance(walk_mail(data), WalkedMail)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(min_value=0, max_value=len(MAILS) - 1),
    cut=st.integers(min_value=0, max_value=200_000),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=20),
)
def test_damaged_mails_are_interpreted_into_requests_or_a_rejection(
    tmp_path_factory: pytest.TempPathFactory, index: int, cut: int, flips: list[tuple[int, int]]
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    spool = Spool(root / "spool")
    spool.ensure()
    spool.seed_mimetype(rootfs_dir() / "usr/lib/faxgate/mimetype")
    raw = root / "mail.eml"
    raw.write_bytes(damaged(MAILS[index], cut, flips))
    recipient = {"address": "x@0991234.fax", "number": "0991234", "name": "x"}
    ctx = InterpretContext(
        spool=spool, settings=SETTINGS, submission_id=1, kind="mail", raw_path=raw,
        params={"mail_from": "a@example.com", "recipients": [recipient]}, owner=None,
        work_dir=root,
    )  # fmt: skip
    result = interpret(ctx)
    if isinstance(result, Rejection):
        assert result.reason
    else:
        assert len(result) == 1
        assert isinstance(result[0], FaxRequest)
        assert result[0].parts
