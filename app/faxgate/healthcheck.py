"""The container's HEALTHCHECK: healthy when the admin's /healthz answers 200.

/healthz checks every program and line (faxadmin); this only asks it, on the loopback address,
so the check works whatever address the admin listens on.
"""

from __future__ import annotations

import http.client
import sys

from faxgate.settings import load_settings
from faxgate.spool.layout import Spool


def main() -> int:
    try:
        port = load_settings(Spool.from_environment()).get_int("sys.fax.configure.admin.port")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=4)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        body = response.read(2000).decode("utf-8", "replace")
    except Exception as exc:  # any failure is "unhealthy", said in one line
        print(f"unhealthy: {exc}")
        return 1
    print(body.strip()[:500])
    return 0 if response.status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
