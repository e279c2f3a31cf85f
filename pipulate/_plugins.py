"""Apps as plugins: the base class, the route decorator and discovery.

A plugin is a subclass of `Plugin` defined in a module that Pipulate finds in one of three ways,
all ending in the same `register` call:

1. the built-in apps, modules of the `pipulate.apps` package;
2. modules in a plugins folder (`plugins/` next to `pipulate.toml`, or `plugin_dirs`);
3. an installed package that declares an entry point in the group `pipulate.plugins`.

    class Greeter(Plugin):
        name = "greeter"            # its URL is /greeter
        label = "Greeter"           # its menu entry

        async def render(self, request):
            return H2("Hello from a plugin")

        @route.post("/greet")       # served at /greeter/greet
        async def greet(self, who: str):
            return P(f"Hello, {who}")   # FastHTML escapes it
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, ClassVar

from ._database import Table

if TYPE_CHECKING:
    from ._core import Core

ENTRY_POINT_GROUP = "pipulate.plugins"
BUILT_IN_PACKAGE = "pipulate.apps"
_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,39}")
# URL prefixes the core serves itself.
RESERVED_NAMES = frozenset({"static", "live-reload", "ws", "api", "favicon.ico"})


class PluginError(Exception):
    """A plugin could not be loaded or registered; the message names the file and the cause."""


class Plugin:
    """Base class of an app in the menu. Subclass it; set `name`, and usually `render`."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    menu_order: ClassVar[int] = 100
    in_menu: ClassVar[bool] = True  # False for plugins that only add an aside or routes (chat)
    tables: ClassVar[tuple[Table, ...]] = ()

    def __init__(self, core: "Core") -> None:
        self.core = core
        # The declared tables, each also reachable by name as a fastlite table (MiniDataAPI):
        # self.tables.todos.insert({...}), .update({...}), .delete(id), self.tables.todos(where=...).
        self.tables = DeclaredTables(type(self).tables, core.db)

    @property
    def db(self):
        return self.core.db

    @property
    def store(self):
        return self.core.store

    @classmethod
    def menu_label(cls) -> str:
        return cls.label or cls.name.replace("-", " ").replace("_", " ").capitalize()

    async def render(self, request):
        """The panel shown when the app is opened (an FT component)."""
        return None

    async def aside(self, request):
        """Something shown beside every app (the chat panel), or None."""
        return None

    def chat_context(self, path: str) -> str | None:
        """What the chat's model should know while a page shows `path` (a workflow's run), or None."""
        return None

    def on_profile_deleted(self, profile_id: int) -> None:
        """Delete what this plugin keeps for `profile_id`; runs in the deleting transaction."""

    async def shutdown(self) -> None:
        """Release what the plugin holds (connections, models) when the server stops."""


class DeclaredTables(tuple):
    """A plugin's `Table` declarations, and its tables by name: `self.tables.notes` is the
    fastlite table `notes` (insert, update, upsert, delete, `table(where=..., where_args=[...])`).
    Pass `where_args` rather than formatting values into `where`; raw SQL stays possible
    through `self.db.execute`."""

    def __new__(cls, declarations, db):
        tables = super().__new__(cls, declarations)
        tables._db = db
        return tables

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in {table.name for table in self}:
            raise AttributeError(f"this plugin declares no table {name!r} (declared: {', '.join(t.name for t in self) or 'none'})")
        return self._db.t[name]


class _RouteDecorator:
    """`@route.get(path)`, `@route.post(path)`, ...: marks a plugin method as an HTTP route.

    Paths are relative to the plugin's own prefix (`/<name>`). Handlers must be `async def`:
    FastHTML runs plain functions in a thread pool, and the single SQLite connection must not
    be used from two threads at once.
    """

    def _mark(self, method: str, path: str):
        if path and not path.startswith("/"):
            raise ValueError(f"route paths start with '/', not {path!r}")

        def decorator(function):
            if not inspect.iscoroutinefunction(function):
                raise TypeError(f"{function.__qualname__} must be 'async def' to be a route")
            function.__dict__.setdefault("_pipulate_routes", []).append((method, path))
            return function

        return decorator

    def get(self, path: str = ""):
        return self._mark("GET", path)

    def post(self, path: str = ""):
        return self._mark("POST", path)

    def put(self, path: str = ""):
        return self._mark("PUT", path)

    def patch(self, path: str = ""):
        return self._mark("PATCH", path)

    def delete(self, path: str = ""):
        return self._mark("DELETE", path)

    def socket(self, action: str):
        """Handle frames `{"action": action, ...}` on the page's WebSocket: `async def f(self, page, frame)`."""
        if not _NAME_PATTERN.fullmatch(action):
            raise ValueError(f"socket action names are lowercase words, not {action!r}")

        def decorator(function):
            if not inspect.iscoroutinefunction(function):
                raise TypeError(f"{function.__qualname__} must be 'async def' to handle socket frames")
            function.__dict__.setdefault("_pipulate_socket_actions", []).append(action)
            return function

        return decorator


route = _RouteDecorator()


def plugin_routes(plugin: Plugin):
    """(method, full path, bound handler) for every `@route` method of a plugin instance."""
    for attribute in dir(type(plugin)):
        function = getattr(type(plugin), attribute, None)
        for method, path in getattr(function, "_pipulate_routes", ()):
            yield method, f"/{plugin.name}{path}", getattr(plugin, attribute)


def plugin_socket_actions(plugin: Plugin):
    """(action, bound handler) for every `@route.socket` method of a plugin instance."""
    for attribute in dir(type(plugin)):
        function = getattr(type(plugin), attribute, None)
        for action in getattr(function, "_pipulate_socket_actions", ()):
            yield action, getattr(plugin, attribute)


def discover_plugins(plugin_dirs=(), errors: list | None = None, disabled=()) -> list[type[Plugin]]:
    """Every plugin class: built-ins, then plugin folders, then entry points, in menu order.
    `disabled` names entry points (installed plugin packages) and plugins not to load.

    A plugin module that fails to import raises PluginError naming its file and line; given an
    `errors` list, the failure is added to it instead and the other plugins still load (the
    server logs each one as a line and shows it in the page)."""
    classes: list[type[Plugin]] = []
    built_in = importlib.import_module(BUILT_IN_PACKAGE)
    for path in sorted(Path(built_in.__file__).parent.glob("*.py")):
        if not path.name.startswith("_"):
            classes += plugins_in_module(importlib.import_module(f"{BUILT_IN_PACKAGE}.{path.stem}"))
    for folder in plugin_dirs:
        classes += plugins_in_folder(Path(folder), errors)
    disabled = set(disabled)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in disabled:
            continue  # not even imported: its dependencies may not be installed
        try:
            loaded = entry_point.load()
        except Exception as error:
            failure = PluginError(f"plugin entry point {entry_point.value!r} failed to load: {type(error).__name__}: {error}")
            if errors is None:
                raise failure from None
            errors.append(failure)
            continue
        classes += plugins_in_module(loaded) if isinstance(loaded, ModuleType) else [loaded]
    classes = [cls for cls in classes if getattr(cls, "name", None) not in disabled]
    check_plugins(classes)
    return sorted(classes, key=lambda cls: (cls.menu_order, cls.name))


def plugins_in_folder(folder: Path, errors: list | None = None) -> list[type[Plugin]]:
    """Load each `*.py` of a folder (names starting with `_` are helpers and are skipped)."""
    if not folder.is_dir():
        return []
    # A private package name per folder keeps two folders' `tools.py` apart.
    package = "pipulate_plugins_" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:10]
    classes = []
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module_name = f"{package}.{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            del sys.modules[module_name]
            where = _error_location(error, path)
            failure = PluginError(f"plugin {where} failed to load: {type(error).__name__}: {error}")
            if errors is None:
                raise failure from None
            errors.append(failure)
            continue
        classes += plugins_in_module(module)
    return classes


def plugins_in_module(module: ModuleType) -> list[type[Plugin]]:
    """The Plugin subclasses a module defines itself (not those it imports)."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Plugin)
        and value is not Plugin
        and value.__module__ == module.__name__
        and value.name  # a subclass without a name is an abstract helper
    ]


def check_plugins(classes: list[type[Plugin]]) -> None:
    seen: dict[str, type[Plugin]] = {}
    for cls in classes:
        if not isinstance(cls, type) or not issubclass(cls, Plugin):
            raise PluginError(f"{cls!r} is not a subclass of pipulate.Plugin")
        if not _NAME_PATTERN.fullmatch(cls.name) or cls.name in RESERVED_NAMES:
            raise PluginError(
                f"plugin {cls.__qualname__} has the name {cls.name!r}; use lowercase letters, "
                "digits, '-' or '_' (not a reserved name like 'static')"
            )
        if cls.name in seen:
            raise PluginError(
                f"two plugins are named {cls.name!r}: {seen[cls.name].__module__} and {cls.__module__}"
            )
        seen[cls.name] = cls


def _error_location(error: Exception, path: Path) -> str:
    if isinstance(error, SyntaxError) and error.lineno:
        return f"{path}:{error.lineno}"
    frames = [f for f in inspect.getinnerframes(error.__traceback__) if Path(f.filename).resolve() == path.resolve()]
    return f"{path}:{frames[-1].lineno}" if frames else str(path)
