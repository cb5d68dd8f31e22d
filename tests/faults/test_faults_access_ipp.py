"""The print gateway refuses clients outside `ipp.networks` and stores nothing for them."""

from __future__ import annotations

from pathlib import Path

from faults_appliance import Appliance
from faults_ipp import post, print_job, request_bytes

from faxgate.ipp.constants import Operation, Status

PDF = (
    Path(__file__).resolve().parents[1] / "fixtures" / "documents" / "a4-3pages.pdf"
).read_bytes()


def test_a_foreign_network_can_neither_print_nor_look(appliance: Appliance) -> None:
    program = appliance.start("ippfaxd", ipp_networks="192.0.2.0/24")
    status, response = print_job(program.port, PDF)
    assert status == 200
    assert response is not None
    assert response.code == Status.CLIENT_ERROR_FORBIDDEN
    status, response = post(
        program.port, request_bytes(Operation.GET_PRINTER_ATTRIBUTES, program.port)
    )
    assert response is not None
    assert response.code == Status.CLIENT_ERROR_FORBIDDEN
    assert appliance.count("SELECT count(*) FROM submissions") == 0
    assert list(appliance.spool.incoming.iterdir()) == []


def test_an_allowed_network_prints_the_control(appliance: Appliance) -> None:
    program = appliance.start("ippfaxd")
    _status, response = print_job(program.port, PDF)
    assert response is not None
    assert response.code == Status.SUCCESSFUL_OK
    assert appliance.count("SELECT count(*) FROM submissions WHERE kind = 'print'") == 1


def test_required_auth_refuses_a_wrong_password_and_never_logs_it(appliance: Appliance) -> None:
    program = appliance.start("ippfaxd", ipp_auth="required")
    import base64

    wrong = "Wr0ng-Print-Pa55"
    credentials = base64.b64encode(f"admin:{wrong}".encode()).decode()
    status, _ = post(program.port, request_bytes(Operation.PRINT_JOB, program.port, PDF),
                     headers={"Authorization": "Basic " + credentials})  # fmt: skip
    assert status == 401
    status, _ = post(program.port, request_bytes(Operation.PRINT_JOB, program.port, PDF))
    assert status == 401
    assert appliance.count("SELECT count(*) FROM submissions") == 0
    good = base64.b64encode(f"admin:{appliance.admin_password}".encode()).decode()
    status, response = post(program.port, request_bytes(Operation.PRINT_JOB, program.port, PDF),
                            headers={"Authorization": "Basic " + good})  # fmt: skip
    assert response is not None
    assert response.code == Status.SUCCESSFUL_OK
    log = program.log()
    assert wrong not in log
    assert appliance.admin_password not in log
