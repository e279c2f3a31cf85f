"""Helpers for the flake tests: a throw-away git copy of the repository (a flake sees only files
git tracks), the options that swap in the stand-in nixpkgs, and running nix."""

from __future__ import annotations

import http.server
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.timing import scaled

ROOT = Path(__file__).resolve().parents[2]
STUB = "tests/nix/stub-nixpkgs"
BUILD = ["--option", "sandbox", "false"]  # the stub's builders use the host's /bin
HOW_TO_GET_NIX = (
    "apt-get install -y nix-bin (Debian/Ubuntu; ./scripts/test does it in CI), or https://nixos.org/download"
)


def project_files() -> list[str]:
    """The repository's tracked files plus new ones not ignored: what the lead would commit."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    return [name for name in listed if (ROOT / name).is_file()]


def make_git_copy(destination: Path) -> Path:
    """Copy the project's files into DESTINATION and `git add` them all (no commit is needed)."""
    for name in project_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    git_add_all(destination)
    return destination


def git_add_all(folder: Path) -> None:
    if not (folder / ".git").exists():
        subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)


def stub_url(repository: Path) -> str:
    """The stand-in nixpkgs as a flake URL: a subfolder of the git REPOSITORY, so that it can read
    nix/nixpkgs-inventory.json, the one inventory of the pinned nixpkgs it takes its names from."""
    return f"git+file://{repository}?dir={STUB}"


def stub_override(flake_dir: Path) -> list[str]:
    """Options that replace the real nixpkgs with the stand-in and leave flake.lock alone."""
    return ["--no-write-lock-file", "--override-input", "nixpkgs", stub_url(flake_dir)]


def run_nix(args: list[str], cwd: Path, env: dict[str, str], *, timeout: float = 300, check: bool = True):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=scaled(timeout))
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}", pytrace=False)
    return result


def fake_tool(folder: Path, name: str, body: str) -> Path:
    """An executable Python script NAME in FOLDER, run by this test's interpreter."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


class _AnsweringOllama(http.server.BaseHTTPRequestHandler):
    """Someone's Ollama, already running: answers /api/version, which is all `up` asks of it."""

    def do_GET(self):
        body = b'{"version": "0.0.0-already-running"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def answering_ollama(port: int = 0) -> Iterator[int]:
    """An Ollama stand-in on 127.0.0.1:PORT (0: a free port) for the block; yields its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _AnsweringOllama)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
