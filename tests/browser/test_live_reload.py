"""`pipulate serve --live` in a real Chromium: editing a plugin reloads the open page by itself.

The server runs under uvicorn's reloader from a project folder whose plugins/ holds hello.py
(plugin_dirs defaults to ./plugins, relative to the working directory, without a pipulate.toml).
"""

from __future__ import annotations

import textwrap

import pytest
from playwright.sync_api import Page, expect

from tests.support.polling import wait_until
from tests.support.server import assert_no_traceback, start_server
from tests.support.timing import ms, scaled

PLUGIN = textwrap.dedent(
    """
    from fasthtml.common import H2

    from pipulate import Plugin


    class Hello(Plugin):
        name = "greeter"
        label = "Hello"

        async def render(self, request):
            return H2("Hello {version}")
    """
)


@pytest.fixture
def live_project(tmp_path):
    """A project folder with plugins/hello.py, and a live server started in it."""
    project = tmp_path / "project"
    (project / "plugins").mkdir(parents=True)
    plugin_file = project / "plugins" / "hello.py"
    plugin_file.write_text(PLUGIN.format(version="v1"))
    server = start_server(tmp_path / "data", "--live", cwd=project)
    try:
        yield server, plugin_file
    finally:
        server.stop()
    assert_no_traceback(server)


def test_editing_a_plugin_reloads_the_open_page(page: Page, live_project):
    server, plugin_file = live_project
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)

    page.goto(server.url + "/greeter")
    expect(page.locator("#app-panel h2")).to_have_text("Hello v1")
    expect(page.get_by_role("link", name="Hello", exact=True)).to_have_attribute("aria-current", "page")
    # The page's own live-reload socket connected: the Origin check lets the app's own page in.
    wait_until(page, "() => document.documentElement.dataset.liveReload === 'connected'")
    own_socket = server.url.replace("http://", "ws://") + "/live-reload"
    assert own_socket in sockets

    plugin_file.write_text(PLUGIN.format(version="v2"))

    # Nobody touches the page: the server restarts, the socket closes, the page reloads itself.
    expect(page.locator("#app-panel h2")).to_have_text("Hello v2", timeout=ms(20))
    assert navigations.count(server.url + "/greeter") >= 2  # a real reload, not a partial swap
    # The reloaded page is connected to the restarted server, ready for the next change.
    wait_until(page, "() => document.documentElement.dataset.liveReload === 'connected'")
    assert sockets.count(own_socket) >= 2


def test_live_reload_socket_accepts_the_own_origin_and_refuses_others(live_project):
    """The handshake check behind the page's connection, from a plain WebSocket client."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    server, _ = live_project
    url = server.url.replace("http://", "ws://") + "/live-reload"

    with connect(url, origin=server.url, open_timeout=scaled(5)) as socket:
        socket.send("ping")  # accepted: the connection is open and stays open

    for foreign in ("http://evil.example", "http://localhost:1", "null"):
        with pytest.raises(InvalidStatus) as refused:
            with connect(url, origin=foreign, open_timeout=scaled(5)):
                pass
        assert refused.value.response.status_code == 403, foreign


def test_live_shows_a_plugins_syntax_error_in_the_open_page_and_recovers(page: Page, live_project):
    server, plugin_file = live_project
    page.goto(server.url + "/greeter")
    expect(page.locator("#app-panel h2")).to_have_text("Hello v1")
    broken = PLUGIN.format(version="v2").replace("async def render(self, request):", "async def render(self, request:")
    plugin_file.write_text(broken)
    line = broken.splitlines().index("    async def render(self, request:") + 1
    errors = page.locator("#plugin-errors")
    expect(errors).to_contain_text(f"hello.py:{line} failed to load: SyntaxError", timeout=ms(20))
    plugin_file.write_text(PLUGIN.format(version="v3"))
    expect(page.locator("#app-panel h2")).to_have_text("Hello v3", timeout=ms(20))
    expect(errors).to_have_count(0)
