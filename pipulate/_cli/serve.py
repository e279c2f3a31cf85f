"""`pipulate serve`: check what can be checked, then hand the app to uvicorn."""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
import tempfile
from pathlib import Path

from .._config import LOOPBACK_HOSTS, ConfigError, Settings
from .._migrate import MigrationError
from .._plugins import PluginError
from . import browser
from .settings_options import add_settings_options, settings_from_options


def add_parser(commands) -> None:
    parser = commands.add_parser("serve", help="run the app", description="Run the app in the browser.")
    add_settings_options(parser)
    parser.add_argument("--live", action="store_true", default=None, help="reload the page when a .py file changes")
    parser.add_argument("--open", action="store_true", help="open the app in the browser")
    parser.set_defaults(run=run)


def run(args) -> int:
    from . import fail

    try:
        settings = settings_from_options(args, live=args.live)
    except ConfigError as error:
        return fail(str(error), 2)
    problem = (
        check_data_dir(settings.data_dir)
        or check_port_free(settings.host, settings.port)
        or check_model_file(settings.model_file)
    )
    if problem:
        return fail(problem)
    from .._backup import DataDirLock

    # Held while the app runs: `pipulate restore` refuses to replace the database under it.
    lock = DataDirLock(settings)
    if not lock.acquire():
        print(f"pipulate: warning: another app is running on {settings.data_dir} (process {lock.holder() or '?'})",
              file=sys.stderr)
    if settings.host not in LOOPBACK_HOSTS:
        print(
            f"pipulate: warning: listening on {settings.host}: the app has no login, "
            "so anyone who can reach this address can use it. It answers only to the names it knows: "
            "to open it through this machine's name or LAN address, add that to allowed_hosts in pipulate.toml "
            "(or PIPULATE_ALLOWED_HOSTS).",
            file=sys.stderr,
        )
    return _serve_live(settings, args.open) if settings.live else _serve(settings, args.open)


def _build_app(settings: Settings):
    """(the app, None), or (None, the one-line reason it cannot start)."""
    from .._app import create_app

    sqlite_log = logging.getLogger("apsw")
    sqlite_log.disabled = True  # SQLite's own log line would repeat the error as a second line
    try:
        return create_app(settings), None
    except PluginError as error:
        return None, str(error)
    except MigrationError as error:
        return None, f"{settings.database_path}: {error}"
    except Exception as error:  # the database file cannot be opened, for instance
        return None, f"cannot start: {type(error).__name__}: {error}"
    finally:
        sqlite_log.disabled = False


def _synchronous(app) -> str:
    """SQLite's synchronous level read back from the app's own connection (pragmas are per
    connection): the start line shows what the `synchronous` setting really did."""
    level = app.state.core.db.execute("PRAGMA synchronous").fetchall()[0][0]
    return {0: "off", 1: "normal", 2: "full", 3: "extra"}.get(level, str(level))


def _announce(settings: Settings, open_browser: bool, synchronous: str) -> None:
    print(
        f"{settings.app_name} is running on {settings.url}  "
        f"(data: {settings.database_path}, synchronous: {synchronous})  Ctrl+C stops it."
    )
    sys.stdout.flush()
    if open_browser:
        browser.open_when_ready(settings.url)


def _serve(settings: Settings, open_browser: bool = False) -> int:
    import uvicorn

    from . import fail

    app, problem = _build_app(settings)
    if problem:
        return fail(problem)
    _announce(settings, open_browser, _synchronous(app))
    _quiet_logging()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    return 0


def _serve_live(settings: Settings, open_browser: bool = False) -> int:
    """Run under uvicorn's reloader: a change to a .py file of the app or its plugins restarts
    the server; the page's /live-reload socket closes and the page reloads itself."""
    import uvicorn

    import pipulate

    from . import fail

    # Build the app once here: a start-up error is then one line and an exit, not a traceback
    # in the reloader's child while the reloader waits for a file to change.
    app, problem = _build_app(settings)
    if problem:
        return fail(problem)
    synchronous = _synchronous(app)
    app.state.core.db.close()
    _announce(settings, open_browser, synchronous)

    os.environ.update(settings.to_environment())
    os.environ.pop("PIPULATE_CONFIG", None)  # everything is in the PIPULATE_* variables now
    watched = [str(Path(pipulate.__file__).parent)] + [str(p) for p in settings.plugin_dirs if p.is_dir()]
    _quiet_logging()
    uvicorn.run(
        "pipulate._app:create_app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        reload=True,
        reload_dirs=watched,
        reload_includes=["*.py"],
        log_level="warning",
        access_log=False,
    )
    return 0


def check_data_dir(data_dir: Path) -> str | None:
    """None when the data dir exists (created with its parents) and is writable, else why not."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".write-test-"):
            pass
    except FileExistsError:
        return f"data dir {data_dir} exists and is not a folder"
    except OSError as error:
        return f"cannot write to the data dir {data_dir}: {error.strerror or error}"
    return None


def check_model_file(model_file: Path | None) -> str | None:
    if model_file is not None and not model_file.is_file():
        return f"the model file {model_file} does not exist (see the README: a local model)"
    return None


def check_port_free(host: str, port: int) -> str | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return f"port {port} on {host} is already in use; stop the other program or choose --port"
        if error.errno == errno.EACCES:
            return f"no permission to use port {port}; choose a port above 1023 with --port"
        return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def _quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
