"""HeadDeadlineWorker under real gunicorn on 127.0.0.1: heads read by the poller thread, with a
deadline, a size cap and a per-address share; bodies, kept-alive and pipelined requests as
before. (QuickWorker: 2 s for a head, 4 heads being read per address; 1 worker × 2 threads.)"""

from __future__ import annotations

import http.client
import signal
import time
from pathlib import Path

import pytest
from web_server import QUICK_WORKER, Gunicorn, RawClient, connect, start_gunicorn
from web_testapp import HEADER_TIMEOUT, PER_ADDRESS

HEAD = b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Test: %s\r\n\r\n"
# The sweep runs about once a second, so a head is cut up to a second after its deadline.
CUT_BY = HEADER_TIMEOUT + 2.0


def test_a_head_in_several_packets_is_served(server: Gunicorn, clients: list[RawClient]) -> None:
    client = connect(clients, server.port)
    client.trickle(HEAD % b"pieces", pieces=6, pause=0.15)
    echoed = client.echo()
    assert echoed["path"] == "/echo"
    assert echoed["headers"] == {"TEST": "pieces"}


def test_a_head_trickled_past_the_deadline_is_cut_with_408(
    server: Gunicorn, clients: list[RawClient]
) -> None:
    client = connect(clients, server.port)
    start = time.monotonic()
    client.send(b"GET /echo HTTP/1.1\r\n")
    status = 0
    while time.monotonic() - start < CUT_BY + 2:
        try:
            client.send(b"X")  # an endless header line, a byte at a time
        except OSError:
            break
        time.sleep(0.25)
        if client.sock.recv(1, 0x2 | 0x40):  # MSG_PEEK | MSG_DONTWAIT: something came
            status = client.response()[0]
            break
    elapsed = time.monotonic() - start
    assert status == 408
    assert client.closed_by_server()
    assert HEADER_TIMEOUT - 0.1 <= elapsed <= CUT_BY


def test_a_silent_connection_is_closed_without_an_answer(
    server: Gunicorn, clients: list[RawClient]
) -> None:
    client = connect(clients, server.port)
    start = time.monotonic()
    assert client.sock.recv(100) == b""
    assert HEADER_TIMEOUT - 0.1 <= time.monotonic() - start <= CUT_BY


def test_an_oversized_head_is_refused_with_431(server: Gunicorn, clients: list[RawClient]) -> None:
    client = connect(clients, server.port)
    client.send(HEAD % (b"a" * 70000))
    assert client.response()[0] == 431
    assert client.closed_by_server()


def test_a_bare_line_feed_is_refused_at_once(server: Gunicorn, clients: list[RawClient]) -> None:
    client = connect(clients, server.port)
    start = time.monotonic()
    client.send(b"GET /echo HTTP/1.1\nHost: 127.0.0.1\n")
    assert client.response()[0] == 400
    assert time.monotonic() - start < 1


def test_kept_alive_requests_are_served(server: Gunicorn) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        for n in range(3):
            connection.request("GET", f"/n{n}")
            response = connection.getresponse()
            assert response.status == 200
            assert b'"/n%d"' % n in response.read()
            if n == 0:
                first = connection.sock
            assert connection.sock is first  # the same connection every time
    finally:
        connection.close()


def test_a_kept_alive_connection_reads_its_next_head_like_a_new_one(
    server: Gunicorn, clients: list[RawClient]
) -> None:
    client = connect(clients, server.port)
    client.send(HEAD % b"one")
    assert client.echo()["headers"] == {"TEST": "one"}
    client.trickle(HEAD % b"two", pieces=5, pause=0.2)  # slowly, but within the deadline
    assert client.echo()["headers"] == {"TEST": "two"}
    # a third head that never ends is cut like a new connection's
    start = time.monotonic()
    client.send(b"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert client.response()[0] == 408
    assert HEADER_TIMEOUT - 0.1 <= time.monotonic() - start <= CUT_BY


def test_pipelined_requests_are_served_in_order(server: Gunicorn, clients: list[RawClient]) -> None:
    client = connect(clients, server.port)
    # the second head is half there when the first is answered: the rest comes later
    client.send(HEAD % b"first" + b"POST /second HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
    assert client.echo()["headers"] == {"TEST": "first"}
    time.sleep(0.3)
    client.send(b"Length: 4\r\n\r\nbody")
    echoed = client.echo()
    assert (echoed["method"], echoed["path"], echoed["body_length"]) == ("POST", "/second", 4)


def test_expect_100_continue_and_a_body(server: Gunicorn, clients: list[RawClient]) -> None:
    client = connect(clients, server.port)
    client.send(
        b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n"
        b"Expect: 100-continue\r\n\r\n"
    )
    assert client.response()[0] == 100
    client.trickle(b"x" * 100000, pieces=4, pause=0.1)
    assert client.echo()["body_length"] == 100000


def test_a_chunked_body_arriving_with_and_after_the_head(
    server: Gunicorn, clients: list[RawClient]
) -> None:
    client = connect(clients, server.port)
    client.send(
        b"POST /chunks HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"
    )
    for piece in (b"lo\r\n", b"6\r\n world\r\n", b"0\r\n\r\n"):
        time.sleep(0.2)
        client.send(piece)
    assert client.echo()["body_length"] == 11


def test_one_address_cannot_hold_more_than_its_share(
    server: Gunicorn, clients: list[RawClient]
) -> None:
    for _ in range(PER_ADDRESS):
        connect(clients, server.port).send(b"GET /echo HTTP/1.1\r\n")
    time.sleep(0.3)  # accepted and being read
    one_more = connect(clients, server.port)
    one_more.sock.settimeout(1)
    assert one_more.sock.recv(100) == b""  # closed at once
    other = connect(clients, server.port, source="127.0.0.2")
    other.send(HEAD % b"other host")
    assert other.echo()["headers"] == {"TEST": "other host"}
    for client in clients[:PER_ADDRESS]:
        client.close()
    time.sleep(0.3)  # the server has seen them go
    again = connect(clients, server.port)
    again.send(HEAD % b"again")
    assert again.echo()["headers"] == {"TEST": "again"}


@pytest.mark.parametrize(
    ("worker", "served"),
    [pytest.param(QUICK_WORKER, True, id="HeadDeadlineWorker"),
     pytest.param("gthread", False, id="gthread-control")],
)  # fmt: skip
def test_slow_clients_hold_no_thread(
    tmp_path: Path, clients: list[RawClient], worker: str, served: bool
) -> None:
    """More slow clients (from several addresses) than threads; a good one is still answered.
    The control shows that plain gthread is starved by them."""
    server = start_gunicorn(tmp_path / "gunicorn.log", worker=worker, threads=1)
    try:
        for n in range(3):
            connect(clients, server.port, source=f"127.0.0.{10 + n}").send(b"GET / HTTP/1.1\r\n")
        time.sleep(0.5)
        good = connect(clients, server.port, source="127.0.0.2")
        good.sock.settimeout(1.5)
        good.send(HEAD % b"good")
        try:
            answered = good.response()[0] == 200
        except TimeoutError:
            answered = False
        assert answered is served
    finally:
        for client in clients:
            client.close()
        server.stop()


def test_sigterm_while_a_head_is_being_read(tmp_path: Path, clients: list[RawClient]) -> None:
    server = start_gunicorn(tmp_path / "gunicorn.log")
    connect(clients, server.port).send(b"GET / HTTP/1.1\r\n")
    time.sleep(0.3)
    start = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(15) == 0
    assert time.monotonic() - start < 10
    assert "Traceback" not in server.log()
