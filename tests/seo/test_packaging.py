"""Where the SEO tools live: their own distribution in this repository, found by the normal plugin
mechanism, added by the core's `seo` extra from the one source URL; the core stays light."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).parents[2]


def project(path: Path) -> dict:
    return tomllib.loads(path.read_text())["project"]


def test_the_seo_extra_installs_the_package_of_this_repository_from_the_one_source_url():
    core = project(ROOT / "pyproject.toml")
    seo = project(ROOT / "packages" / "seo" / "pyproject.toml")
    (requirement,) = map(Requirement, core["optional-dependencies"]["seo"])
    assert requirement.name == seo["name"] == "pipulate-core-seo"
    assert requirement.url == f"git+{core['urls']['Source']}#subdirectory=packages/seo"
    assert seo["version"] == core["version"]  # released together


def test_a_core_install_stays_light():
    core = project(ROOT / "pyproject.toml")
    names = {Requirement(spec).name for spec in core["dependencies"]}
    assert not names & {"protego", "selectolax", "pipulate-core-seo"}


def test_the_package_is_a_plugin_found_by_its_entry_point():
    (found,) = [ep for ep in entry_points(group="pipulate.plugins") if ep.name == "seo"]
    assert found.value == "pipulate_seo.apps"
    module = found.load()
    assert module.SiteAudit.name == "seo-crawl"
