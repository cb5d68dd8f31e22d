"""Fuzzing smtpfaxd's SMTP dialogue on a real daemon: hostile command sequences in one session.

Commands come from a small grammar (EHLO/HELO/MAIL/RCPT/DATA/BDAT/RSET/NOOP/VRFY/AUTH/STARTTLS
and junk, with odd parameters, SIZE and AUTH= values, long and non-ASCII arguments, bare LF).
Every line the server sends back must be a numbered SMTP reply, the daemon must keep running,
its log must show no traceback of ours, and no submission may appear without a 250 to DATA.
"""

from __future__ import annotations

import contextlib
import socket

import pytest
from faults_appliance import Appliance, Program
from faults_clients import good_smtp, unexpected_exceptions
from faults_fuzzing import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

addresses = st.sampled_from([
    "<a@example.com>", "<x@0991234.fax>", "<>", "<@route:x@0991234.fax>", "x@0991234.fax",
    "<" + "a" * 300 + "@0991234.fax>", "<\u00e4@0991234.fax>", "<x@[127.0.0.1]>", "<x@>",
])  # fmt: skip
parameters = st.sampled_from([
    "", " SIZE=100", " SIZE=-1", " SIZE=99999999999999999999", " BODY=8BITMIME", " AUTH=<>",
    " SMTPUTF8", " FOO=BAR", " SIZE", " NOTIFY=NEVER",
])  # fmt: skip
commands = st.one_of(
    st.builds(lambda a, p: f"MAIL FROM:{a}{p}", addresses, parameters),
    st.builds(lambda a, p: f"RCPT TO:{a}{p}", addresses, parameters),
    st.sampled_from(
        [
            "EHLO client.example.com",
            "HELO x",
            "EHLO",
            "DATA",
            "RSET",
            "NOOP",
            "QUIT x",
            "VRFY root",
            "EXPN all",
            "HELP",
            "AUTH PLAIN",
            "AUTH LOGIN",
            "AUTH CRAM-MD5",
            "AUTH PLAIN AGFsaWNlAHdyb25n",
            "STARTTLS",
            "BDAT 10 LAST",
            "TURN",
            "ETRN x",
            "",
            " ",
            "\x00\x01",
            "MAIL",
            "RCPT",
            "mail from:<a@b>",
        ]
    ),
    st.text(max_size=40).map(lambda t: t.replace("\r", "").replace("\n", "")),
)
data_bodies = st.sampled_from([
    b"Subject: x\r\n\r\nhello\r\n.\r\n", b".\r\n", b"..\r\n.\r\n", b"\r\n.\r\n",
    b"Subject: x\n\nbare LF\n.\n\r\n.\r\n", b"A" * 2000 + b"\r\n.\r\n",
])  # fmt: skip


@pytest.fixture(scope="module")
def smtp(module_appliance: Appliance) -> Program:
    return module_appliance.start("smtpfaxd")


def read_replies(sock: socket.socket) -> list[bytes]:
    data = b""
    with contextlib.suppress(OSError):
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if data.endswith(b"\r\n"):
                last = data.rstrip(b"\r\n").split(b"\r\n")[-1]
                if len(last) >= 4 and last[3:4] == b" ":
                    break
    return [line for line in data.split(b"\r\n") if line]


@fuzz_settings(share=0.4)
@given(st.lists(st.tuples(commands, data_bodies), min_size=1, max_size=10))
def test_any_command_sequence_gets_smtp_replies(
    smtp: Program, steps: list[tuple[str, bytes]]
) -> None:
    with socket.create_connection(("127.0.0.1", smtp.port), timeout=5) as sock:
        sock.settimeout(3)
        replies = read_replies(sock)  # the greeting
        for command, body in steps:
            sock.sendall(command.encode("utf-8", "surrogatepass") + b"\r\n")
            answer = read_replies(sock)
            replies += answer
            if answer and answer[-1].startswith(b"354"):
                sock.sendall(body)
                replies += read_replies(sock)
            if not answer or answer[-1].startswith(b"221"):
                break
    for line in replies:
        assert line[:3].isdigit(), line
        assert line[3:4] in (b" ", b"-"), line
    assert smtp.alive(), smtp.log()[-2000:]


def test_after_the_fuzzing_the_gateway_still_works_and_logged_no_crash(smtp: Program) -> None:
    assert good_smtp(smtp.port)
    assert unexpected_exceptions(smtp.log()) == []
