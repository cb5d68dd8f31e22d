"""faxctl --url: the same commands against a remote appliance, through its REST API.

Authentication is a personal API token (created on the admin's *My account* page), given with
--token or FAXGATE_TOKEN. Answers are printed as the API's JSON. Commands that need the local
spool (users, pending changes, held print jobs) are refused with a plain reason.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from faxgate.errors import FaxgateError
from faxgate.faxadmin.client import ApiClient

SEND_WAIT_SECONDS = 60.0

RemoteHandler = Callable[[argparse.Namespace, ApiClient], Any]


def _send(args: argparse.Namespace, client: ApiClient) -> Any:
    answer = client.submit(args.to, list(args.files), priority=args.priority, tag=args.tag)
    if args.no_wait:
        return answer
    submission = answer["submission"]
    deadline = time.monotonic() + SEND_WAIT_SECONDS
    while time.monotonic() < deadline:
        state = client.submission(submission)
        if state["jobs"] or state["state"] not in ("new", "working"):
            return state
        time.sleep(0.5)
    return client.submission(submission)


def _devices(args: argparse.Namespace, client: ApiClient) -> Any:
    if args.action == "list":
        return client.devices()
    if args.action == "add":
        more = {"format": args.format, "name": args.name}
        if args.group:
            more["kind"] = "group"
        return client.add_device(args.extension, args.email, **more)
    client.remove_device(args.extension)
    return {"removed": args.extension}


def _settings(args: argparse.Namespace, client: ApiClient) -> Any:
    if args.action == "list":
        return client.settings(args.search)
    if args.action == "get":
        return client.settings(args.key)
    if args.action == "set":
        return client.set_setting(args.key, args.value)
    if args.action == "reset":
        return client.reset_setting(args.key)
    raise FaxgateError(f"'settings {args.action}' is not available with --url")


HANDLERS: dict[str, RemoteHandler] = {
    "status": lambda args, client: client.lines(),
    "send": _send,
    "jobs": lambda args, client: client.list_jobs(state=",".join(args.state or [])),
    "job": lambda args, client: client.get_job(args.id),
    "cancel": lambda args, client: client.job_action(args.id, "cancel"),
    "retry": lambda args, client: client.job_action(args.id, "retry"),
    "suspend": lambda args, client: client.job_action(args.id, "suspend"),
    "resume": lambda args, client: client.job_action(args.id, "resume"),
    "priority": lambda args, client: client.job_action(args.id, "priority", args.priority),
    "received": lambda args, client: client.list_received(),
    "devices": _devices,
    "settings": _settings,
    "apply": lambda args, client: client.apply(),
    "cleanup": lambda args, client: client.cleanup(),
}


def run(args: argparse.Namespace) -> int:
    """Run one command against the appliance at args.url; print its JSON answer."""
    token = args.token or os.environ.get("FAXGATE_TOKEN", "")
    if not token:
        raise FaxgateError("--url needs an API token: --token TOKEN or FAXGATE_TOKEN")
    handler = HANDLERS.get(args.command)
    if handler is None:
        raise FaxgateError(f"'{args.command}' works on the local spool only, not with --url")
    answer = handler(args, ApiClient(args.url, token))
    json.dump(answer, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0
