"""Who may run a converter: dropping to an unprivileged user only where it can work."""

from __future__ import annotations

from pathlib import Path

from faxgate.convert.limits import _others_can_execute


def test_program_in_a_private_directory_is_not_reachable(tmp_path: Path) -> None:
    folder = tmp_path / "private"
    folder.mkdir()
    program = folder / "convert"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    tmp_path.chmod(0o755)
    folder.chmod(0o700)
    assert not _others_can_execute(str(program))
    folder.chmod(0o755)
    assert _others_can_execute(str(program)) == all(
        parent.stat().st_mode & 0o001 for parent in program.parents
    )
    program.chmod(0o750)
    assert not _others_can_execute(str(program))
