"""Pipulate: a local-first web-app framework on FastHTML.

The public API is what this module exports; everything in `pipulate._*` may change.
"""

__version__ = "0.1.0"

from ._app import create_app
from ._config import ConfigError, Settings, load_settings
from ._database import Table, migrate, open_database
from ._errors import NotFound, UserError, clean_text
from ._plugins import Plugin, PluginError, route
from ._profiles import Profile, Profiles
from ._store import Store

__all__ = [
    "ConfigError",
    "NotFound",
    "Plugin",
    "PluginError",
    "Profile",
    "Profiles",
    "Settings",
    "Store",
    "Table",
    "UserError",
    "__version__",
    "clean_text",
    "create_app",
    "load_settings",
    "migrate",
    "open_database",
    "route",
]
