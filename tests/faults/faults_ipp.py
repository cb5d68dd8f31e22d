"""A minimal IPP client for the fault tests: Print-Job and Get-Printer-Attributes over HTTP."""

from __future__ import annotations

import http.client
import itertools

from faxgate.ipp.codec import Attribute, AttributeGroup, Message, decode_message, encode_message
from faxgate.ipp.constants import GroupTag, Operation, ValueTag

_ids = itertools.count(1)


def request_bytes(operation: int, port: int, document: bytes = b"", user: str = "alice",
                  fmt: str = "application/pdf") -> bytes:  # fmt: skip
    attributes = [
        Attribute.of("attributes-charset", ValueTag.CHARSET, "utf-8"),
        Attribute.of("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en"),
        Attribute.of("printer-uri", ValueTag.URI, f"ipp://127.0.0.1:{port}/printers/sendfax"),
        Attribute.of("requesting-user-name", ValueTag.NAME, user),
    ]
    if operation == Operation.PRINT_JOB:
        attributes.append(Attribute.of("job-name", ValueTag.NAME, "fault test"))
        attributes.append(Attribute.of("document-format", ValueTag.MIME_MEDIA_TYPE, fmt))
    message = Message(
        (2, 0), operation, next(_ids), [AttributeGroup(GroupTag.OPERATION, attributes)]
    )
    message.data = document
    return encode_message(message)


def post(
    port: int, body: bytes, timeout: float = 60, headers: dict[str, str] | None = None
) -> tuple[int, Message | None]:
    """(HTTP status, decoded IPP response or None)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/printers/sendfax", body=body,
                           headers={"Content-Type": "application/ipp", **(headers or {})})  # fmt: skip
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status != 200:
        return response.status, None
    return response.status, decode_message(data)


def print_job(port: int, document: bytes, **kwargs: str) -> tuple[int, Message | None]:
    return post(port, request_bytes(Operation.PRINT_JOB, port, document, **kwargs))
