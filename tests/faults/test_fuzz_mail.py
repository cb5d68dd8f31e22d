"""Fuzzing the mail path: MIME walk, the mail interpreter and the recipient decision.

Mails are generated from a small MIME grammar (nested multiparts, broken transfer encodings,
odd charsets, encoded-word headers, TNEF, S/MIME, message/rfc822, hostile file names) and
also made by flipping bytes of the mail corpus. The walk must never raise; the interpreter
must turn every mail into fax requests or a plain-words rejection, and write its files only
inside its work directory; a recipient is either accepted for a fax domain or refused with a
5.x.x reply — never relayed anywhere else.
"""

from __future__ import annotations

import base64
import itertools
import tempfile
from pathlib import Path

import pytest
from faults_fuzzing import fuzz_settings, replay_params, tolerating_known_bugs
from hypothesis import given
from hypothesis import strategies as st

from faxgate.appliance import rootfs_dir
from faxgate.mail.addresses import RecipientError, fax_recipient
from faxgate.mail.mime_walk import walk_mail
from faxgate.settings import load_settings
from faxgate.smtpfaxd.interpret import interpret
from faxgate.spool.layout import Spool
from faxgate.spool.requests import FaxRequest, InterpretContext, Rejection

CORPUS = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "mail").glob("*.eml"))
TYPES = [
    "text/plain", "text/html", "application/pdf", "application/postscript", "image/tiff",
    "application/octet-stream", "application/ms-tnef", "application/pkcs7-mime",
    "message/rfc822", "image/png", "text/x-../../etc", "../../bin/sh", "application/x-foo",
]  # fmt: skip
CHARSETS = ["utf-8", "iso-8859-1", "utf-7", "x-unknown", "utf-16", "", "us-ascii\x00", "cp1252"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", "bogus"]
NAMES = ["a.pdf", "../../etc/passwd", "..", "", "x" * 300, "=?utf-8?B?Li4vLi4vZXRjL3Bhc3N3ZA==?=",
         "con.txt", "name\x00.pdf", "/abs/path.pdf"]  # fmt: skip
BODIES = [b"", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF", b"%!PS-Adobe-3.0\nshowpage\n",
          b"II*\x00\x08\x00\x00\x00", b"\xff\xfe\x00\x00garbage", b"Hello fax\r\n", b"=ZZ=\r\n"]  # fmt: skip
counter = itertools.count()

header_text = st.one_of(
    st.text(max_size=30).map(lambda t: t.replace("\r", " ").replace("\n", " ")),
    st.sampled_from(
        [
            "=?utf-8?B?w6TDtsO8?=",
            "=?bogus?Q?x?=",
            "=?utf-8?B?!!!?=",
            '"a, b" <x@y>',
            "<>",
            "@@@",
            "=?iso-8859-1?q?=E4?= \t folded",
        ]
    ),
)


@st.composite
def mime_parts(draw: st.DrawFn, depth: int = 0) -> bytes:
    content_type = draw(st.sampled_from(TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    if depth < 3 and draw(st.integers(0, 3)) == 0:
        boundary = draw(st.sampled_from(["b1", "", "b1 b2", '"quoted"', "x" * 80])) + str(
            next(counter)
        )
        children = draw(st.lists(mime_parts(depth + 1), max_size=4))
        subtype = draw(st.sampled_from(["mixed", "alternative", "related", "signed", "x"]))
        close = draw(st.booleans())
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + c + b"\r\n" for c in children)
        body += (b"--" + boundary.encode() + b"--\r\n") if close else b""
        head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
        return head + body
    encoding = draw(st.sampled_from(ENCODINGS))
    payload = draw(st.one_of(st.sampled_from(BODIES), st.binary(max_size=80)))
    if encoding == "base64" and draw(st.booleans()):
        payload = base64.encodebytes(payload)
    name = draw(st.sampled_from(NAMES))
    disposition = draw(st.sampled_from(["attachment", "inline", "", "bogus"]))
    leaf_head = (
        f'Content-Type: {content_type}; charset="{charset}"; name="{name}"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n"
        f'Content-Disposition: {disposition}; filename="{name}"\r\n\r\n'
    )
    return leaf_head.encode("utf-8", "surrogateescape") + payload


@st.composite
def mails(draw: st.DrawFn) -> bytes:
    headers = "".join(
        f"{name}: {draw(header_text)}\r\n" for name in ("From", "Reply-To", "Subject", "To")
    )
    return (
        b"MIME-Version: 1.0\r\n" + headers.encode("utf-8", "surrogateescape") + draw(mime_parts())
    )


def mutated(path: Path, edits: list[tuple[int, int]]) -> bytes:
    data = bytearray(path.read_bytes())
    for position, value in edits:
        data[position % len(data)] = value
    return bytes(data)


mutated_corpus = st.builds(
    mutated,
    st.sampled_from(CORPUS),
    st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 255)), min_size=1, max_size=20),
)


@fuzz_settings()
@given(st.one_of(mails(), mutated_corpus, st.binary(max_size=400)))
def test_mime_walk_never_raises(raw: bytes) -> None:
    with tolerating_known_bugs():
        walked = walk_mail(raw)
    for attachment in walked.attachments:
        assert isinstance(attachment.data, bytes)
    assert all(isinstance(problem, str) and problem for problem in walked.problems)


_SPOOL_DIR = tempfile.TemporaryDirectory(prefix="faxgate-fuzz-mail-")
_SPOOL = Spool(Path(_SPOOL_DIR.name) / "spool")
_SPOOL.ensure()
_SPOOL.seed_mimetype(rootfs_dir() / "usr/lib/faxgate/mimetype")
# faxmail mode 1 (attachments only): the cover page renderer is exercised by the mail tests;
# here the interest is in what the parser hands on, and it keeps each example fast.
_SETTINGS = load_settings(environ={"FAXGATE_SYS_FAX_CONFIGURE_FAXMAIL_MODE": "1"})
RECIPIENT = {"address": "x@0991234.fax", "number": "0991234", "written": "0991234", "name": "x"}


def interpret_mail(raw: bytes) -> list[FaxRequest] | Rejection:
    work = Path(tempfile.mkdtemp(dir=_SPOOL.tmp))
    raw_path = work / "mail.eml"
    raw_path.write_bytes(raw)
    out = work / "out"
    out.mkdir()
    ctx = InterpretContext(
        spool=_SPOOL, settings=_SETTINGS, submission_id=1, kind="mail", raw_path=raw_path,
        params={"mail_from": "a@example.com", "recipients": [RECIPIENT]}, owner=None,
        work_dir=out,
    )  # fmt: skip
    result = interpret(ctx)
    if isinstance(result, list):
        for request in result:
            for part in request.parts:
                assert part.path.resolve().is_relative_to(out.resolve()), part.path
                assert part.path.is_file()
    return result  # type: ignore[return-value]


@fuzz_settings(share=0.5)
@given(st.one_of(mails(), mutated_corpus))
def test_mail_interpreter_gives_requests_or_a_plain_rejection(raw: bytes) -> None:
    with tolerating_known_bugs():
        result = interpret_mail(raw)
    if isinstance(result, Rejection):
        assert result.reason.strip()
    else:
        assert isinstance(result, list)
        assert all(isinstance(request, FaxRequest) and request.parts for request in result)


MATCHER = _SETTINGS.matcher("sys.fax.configure.faxmail.matcher.fax")
addresses = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda local, domain: f"{local}@{domain}",
        st.text(max_size=12),
        st.one_of(
            st.sampled_from(
                [
                    "0991234.fax",
                    "fax",
                    "example.com",
                    "0991234.fax.example.com",
                    "0991234.FAX.",
                    "x.fax@evil.com",
                    "evil.com.fax",
                    "110.fax",
                ]
            ),
            st.text(max_size=12),
        ),
    ),
)


@fuzz_settings()
@given(addresses)
def test_a_recipient_is_a_fax_number_or_refused_never_relayed(address: str) -> None:
    try:
        recipient = fax_recipient(address, MATCHER, ["fax"], blocked=["110", "0900*"])
    except RecipientError as refused:
        assert refused.reply.startswith("550 5.")  # noqa: PT017
        return
    domain = address.strip().strip("<>").rpartition("@")[2].rstrip(".").lower()
    assert domain == "fax" or domain.endswith(".fax")
    assert recipient.number.isdigit()
    assert recipient.number != "110"
    assert not recipient.number.startswith("0900")


@pytest.mark.parametrize("path", replay_params("mail"))
def test_kept_fault_input_is_interpreted(path: Path) -> None:
    walk_mail(path.read_bytes())
    result = interpret_mail(path.read_bytes())
    assert isinstance(result, list | Rejection)
