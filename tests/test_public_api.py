"""The public API is exactly this list: a change to it is a deliberate, reviewed change."""

import pipulate

PUBLIC_NAMES = [
    "ConfigError",
    "Field",
    "Job",
    "JobCancelled",
    "LLM",
    "NotFound",
    "Plugin",
    "PluginError",
    "Profile",
    "Profiles",
    "Settings",
    "Store",
    "Table",
    "Tables",
    "URL",
    "Upload",
    "UserError",
    "Workflow",
    "__version__",
    "clean_text",
    "create_app",
    "load_settings",
    "migrate",
    "open_database",
    "route",
    "step",
    "workflows",
]


def test_public_names_are_pinned():
    assert sorted(pipulate.__all__) == sorted(PUBLIC_NAMES)


def test_every_public_name_exists():
    for name in pipulate.__all__:
        assert hasattr(pipulate, name), name


def test_implementation_modules_are_private():
    public_modules = {
        name for name, value in vars(pipulate).items()
        if type(value).__name__ == "module" and not name.startswith("_")
    }
    assert public_modules <= {"apps", "testing"}, public_modules
