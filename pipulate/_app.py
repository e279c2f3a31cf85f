"""create_app(settings): open the database, load the plugins, wire routes and middleware.

The core only wires; every page the user sees comes from a plugin. Reading this file top to
bottom gives the whole request path: middleware, the page routes, each plugin's routes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from fasthtml.common import FastHTML
from starlette.middleware import Middleware
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ._chat.history import ChatHistory
from ._chat.pages import Pages
from ._chat.queue import Chat
from ._chat.socket import PageSocket
from ._config import LOGO_TYPES, Settings, load_settings
from ._core import Core
from ._database import CORE_TABLES, open_database
from ._middleware import (
    JSONBodyCheckMiddleware,
    LocalOnlyMiddleware,
    PageProfileMiddleware,
    RequestSizeLimitMiddleware,
    SecurityHeadersMiddleware,
)
from ._plugins import Plugin, PluginError, discover_plugins, plugin_routes, plugin_socket_actions
from ._profile_settings import ProfileSettingsStore
from ._profiles import Profiles
from ._store import Store
from ._ui import STATIC_DIR
from ._ui.errors import exception_handlers

log = logging.getLogger("pipulate")


def create_app(settings: Settings | None = None, plugins: list[type[Plugin]] | None = None) -> FastHTML:
    """Build the app. `plugins` replaces discovery (tests and embedding); by default every
    built-in, plugin-folder and entry-point plugin is loaded."""
    settings = settings or load_settings()
    load_errors: list[PluginError] = []  # a plugin that fails to import is named; the rest start
    plugin_classes = discover_plugins(settings.plugin_dirs, load_errors, settings.disabled_plugins) if plugins is None else plugins
    for failure in load_errors:
        log.error("%s", failure)

    plugin_tables = [table for cls in plugin_classes for table in cls.tables]
    taken = {table.name for table in CORE_TABLES} & {table.name for table in plugin_tables}
    if taken:
        raise PluginError(f"a plugin declares the core's table {sorted(taken)[0]!r}; choose another name")
    # Every table, the core's and the plugins', is created or migrated here, in one transaction.
    db = open_database(settings.database_path, settings.synchronous, tables=plugin_tables)
    store = Store(db)
    profiles = Profiles(db, store)
    pages = Pages()
    chat = Chat(pages, ChatHistory(db), profiles)
    core = Core(settings=settings, db=db, store=store, profiles=profiles, chat=chat, pages=pages,
                plugin_errors=[str(failure) for failure in load_errors], profile_settings=ProfileSettingsStore(store))
    profiles.on_delete(chat.history.clear)
    profiles.on_delete(core.profile_settings.delete)

    async def on_startup():
        from ._backup import run_automatic_backups

        chat.loop = asyncio.get_running_loop()  # for chat.say_soon from other threads
        _quiet_client_faults()
        if settings.backup_every_hours > 0:
            core.start_task(run_automatic_backups(settings), "automatic backups")
        if core.workflows is not None:
            await core.workflows.start()  # resumes jobs that were running, in the background

    async def on_shutdown():
        for task in list(core.tasks):
            task.cancel()
        for plugin in core.plugins.values():
            await plugin.shutdown()
        if core.workflows is not None:
            await core.workflows.stop()
        db.close()

    app = FastHTML(
        title=settings.title,
        default_hdrs=False,  # no CDN: htmx and the ws extension are served from /static
        surreal=False,
        sess_cls=None,  # state lives in the store, not in a signed cookie
        secret_key=secrets.token_hex(16),  # unused without sessions; avoids writing .sesskey
        canonical=False,
        exception_handlers=exception_handlers(),
        middleware=[
            # Outermost first. Security headers go on every answer, refusals included; then
            # foreign hosts/origins are refused before anything else runs.
            Middleware(SecurityHeadersMiddleware),
            Middleware(LocalOnlyMiddleware, allowed_hosts=_extra_allowed_hosts(settings)),
            # A profile file (with its workflow results) is the one large upload.
            Middleware(RequestSizeLimitMiddleware, larger={"/profiles/import": 4 * 1024**3}),
            Middleware(JSONBodyCheckMiddleware),  # after the size limit: it reads the (capped) body
            Middleware(PageProfileMiddleware),  # which profile the requesting page shows
        ],
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
    )
    app.state.core = core
    app.routes.append(Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"))
    # The page's one WebSocket: chat, chatq and progress; plugins add actions with @route.socket.
    app.routes.append(WebSocketRoute("/ws", PageSocket(pages, core.socket_actions).endpoint))
    if settings.live:
        app.routes.append(WebSocketRoute("/live-reload", _live_reload_socket))
    if settings.logo is not None:
        app.routes.append(Route("/brand-logo", _brand_logo(settings), methods=["GET"]))

    for cls in plugin_classes:
        plugin = cls(core)
        core.plugins[plugin.name] = plugin
        core.profiles.on_delete(plugin.on_profile_deleted)
        for method, path, handler in plugin_routes(plugin):
            app.route(path, methods=[method], name=f"{plugin.name}.{handler.__name__}")(handler)
        for action, handler in plugin_socket_actions(plugin):
            if action in core.socket_actions:
                raise PluginError(f"two plugins handle the socket action {action!r}")
            core.socket_actions[action] = handler
        if plugin.in_menu:
            app.route(f"/{plugin.name}", methods=["GET"], name=f"{plugin.name}.open")(_opener(core, plugin))
    if not core.menu:
        raise PluginError("no app to show: every plugin has in_menu = False")
    if settings.home_app and settings.home_app not in {plugin.name for plugin in core.menu}:
        log.warning("home_app %r is not an app here (apps: %s); pages open on %s", settings.home_app,
                    ", ".join(plugin.name for plugin in core.menu), core.menu[0].name)
    workflow_classes = [cls for cls in plugin_classes if getattr(cls, "step_specs", None)]
    if workflow_classes:
        from ._workflows.service import WorkflowService

        core.workflows = WorkflowService(core, workflow_classes)

    @app.get("/")
    async def home(request):
        return await show_app(core, core.current_app(), request)

    log.info("%s: %d apps, database %s", settings.app_name, len(core.plugins), settings.database_path)
    return app


def _opener(core: Core, plugin: Plugin):
    async def open_plugin(request):
        return await show_app(core, plugin, request)

    return open_plugin


async def show_app(core: Core, plugin: Plugin, request):
    """An app's panel: just the panel (and the menu's new state) for htmx, else the whole page."""
    if _from_own_page(request):
        # Remembered only when the app's own page asked: a foreign page's <img src=/tasks> also
        # sends a GET, and a GET must not change what the app opens with.
        core.open_app(plugin)
    return await core.panel_response(plugin, request, await plugin.render(request))


def _from_own_page(request) -> bool:
    if "hx-request" in request.headers:  # a custom header: a foreign page cannot send it
        return True
    return request.headers.get("sec-fetch-site") == "same-origin"


async def _live_reload_socket(websocket: WebSocket):
    # The browser only needs to notice when this socket closes (the server restarted).
    await websocket.accept()
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass


def _brand_logo(settings: Settings):
    async def brand_logo(request):
        # Read where the config points at each request: a variant may swap its logo file.
        if not settings.logo.is_file():
            return Response("No logo file.", status_code=404)
        return FileResponse(settings.logo, media_type=LOGO_TYPES[settings.logo.suffix.lower()])

    return brand_logo


def _extra_allowed_hosts(settings: Settings) -> list[str]:
    extra = list(settings.allowed_hosts)
    if settings.host not in ("0.0.0.0", "::", ""):
        extra.append(settings.host)
    return extra


class _ClientFault(logging.Filter):
    """uvicorn logs a client's invalid WebSocket text (not UTF-8) with a traceback; it is the
    client's fault and the socket is closed with 1007 as the protocol says: keep one line."""

    MESSAGES = ("Invalid UTF-8 sequence received from client",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and any(text in record.getMessage() for text in self.MESSAGES):
            record.exc_info, record.exc_text, record.levelno, record.levelname = None, None, logging.WARNING, "WARNING"
        return True


def _quiet_client_faults() -> None:
    # Added once the server runs: uvicorn configures its loggers when it starts.
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _ClientFault) for f in logger.filters):
        logger.addFilter(_ClientFault())


def create_app_from_environment() -> FastHTML:
    """Factory for uvicorn's reloader, which rebuilds the app in a fresh process from PIPULATE_*."""
    return create_app(load_settings())
