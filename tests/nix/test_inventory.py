"""The offline checks cannot drift from the pinned nixpkgs: one committed inventory of it
(nix/nixpkgs-inventory.json: attribute path, version, source) is what the stand-in nixpkgs is
made of, and every version pyproject.toml asks for is provided, by the inventory or by the
packages the flake builds from PyPI itself (nix/python-overrides.json).

- a pin that neither provides fails here (checked for every requirement, extras included);
- an attribute the flake uses that the inventory lacks fails evaluation (the stand-in has
  nothing else), shown by removing entries from a copy;
- a dependency with an extra maps to the packages that extra brings (python-packages.json
  "extras", compared with the packages' own metadata), or evaluation fails naming it.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import tomllib

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from .support import ROOT, STUB, git_add_all, make_git_copy, run_nix, stub_override

PYTHON = "python3Packages."
# Where the flake's Python environments run: Linux and macOS, CPython 3.13 (nixpkgs' python3).
PLATFORMS = [
    {"sys_platform": sys_platform, "platform_system": system, "os_name": "posix", "python_version": "3.13",
     "python_full_version": "3.13.0", "platform_python_implementation": "CPython", "implementation_name": "cpython"}
    for sys_platform, system in (("linux", "Linux"), ("darwin", "Darwin"))
]


def load(name: str) -> dict:
    return json.loads((ROOT / "nix" / name).read_text())


def inventory() -> dict:
    return load("nixpkgs-inventory.json")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def applies(requirement: Requirement, extra: str = "") -> bool:
    """Does the requirement hold on some platform the flake supports (for EXTRA, or none)?"""
    if requirement.marker is None:
        return not extra
    return any(requirement.marker.evaluate({**env, "extra": extra}) for env in PLATFORMS)


def pyproject_requirements(project: dict | None = None) -> list[str]:
    """Every requirement of pyproject.toml (extras too) and of this repository's plugin packages
    (packages/*), less those packages themselves: the flake builds them from the checkout."""
    project = project or tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    ours = {"pipulate-core"}
    for path in sorted((ROOT / "packages").glob("*/pyproject.toml")):
        package = tomllib.loads(path.read_text())["project"]
        ours.add(normalize(package["name"]))
        specs += package["dependencies"]
    return [spec for spec in specs if normalize(Requirement(spec).name) not in ours]


def provided_version(name: str, inventory_data: dict, overrides: dict, mapping: dict) -> tuple[str, str] | None:
    """(version, where) for a PEP 503 name: the flake's own build wins, then nixpkgs' package."""
    if name in overrides:
        return overrides[name]["version"], "python-overrides.json"
    attr = mapping["packages"].get(name)
    entry = inventory_data["attributes"].get(f"{PYTHON}{attr}") if attr else None
    if entry is None:
        return None
    return entry["version"], f"nixpkgs-inventory.json ({PYTHON}{attr}, {entry['source']})"


def unmet(specs, inventory_data, overrides, mapping, accepted=()) -> dict[str, str]:
    """{"name<specifier>": why} for each requirement no package provides at a version it accepts."""
    problems = {}
    for spec in specs:
        requirement = spec if isinstance(spec, Requirement) else Requirement(spec)
        name = normalize(requirement.name)
        key = f"{name}{requirement.specifier}"
        found = provided_version(name, inventory_data, overrides, mapping)
        if found is None:
            problems[key] = f"no package provides {name}"
        elif not requirement.specifier.contains(Version(found[0]), prereleases=True) and key not in accepted:
            problems[key] = f"{found[1]} has {found[0]}"
    return problems


# --- the inventory itself --------------------------------------------------------------------------


def test_the_inventory_names_the_pin_and_a_source_for_every_entry():
    data = inventory()
    lock = json.loads((ROOT / "flake.lock").read_text())["nodes"]["nixpkgs"]
    assert data["nixpkgs"] == {"branch": lock["original"]["ref"], "rev": lock["locked"]["rev"]}
    assert "unconfirmed" in data and data["unconfirmed"].strip()
    for attr, entry in data["attributes"].items():
        assert entry["source"] in data["sources"], attr
        assert isinstance(entry["confirmed"], bool), attr
        if entry["source"] == "function":
            assert "version" not in entry, attr
        else:
            Version(entry["version"])  # a real version, comparable with pyproject's pins
        if not entry["confirmed"]:
            assert entry["source"] != "pin", attr


def test_the_stand_in_is_made_of_the_inventory_and_nothing_else(nix_env):
    expression = (
        f'let pkgs = import ./{STUB}/packages.nix {{ lib = import ./{STUB}/lib.nix; system = "x86_64-linux"; }}; in '
        "{ top = builtins.attrNames pkgs; python = builtins.mapAttrs (n: p: p.version or null) pkgs.python3.pkgs; }"
    )
    out = run_nix(["nix-instantiate", "--eval", "--strict", "--json", "--expr", expression], ROOT, nix_env).stdout
    stub = json.loads(out)
    attributes = inventory()["attributes"]
    top = {attr for attr in attributes if not attr.startswith(PYTHON)}
    assert set(stub["top"]) == top
    python = {attr[len(PYTHON):]: entry.get("version") for attr, entry in attributes.items() if attr.startswith(PYTHON)}
    assert stub["python"] == python


def test_every_attribute_the_flake_maps_or_builds_with_is_in_the_inventory():
    attributes = inventory()["attributes"]
    mapping = load("python-packages.json")
    used = set(mapping["packages"].values())
    for entry in load("python-overrides.json")["packages"].values():
        used.update(entry["build-system"])
    missing = sorted(attr for attr in used if f"{PYTHON}{attr}" not in attributes)
    assert not missing, f"add these to nix/nixpkgs-inventory.json (nixpkgs attributes only): {missing}"


# --- versions: pyproject.toml's pins are provided ---------------------------------------------------


def test_every_version_pyproject_asks_for_is_provided():
    problems = unmet(pyproject_requirements(), inventory(), load("python-overrides.json")["packages"],
                     load("python-packages.json"))
    assert not problems, f"pyproject.toml asks for versions the flake does not provide: {problems}"


def test_an_exact_pin_is_built_at_exactly_that_version():
    overrides = load("python-overrides.json")["packages"]
    for spec in pyproject_requirements():
        requirement = Requirement(spec)
        pins = [s.version for s in requirement.specifier if s.operator == "=="]
        if pins and normalize(requirement.name) in overrides:
            assert overrides[normalize(requirement.name)]["version"] == pins[0], spec


def test_a_pin_nobody_provides_is_reported():
    # The check above, on a pyproject that pins versions neither side has.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    project["dependencies"] = [*project["dependencies"], "numpy==1.0.0", "fastcore==9.9.9", "left-pad==1"]
    problems = unmet(pyproject_requirements(project), inventory(), load("python-overrides.json")["packages"],
                     load("python-packages.json"))
    assert list(problems) == ["numpy==1.0.0", "fastcore==9.9.9", "left-pad==1"]


def test_what_the_packages_built_from_pypi_need_is_what_their_metadata_says_and_is_provided():
    overrides = load("python-overrides.json")["packages"]
    mapping = load("python-packages.json")
    for name, entry in overrides.items():
        assert re.fullmatch(r"https://files\.pythonhosted\.org/packages/\S+\.tar\.gz", entry["url"]), name
        assert re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", entry["hash"]), name
        needed = [Requirement(spec) for spec in entry["requires"] if applies(Requirement(spec))]
        written = {normalize(r.name) + "".join(f"[{e}]" for e in sorted(r.extras)) for r in map(Requirement, entry["dependencies"])}
        assert written == {normalize(r.name) + "".join(f"[{e}]" for e in sorted(r.extras)) for r in needed}, name
        relaxed = entry.get("relaxDeps", {})
        assert all(reason.strip() for reason in relaxed.values()), name
        problems = {key: why for key, why in unmet(needed, inventory(), overrides, mapping).items()
                    if normalize(Requirement(key).name) not in relaxed}
        assert not problems, f"{name} needs versions the flake does not provide: {problems}"


# --- extras ---------------------------------------------------------------------------------------------


def requirements_with_extras() -> list[Requirement]:
    specs = pyproject_requirements()
    for entry in load("python-overrides.json")["packages"].values():
        specs += entry["dependencies"]
    return [r for r in map(Requirement, specs) if r.extras]


def extra_requirements(name: str, extra: str) -> list[Requirement]:
    """What NAME[EXTRA] brings, from the package's own metadata (PyPI's for the ones built here)."""
    overrides = load("python-overrides.json")["packages"]
    if name in overrides:
        requires = overrides[name]["requires"]
    else:
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{name} is not installed here; its extras cannot be compared (pip install -e '.[test]')")
    return [r for r in map(Requirement, requires) if applies(r, extra)]


def test_every_extra_maps_to_the_packages_it_brings():
    mapping = load("python-packages.json")
    seen = set()
    for requirement in requirements_with_extras():
        name = normalize(requirement.name)
        for extra in requirement.extras:
            key = f"{name}[{extra}]"
            seen.add(key)
            assert key in mapping["extras"], f"python-packages.json has no extras entry for {key}"
            brought = extra_requirements(name, extra)
            assert sorted(mapping["extras"][key]) == sorted({normalize(r.name) for r in brought}), key
            # Versions: for a package built here its metadata is exact; a nixpkgs package's extras
            # are nixpkgs' own choice (its uvicorn goes with its httptools), so only names count.
            overrides = load("python-overrides.json")["packages"]
            if name in overrides:
                accepted = mapping.get("knownMismatches", {})
                assert all(reason.strip() for reason in accepted.values())
                problems = unmet(brought, inventory(), overrides, mapping, accepted=accepted)
                assert not problems, f"{key}: {problems}"
    assert seen == set(mapping["extras"]), "an extras entry no requirement uses"
    assert {"uvicorn[standard]", "llama-cpp-python[server]"} <= seen


def test_uvicorn_standard_brings_websockets():
    assert "websockets" in load("python-packages.json")["extras"]["uvicorn[standard]"]
    assert any(spec.startswith("uvicorn[standard]") for spec in tomllib.loads(
        (ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


# --- evaluation: the stand-in has only what the inventory has -----------------------------------------------


def evaluate_default_shell(copy, nix_env):
    git_add_all(copy)
    attr = ".#devShells.x86_64-linux.default.drvPath"
    return run_nix(["nix", "eval", "--raw", attr, *stub_override(copy)], copy, nix_env, check=False)


@pytest.mark.parametrize("attr", ["python3Packages.websockets", "python3Packages.starlette", "git", "fetchurl"])
def test_an_attribute_missing_from_the_inventory_fails_evaluation(nix_env, tmp_path, attr):
    copy = make_git_copy(tmp_path)
    path = copy / "nix" / "nixpkgs-inventory.json"
    data = json.loads(path.read_text())
    del data["attributes"][attr]
    path.write_text(json.dumps(data))
    result = evaluate_default_shell(copy, nix_env)
    assert result.returncode != 0
    assert attr.removeprefix(PYTHON) in result.stderr


def test_an_extra_without_an_entry_fails_evaluation(nix_env, tmp_path):
    copy = make_git_copy(tmp_path)
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"httpx>=0.27"', '"httpx[http2]>=0.27"', 1))
    result = evaluate_default_shell(copy, nix_env)
    assert result.returncode != 0 and "httpx[http2]" in result.stderr


def test_a_dependency_nixpkgs_lacks_says_what_to_do(nix_env, tmp_path):
    copy = make_git_copy(tmp_path)
    mapping = copy / "nix" / "python-packages.json"
    data = json.loads(mapping.read_text())
    data["unavailable"]["left-pad"] = "not in nixpkgs: build it from PyPI (python-overrides.json)"
    mapping.write_text(json.dumps(data))
    pyproject = copy / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(original.replace('"httpx>=0.27"', '"httpx>=0.27", "left-pad>=1"', 1))
    result = evaluate_default_shell(copy, nix_env)
    assert result.returncode != 0
    assert "'left-pad' is not in nixpkgs: not in nixpkgs: build it from PyPI" in result.stderr
    # A name with no entry at all fails too, asking for one.
    pyproject.write_text(original.replace('"httpx>=0.27"', '"httpx>=0.27", "right-pad"', 1))
    result = evaluate_default_shell(copy, nix_env)
    assert result.returncode != 0 and "no entry for the Python dependency 'right-pad'" in result.stderr


def test_what_nixpkgs_lacks_is_built_here():
    unavailable = load("python-packages.json")["unavailable"]
    overrides = load("python-overrides.json")["packages"]
    used = {normalize(Requirement(spec).name) for spec in pyproject_requirements()}
    assert "dbos" in unavailable and "dbos" in overrides
    assert not {name for name in unavailable if name in used and name not in overrides}


def test_a_package_built_here_that_pyproject_does_not_pin_says_why_and_is_needed():
    overrides = load("python-overrides.json")["packages"]
    pinned = {normalize(r.name) for r in map(Requirement, pyproject_requirements())
              if any(s.operator == "==" for s in r.specifier)}
    needed = {normalize(Requirement(spec).name) for entry in overrides.values() for spec in entry["dependencies"]}
    for name, entry in overrides.items():
        if name in pinned:
            continue
        assert entry.get("why", "").strip(), f"{name} is built here but pyproject.toml does not pin it: say why"
        assert name in needed, f"{name} is built here but no package built here needs it"
    assert "croniter" in overrides and "croniter" not in pinned  # dbos asks a croniter newer than the pin's


def test_a_name_mapped_to_another_package_says_why():
    mapping = load("python-packages.json")
    substitutes = mapping.get("substitutes", {})
    renamed = {name for name, attr in mapping["packages"].items() if normalize(attr) != name}
    assert renamed == set(substitutes)
    assert all(reason.strip() for reason in substitutes.values())
    assert mapping["packages"]["psycopg-binary"] == "psycopg-c"  # dbos asks psycopg[binary]


def test_the_markers_used_are_understood():
    assert Marker("sys_platform != 'win32'").evaluate(PLATFORMS[0])
    assert SpecifierSet(">=1.0.1").contains("1.3.1")
