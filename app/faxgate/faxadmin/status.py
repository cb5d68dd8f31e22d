"""What the dashboard, /healthz and /metrics show: lines, programs, queue, attention items."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any

from faxgate.errors import FaxgateError
from faxgate.faxctl.commands import line_states as status_file_lines
from faxgate.mail.outbox import undelivered_count
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.supervision.control import Supervisor

LINE_STATES = ("idle", "registering", "dialling", "sending", "receiving", "down", "unknown")


def iaxmodemd_lines(spool: Spool, timeout_s: float) -> list[dict[str, Any]] | None:
    """The lines as iaxmodemd tells them over its control socket; None when it does not answer."""
    path = spool.iaxmodemd_socket
    if not path.exists():
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(path))
            sock.sendall(b'{"op":"status"}\n')
            buffer = b""
            while b"\n" not in buffer and len(buffer) < 1_000_000:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
        answer = json.loads(buffer.split(b"\n", 1)[0])
    except (OSError, ValueError):
        return None
    if not isinstance(answer, dict) or not answer.get("ok"):
        return None
    lines = answer.get("lines")
    return (
        [dict(line) for line in lines if isinstance(line, dict)]
        if isinstance(lines, list)
        else None
    )


def lines(spool: Spool, timeout_s: float = 0.5) -> list[dict[str, Any]]:
    """Every line with state and detail (iaxmodemd live, else its status files)."""
    live = iaxmodemd_lines(spool, timeout_s)
    if live is not None:
        return [
            {
                "line": str(item.get("line", "")),
                "state": str(item.get("state", "unknown")),
                "detail": str(item.get("detail", "")),
                "job": item.get("job"),
            }
            for item in live
        ]
    found = []
    for entry in status_file_lines(spool):
        text = entry["status"]
        word = text.split(maxsplit=1)[0].lower().rstrip(":") if text else "unknown"
        found.append(
            {
                "line": entry["line"],
                "state": word if word in LINE_STATES else "unknown",
                "detail": text,
                "job": None,
            }
        )
    return found


def programs(spool: Spool) -> list[dict[str, Any]] | None:
    """supervisord's view of the programs, or None when supervisord does not answer."""
    try:
        return [
            {"name": p.name, "state": p.state, "pid": p.pid, "description": p.description}
            for p in Supervisor(spool).programs()
        ]
    except FaxgateError:
        return None


def queue_counts(ledger: Ledger) -> dict[str, int]:
    rows = ledger.query("SELECT state, count(*) FROM jobs GROUP BY state")
    return {row[0]: row[1] for row in rows}


def start_of_today(now: float) -> float:
    local = time.localtime(now)
    return time.mktime((local.tm_year, local.tm_mon, local.tm_mday, 0, 0, 0, 0, 0, -1))


@dataclass(frozen=True)
class Today:
    pages_in: int
    pages_out: int
    faxes_in: int
    faxes_out: int


def today(ledger: Ledger, now: float) -> Today:
    since = start_of_today(now)
    received = ledger.query_one(
        "SELECT count(*), ifnull(sum(pages), 0) FROM received_faxes WHERE received_at >= ?",
        (since,),
    )
    sent = ledger.query_one(
        "SELECT count(*), ifnull(sum(pages_sent), 0) FROM jobs"
        " WHERE state = 'done' AND done_at >= ?",
        (since,),
    )
    assert received is not None
    assert sent is not None
    return Today(received[1], sent[1], received[0], sent[0])


def bad_files(spool: Spool) -> int:
    if not spool.bad.is_dir():
        return 0
    return sum(1 for p in spool.bad.iterdir() if not p.name.startswith("."))


def attention(spool: Spool, ledger: Ledger) -> list[str]:
    """Things an administrator should look at, in plain words."""
    items: list[str] = []
    outbox = undelivered_count(spool)
    if outbox:
        items.append(f"{outbox} mail(s) waiting in the outbox (see Mail outbox)")
    bad = bad_files(spool)
    if bad:
        items.append(f"{bad} file(s) in bad/ could not be processed (see Maintenance)")
    failed = ledger.query_one(
        "SELECT count(*) FROM received_faxes WHERE state = 'bad' AND received_at >= ?",
        (time.time() - 86400.0,),
    )
    if failed and failed[0]:
        items.append(f"{failed[0]} received fax(es) could not be delivered in the last day")
    return items


def call_outcomes(ledger: Ledger) -> dict[tuple[str, str], int]:
    rows = ledger.query(
        "SELECT direction, ifnull(outcome, 'none'), count(*) FROM calls"
        " WHERE state != 'active' GROUP BY 1, 2"
    )
    return {(row[0], row[1]): row[2] for row in rows}


def conversion_failures(ledger: Ledger) -> int:
    row = ledger.query_one("SELECT count(*) FROM submissions WHERE error IS NOT NULL")
    return int(row[0]) if row else 0


def pages_totals(ledger: Ledger) -> tuple[int, int]:
    sent = ledger.query_one("SELECT ifnull(sum(pages_sent), 0) FROM jobs")
    received = ledger.query_one("SELECT ifnull(sum(pages), 0) FROM received_faxes")
    return (int(sent[0]) if sent else 0), (int(received[0]) if received else 0)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(spool: Spool, ledger: Ledger, line_list: list[dict[str, Any]]) -> str:
    """The metrics in Prometheus text exposition format 0.0.4."""
    out: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            out.append(f"{name}{labels} {value:g}")

    counts = queue_counts(ledger)
    metric(
        "faxgate_jobs",
        "gauge",
        "Jobs in the ledger by state.",
        [(f'{{state="{_escape_label(s)}"}}', float(n)) for s, n in sorted(counts.items())],
    )
    sent, received = pages_totals(ledger)
    metric("faxgate_pages_sent_total", "counter", "Pages sent (jobs in the ledger).", [("", sent)])
    metric(
        "faxgate_pages_received_total",
        "counter",
        "Pages received (faxes in the ledger).",
        [("", received)],
    )
    metric(
        "faxgate_calls_total",
        "counter",
        "Ended fax calls by direction and outcome.",
        [
            (f'{{direction="{d}",outcome="{_escape_label(o)}"}}', float(n))
            for (d, o), n in sorted(call_outcomes(ledger).items())
        ],
    )
    states = {state: 0 for state in LINE_STATES}
    for line in line_list:
        states[line["state"] if line["state"] in states else "unknown"] += 1
    metric(
        "faxgate_lines",
        "gauge",
        "Fax lines by state.",
        [(f'{{state="{s}"}}', float(n)) for s, n in states.items()],
    )
    metric(
        "faxgate_outbox_messages",
        "gauge",
        "Mails waiting in the outbox.",
        [("", float(undelivered_count(spool)))],
    )
    metric(
        "faxgate_conversion_failures_total",
        "counter",
        "Submissions that could not be converted or interpreted.",
        [("", float(conversion_failures(ledger)))],
    )
    metric("faxgate_bad_files", "gauge", "Files kept in bad/.", [("", float(bad_files(spool)))])
    return "\n".join(out) + "\n"
