"""Property: any pipulate.toml and any PIPULATE_* environment either load as Settings or stop with a
ConfigError whose message is meant for a person; never another exception (a traceback)."""

from __future__ import annotations

import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from pipulate import ConfigError, Settings, load_settings
from pipulate._config import _FIELDS

KEYS = st.one_of(st.sampled_from(sorted(_FIELDS)), st.sampled_from(["pipulate", "unknown", "port ", "PORT"]), st.text(max_size=10))
SCALARS = st.one_of(
    st.text(max_size=30), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(allow_nan=False),
    st.booleans(), st.sampled_from(["127.0.0.1", "#2f6d5a", "x.db", "normal", "full", "sqlite:///x", "0.0.0.0", "", "../.."]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=6)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else "0"
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode().replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return "{" + ", ".join(f'"{k}" = {toml_value(v)}' for k, v in value.items()) + "}"


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=5))
def test_any_config_file_loads_or_says_why(tmp_path_factory, document):
    text = "\n".join(f'"{key}" = {toml_value(value)}' for key, value in document.items() if "\n" not in key)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        pass  # the file is not TOML: load_settings must say so too
    path = tmp_path_factory.mktemp("cfg") / "pipulate.toml"
    path.write_text(text, encoding="utf-8")
    try:
        assert isinstance(load_settings(path, environ={}), Settings)
    except ConfigError as error:
        assert str(error) and "\n" not in str(error).strip("\n")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(v for v, _ in _FIELDS.values())), st.text(max_size=30), max_size=4))
def test_any_environment_loads_or_says_why(environ):
    try:
        assert isinstance(load_settings(None, environ={k: v.replace("\x00", "") for k, v in environ.items()}), Settings)
    except ConfigError as error:
        assert str(error)
