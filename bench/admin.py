"""Benchmark: the admin's fax lists and the API with 100,000 faxes in the ledger.

Fills a fresh ledger with 100,000 received faxes and 100,000 sent jobs (20 fax devices, 20
users, a year of traffic), starts the real faxadmin under gunicorn on 127.0.0.1 and times
requests over HTTP: the received list page 1 and page 500 (keyset cursor), the same for an
ordinary user (only their device's faxes), the sent list, and the API list. The reference in the
same run is what page 500 would cost with LIMIT/OFFSET paging (SQL alone, no HTTP). Goal: p95
under 100 ms. Writes the "## Admin" section of docs/performance.md.

Run: .venv/bin/python bench/admin.py [requests-per-figure]
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfdoc import write_section

from faxgate import devices, users
from faxgate.faxadmin.security import TokenStore
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

FAXES = 100_000
PAGE_SIZE = 50
PAGE = 500
USERS = 20
PASSWORD = "bench-password-1"  # noqa: S105 -- a throw-away benchmark ledger
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def fill(ledger: Ledger) -> None:
    """100,000 received faxes and 100,000 jobs over the last year."""
    rng = random.Random(7)
    now = time.time()
    device_ids = []
    for i in range(USERS):
        name = f"user{i:02d}"
        with ledger.transaction() as conn:
            conn.execute(
                "INSERT INTO users (name, role, password_hash, email, created_at)"
                " VALUES (?, 'user', 'x', ?, ?)",
                (name, f"{name}@example.com", now),
            )
        device_ids.append(devices.add(ledger, str(100 + i), [f"{name}@example.com"], "bench").id)
    received = []
    jobs = []
    for n in range(FAXES):
        at = now - rng.random() * 365 * 86400
        device = rng.randrange(USERS)
        received.append(
            (
                f"recvq/fax{n:08d}.tif",
                str(100 + device),
                f"0{rng.randrange(10**8, 10**9)}",
                rng.randint(1, 5),
                "delivered",
                at,
                device_ids[device],
            )
        )
        jobs.append(
            (
                f"0{rng.randrange(10**8, 10**9)}",
                rng.choice(("done", "done", "done", "failed")),
                f"user{rng.randrange(USERS):02d}",
                at,
                at + 3 * 3600,
                at,
                at,
                rng.randint(1, 5),
            )
        )
    with ledger.transaction() as conn:
        conn.executemany(
            "INSERT INTO received_faxes (tiff_path, dnid, caller_id, pages, state, received_at,"
            " device_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            received,
        )
        conn.executemany(
            "INSERT INTO jobs (number, state, owner, send_at, kill_at, created_at, updated_at,"
            " pages_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            jobs,
        )
    ledger.conn.execute("ANALYZE")


def free_port() -> int:
    for _ in range(200):
        port = random.randint(48000, 48999)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class Http:
    """One keep-alive connection with cookies."""

    def __init__(self, port: int) -> None:
        import http.client

        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=all_headers)
            response = self.connection.getresponse()
        except (ConnectionError, OSError):
            # gunicorn closes a keep-alive connection after a few idle seconds: open a new one.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=all_headers)
            response = self.connection.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0].strip('"')
        found = _CSRF.search(data.decode(errors="replace"))
        if found:
            self.csrf = found.group(1)
        return response.status, data

    def login(self, name: str) -> None:
        from urllib.parse import urlencode

        self.request("GET", "/login", headers={"Accept": "text/html"})
        form = {"username": name, "password": PASSWORD, "next": "/", "csrf_token": self.csrf}
        status, _ = self.request(
            "POST",
            "/login",
            urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 303, status


def timings(
    client: Http, path: str, count: int, headers: dict[str, str] | None = None
) -> list[float]:
    status, body = client.request("GET", path, headers=headers)  # warm up
    rows = body.count(b'data-fax="') + body.count(b'data-job="') + body.count(b'"id":')
    if status != 200 or rows != PAGE_SIZE:  # time only real, full pages
        raise RuntimeError(f"{path}: HTTP {status} with {rows} rows")
    found = []
    for _ in range(count):
        start = time.perf_counter()
        status, body = client.request("GET", path, headers=headers)
        found.append((time.perf_counter() - start) * 1000)
        assert status == 200, (status, body[:300])
    return found


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def keyset_cursor(ledger: Ledger, page: int) -> str:
    row = ledger.query_one(
        "SELECT received_at, id FROM received_faxes ORDER BY received_at DESC, id DESC"
        " LIMIT 1 OFFSET ?",
        ((page - 1) * PAGE_SIZE - 1,),
    )
    assert row is not None
    return f"{row[0]!r}_{row[1]}"


def sql_ms(ledger: Ledger, sql: str, args: tuple[object, ...], count: int) -> list[float]:
    found = []
    for _ in range(count):
        start = time.perf_counter()
        ledger.query(sql, args)
        found.append((time.perf_counter() - start) * 1000)
    return found


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 200
    with tempfile.TemporaryDirectory(prefix="faxgate-bench-admin-") as tmp:
        root = Path(tmp)
        spool = Spool(root / "spool")
        spool.ensure()
        started = time.perf_counter()
        with Ledger.open(spool.ledger_path) as ledger:
            admin = users.create(ledger, "admin", PASSWORD, "admin", "bench")
            fill(ledger)
            users.set_password(ledger, "user03", PASSWORD, "bench")
            token = TokenStore(ledger).create(admin, "bench", "bench", time.time())
        filled_s = time.perf_counter() - started
        config = root / "appliance.yml"
        config.write_text("{}\n")
        port = free_port()
        log = (root / "faxadmin.log").open("wb")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "faxgate",
                "faxadmin",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
            ],
            env={**os.environ, "FAXGATE_SPOOL": str(spool.root), "FAXGATE_CONFIG": str(config)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("faxadmin did not start") from None
                    time.sleep(0.2)
            admin_http = Http(port)
            admin_http.login("admin")
            user_http = Http(port)
            user_http.login("user03")
            html = {"Accept": "text/html"}
            api = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            with Ledger.open(spool.ledger_path, migrate=False) as ledger:
                cursor = keyset_cursor(ledger, PAGE)
                offset_ms = sql_ms(
                    ledger,
                    "SELECT * FROM received_faxes r LEFT JOIN fax_devices fd ON fd.id = r.device_id"
                    " ORDER BY r.received_at DESC, r.id DESC LIMIT ? OFFSET ?",
                    (PAGE_SIZE, (PAGE - 1) * PAGE_SIZE),
                    count,
                )
                keyset_ms = sql_ms(
                    ledger,
                    "SELECT * FROM received_faxes r LEFT JOIN fax_devices fd ON fd.id = r.device_id"
                    " WHERE (r.received_at, r.id) < (?, ?)"
                    " ORDER BY r.received_at DESC, r.id DESC LIMIT ?",
                    (*(float(x) if "." in x else int(x) for x in cursor.split("_")), PAGE_SIZE),
                    count,
                )
            figures = {
                "received list, page 1 (admin)": timings(
                    admin_http, "/faxes/received", count, html
                ),
                f"received list, page {PAGE} (admin, keyset cursor)": timings(
                    admin_http, f"/faxes/received?after={cursor}", count, html
                ),
                "received list, page 1 (ordinary user: own device)": timings(
                    user_http, "/faxes/received", count, html
                ),
                "sent list, page 1 (admin)": timings(admin_http, "/faxes/sent", count, html),
                "API GET /api/v1/jobs (50 jobs)": timings(Http(port), "/api/v1/jobs", count, api),
                "API GET /api/v1/received (50 faxes)": timings(
                    Http(port), "/api/v1/received", count, api
                ),
            }
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(20)
    load = os.getloadavg()[0]
    rows = "\n".join(
        f"| {name} | {statistics.median(ms):.1f} ms | **{p95(ms):.1f} ms** | "
        f"{'yes' if p95(ms) < 100 else 'NO'} |"
        for name, ms in figures.items()
    )
    body = f"""Measured with `.venv/bin/python bench/admin.py {count}` on this machine (2 cores shared
with other work; 1-minute load average {load:.1f} when it finished). A fresh ledger with
{FAXES:,} received faxes and {FAXES:,} sent jobs (20 fax devices and users, one year; filled in
{filled_s:.0f} s), the real faxadmin under gunicorn (2 `HeadDeadlineWorker` workers, gthread with deadlines) on 127.0.0.1, {count}
sequential keep-alive requests per figure, logged in as admin or user (session cookie) or with an
API token. Times are whole HTTP requests: session check, ledger query, template, transfer.

| request | median | p95 | p95 < 100 ms |
|---|---|---|---|
{rows}

Reference in the same run, SQL alone (no HTTP) for page {PAGE} of the received list:
LIMIT/OFFSET paging p95 **{p95(offset_ms):.1f} ms** (median {statistics.median(offset_ms):.1f} ms)
against the keyset query the admin uses p95 **{p95(keyset_ms):.2f} ms** (median
{statistics.median(keyset_ms):.2f} ms): OFFSET reads and drops {(PAGE - 1) * PAGE_SIZE:,} rows,
the cursor `(received_at, id) < (…)` starts at the right index entry. Thumbnails are separate
requests, made once per fax and kept beside its TIFF.
"""
    write_section("Admin", body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
