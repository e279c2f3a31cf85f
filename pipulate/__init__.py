"""Pipulate: a local-first web-app framework on FastHTML.

The public API is what this module exports; everything in `pipulate._*` may change. Names load
on first use, so the command line (`pipulate doctor`) starts without FastHTML or numpy.
"""

from importlib import import_module

__version__ = "0.1.0"

# public name -> the private module that defines it
_EXPORTS = {
    "create_app": "._app",
    "ConfigError": "._config",
    "Settings": "._config",
    "load_settings": "._config",
    "Table": "._database",
    "migrate": "._database",
    "open_database": "._database",
    "NotFound": "._errors",
    "UserError": "._errors",
    "clean_text": "._text",
    "Plugin": "._plugins",
    "PluginError": "._plugins",
    "route": "._plugins",
    "Profile": "._profiles",
    "Profiles": "._profiles",
    "Store": "._store",
    # Workflows
    "Workflow": "._workflows.plugin",
    "step": "._workflows.definition",
    "Field": "._workflows.fields",
    "URL": "._workflows.fields",
    "Upload": "._workflows.fields",
    "Tables": "._workflows.results",
    "Job": "._workflows.job",
    "JobCancelled": "._workflows.job",
    "LLM": "._workflows.llm",
    "workflows": "._workflows.notebook",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'pipulate' has no attribute {name!r}")


def __dir__():
    return __all__
