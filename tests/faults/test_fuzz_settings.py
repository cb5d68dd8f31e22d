"""Fuzzing settings values and the matchers that read user text (control fields, recipients).

Every value an administrator types (admin form, `faxctl settings set`, environment,
appliance.yml) goes through `Key.parse`: it must give a checked value or a `SettingsError`
that names the key — never another exception that would become a 500 page or a daemon that
does not start. A secret never appears in such a message. The shipped matchers then read
hostile document and address text: they find a value or nothing, without raising.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import yaml
from faults_fuzzing import fuzz_settings, replay_params, tolerating_known_bugs
from hypothesis import given
from hypothesis import strategies as st

from faxgate.errors import SettingsError
from faxgate.settings import load_settings, registry
from faxgate.settings.registry import KeyType

KEYS = registry().keys()

raw_values = st.one_of(
    st.text(max_size=40),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    st.sampled_from(
        [
            "/(/",
            "/(a{99999999999})/",
            "/" + "(" * 200 + "x" + ")" * 200 + "/",
            "/(?P<x>a)/z",
            "0.0.0.0/0",
            "::/0",
            "999.1.1.1/8",
            "1.2.3.4/33",
            "fe80::1%eth0",
            "* * * * * *",
            "60 24 * * *",
            "host:0",
            ":4569",
            "[::1]:4569",
            "a@b",
            "@",
            "yes",
            "On",
            "-0",
            "0x10",
            "١٢٣",
            "1_000",
            " 12 ",
            "\x00",
            "/\\d+/",
            "/()/i",
            "/(x)/q",
        ]
    ),
)


@fuzz_settings(share=3)
@given(st.sampled_from(KEYS), raw_values)
def test_every_key_parses_a_value_or_raises_settings_error(key: object, raw: object) -> None:
    from faxgate.settings.registry import Key

    assert isinstance(key, Key)
    try:
        with tolerating_known_bugs():
            value = key.parse(raw, source="fuzz")
    except SettingsError as exc:
        assert key.name in str(exc)  # noqa: PT017
        return
    # what was accepted is accepted again when written back as text (the admin form round trip)
    assert key.parse(key.render(value) if key.type is not KeyType.SECRET else value) == value


@fuzz_settings()
@given(
    st.sampled_from([k for k in KEYS if k.type is KeyType.SECRET]),
    st.text(min_size=4, max_size=30).map(lambda t: "Zq9-" + t),
)
def test_secrets_are_never_echoed_in_errors(key: object, secret: str) -> None:
    from faxgate.settings.registry import Key

    assert isinstance(key, Key)
    for raw in ([secret], {secret: secret}, secret):
        try:
            key.parse(raw, source="fuzz")
        except SettingsError as exc:
            assert secret not in str(exc)  # noqa: PT017
            assert repr(secret) not in str(exc)  # noqa: PT017
    assert secret not in key.render(secret)


@fuzz_settings()
@given(
    st.dictionaries(
        st.sampled_from(KEYS).map(lambda k: k.environment_name), st.text(max_size=30), max_size=4
    )
)
def test_environment_overrides_load_or_raise_settings_error(environ: dict[str, str]) -> None:
    with contextlib.suppress(SettingsError):
        load_settings(environ=environ)


@fuzz_settings()
@given(st.text(max_size=200), st.lists(st.sampled_from(KEYS), min_size=1, max_size=3))
def test_appliance_yml_of_any_shape_loads_or_raises_settings_error(
    text: str, keys: list[object]
) -> None:
    import tempfile

    from faxgate.settings.registry import Key

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "appliance.yml"
        body = {k.name: text for k in keys if isinstance(k, Key)}
        path.write_text(yaml.safe_dump(body) + "\n" + ("\n" + text if len(keys) == 3 else ""))
        with contextlib.suppress(SettingsError):
            load_settings(config_path=path, environ={})


MATCHERS = [k.name for k in KEYS if k.type is KeyType.MATCHER]
DEFAULTS = load_settings(environ={})
document_text = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda pre, mid, post: f"{pre}@@+FAX:{mid}@@{post}",
        st.text(max_size=20),
        st.text(max_size=30),
        st.text(max_size=20),
    ),
    st.sampled_from(
        [
            "@@+FAX:" * 500,
            "@@" * 2000 + "+FAX:1",
            "@ @ + F A X : 1 2 3 @ @",
            "@@+FAX:" + "1" * 10000 + "@@",
        ]
    ),
)


@fuzz_settings(share=2)
@given(st.sampled_from(MATCHERS), document_text)
def test_shipped_matchers_read_any_text_without_raising(name: str, text: str) -> None:
    matcher = DEFAULTS.matcher(name)
    found = matcher.first_group(text)
    values = matcher.all_values(text)
    assert found is None or isinstance(found, str)
    assert all(isinstance(value, str) for value in values)


@pytest.mark.parametrize("path", replay_params("settings"))
def test_kept_fault_value_is_refused_with_settings_error(path: Path) -> None:
    name, value = path.read_text().split("\n")[:2]
    with pytest.raises(SettingsError, match=name.replace(".", r"\.")):
        registry().get(name).parse(value, source=path.name)
