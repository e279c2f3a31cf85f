"""flake.lock pins the nixpkgs that flake.nix names: same owner, repo and branch, and the pin
recorded here. It was written by hand (real nixpkgs cannot be fetched offline); a first
`nix flake lock` on a machine with the network confirms it."""

from __future__ import annotations

import json
import re

from .support import ROOT, run_nix

PIN = {
    "type": "github",
    "owner": "NixOS",
    "repo": "nixpkgs",
    "rev": "4062d36ebeae843c750011eef6b61ec9a9dbc9a9",
    "narHash": "sha256-wiPYmEuHbJvleW489n6+lamL7JSJg3pcKUYwURU9CkI=",
    "lastModified": 1782375420,
}
INPUT_URL = re.compile(r'inputs\.nixpkgs\.url\s*=\s*"github:(?P<owner>[^/"]+)/(?P<repo>[^/"]+)/(?P<ref>[^/"]+)";')


def lock() -> dict:
    return json.loads((ROOT / "flake.lock").read_text())


def flake_input() -> dict:
    text = (ROOT / "flake.nix").read_text()
    (match,) = INPUT_URL.finditer(text)
    assert text.count("inputs") == 1, "flake.nix has one input, nixpkgs"
    return {"type": "github", **match.groupdict()}


def test_lock_is_version_7_with_a_root_and_a_nixpkgs_node():
    data = lock()
    assert data["version"] == 7
    assert data["root"] == "root"
    assert set(data["nodes"]) == {"root", "nixpkgs"}
    assert data["nodes"]["root"] == {"inputs": {"nixpkgs": "nixpkgs"}}


def test_nixpkgs_node_matches_flake_nix_and_the_pin():
    node = lock()["nodes"]["nixpkgs"]
    wanted = flake_input()
    assert wanted == {"type": "github", "owner": "NixOS", "repo": "nixpkgs", "ref": "nixos-26.05"}
    assert node["original"] == wanted
    assert node["locked"] == PIN
    assert re.fullmatch(r"[0-9a-f]{40}", node["locked"]["rev"])


def test_nix_reads_the_same_input_from_flake_nix(nix_env):
    # The regex above reads the text; Nix reads the expression.
    expression = "(import ./flake.nix).inputs"
    out = run_nix(["nix-instantiate", "--eval", "--strict", "--json", "--expr", expression], ROOT, nix_env).stdout
    assert json.loads(out) == {"nixpkgs": {"url": "github:NixOS/nixpkgs/nixos-26.05"}}
