"""`pipulate doctor`'s model-server check: does something answer at the configured URL, is it Ollama
or an OpenAI-compatible server, and does it have the configured model? Never more than a warning:
the app runs without a model, only the chat needs one."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import httpx

from ._doctor import OK, WARN, Check
from ._install import install_command

TIMEOUT = 2.0
RESOLV_CONF = Path("/etc/resolv.conf")


def check_model_server(
    url: str,
    model: str,
    model_file: Path | None = None,
    *,
    wsl: bool = False,
    resolv_conf: Path = RESOLV_CONF,
    timeout: float = TIMEOUT,
) -> Check:
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        try:
            version = _json(client.get(f"{url}/api/version")).get("version")
            if version is not None:
                kind, pull = f"Ollama {version}", f"`ollama pull {model}`"
                tags = _json(client.get(f"{url}/api/tags")).get("models")
                names = [entry.get("name") for entry in tags or [] if isinstance(entry, dict)]
            else:
                listed = _json(client.get(f"{url}/v1/models")).get("data")
                if not isinstance(listed, list):
                    return Check(
                        "model_server",
                        WARN,
                        f"something answers at {url}, but neither as Ollama (/api/version) nor as an "
                        "OpenAI-compatible server (/v1/models)",
                        "Check the URL: --llm-url / PIPULATE_LLM_URL / OLLAMA_HOST.",
                    )
                kind, pull = "OpenAI-compatible server", ""
                names = [entry.get("id") for entry in listed if isinstance(entry, dict)]
        except (httpx.ConnectError, httpx.ConnectTimeout):
            return _unreachable(url, model, model_file, wsl, resolv_conf)
        except httpx.TimeoutException:
            return Check(
                "model_server",
                WARN,
                f"the server at {url} accepted the connection but did not answer within {timeout:g} s",
                "It may be hung or busy loading a model; check it (or restart `ollama serve`).",
            )
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return Check("model_server", WARN, f"asking {url} what it is failed: {error}",
                         "Check the URL: --llm-url / PIPULATE_LLM_URL / OLLAMA_HOST.")
    names = [name for name in names if isinstance(name, str)]
    if any(same_model(model, name) for name in names):
        return Check("model_server", OK, f"{kind} at {url} has the model {model}")
    others = f" (it has: {', '.join(names[:8])}{', …' if len(names) > 8 else ''})" if names else ""
    if pull:
        hint = f"Pull it: {pull}; or choose one it has with --model{others}."
    else:
        hint = f"Choose a model it serves with --model{others}, or load {model} into the server."
    return Check("model_server", WARN, f"{kind} at {url} does not have the model {model}", hint)


def same_model(wanted: str, name: str) -> bool:
    """Ollama's names carry a tag, ':latest' when none is given: "llama3.2" is "llama3.2:latest"."""
    return _with_tag(wanted) == _with_tag(name)


def _with_tag(name: str) -> str:
    name = name.strip()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _json(response: httpx.Response) -> dict:
    if response.status_code != 200:
        return {}
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _unreachable(url: str, model: str, model_file: Path | None, wsl: bool, resolv_conf: Path) -> Check:
    hints = [
        f"Start Ollama with `ollama serve` (or `nix run .#ollama` in the Pipulate folder), then `ollama pull {model}`; "
        "or point --llm-url / PIPULATE_LLM_URL at an OpenAI-compatible server."
    ]
    if model_file is None:
        hints.append(
            f"Or run a model inside the app: {install_command('local-llm')}, then pipulate serve --model-file FILE.gguf."
        )
    elif model_file.is_file() and importlib.util.find_spec("llama_cpp") is not None:
        hints.append(f"Until then the chat uses the embedded model {model_file}.")
    else:
        hints.append(
            f"The embedded model {model_file} cannot stand in: check the file and {install_command('local-llm')}."
        )
    if wsl:
        hints.append(_wsl_hint(resolv_conf))
    return Check("model_server", WARN, f"no model server answers at {url}", "\n".join(hints))


def _wsl_hint(resolv_conf: Path) -> str:
    host = windows_host_ip(resolv_conf)
    where = f"{host}, the nameserver in {resolv_conf}" if host else f"the nameserver in {resolv_conf}"
    example = host or "WINDOWS-IP"
    return (
        "On WSL, an Ollama running on Windows is not at WSL's localhost: use the Windows host's address "
        f"({where}) with --llm-url http://{example}:11434 or OLLAMA_HOST={example}:11434, and let Ollama "
        "on Windows listen there (OLLAMA_HOST=0.0.0.0 on the Windows side); or turn on mirrored networking "
        "(networkingMode=mirrored in %UserProfile%\\.wslconfig) so localhost reaches Windows."
    )


def windows_host_ip(resolv_conf: Path = RESOLV_CONF) -> str | None:
    """WSL 2 writes the Windows host's address as the first nameserver (unless that is turned off)."""
    try:
        text = resolv_conf.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = re.search(r"^\s*nameserver\s+(\S+)", text, re.MULTILINE)
    return found.group(1) if found else None
