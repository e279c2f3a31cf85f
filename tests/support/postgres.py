"""A real PostgreSQL (Debian's `postgresql` package) for tests of the shared (team) mode: a
throw-away cluster on 127.0.0.1 and a free port, trust authentication, removed afterwards.

As root the server runs as the `postgres` user (initdb refuses root); otherwise as the caller.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .server import free_port
from .timing import scaled

HOW_TO_INSTALL = "apt-get install -y postgresql (./scripts/test does it on Debian/Ubuntu)"


def find_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    found = candidates[0] if candidates else shutil.which("initdb")
    return Path(found).parent if found else None


class Postgres:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="pipulate-pg-"))
        self.data = self.folder / "cluster"
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=scaled(60))

    def start(self) -> "Postgres":
        if os.geteuid() == 0:
            os.chmod(self.folder, 0o755)
            shutil.chown(self.folder, "postgres", "postgres")
        result = self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user, "--no-sync")
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr}")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        result = self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        if result.returncode != 0:
            raise RuntimeError(f"postgres did not start: {result.stderr}{self.log()}")
        return self

    def create_database(self, name: str) -> str:
        """A new database; its URL (nothing secret in it: trust authentication on loopback)."""
        result = self._run(str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name)
        if result.returncode != 0:
            raise RuntimeError(f"createdb failed: {result.stderr}")
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def log(self) -> str:
        path = self.folder / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        time.sleep(0.1)
        shutil.rmtree(self.folder, ignore_errors=True)
