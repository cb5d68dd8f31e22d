"""log/xferfaxlog: one line per fax transfer, in HylaFAX's tab-separated field order.

HylaFAX's fields (xferfaxlog(5)): date, SEND|RECV, commid, modem, jobid, jobtag, sender,
"dest-number", "remote ident (CSI/TSI)", params, pages, jobtime, conntime, "reason",
"CIDName", "CIDNumber", "callid", "owner", "dcs", "jobinfo". Quoted fields are in double quotes
with embedded quotes escaped. Tools written for HylaFAX's log (xferfaxstats) read ours.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

LOG_NAME = "xferfaxlog"


@dataclass(frozen=True)
class Transfer:
    direction: str  # SEND or RECV
    at: float
    commid: int  # the calls row id
    modem: str  # the line
    jobid: str = ""
    jobtag: str = ""
    sender: str = ""
    number: str = ""
    remote_ident: str = ""
    params: int = 0  # bit rate, in place of HylaFAX's encoded session parameters
    pages: int = 0
    job_time_s: float = 0.0
    connect_time_s: float = 0.0
    reason: str = ""
    cid_name: str = ""
    cid_number: str = ""
    owner: str = ""
    dcs: str = ""


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", " ") + '"'


def _hms(seconds: float) -> str:
    total = max(0, round(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def format_line(t: Transfer) -> str:
    when = datetime.datetime.fromtimestamp(t.at).strftime("%m/%d/%y %H:%M")
    fields = [
        when,
        t.direction,
        f"{t.commid:09d}",
        t.modem.replace("\t", " "),
        t.jobid,
        t.jobtag.replace("\t", " "),
        t.sender.replace("\t", " "),
        _q(t.number),
        _q(t.remote_ident),
        str(t.params),
        str(t.pages),
        _hms(t.job_time_s),
        _hms(t.connect_time_s),
        _q(t.reason),
        _q(t.cid_name),
        _q(t.cid_number),
        _q(""),
        _q(t.owner),
        _q(t.dcs),
        "",
    ]
    return "\t".join(fields) + "\n"


def append(log_dir: Path, transfer: Transfer) -> None:
    """Append one line (O_APPEND: concurrent writers never interleave within a line)."""
    fd = os.open(log_dir / LOG_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, format_line(transfer).encode())
    finally:
        os.close(fd)
