"""Plugins: the built-ins and a user's own are found and registered the same way."""

import textwrap

import pytest
from starlette.testclient import TestClient

from pipulate import Plugin, PluginError, Settings, create_app, route
from pipulate._plugins import check_plugins, discover_plugins, plugins_in_folder

HELLO_PLUGIN = '''
from fasthtml.common import H2, P
from pipulate import Plugin, Table, route


class Hello(Plugin):
    name = "greeter"
    label = "Say hello"
    menu_order = 50
    tables = (Table("greetings", {"id": int, "profile_id": int, "who": str}),)

    async def render(self, request):
        return H2("Hello from a plugin")

    @route.post("/greet")
    async def greet(self, who: str = ""):
        profile = self.core.profiles.selected()
        self.db.execute("INSERT INTO greetings (profile_id, who) VALUES (?, ?)", [profile.id, who])
        self.store["last_greeted"] = who
        return P(f"Hello, {who}")
'''


def write_plugin(folder, name, source):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(source))


# The SEO package (packages/seo) is installed in the test environment and found by its entry point;
# these tests are about the core's own apps, so they leave it out (tests/seo covers it).
WITHOUT_SEO = ("seo",)


def test_built_in_apps_are_plugins():
    names = [cls.name for cls in discover_plugins(disabled=WITHOUT_SEO)]
    assert names == ["todos", "hello", "tasks", "profiles", "settings", "chat"]


def test_a_plugin_folder_is_discovered_without_editing_the_core(tmp_path):
    write_plugin(tmp_path / "plugins", "greeter", HELLO_PLUGIN)
    (tmp_path / "plugins" / "_helpers.py").write_text("raise RuntimeError('helpers are not plugins')")
    settings = Settings(data_dir=tmp_path / "data", plugin_dirs=(tmp_path / "plugins",))
    with TestClient(create_app(settings), base_url="http://127.0.0.1:5001") as client:
        page = client.get("/")
        assert 'href="/greeter"' in page.text and "Say hello" in page.text
        assert client.get("/greeter").status_code == 200
        greeted = client.post("/greeter/greet", data={"who": "<b>Ada</b>"}, headers={"HX-Request": "true"})
        assert greeted.status_code == 200
        assert "&lt;b&gt;Ada&lt;/b&gt;" in greeted.text
        assert client.app.state.core.store["last_greeted"] == "<b>Ada</b>"
        # The plugin's table was declared by the plugin and created by the core.
        assert "greetings" in client.app.state.core.db.table_names()


def test_menu_follows_menu_order(tmp_path):
    write_plugin(tmp_path / "plugins", "greeter", HELLO_PLUGIN)
    classes = discover_plugins([tmp_path / "plugins"], disabled=WITHOUT_SEO)
    assert [cls.name for cls in classes] == ["todos", "hello", "greeter", "tasks", "profiles", "settings", "chat"]


def test_a_broken_plugin_names_its_file_and_line(tmp_path):
    write_plugin(tmp_path / "plugins", "broken", "x = 1\nraise ValueError('bad plugin')\n")
    with pytest.raises(PluginError, match=r"broken\.py:2 failed to load: ValueError: bad plugin"):
        plugins_in_folder(tmp_path / "plugins")


def test_a_syntax_error_names_its_line(tmp_path):
    write_plugin(tmp_path / "plugins", "typo", "def f(:\n")
    with pytest.raises(PluginError, match=r"typo\.py:1"):
        plugins_in_folder(tmp_path / "plugins")


def test_duplicate_and_bad_names_are_refused(tmp_path):
    write_plugin(tmp_path / "plugins", "again", "from pipulate import Plugin\nclass T(Plugin):\n    name = 'todos'\n")
    with pytest.raises(PluginError, match="two plugins are named 'todos'"):
        discover_plugins([tmp_path / "plugins"])

    class Reserved(Plugin):
        name = "static"

    with pytest.raises(PluginError, match="reserved"):
        check_plugins([Reserved])


def test_routes_must_be_async():
    with pytest.raises(TypeError, match="must be 'async def'"):

        class Sync(Plugin):
            name = "sync"

            @route.get("/x")
            def handler(self):
                return "x"


def test_entry_points_are_discovered(tmp_path, monkeypatch):
    """An installed package can declare `[project.entry-points."pipulate.plugins"]`."""
    package = tmp_path / "site" / "acme_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(HELLO_PLUGIN))
    dist_info = tmp_path / "site" / "acme_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugin\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[pipulate.plugins]\ngreeter = acme_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert "greeter" in [cls.name for cls in discover_plugins()]


def test_a_plugin_that_fails_to_import_is_named_and_the_rest_of_the_app_starts(servers, tmp_path):
    """A workflow module with an error: one line at start-up naming the file, the other apps serve."""
    write_plugin(tmp_path / "plugins", "broken_workflow", "from pipulate import Workflow\nraise ImportError('no module named acme')\n")
    write_plugin(tmp_path / "plugins", "greeter", HELLO_PLUGIN)
    server = servers()
    errors = [line for line in server.log().splitlines() if "failed to load" in line]
    assert len(errors) == 1 and "broken_workflow.py:2 failed to load: ImportError: no module named acme" in errors[0]
    with server.client() as client:
        page = client.get("/")
        assert page.status_code == 200 and "broken_workflow.py:2 failed to load" in page.text  # shown in the page
        assert client.get("/greeter").status_code == 200 and client.get("/hello").status_code == 200


def test_a_plugin_reaches_its_declared_tables_by_name(tmp_path):
    from pipulate import Table

    class Notes(Plugin):
        name = "notes"
        tables = (Table("notes", {"id": int, "profile_id": int, "text": str}),)

    app = create_app(Settings(data_dir=tmp_path / "data", plugin_dirs=()), plugins=[Notes])
    notes = app.state.core.plugins["notes"]
    assert [table.name for table in notes.tables] == ["notes"]  # still the declarations
    first = notes.tables.notes.insert({"profile_id": 1, "text": "hello"})
    notes.tables.notes.update({"id": first["id"], "text": "changed"})
    assert notes.tables.notes(where="profile_id = ?", where_args=[1], as_cls=False) == [{"id": 1, "profile_id": 1, "text": "changed"}]
    with pytest.raises(AttributeError, match="declares no table 'todos'"):
        notes.tables.todos  # noqa: B018
