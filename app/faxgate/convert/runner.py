"""Running the spool's converters: `mimetype/<type>/<subtype>` executables, under limits.

`convert_document` is what faxqueued calls for each document part. The converter is looked up
on every call (an administrator's new converter works without a restart), run in a private
temporary directory on a private copy of the input, as an unprivileged user when faxgate runs as
root, with the time, memory and page limits of `FaxPageOptions`. Its output (PDF, or any TIFF)
is normalised to a fax TIFF by the built-in converters when it is not one already.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from faxgate.convert.errors import ConversionLimitError, UnsupportedTypeError
from faxgate.convert.limits import LimitedRun, run_limited, unprivileged_ids
from faxgate.convert.options import FaxPageOptions
from faxgate.convert.sniff import sniff_mime_type
from faxgate.convert.tiffio import inspect_tiff
from faxgate.errors import ConversionError

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
EXIT_LIMIT = 3
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class ConvertedDocument:
    """A document as fax pages: the TIFF class F file, its page count, warnings for the sender."""

    pages: int
    path: Path
    warnings: tuple[str, ...] = ()
    cpu_seconds: float = 0.0  # converter processes' CPU time (0 for a cache hit)


@dataclass(frozen=True)
class MimeType:
    """A parsed MIME type: `essence` is "type/subtype" in lower case; parameters lower-cased keys."""

    type: str
    subtype: str
    parameters: dict[str, str]

    @property
    def essence(self) -> str:
        """ "type/subtype"."""
        return f"{self.type}/{self.subtype}"

    @classmethod
    def parse(cls, text: str) -> MimeType:
        """Parse "type/subtype; name=value"; raises `UnsupportedTypeError` for malformed types."""
        essence, _, rest = text.partition(";")
        main, _, sub = essence.strip().lower().partition("/")
        if not _TOKEN.match(main) or not _TOKEN.match(sub):
            # Also keeps "../" and other path tricks away from the converter lookup.
            raise UnsupportedTypeError(text.strip()[:80] or "an empty type")
        parameters = {}
        for part in rest.split(";"):
            name, equals, value = part.partition("=")
            if equals:
                parameters[name.strip().lower()] = value.strip().strip('"')
        return cls(main, sub, parameters)


def find_converter(mimetype_dir: Path, mime_type: str) -> Path:
    """The converter for a MIME type, or `UnsupportedTypeError` if there is none."""
    parsed = MimeType.parse(mime_type)
    candidate = mimetype_dir / parsed.type / parsed.subtype
    if not candidate.is_file():
        raise UnsupportedTypeError(parsed.essence)
    if not os.access(candidate, os.X_OK):
        raise ConversionError(f"the converter for {parsed.essence} is not executable (chmod +x)")
    return candidate


def shipped_converter_script(mime_type: str) -> str:
    """The exact text of the converter faxgate ships for a type (rootfs/usr/lib/faxgate/mimetype)."""
    return (
        "#!/bin/sh\n"
        f"# faxgate converter for {mime_type}: INPUT OUTPUT -> fax TIFF at OUTPUT "
        "(see docs/conversion.md).\n"
        f'exec "${{FAXGATE_PYTHON:-python3}}" -m faxgate.convert.tools {mime_type} "$@"\n'
    )


def is_shipped_converter(converter: Path, mime_type: str) -> bool:
    """True if `converter` is, byte for byte, the script faxgate ships for `mime_type`."""
    try:
        return converter.read_text("utf-8") == shipped_converter_script(mime_type)
    except (OSError, UnicodeDecodeError):
        return False


def builtin_converter_argv(mime_type: str) -> list[str]:
    """The command line of the built-in converter (used to normalise converters' output)."""
    return [sys.executable, "-m", "faxgate.convert.tools", mime_type]


def convert_document(
    spool_mimetype_dir: Path,
    src: Path,
    mime_type: str,
    out_tiff: Path,
    options: FaxPageOptions | None = None,
    *,
    temp_root: Path | None = None,
) -> ConvertedDocument:
    """Convert `src` (of `mime_type`, parameters such as charset allowed) to a fax TIFF.

    Raises `UnsupportedTypeError` when the spool has no converter for the type (report it as
    skipped), `ConversionLimitError` when a limit was hit, `ConversionError` with the
    converter's message otherwise. `out_tiff` appears atomically.
    """
    options = options or FaxPageOptions()
    parsed = MimeType.parse(mime_type)
    converter = find_converter(spool_mimetype_dir, mime_type)
    workdir = Path(tempfile.mkdtemp(prefix="faxgate-job-", dir=temp_root))
    try:
        # One decision for the directory's owner and the converter's identity.
        ids = unprivileged_ids([str(converter)])
        _share_with_converter(workdir, ids)
        private_input = workdir / f"input{_safe_suffix(src)}"
        shutil.copyfile(src, private_input)
        os.chmod(private_input, 0o644)
        output = workdir / "output"
        env = _converter_environment(workdir, options, parsed)
        if is_shipped_converter(converter, parsed.essence):
            run = _run_builtin(
                [parsed.essence, str(private_input), str(output)], workdir, env, options, ids
            )
        else:
            run = run_limited(
                [str(converter), str(private_input), str(output)],
                cwd=workdir,
                env=env,
                time_limit_s=options.time_limit_s,
                memory_limit_mb=options.memory_limit_mb,
                drop_privileges=ids is not None,
            )
        _raise_for_failure(run, parsed.essence, options)
        warnings = _warnings_of(run)
        fax_tiff, normalising_cpu = _normalised(output, workdir, env, options, ids)
        pages = len(inspect_tiff(fax_tiff))
        if pages > options.page_limit:
            raise ConversionLimitError(
                f"the document has {pages} pages, more than the limit of {options.page_limit}"
            )
        _move_atomically(fax_tiff, out_tiff)
        return ConvertedDocument(
            pages=pages,
            path=out_tiff,
            warnings=tuple(warnings),
            cpu_seconds=run.cpu_seconds + normalising_cpu,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _safe_suffix(src: Path) -> str:
    suffix = src.suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


def _share_with_converter(workdir: Path, ids: tuple[int, int] | None) -> None:
    if ids is not None:
        os.chown(workdir, ids[0], ids[1])
    os.chmod(workdir, 0o700)


def _converter_environment(
    workdir: Path, options: FaxPageOptions, parsed: MimeType
) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "FAXGATE_PYTHON": sys.executable,
        "FAXGATE_MIME_TYPE": parsed.essence,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        **options.to_environment(),
    }
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    charset = parsed.parameters.get("charset")
    if charset and re.fullmatch(r"[A-Za-z0-9_.:-]{1,40}", charset):
        env["FAXGATE_CHARSET"] = charset
    return env


def _message_of(run: LimitedRun) -> str:
    lines = [
        line.strip()
        for line in run.stderr.decode("utf-8", "replace").splitlines()
        if line.strip() and not line.startswith("warning: ")
    ]
    return lines[-1][:_MAX_MESSAGE] if lines else ""


def _warnings_of(run: LimitedRun) -> list[str]:
    return [
        line.removeprefix("warning: ").strip()[:_MAX_MESSAGE]
        for line in run.stderr.decode("utf-8", "replace").splitlines()
        if line.startswith("warning: ")
    ]


def _raise_for_failure(run: LimitedRun, essence: str, options: FaxPageOptions) -> None:
    if run.timed_out or run.signal_number in (9, 24):  # SIGKILL or SIGXCPU: the time limit
        raise ConversionLimitError(
            f"converting the {essence} document took longer than the limit of "
            f"{options.time_limit_s:g} s"
        )
    if run.returncode == 0:
        return
    message = _message_of(run)
    if run.signal_number is not None:
        raise ConversionLimitError(
            f"the {essence} converter crashed (signal {run.signal_number}); the document may "
            f"need more than the memory limit of {options.memory_limit_mb} MB"
        )
    if not message:
        message = f"the {essence} converter failed (exit status {run.returncode})"
    if run.returncode == EXIT_LIMIT:
        raise ConversionLimitError(message)
    raise ConversionError(message)


def _normalised(
    output: Path,
    workdir: Path,
    env: dict[str, str],
    options: FaxPageOptions,
    ids: tuple[int, int] | None,
) -> tuple[Path, float]:
    """`output` if it is a fax TIFF in the wanted format, else one made from it (+ CPU used)."""
    if not output.is_file() or output.stat().st_size == 0:
        raise ConversionError("the converter wrote no output")
    kind = sniff_mime_type(output)
    if kind == "image/tiff":
        try:
            if all(page.is_fax_page(options) for page in inspect_tiff(output)):
                return output, 0.0
        except ConversionError:
            pass  # let the TIFF converter judge (and explain) a damaged file
    elif kind != "application/pdf":
        raise ConversionError(f"the converter wrote {kind}, not PDF or TIFF")
    normalised = workdir / "normalised.tif"
    run = _run_builtin([kind, str(output), str(normalised)], workdir, env, options, ids)
    _raise_for_failure(run, kind, options)
    return normalised, run.cpu_seconds


#: Run the built-in converters in the warm zygote (False: always start a new Python).
USE_ZYGOTE = True


def _run_builtin(
    args: list[str],
    workdir: Path,
    env: dict[str, str],
    options: FaxPageOptions,
    ids: tuple[int, int] | None,
) -> LimitedRun:
    """`python -m faxgate.convert.tools ARGS` under limits: forked from the zygote if possible."""
    if USE_ZYGOTE:
        from faxgate.convert.zygote import shared_zygote

        try:
            return shared_zygote().run(
                args,
                cwd=workdir,
                env=env,
                time_limit_s=options.time_limit_s,
                memory_limit_mb=options.memory_limit_mb,
                ids=ids,
            )
        except OSError:
            pass  # no zygote (could not start, or died): start the converter the plain way
    return run_limited(
        [*builtin_converter_argv(args[0]), *args[1:]],
        cwd=workdir,
        env=env,
        time_limit_s=options.time_limit_s,
        memory_limit_mb=options.memory_limit_mb,
        drop_privileges=ids is not None,
    )


def _move_atomically(source: Path, destination: Path) -> None:
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    if source.stat().st_dev == destination.parent.stat().st_dev:
        os.replace(source, temporary)  # same file system (temp_root in the spool): no copy
        if os.geteuid() == 0:
            # The converter may have run as nobody: the kept file must not stay its to change.
            os.chown(temporary, os.getuid(), os.getgid())
        os.chmod(temporary, 0o644)
    else:
        shutil.copyfile(source, temporary)
    with temporary.open("rb+") as stream:
        os.fsync(stream.fileno())
    temporary.replace(destination)
