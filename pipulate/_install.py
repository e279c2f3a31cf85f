"""Where this project comes from: its distribution name, its source URL, how to install it.

The import package and the command are `pipulate`, but the distribution is `pipulate-core`:
"pipulate" on PyPI is another project, so no hint may say `pip install pipulate...`. Every hint
installs from this project itself: the checkout Pipulate runs from when it is one, else the
source URL, which is set in one place, `[project.urls] Source` in pyproject.toml, and read from
there (the checkout's pyproject.toml, else the installed package's metadata).
"""

from __future__ import annotations

import re
import shlex
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "pipulate-core"
IMPORT_NAME = "pipulate"
SOURCE_LABEL = "Source"


def checkout() -> Path | None:
    """The checkout this package runs from (its pyproject.toml names this distribution), or None."""
    root = Path(__file__).resolve().parents[1]
    project = _pyproject(root)
    return root if project.get("name") == DISTRIBUTION else None


@cache
def _pyproject(root: Path) -> dict:
    try:
        return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def source_url() -> str:
    """This project's source repository (https://...), from [project.urls] Source."""
    root = checkout()
    if root is not None:
        url = _pyproject(root).get("urls", {}).get(SOURCE_LABEL)
        if url:
            return url
    try:
        entries = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        entries = []
    for entry in entries:
        label, _, url = entry.partition(",")
        if label.strip().lower() == SOURCE_LABEL.lower() and url.strip():
            return url.strip()
    raise RuntimeError(f"{DISTRIBUTION} has no [project.urls] {SOURCE_LABEL}; reinstall it")


def pip_source() -> str:
    """The source URL as pip takes it in a direct reference: git+https://..."""
    url = source_url()
    return url if url.startswith("git+") else f"git+{url}"


def flake_source() -> str:
    """The source URL as a flake reference: github:OWNER/REPO for GitHub, else git+https://..."""
    url = source_url().removeprefix("git+")
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", url)
    return f"github:{match.group(1)}/{match.group(2)}" if match else f"git+{url}"


def requirement(extra: str | None = None) -> str:
    """What pip should install: this checkout (editable), or this project's source by URL."""
    extras = f"[{extra}]" if extra else ""
    root = checkout()
    if root is not None:
        return f"-e {shlex.quote(f'{root}{extras}')}"
    return shlex.quote(f"{DISTRIBUTION}{extras} @ {pip_source()}")


def install_command(extra: str | None = None) -> str:
    """`pip install ...` for this project (with EXTRA), never for PyPI's unrelated `pipulate`."""
    return f"pip install {requirement(extra)}"
