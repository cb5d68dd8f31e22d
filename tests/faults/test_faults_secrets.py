"""Secrets stay out of the programs' logs: admin logins, the mail server password, the trunk secret.

Real faxadmin, faxqueued and iaxmodemd processes are given secrets (a login with wrong and right
passwords, `mail.password` for a mail server that refuses connections so faxqueued logs its
failures, `trunk.secret` in register mode) and their whole output is searched for them.
"""

from __future__ import annotations

import http.client
import re
import time
from urllib.parse import urlencode

from faults_appliance import Appliance, free_port
from faults_clients import good_smtp

MAIL_PASSWORD = "Sm7p-Relay-Pa55"
TRUNK_SECRET = "Iax-Tr7nk-Secret"
WRONG = "Wr0ng-Login-Guess"


def login(port: int, user: str, password: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login", headers={"Accept": "text/html"})
    response = connection.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page[:500]
    body = urlencode({"username": user, "password": password, "csrf_token": token[1], "next": "/"})
    connection.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "Accept": "text/html"})  # fmt: skip
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def test_no_secret_reaches_any_log(appliance: Appliance) -> None:
    admin = appliance.start("faxadmin")
    refusing_mail_server = f"127.0.0.1:{free_port()}"  # nothing listens: every delivery fails
    queue = appliance.start("faxqueued", mail_server=refusing_mail_server, mail_username="fax", faxmail_mode="1",
                            mail_password=MAIL_PASSWORD)  # fmt: skip
    lines = appliance.start("iaxmodemd", trunk_mode="register", trunk_server=f"127.0.0.1:{free_port()}",
                            trunk_secret=TRUNK_SECRET, lines_count="1",
                            lines_baseport=str(free_port(udp_block=1)))  # fmt: skip
    smtp = appliance.start("smtpfaxd")
    assert login(admin.port, "admin", WRONG) in (200, 401)  # the form again, with its error
    assert login(admin.port, "admin", appliance.admin_password) in (302, 303)
    assert good_smtp(smtp.port)  # no attachment in mode 1: a rejection mailed to the sender
    deadline = time.monotonic() + 30
    while "outbox" not in queue.log() and time.monotonic() < deadline:
        time.sleep(0.5)
    logs = appliance.logs()
    assert "outbox" in queue.log(), queue.log()[-2000:]  # the mail server was tried
    assert "refused" in queue.log() or "connect" in queue.log().lower()
    for secret in (MAIL_PASSWORD, TRUNK_SECRET, WRONG, appliance.admin_password):
        assert secret not in logs, secret
    assert lines.alive()
