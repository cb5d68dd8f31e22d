"""The REST API checked against its own OpenAPI document with schemathesis (bounded examples).

The real faxadmin under gunicorn on 127.0.0.1, called with an administrator's token. Valid
requests: no server errors, documented status codes and content types, responses that match
their schemas. Invalid requests: refused without a server error (gunicorn itself answers an
over-long request line with 414 before the app sees it, so only "no 5xx" is checked there).
Changing and applying settings is left out here (random values would lock the test out through
admin.networks); tests/unit/faxadmin/test_admin_api.py covers those two operations.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from faxadmin_server import Server, start_faxadmin  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import GenerationMode, checks  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402

from faxgate import users  # noqa: E402
from faxgate.faxadmin.openapi import openapi_document  # noqa: E402
from faxgate.faxadmin.security import TokenStore  # noqa: E402
from faxgate.spool.layout import Spool  # noqa: E402
from faxgate.spool.ledger import Ledger  # noqa: E402


def load(mode: GenerationMode) -> Any:
    config = SchemathesisConfig()
    config.projects.default.generation.update(modes=[mode])
    return schemathesis.openapi.from_dict(openapi_document(), config=config).exclude(
        path_regex=r"^/settings/(apply|\{name\})$", method=["POST", "PUT"]
    )


valid = load(GenerationMode.POSITIVE)
invalid = load(GenerationMode.NEGATIVE)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    root: Path = tmp_path_factory.mktemp("schemathesis")
    spool = Spool(root / "spool")
    spool.ensure()
    with Ledger.open(spool.ledger_path) as ledger:
        admin = users.create(ledger, "admin", "schema-pass-1", "admin", "test")
        token = TokenStore(ledger).create(admin, "schemathesis", "test", time.time())
    server = start_faxadmin(spool, root / "faxadmin.log")
    yield server, token
    server.stop()


@valid.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same examples every run: a CI failure can be reproduced
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_matches_its_openapi_document(case: object, api: tuple[Server, str]) -> None:
    server, token = api
    case.call_and_validate(  # type: ignore[attr-defined]
        base_url=server.base + "/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        checks=CHECKS,
    )


@invalid.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,  # the same examples every run: a CI failure can be reproduced
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_survives_invalid_requests(case: object, api: tuple[Server, str]) -> None:
    """Data that breaks the schema must be refused, never crash the server (no 5xx)."""
    server, token = api
    case.call_and_validate(  # type: ignore[attr-defined]
        base_url=server.base + "/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        checks=[checks.not_a_server_error],
    )
