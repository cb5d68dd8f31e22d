"""HeadDeadlineWorker under real gunicorn: request bodies and responses with a minimum rate, and
a share of the pool threads per client address. (RateWorker: 1 s of grace, then 100 B/s, no
wait over 2 s; QuickWorker has the real rates. 2 threads: one address may hold 1.)"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_server import QUICK_WORKER, RATE_WORKER, Gunicorn, RawClient, connect, start_gunicorn
from web_testapp import BODY_RATE, SEND_RATE

MSG_PEEK_DONTWAIT = 0x2 | 0x40


def post(path: bytes, length: int) -> bytes:
    return b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % (path, length)


@pytest.fixture(scope="module")
def rate_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    started = start_gunicorn(tmp_path_factory.mktemp("rate") / "gunicorn.log", RATE_WORKER)
    yield started
    started.stop()


def trickle_until_answered(client: RawClient, byte_every: float, within: float) -> int:
    """Send a byte every `byte_every` s until the server answers (its status) or `within`."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            client.send(b"x")
        except OSError:
            break
        time.sleep(byte_every)
        if client.sock.recv(1, MSG_PEEK_DONTWAIT):
            break
    return client.response()[0]


def test_a_body_too_slow_after_the_grace_is_cut_with_408(
    rate_server: Gunicorn, clients: list[RawClient]
) -> None:
    client = connect(clients, rate_server.port, "127.0.0.11")
    start = time.monotonic()
    client.send(post(b"/slow", 1000))
    status = trickle_until_answered(client, byte_every=0.2, within=6)  # 5 B/s
    elapsed = time.monotonic() - start
    assert status == 408
    assert client.closed_by_server()
    # cut when the waiting outgrows the grace plus what the bytes paid for (5 B ≈ 0.05 s)
    assert BODY_RATE.grace - 0.1 <= elapsed <= BODY_RATE.grace + 1.5
    log = rate_server.log()
    assert "request body from 127.0.0.11 too slow" in log
    assert "Traceback" not in log


def test_a_slow_but_fast_enough_body_is_served(
    rate_server: Gunicorn, clients: list[RawClient]
) -> None:
    client = connect(clients, rate_server.port, "127.0.0.12")
    client.send(post(b"/upload", 1500))
    client.trickle(b"y" * 1500, pieces=30, pause=0.1)  # 500 B/s for 3 s, past the grace
    assert client.echo()["body_length"] == 1500


def test_each_request_on_a_kept_alive_connection_has_its_own_grace(
    rate_server: Gunicorn, clients: list[RawClient]
) -> None:
    client = connect(clients, rate_server.port, "127.0.0.13")
    for _ in range(2):  # each body waits 0.8 s for 8 bytes: the two together would be too slow
        client.send(post(b"/again", 8))
        client.trickle(b"z" * 8, pieces=8, pause=0.1)
        assert client.echo()["body_length"] == 8


def test_a_stalled_body_is_cut_after_the_longest_wait(
    rate_server: Gunicorn, clients: list[RawClient]
) -> None:
    client = connect(clients, rate_server.port, "127.0.0.14")
    client.send(post(b"/stall", 10000))
    time.sleep(0.3)  # read by the pool thread, not with the head: only those bytes are counted
    client.send(b"a" * 5000)  # enough to pay for 50 s at the rate
    start = time.monotonic()
    assert client.response()[0] == 408
    assert BODY_RATE.idle - 0.1 <= time.monotonic() - start <= BODY_RATE.idle + 1.5


def test_falcon_answers_a_slow_body_with_408_and_closes(
    tmp_path: Path, clients: list[RawClient]
) -> None:
    server = start_gunicorn(tmp_path / "gunicorn.log", RATE_WORKER, app="web_testapp:falcon_app")
    try:
        client = connect(clients, server.port, "127.0.0.15")
        client.send(post(b"/upload", 1000))
        assert trickle_until_answered(client, byte_every=0.2, within=6) == 408
        assert client.closed_by_server()
        good = connect(clients, server.port, "127.0.0.15")
        good.send(post(b"/upload", 3) + b"abc")
        status, headers, body = good.response()
        assert (status, body) == (200, b'{"body_length": 3}')
        assert headers["connection"] == "keep-alive"
    finally:
        server.stop()
    log = server.log()
    assert "request body from 127.0.0.15 too slow" in log
    assert "Traceback" not in log


def test_one_address_holds_at_most_its_share_of_threads(
    tmp_path: Path, clients: list[RawClient]
) -> None:
    """2 threads, so 1 per address: a second request from the busy address waits (it is not
    dropped) while another address is served at once; then it is served too."""
    server = start_gunicorn(tmp_path / "gunicorn.log", QUICK_WORKER, threads=2)
    try:
        busy = connect(clients, server.port, "127.0.0.21")
        busy.send(post(b"/busy", 10) + b"12345")  # half a body: holds a thread
        time.sleep(0.3)
        waiting = connect(clients, server.port, "127.0.0.21")
        waiting.send(post(b"/waiting", 0))
        assert not select.select([waiting.sock], [], [], 1)[0]  # no answer, not closed
        other = connect(clients, server.port, "127.0.0.22")
        other.send(post(b"/other", 0))
        assert other.echo()["path"] == "/other"
        busy.send(b"67890")
        assert busy.echo()["body_length"] == 10
        assert waiting.echo()["path"] == "/waiting"
        # kept alive, the connection goes through the share again; and a request that ends
        # with an exception gives its thread back too
        waiting.send(post(b"/raise", 0))
        assert waiting.response()[0] == 500
        again = connect(clients, server.port, "127.0.0.21")
        again.send(post(b"/after-raise", 0))
        assert again.echo()["path"] == "/after-raise"
        busy.send(post(b"/busy-again", 0))
        assert busy.echo()["path"] == "/busy-again"
    finally:
        server.stop()


def test_a_client_that_does_not_read_the_response_holds_no_thread_for_long(
    tmp_path: Path, clients: list[RawClient]
) -> None:
    """1 thread: a client asking for 50 MB and reading none of it is cut after the longest
    wait, and the next client (queued for that thread) is served."""
    server = start_gunicorn(tmp_path / "gunicorn.log", RATE_WORKER, threads=1)
    try:
        reader = socket.socket()
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.bind(("127.0.0.31", 0))
        reader.connect(("127.0.0.1", server.port))
        reader.sendall(b"GET /big/50000000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        time.sleep(0.5)
        start = time.monotonic()
        good = connect(clients, server.port, "127.0.0.32")
        good.send(post(b"/good", 0))
        assert good.echo()["path"] == "/good"
        assert time.monotonic() - start <= SEND_RATE.idle + 3
        reader.close()
    finally:
        server.stop()
    log = server.log()
    assert "response to 127.0.0.31 read too slowly" in log
    assert "Traceback" not in log
