"""Uploads (faxctl send, the admin's upload, the REST API): documents plus parameters.

The submission's data is a tar archive of the files (so several documents are one durable
write); the parameters carry the numbers, priority, notify address and tag. `interpret(ctx)`
is the interpreter faxqueued's intake calls for kind "upload".
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Sequence
from pathlib import Path

from faxgate.convert.sniff import sniff_mime_type
from faxgate.faxqueued.scheduling import clamp_priority
from faxgate.numbers import NumberError, normalise
from faxgate.spool.requests import (
    Destination,
    DocumentPart,
    FaxRequest,
    Interpretation,
    InterpretContext,
    Rejection,
)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str, index: int) -> str:
    base = _SAFE_NAME.sub("_", Path(name).name).strip("._") or "document"
    return f"{index:02d}-{base[:80]}"


def pack_files(files: Sequence[tuple[str, bytes]]) -> bytes:
    """A tar archive of (name, content) pairs in order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for index, (name, content) in enumerate(files):
            info = tarfile.TarInfo(safe_name(name, index))
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def unpack_files(archive_path: Path, target: Path) -> list[Path]:
    """Extract only regular files, flat, with safe names; returns them in order."""
    target.mkdir(parents=True, exist_ok=True)
    extracted: list[Path] = []
    with tarfile.open(archive_path, mode="r:") as archive:
        for index, member in enumerate(archive.getmembers()):
            if not member.isfile():
                continue
            source = archive.extractfile(member)
            if source is None:
                continue
            path = target / safe_name(member.name, index)
            path.write_bytes(source.read())
            extracted.append(path)
    return extracted


def interpret(ctx: InterpretContext) -> Interpretation:
    """The fax request an upload describes."""
    params = ctx.params
    notify = str(params["notify"]) if params.get("notify") else None
    try:
        numbers = [normalise(str(n)) for n in _as_list(params.get("numbers"))]
    except NumberError as exc:
        return Rejection(str(exc), notify, ctx.owner)
    if not numbers:
        return Rejection("no fax number was given", notify, ctx.owner)
    try:
        files = unpack_files(ctx.raw_path, ctx.work_dir / "files")
    except (tarfile.TarError, OSError) as exc:
        return Rejection(f"the uploaded documents could not be read: {exc}", notify, ctx.owner)
    if not files:
        return Rejection("no document was uploaded", notify, ctx.owner)
    names = [str(n) for n in _as_list(params.get("names"))]
    parts = [
        DocumentPart(
            path=path,
            mime_type=sniff_mime_type(path),
            description=names[i] if i < len(names) else path.name[3:],
        )
        for i, path in enumerate(files)
    ]
    default_priority = ctx.settings.get_int("sys.fax.configure.queue.priority")
    raw_priority = params.get("priority")
    priority = (
        clamp_priority(int(raw_priority)) if isinstance(raw_priority, int) else default_priority
    )
    return [
        FaxRequest(
            destinations=[Destination(number) for number in dict.fromkeys(numbers)],
            parts=parts,
            priority=priority,
            max_tries=ctx.settings.get_int("sys.fax.configure.queue.tries"),
            tag=str(params.get("tag") or ""),
            notify=notify,
            owner=ctx.owner,
        )
    ]


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]
