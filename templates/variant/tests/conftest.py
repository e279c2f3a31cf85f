"""The app as this project's pipulate.toml configures it, in-process, with its data in a temp folder."""

from __future__ import annotations

from pathlib import Path

import pipulate
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(tmp_path) -> pipulate.Settings:
    # environ={}: PIPULATE_* variables in your shell do not change what is tested.
    return pipulate.load_settings(ROOT / "pipulate.toml", environ={}, data_dir=tmp_path / "data")


@pytest.fixture
def app(settings):
    return pipulate.create_app(settings)


@pytest.fixture
def client(app, settings):
    """Starlette's TestClient, with the Host header the app accepts (127.0.0.1)."""
    from starlette.testclient import TestClient

    with TestClient(app, base_url=f"http://127.0.0.1:{settings.port}") as test_client:
        yield test_client
