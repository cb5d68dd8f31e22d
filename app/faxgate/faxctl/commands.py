"""The handlers behind faxctl's commands: each takes (args, spool, actor) and returns an exit code."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from faxgate import devices, users
from faxgate.errors import FaxgateError
from faxgate.faxctl import queue_commands
from faxgate.faxctl.output import emit_json, table
from faxgate.settings import load_settings, registry, store
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.supervision.control import Supervisor, SupervisorUnavailable, tell_programs

Handler = Callable[[argparse.Namespace, Spool, str], int]


def _ledger(spool: Spool) -> Ledger:
    if not spool.ledger_path.exists():
        raise FaxgateError(
            f"no appliance spool at {spool.root} (start it with `make run` or run `python -m faxgate init`)"
        )
    return Ledger.open(spool.ledger_path)


def line_states(spool: Spool) -> list[dict[str, str]]:
    """The lines' status files (written by iaxmodemd): one line of text each."""
    if not spool.status.is_dir():
        return []
    return [
        {"line": path.name, "status": path.read_text(encoding="utf-8", errors="replace").strip()}
        for path in sorted(spool.status.iterdir())
        if path.is_file() and not path.name.startswith(".")
    ]


def cmd_status(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    try:
        programs = [
            {"name": p.name, "state": p.state, "pid": p.pid, "description": p.description}
            for p in Supervisor(spool).programs()
        ]
        running = True
    except SupervisorUnavailable:
        programs, running = [], False
    queue: dict[str, int] = {}
    if spool.ledger_path.exists():
        with Ledger.open(spool.ledger_path) as ledger:
            for row in ledger.query("SELECT state, count(*) AS n FROM jobs GROUP BY state"):
                queue[row["state"]] = row["n"]
    status = {"running": running, "programs": programs, "lines": line_states(spool), "queue": queue}
    if args.json:
        emit_json(status)
        return 0 if running else 3
    if not running:
        print(f"the appliance is not running (spool {spool.root})")
        return 3
    table(["program", "state", "pid", "description"], [list(p.values()) for p in programs])
    if status["lines"]:
        print()
        table(["line", "status"], [[s["line"], s["status"]] for s in line_states(spool)])
    print("\nqueue: " + (", ".join(f"{n} {s}" for s, n in sorted(queue.items())) or "empty"))
    return 0


def cmd_settings(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    reg = registry()
    with _ledger(spool) as ledger:
        if args.action in ("list", "get"):
            current = load_settings(spool, ledger)
            pending = {c.key: c.value for c in store.pending(ledger)}
            names = [args.key] if args.action == "get" else [k.name for k in reg.keys()]
            rows = []
            for name in names:
                key = reg.get(name)
                if args.action == "list" and args.search and args.search not in name:
                    continue
                row = {
                    "key": name,
                    "value": key.render(current.get(name)),
                    "source": current.source(name),
                    "default": key.render(key.default),
                }
                if name in pending:
                    value = pending[name]
                    row["pending"] = "(default)" if value is None else key.render(value)
                rows.append(row)
            if args.json:
                emit_json(rows[0] if args.action == "get" else rows)
            elif args.action == "get":
                row = rows[0]
                print(row["value"])
                if "pending" in row:
                    print(f"(pending: {row['pending']})", file=sys.stderr)
            else:
                table(
                    ["key", "value", "source", "pending"],
                    [[r["key"], r["value"], r["source"], r.get("pending", "")] for r in rows],
                )
            return 0
        if args.action == "set":
            value = store.save(ledger, args.key, args.value, actor)
            _say(
                args,
                {"key": args.key, "pending": reg.get(args.key).render(value)},
                f"{args.key} = {reg.get(args.key).render(value)} saved; run `faxctl apply` to use it",
            )
            return 0
        if args.action == "reset":
            store.reset(ledger, args.key, actor)
            _say(
                args,
                {"key": args.key, "pending": None},
                f"{args.key} will return to its default; run `faxctl apply` to use it",
            )
            return 0
        if args.action == "pending":
            changes = store.pending(ledger)
            if args.json:
                emit_json(changes)
            elif not changes:
                print("no pending changes")
            else:
                table(
                    ["key", "new value", "by"],
                    [
                        [
                            c.key,
                            "(default)" if c.value is None else reg.get(c.key).render(c.value),
                            c.changed_by,
                        ]
                        for c in changes
                    ],
                )
            return 0
        if args.action == "discard":
            count = store.discard(ledger, actor)
            _say(args, {"discarded": count}, f"{count} pending change(s) discarded")
            return 0
    raise FaxgateError(f"unknown settings action {args.action}")


def cmd_apply(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    with _ledger(spool) as ledger:
        result = store.apply(ledger, actor)
    try:
        done = tell_programs(spool, result.restart, result.reload)
    except SupervisorUnavailable:
        done = ["the appliance is not running: the programs use the new settings when they start"]
    report = {"changed": result.changed, "actions": done, "snapshot": result.snapshot_id}
    if args.json:
        emit_json(report)
    elif not result.changed:
        print("nothing to apply: no setting changes its value")
    else:
        print("applied: " + ", ".join(result.changed))
        for line in done:
            print("  " + line)
    return 0


def cmd_devices(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    with _ledger(spool) as ledger:
        if args.action == "list":
            found = devices.list_all(ledger)
            if args.json:
                emit_json(found)
            else:
                table(
                    ["extension", "format", "kind", "emails", "name"],
                    [[d.extension, d.format, d.kind, ", ".join(d.emails), d.name] for d in found],
                )
            return 0
        if args.action == "add":
            device = devices.add(
                ledger,
                args.extension,
                args.email,
                actor,
                fmt=args.format,
                name=args.name,
                kind="group" if args.group else None,
            )
            _say(
                args,
                device,
                f"fax device {device.extension} → {', '.join(device.emails)} ({device.format})",
            )
            return 0
        if args.action == "remove":
            devices.remove(ledger, args.extension, actor)
            _say(args, {"removed": args.extension}, f"fax device {args.extension} removed")
            return 0
    raise FaxgateError(f"unknown devices action {args.action}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise FaxgateError("the passwords differ")
    return first


def cmd_users(args: argparse.Namespace, spool: Spool, actor: str) -> int:
    with _ledger(spool) as ledger:
        if args.action == "list":
            found = users.list_all(ledger)
            if args.json:
                emit_json(found)
            else:
                table(
                    ["name", "role", "email", "disabled"],
                    [[u.name, u.role, u.email or "", "yes" if u.disabled else ""] for u in found],
                )
            return 0
        if args.action == "add":
            user = users.create(
                ledger,
                args.name,
                _read_password(args.password_stdin),
                args.role,
                actor,
                email=args.email,
            )
            _say(args, user, f"user {user.name} ({user.role}) created")
            return 0
        if args.action == "passwd":
            users.set_password(ledger, args.name, _read_password(args.password_stdin), actor)
            _say(args, {"name": args.name}, f"password of {args.name} changed")
            return 0
        if args.action == "remove":
            users.remove(ledger, args.name, actor)
            _say(args, {"removed": args.name}, f"user {args.name} removed")
            return 0
    raise FaxgateError(f"unknown users action {args.action}")


def _say(args: argparse.Namespace, data: object, text: str) -> None:
    if args.json:
        emit_json(data)
    else:
        print(text)


HANDLERS: dict[str, Handler] = {
    "status": cmd_status,
    "settings": cmd_settings,
    "apply": cmd_apply,
    "devices": cmd_devices,
    "users": cmd_users,
    **queue_commands.HANDLERS,
}
