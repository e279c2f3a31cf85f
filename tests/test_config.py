"""Settings: defaults, pipulate.toml, PIPULATE_* variables, and readable errors."""

from pathlib import Path

import pytest

from pipulate import ConfigError, Settings, load_settings


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
