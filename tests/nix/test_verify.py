"""scripts/nix-verify and .github/workflows/nix.yml: the real verification, for machines with the
network. They cannot run here; these tests keep them coherent with the flake and with each other."""

from __future__ import annotations

import shutil
import subprocess

from tests.support.requirements import require

from .support import ROOT

SCRIPT = ROOT / "scripts" / "nix-verify"
WORKFLOW = ROOT / ".github" / "workflows" / "nix.yml"


def test_the_script_passes_shellcheck():
    require(shutil.which("shellcheck") is not None, "shellcheck", "apt-get install -y shellcheck")
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_script_runs_every_step_the_issue_names():
    text = SCRIPT.read_text()
    for step in ("nix flake archive", "nix flake metadata", "nix flake check --all-systems",
                 'nix build --no-link -L ".#checks.$system.$check"', "nix run . -- --help",
                 "nix/websocket-smoke.py", "2.18"):
        assert step in text, step
    assert SCRIPT.stat().st_mode & 0o111  # executable


def test_the_workflow_runs_the_script_on_linux_and_macos():
    text = WORKFLOW.read_text()
    assert "os: [ubuntu-latest, macos-latest]" in text
    assert "run: scripts/nix-verify" in text and "nix flake metadata" in text
    assert "experimental-features = nix-command flakes" in text
