"""The options that say which settings to use, shared by `serve` and `doctor`, so both read the
config the same way (doctor checks exactly what serve would run with)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._config import Settings, load_settings


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a number, not {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, not {port}")
    return port


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to bind (default 127.0.0.1; anything else has no login!)")
    parser.add_argument("--port", type=port_number, help="port (default 5001, or the brand's)")
    parser.add_argument("--data-dir", type=Path, help="folder of the SQLite file (default ./data)")
    parser.add_argument("--config", type=Path, help="settings file (default ./pipulate.toml)")
    parser.add_argument("--llm-url", help="model server (default $PIPULATE_LLM_URL, $OLLAMA_HOST, http://127.0.0.1:11434)")
    parser.add_argument("--model", help="chat model for this run, over one picked in the page (default $PIPULATE_MODEL, "
                        "else the page's pick, else the brand's)")
    parser.add_argument("--model-file", type=Path, help="GGUF file for the embedded model (needs the local-llm extra)")


def settings_from_options(args, **extra) -> Settings:
    """Settings from the config file, the environment and these options; raises ConfigError."""
    return load_settings(
        config_file=args.config,
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        llm_url=args.llm_url,
        model=args.model,
        model_file=args.model_file,
        **extra,
    )


