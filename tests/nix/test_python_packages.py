"""pyproject.toml, nix/python-packages.json and the stub's python3.pkgs cannot drift apart.

Every Python dependency the Nix shells use (the dependencies and the test and local-llm extras)
is built by the flake from PyPI (python-overrides.json) or has an entry in python-packages.json,
and each entry maps to a name the stub's python package set has. The stub is made of the
inventory of the pinned nixpkgs (test_inventory.py), so a name here is one nixpkgs has too.
Entries may be ready ahead of use (dependencies about to be added), never missing.
"""

from __future__ import annotations

import json
import re
import tomllib

from .support import ROOT, STUB, run_nix


def normalize(spec: str) -> str:
    """The PEP 503 name of a requirement, as nix/python.nix computes it."""
    name = re.match(r"\s*([A-Za-z0-9._-]+)", spec).group(1)
    return re.sub(r"[-_.]+", "-", name).lower()


def nix_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    # The SEO package (packages/seo) is built by the flake too; its "pipulate-core" is the core itself.
    seo = tomllib.loads((ROOT / "packages" / "seo" / "pyproject.toml").read_text())["project"]["dependencies"]
    return {normalize(spec) for spec in project["dependencies"] + extras["test"] + extras["local-llm"] + seo} - {"pipulate-core"}


def mapping() -> dict[str, str]:
    return json.loads((ROOT / "nix" / "python-packages.json").read_text())["packages"]


def test_normalize_matches_what_python_nix_does():
    assert normalize("llama-cpp-python[server]==0.3.36") == "llama-cpp-python"
    assert normalize("Python_FastHTML==0.14.14") == "python-fasthtml"


def overrides() -> set[str]:
    return set(json.loads((ROOT / "nix" / "python-overrides.json").read_text())["packages"])


def test_every_dependency_is_built_or_has_an_entry():
    missing = nix_dependencies() - set(mapping()) - overrides()
    assert not missing, f"add these to nix/python-packages.json: {sorted(missing)}"


def test_the_dependencies_about_to_be_added_are_ready():
    ready = {"markdown-it-py", "nh3", "hypothesis", "pytest-timeout", "openpyxl", "pyarrow", "pygments", "protego",
             "selectolax", "mutmut"}
    assert ready <= set(mapping())
    unavailable = json.loads((ROOT / "nix" / "python-packages.json").read_text())["unavailable"]
    assert "not in nixpkgs" in unavailable["dbos"]  # named, with what to do


def test_every_entry_names_a_package_of_the_stub(nix_env):
    expression = (
        f"builtins.attrNames (import ./{STUB}/packages.nix "
        f'{{ lib = import ./{STUB}/lib.nix; system = "x86_64-linux"; }}).python3.pkgs'
    )
    out = run_nix(["nix-instantiate", "--eval", "--strict", "--json", "--expr", expression], ROOT, nix_env).stdout
    stub_names = set(json.loads(out))
    missing = {name: attr for name, attr in mapping().items() if attr not in stub_names}
    assert not missing, f"add these (real nixpkgs names only) to {STUB}/packages.nix: {missing}"


def test_the_stub_keeps_its_promise_comment():
    text = (ROOT / STUB / "packages.nix").read_text()
    assert "PROMISE: every attribute name here" in text and "nix/nixpkgs-inventory.json" in text
