"""Refresh nix/python-overrides.json from PyPI: the sdist URL, its SRI hash and its metadata.

    python nix/pypi-sources.py            # every package in python-overrides.json
    python nix/pypi-sources.py fastcore   # only these

For each package the flake builds itself (at the version written in python-overrides.json, which
must equal the pin in pyproject.toml; an entry pyproject.toml does not pin says why it is there),
pip downloads the source archive from PyPI (never a wheel),
and this writes back its URL, `sha256-...` hash and the Requires-Dist lines of its PKG-INFO. The
hand-written fields (build-system, dependencies, relaxDeps, patches) are kept; the tests in
tests/nix compare `dependencies` with `requires`, so a new requirement cannot be missed.
Needs the network (PyPI) and pip; run it after changing a pin.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from email.parser import HeaderParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
OVERRIDES = HERE / "python-overrides.json"
# fastlite's and apswutils' setup.py import pkg_resources, which new setuptools no longer has:
# pip prepares their metadata while downloading, so give its build environment an older one.
CONSTRAINTS = "setuptools<81\n"


def sdist(name: str, version: str, folder: Path) -> tuple[str, Path]:
    """Download NAME==VERSION's sdist into FOLDER; return (its URL, its path)."""
    constraints = folder / "constraints.txt"
    constraints.write_text(CONSTRAINTS)
    env = dict(os.environ, PIP_CONSTRAINT=str(constraints))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-vv", "--no-deps", "--no-binary", ":all:",
         "--disable-pip-version-check", "-d", str(folder), f"{name}=={version}"],
        capture_output=True, text=True, env=env,
    )
    if result.returncode != 0:
        sys.exit(f"pip could not download {name}=={version}:\n{result.stderr[-2000:]}")
    wanted = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}.tar.gz"
    archives = [p for p in folder.glob("*.tar.gz") if re.sub(r"[-.]+(?=.*-)", "_", p.name.lower()) == wanted]
    if len(archives) != 1:
        sys.exit(f"expected one sdist of {name} {version} in {folder}, found {archives}")
    archive = archives[0]
    urls = re.findall(r"(https://files\.pythonhosted\.org/packages/\S+?/" + re.escape(archive.name) + ")", result.stdout)
    if not urls:
        sys.exit(f"pip did not say where {archive.name} came from (no files.pythonhosted.org link in its log)")
    return urls[0], archive


def sri(path: Path) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def requires(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
        headers = HeaderParser().parsestr(tar.extractfile(member).read().decode())
    return headers.get_all("Requires-Dist") or []


def main(names: list[str]) -> None:
    data = json.loads(OVERRIDES.read_text())
    packages = data["packages"]
    for name in names or list(packages):
        entry = packages[name]
        with tempfile.TemporaryDirectory() as tmp:
            url, archive = sdist(name, entry["version"], Path(tmp))
            entry.update(url=url, hash=sri(archive), requires=requires(archive))
        print(f"{name} {entry['version']}: {entry['hash']}")
    OVERRIDES.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
