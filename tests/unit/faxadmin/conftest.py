"""Registers the fixtures of admin_testing (helpers live there: `conftest` is not importable
when several test folders are collected together)."""

from admin_testing import admin, browser, make_admin, template_ledger

__all__ = ["admin", "browser", "make_admin", "template_ledger"]
