"""Image size and time from `docker run` to healthy, against a bare container of the base image.

Reference in the same run: the engine's own cost of starting a container of the base image
(`debian:bookworm-slim` running `true`), so the figure says what faxgate adds.
Needs the image (`make image`). Writes the "Image" section of docs/performance.md.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import uuid

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from perfdoc import write_section

IMAGE = "faxgate:latest"
BASE = "debian:bookworm-slim"
RUNS = 3


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()


def time_to_healthy() -> float:
    name = f"faxgate-bench-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--health-interval",
        "0.2s",
        "--health-start-period",
        "30s",
        "-e",
        "FAXGATE_ADMIN_PASSWORD=bench-password",
        IMAGE,
    )
    try:
        while time.monotonic() - started < 120:
            if docker("inspect", "-f", "{{.State.Health.Status}}", name) == "healthy":
                return time.monotonic() - started
            time.sleep(0.05)
        raise RuntimeError("the container did not become healthy within 120 s")
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, check=False)


def time_bare_container() -> float:
    started = time.monotonic()
    docker("run", "--rm", BASE, "true")
    return time.monotonic() - started


def main() -> int:
    size_mb = int(docker("image", "inspect", "-f", "{{.Size}}", IMAGE)) / 1e6
    base_mb = int(docker("image", "inspect", "-f", "{{.Size}}", BASE)) / 1e6
    healthy = [time_to_healthy() for _ in range(RUNS)]
    bare = [time_bare_container() for _ in range(RUNS)]
    body = f"""
Measured with `python bench/image.py` (image built by `make image`), {RUNS} runs each, on this
machine (2 cores) with a fresh volume per run.

| figure | faxgate | reference: bare `{BASE}` | goal |
|---|---|---|---|
| image size | {size_mb:.0f} MB | {base_mb:.0f} MB | < 450 MB |
| `docker run` → healthy (median) | {statistics.median(healthy):.1f} s (runs: {", ".join(f"{t:.1f}" for t in healthy)}) | `docker run … true`: {statistics.median(bare):.1f} s | < 10 s |

Healthy means the container's HEALTHCHECK passed: `/healthz` of the admin answered 200, which it
does once every program and line is up.
"""
    write_section("Image", body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
