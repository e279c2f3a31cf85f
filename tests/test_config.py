"""Settings: defaults, pipulate.toml, PIPULATE_* variables, and readable errors."""

import dataclasses
import re
from pathlib import Path

import pytest

from pipulate import ConfigError, Settings, load_settings
from pipulate._config import _FIELDS

ROOT = Path(__file__).resolve().parents[1]
VARIABLE = re.compile(r"PIPULATE_[A-Z][A-Z_]*[A-Z]")


def test_defaults():
    settings = load_settings(environ={})
    assert settings.app_name == "Pipulate"
    assert settings.host == "127.0.0.1"
    assert settings.port == 5001
    assert settings.database_name == "pipulate.db"
    assert settings.title == "Pipulate"
    assert settings.url == "http://127.0.0.1:5001"


def test_config_file_rebrands(tmp_path):
    config = tmp_path / "pipulate.toml"
    config.write_text('app_name = "Botifython"\npage_title = "Botify tools"\nport = 5002\ndata_dir = "state"\n')
    settings = load_settings(config, environ={})
    assert (settings.app_name, settings.title, settings.port) == ("Botifython", "Botify tools", 5002)
    assert settings.database_name == "botifython.db"
    assert settings.data_dir == tmp_path / "state"  # relative to the config file
    assert settings.plugin_dirs == (tmp_path / "plugins",)


def test_pipulate_table_is_accepted(tmp_path):
    config = tmp_path / "pipulate.toml"
    config.write_text('[pipulate]\napp_name = "Darwinix"\n')
    assert load_settings(config, environ={}).app_name == "Darwinix"


def test_precedence_file_then_environment_then_options(tmp_path):
    config = tmp_path / "pipulate.toml"
    config.write_text("port = 5002\n")
    environ = {"PIPULATE_CONFIG": str(config), "PIPULATE_PORT": "5003"}
    assert load_settings(environ=environ).port == 5003
    assert load_settings(environ=environ, port=5004).port == 5004
    assert load_settings(environ={"PIPULATE_CONFIG": str(config)}).port == 5002


@pytest.mark.parametrize(
    "text, message",
    [
        ("port = 'abc'", "port must be a whole number"),
        ("port = 99999", "between 1 and 65535"),
        ("colour = 'red'", "unknown setting 'colour'"),
        ("app_name = ", "not valid TOML"),
        ("database_file = '../escape.db'", "plain file name"),
        ("database_file = 'x.txt'", "plain file name"),
        ("plugin_dirs = 'plugins'", "a list of strings"),
        ("accent_color = 'red; background: url(x)'", "accent_color"),
        ("app_name = ''", "app_name"),
        ("live = 'yes'", "true or false"),
    ],
)
def test_bad_config_files_give_one_readable_error(tmp_path, text, message):
    config = tmp_path / "pipulate.toml"
    config.write_text(text + "\n")
    with pytest.raises(ConfigError, match=message) as raised:
        load_settings(config, environ={})
    assert "\n" not in str(raised.value).strip()


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"PIPULATE_PORT": "http"}, "PIPULATE_PORT must be a whole number"),
        ({"PIPULATE_LIVE": "maybe"}, "PIPULATE_LIVE"),
        ({"PIPULATE_CONFIG": "/nonexistent/pipulate.toml"}, "does not exist"),
    ],
)
def test_bad_environment_gives_a_readable_error(environ, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=environ)


def test_settings_round_trip_through_the_environment(tmp_path):
    settings = Settings(
        app_name="Acme", port=5010, data_dir=tmp_path, plugin_dirs=(tmp_path / "p", tmp_path / "q"),
        allowed_hosts=("box.lan",), live=True,
    )
    assert load_settings(environ=settings.to_environment()) == settings


def test_a_model_is_given_by_the_command_line_or_the_environment_not_by_the_file(tmp_path):
    """`model_given`: --model or PIPULATE_MODEL answer for the run, over a model picked in the page;
    `model` in pipulate.toml is the brand's default, which a pick overrides."""
    config = tmp_path / "pipulate.toml"
    config.write_text('model = "brand-model"\n')
    assert not load_settings(environ={}).model_given
    from_file = load_settings(config_file=config, environ={})
    assert (from_file.model, from_file.model_given) == ("brand-model", False)
    from_environment = load_settings(config_file=config, environ={"PIPULATE_MODEL": "env-model"})
    assert (from_environment.model, from_environment.model_given) == ("env-model", True)
    from_option = load_settings(config_file=config, environ={}, model="cli-model")
    assert (from_option.model, from_option.model_given) == ("cli-model", True)
    # Handed to a live worker as PIPULATE_* variables, it stays what it was.
    for settings in (from_file, from_environment, from_option):
        assert load_settings(environ=settings.to_environment()) == settings
    with pytest.raises(ConfigError, match="PIPULATE_MODEL_GIVEN"):
        load_settings(environ={"PIPULATE_MODEL_GIVEN": "perhaps"})
    with pytest.raises(ConfigError, match="unknown setting 'model_given'"):
        config.write_text("model_given = true\n")
        load_settings(config_file=config, environ={})


def test_ipv6_url():
    assert Settings(host="::1").url == "http://[::1]:5001"
    assert Settings(host="0.0.0.0").url == "http://127.0.0.1:5001"


def test_default_plugin_folder_is_relative_to_cwd():
    assert load_settings(environ={}).plugin_dirs == (Path("plugins"),)


def test_logo_is_relative_to_the_config_file_and_checked(tmp_path):
    config = tmp_path / "pipulate.toml"
    config.write_text('logo = "brand/logo.svg"\n')
    assert load_settings(config, environ={}).logo == tmp_path / "brand" / "logo.svg"
    config.write_text('logo = "logo.exe"\n')
    with pytest.raises(ConfigError, match="logo must be one of"):
        load_settings(config, environ={})


def test_logo_is_served_and_shown(tmp_path):
    from starlette.testclient import TestClient

    from pipulate import create_app

    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>')
    settings = Settings(data_dir=tmp_path / "data", plugin_dirs=(), logo=logo)
    with TestClient(create_app(settings), base_url="http://127.0.0.1:5001") as client:
        assert 'src="/brand-logo"' in client.get("/").text
        answer = client.get("/brand-logo")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg+xml")


# --- the README says what the code does --------------------------------------------------------


def test_every_setting_has_a_variable_and_a_row_in_the_readmes_table():
    fields = {field.name for field in dataclasses.fields(Settings)} - {"model_given"}  # not a setting: see load_settings
    assert fields == set(_FIELDS)
    rows = re.findall(r"^\| `([a-z_]+)` \| `(PIPULATE_[A-Z_]+)`", (ROOT / "README.md").read_text(), re.M)
    assert dict(rows) == {name: variable for name, (variable, _) in _FIELDS.items()}
    assert len(rows) == len(_FIELDS)


def test_the_readme_names_exactly_the_pipulate_variables_the_code_reads():
    """Every PIPULATE_* variable of the package, the scripts, the flake and the tests is in the
    README, and the README names none that nothing reads."""
    sources = [path for folder in ("pipulate", "scripts", "nix", "tests", "templates", "bench", ".ci")
               for path in (ROOT / folder).rglob("*") if path.is_file() and path.suffix in ("", ".py", ".sh", ".nix", ".jinja")]
    in_code = {name for path in sources + [ROOT / "flake.nix"] for name in VARIABLE.findall(path.read_text(errors="replace"))}
    in_readme = set(VARIABLE.findall((ROOT / "README.md").read_text()))
    assert in_code - in_readme == set(), "add these to the README"
    assert in_readme - in_code == set(), "the README names variables nothing reads"
