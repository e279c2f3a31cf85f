"""Open the app in the user's browser once the server answers (`pipulate serve --open`)."""

from __future__ import annotations

import platform
import shutil
import subprocess
import threading
import time
import urllib.request


def opener_command() -> list[str] | None:
    """The command that opens a URL here: `open` on macOS, wslview/explorer.exe on WSL, else xdg-open."""
    if platform.system() == "Darwin":
        return ["open"]
    if is_wsl():
        for candidate in (["wslview"], ["explorer.exe"]):
            if shutil.which(candidate[0]):
                return candidate
        return None
    return ["xdg-open"] if shutil.which("xdg-open") else None


def is_wsl() -> bool:
    try:
        with open("/proc/version", encoding="utf-8") as version:
            return "microsoft" in version.read().lower()
    except OSError:
        return False


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def open_when_ready(url: str, timeout: float = 30.0) -> None:
    def wait_then_open():
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                _DIRECT.open(url, timeout=1).close()  # never through $http_proxy: the app is local
                break
            except Exception:
                time.sleep(0.2)
        command = opener_command()
        if command is None:
            print(f"pipulate: open {url} in your browser (no opener command found)")
            return
        subprocess.Popen([*command, url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    threading.Thread(target=wait_then_open, daemon=True).start()
