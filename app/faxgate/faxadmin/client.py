"""A small client of the REST API, for `faxctl --url URL --token TOKEN` and scripts.

Only the standard library: faxctl must work on a machine that has nothing but faxgate. Every
method returns the decoded JSON answer; a refusal raises ApiError with the server's words.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from faxgate.errors import FaxgateError

TIMEOUT_S = 60.0


class ApiError(FaxgateError):
    """The appliance refused a request or could not be reached; `status` is the HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def multipart_body(
    fields: Sequence[tuple[str, str]], files: Sequence[tuple[str, str, bytes]]
) -> tuple[bytes, str]:
    """multipart/form-data of text fields and (field, filename, data) files."""
    boundary = "faxgate-" + secrets.token_hex(12)
    chunks: list[bytes] = []
    for name, value in fields:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, filename, data in files:
        safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


class ApiClient:
    """The appliance at `url` (e.g. http://fax.example:8080), as the owner of `token`."""

    def __init__(self, url: str, token: str, timeout: float = TIMEOUT_S) -> None:
        self.base = url.rstrip("/") + "/api/v1"
        self.token = token
        self.timeout = timeout

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        raw: bool = False,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(  # noqa: S310 -- the admin's own http(s) URL
            self.base + path, data=body, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                data: bytes = answer.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            try:
                parsed = json.loads(detail)
                detail = parsed.get("description") or parsed.get("title") or detail
            except (ValueError, AttributeError):
                pass
            raise ApiError(f"{method} {path}: {exc.code} {detail}", exc.code) from None
        except OSError as exc:
            raise ApiError(f"the appliance at {self.base} cannot be reached: {exc}") from exc
        if raw:
            return data
        return json.loads(data) if data else None

    def _json(self, method: str, path: str, value: object) -> Any:
        return self._request(method, path, json.dumps(value).encode(), "application/json")

    # jobs
    def list_jobs(self, **filters: str) -> Any:
        query = urlencode({k: v for k, v in filters.items() if v})
        return self._request("GET", "/jobs" + (f"?{query}" if query else ""))

    def get_job(self, job_id: int) -> Any:
        return self._request("GET", f"/jobs/{job_id}")

    def submit(
        self,
        numbers: Sequence[str],
        files: Sequence[Path],
        cover: str = "",
        priority: int | None = None,
        tag: str = "",
    ) -> Any:
        fields = [("numbers", ", ".join(numbers))]
        if cover:
            fields.append(("cover", cover))
        if priority is not None:
            fields.append(("priority", str(priority)))
        if tag:
            fields.append(("tag", tag))
        body, content_type = multipart_body(
            fields, [("files", path.name, path.read_bytes()) for path in files]
        )
        return self._request("POST", "/jobs", body, content_type)

    def submission(self, submission_id: int) -> Any:
        return self._request("GET", f"/submissions/{submission_id}")

    def job_action(self, job_id: int, action: str, priority: int | None = None) -> Any:
        if action == "priority":
            return self._json("POST", f"/jobs/{job_id}/priority", {"priority": priority})
        return self._request("POST", f"/jobs/{job_id}/{quote(action)}")

    # received faxes
    def list_received(self, **filters: str) -> Any:
        query = urlencode({k: v for k, v in filters.items() if v})
        return self._request("GET", "/received" + (f"?{query}" if query else ""))

    def download_received(self, fax_id: int, kind: str = "pdf") -> bytes:
        data: bytes = self._request("GET", f"/received/{fax_id}/{quote(kind)}", raw=True)
        return data

    # administration
    def lines(self) -> Any:
        return self._request("GET", "/lines")

    def devices(self) -> Any:
        return self._request("GET", "/devices")

    def add_device(self, extension: str, emails: Sequence[str], **more: str) -> Any:
        return self._json(
            "POST", "/devices", {"extension": extension, "emails": list(emails), **more}
        )

    def remove_device(self, extension: str) -> None:
        self._request("DELETE", f"/devices/{quote(extension)}")

    def settings(self, search: str = "") -> Any:
        return self._request(
            "GET", "/settings" + (f"?{urlencode({'q': search})}" if search else "")
        )

    def set_setting(self, name: str, value: object) -> Any:
        return self._json("PUT", f"/settings/{quote(name)}", {"value": value})

    def reset_setting(self, name: str) -> Any:
        return self._json("PUT", f"/settings/{quote(name)}", {"reset": True})

    def apply(self) -> Any:
        return self._request("POST", "/settings/apply")

    def cleanup(self) -> Any:
        return self._request("POST", "/cleanup")
