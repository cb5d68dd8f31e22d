"""Fax devices: list, create, edit, delete (an extension and where its faxes are mailed)."""

from __future__ import annotations

import re

import falcon

from faxgate import devices
from faxgate.errors import FaxgateError
from faxgate.faxadmin.context import AdminState
from faxgate.faxadmin.web import Form, Renderer, actor, flash, form_of, redirect

_SPLIT = re.compile(r"[\s,;]+")


def emails_of(form: Form) -> list[str]:
    return [item for item in _SPLIT.split(form.get("emails")) if item]


class DeviceListResource:
    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.renderer.page(req, resp, "devices.html", devices=devices.list_all(self.state.ledger()))


class DeviceNewResource:
    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.renderer.page(
            req, resp, "device_form.html", device=None, values={}, formats=devices.FORMATS
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = form_of(req)
        try:
            device = devices.add(
                self.state.ledger(),
                form.get("extension").strip(),
                emails_of(form),
                actor(req),
                fmt=form.get("format") or "pdf",
                name=form.get("name").strip(),
                kind=form.get("kind") or None,
            )
        except FaxgateError as exc:
            resp.status = falcon.HTTP_400
            self.renderer.page(
                req,
                resp,
                "device_form.html",
                device=None,
                values={k: form.get(k) for k in ("extension", "name", "emails", "format", "kind")},
                formats=devices.FORMATS,
                error=str(exc),
            )
            return
        flash(self.state, req, f"Fax device {device.extension} created.")
        raise redirect("/devices")


class DeviceResource:
    def __init__(self, state: AdminState, renderer: Renderer) -> None:
        self.state = state
        self.renderer = renderer

    def on_get(self, req: falcon.Request, resp: falcon.Response, extension: str) -> None:
        device = devices.get(self.state.ledger(), extension)
        self.renderer.page(
            req,
            resp,
            "device_form.html",
            device=device,
            values={
                "extension": device.extension,
                "name": device.name,
                "emails": ", ".join(device.emails),
                "format": device.format,
                "kind": device.kind,
            },
            formats=devices.FORMATS,
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response, extension: str) -> None:
        form = form_of(req)
        ledger = self.state.ledger()
        if form.get("action") == "delete":
            devices.remove(ledger, extension, actor(req))
            flash(self.state, req, f"Fax device {extension} deleted.")
            raise redirect("/devices")
        try:
            devices.update(
                ledger,
                extension,
                actor(req),
                emails=emails_of(form),
                fmt=form.get("format") or None,
                name=form.get("name").strip(),
                kind=form.get("kind") or None,
            )
        except FaxgateError as exc:
            resp.status = falcon.HTTP_400
            self.renderer.page(
                req,
                resp,
                "device_form.html",
                device=devices.get(ledger, extension),
                values={k: form.get(k) for k in ("extension", "name", "emails", "format", "kind")},
                formats=devices.FORMATS,
                error=str(exc),
            )
            return
        flash(self.state, req, f"Fax device {extension} saved.")
        raise redirect("/devices")
