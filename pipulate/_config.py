"""Settings: the brand and where things live.

Precedence, lowest first: built-in defaults, the project's `pipulate.toml`, `PIPULATE_*`
environment variables, command-line options. A variant rebrands by shipping its own
`pipulate.toml`; nothing in the core is edited.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE_NAME = "pipulate.toml"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


class ConfigError(ValueError):
    """A setting has a wrong value; the message is meant for the user as it is."""


@dataclass(frozen=True)
class Settings:
    app_name: str = "Pipulate"
    page_title: str = ""  # empty: the app name
    database_file: str = ""  # empty: derived from the app name, e.g. "pipulate.db"
    host: str = "127.0.0.1"
    port: int = 5001
    data_dir: Path = Path("data")
    plugin_dirs: tuple[Path, ...] = (Path("plugins"),)
    # Installed plugin packages (entry point names, e.g. "seo") or plugin names this app does not
    # load: a variant that shares an environment with others (a dev shell, a test venv) stays itself.
    disabled_plugins: tuple[str, ...] = ()
    accent_color: str = "#2f6d5a"
    # "normal": a commit survives the app being killed (WAL); "full": also a power cut, at the
    # price of an fsync (~0.3 ms, blocking) per write. See the README's Benchmarks section.
    synchronous: str = "normal"
    logo: Path | None = None  # an .svg/.png/.jpg/.webp shown before the app name (and as the icon)
    # Extra names the Host header may carry (for someone who binds another interface on purpose).
    allowed_hosts: tuple[str, ...] = ()
    live: bool = False
    # The chat's model server: empty means $OLLAMA_HOST, else http://127.0.0.1:11434.
    llm_url: str = ""
    model: str = "llama3.2"  # the brand's default model (`model` in pipulate.toml), or the given one
    # True when --model or PIPULATE_MODEL named the model: it answers for this run of the server,
    # over one picked earlier in the page (which answers again once the server runs without it).
    model_given: bool = False
    model_file: Path | None = None  # a GGUF file for the embedded backend (the local-llm extra)
    chat_context_tokens: int = 2048  # history sent to the model is trimmed to this budget
    llm_timeout: float = 120.0  # seconds to wait for the model's next token
    system_prompt: str = ""  # empty: a short default naming the app
    # Background steps (jobs): where the job engine keeps them (empty: a SQLite file beside the
    # app's database; a postgresql:// URL shares them with a team) and how many run at once.
    jobs_database_url: str = ""
    job_concurrency: int = 2
    # The app a page opens on before one was opened (a variant's own tool); empty: the menu's first.
    home_app: str = ""
    # Automatic backups of the database into <data dir>/backups: every this many hours (0: never),
    # keeping the newest `backups_kept`.
    backup_every_hours: float = 24.0
    backups_kept: int = 7

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def title(self) -> str:
        return self.page_title or self.app_name

    @property
    def database_name(self) -> str:
        return self.database_file or f"{slugify(self.app_name)}.db"

    @property
    def database_path(self) -> Path:
        return self.data_dir / self.database_name

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)

    def to_environment(self) -> dict[str, str]:
        """The settings as PIPULATE_* variables, so a child process (the live reloader) sees the same."""
        return {
            "PIPULATE_APP_NAME": self.app_name,
            "PIPULATE_PAGE_TITLE": self.page_title,
            "PIPULATE_DATABASE_FILE": self.database_file,
            "PIPULATE_HOST": self.host,
            "PIPULATE_PORT": str(self.port),
            "PIPULATE_DATA_DIR": str(self.data_dir),
            "PIPULATE_PLUGIN_DIRS": os.pathsep.join(str(p) for p in self.plugin_dirs),
            "PIPULATE_DISABLED_PLUGINS": ",".join(self.disabled_plugins),
            "PIPULATE_ACCENT_COLOR": self.accent_color,
            "PIPULATE_LOGO": str(self.logo or ""),
            "PIPULATE_SYNCHRONOUS": self.synchronous,
            "PIPULATE_ALLOWED_HOSTS": ",".join(self.allowed_hosts),
            "PIPULATE_LIVE": "1" if self.live else "0",
            "PIPULATE_LLM_URL": self.llm_url,
            "PIPULATE_MODEL": self.model,
            "PIPULATE_MODEL_GIVEN": "1" if self.model_given else "0",
            "PIPULATE_MODEL_FILE": str(self.model_file or ""),
            "PIPULATE_CHAT_CONTEXT_TOKENS": str(self.chat_context_tokens),
            "PIPULATE_LLM_TIMEOUT": str(self.llm_timeout),
            "PIPULATE_SYSTEM_PROMPT": self.system_prompt,
            "PIPULATE_JOBS_DATABASE_URL": self.jobs_database_url,
            "PIPULATE_JOB_CONCURRENCY": str(self.job_concurrency),
            "PIPULATE_HOME_APP": self.home_app,
            "PIPULATE_BACKUP_EVERY_HOURS": str(self.backup_every_hours),
            "PIPULATE_BACKUPS_KEPT": str(self.backups_kept),
        }


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "pipulate"


# name in pipulate.toml -> (environment variable, expected type)
MODEL_GIVEN_VARIABLE = "PIPULATE_MODEL_GIVEN"  # not a setting of its own: see load_settings
_FIELDS: dict[str, tuple[str, type]] = {
    "app_name": ("PIPULATE_APP_NAME", str),
    "page_title": ("PIPULATE_PAGE_TITLE", str),
    "database_file": ("PIPULATE_DATABASE_FILE", str),
    "host": ("PIPULATE_HOST", str),
    "port": ("PIPULATE_PORT", int),
    "data_dir": ("PIPULATE_DATA_DIR", Path),
    "plugin_dirs": ("PIPULATE_PLUGIN_DIRS", tuple),
    "disabled_plugins": ("PIPULATE_DISABLED_PLUGINS", tuple),
    "accent_color": ("PIPULATE_ACCENT_COLOR", str),
    "logo": ("PIPULATE_LOGO", Path),
    "synchronous": ("PIPULATE_SYNCHRONOUS", str),
    "allowed_hosts": ("PIPULATE_ALLOWED_HOSTS", tuple),
    "live": ("PIPULATE_LIVE", bool),
    "llm_url": ("PIPULATE_LLM_URL", str),
    "model": ("PIPULATE_MODEL", str),
    "model_file": ("PIPULATE_MODEL_FILE", Path),
    "chat_context_tokens": ("PIPULATE_CHAT_CONTEXT_TOKENS", int),
    "llm_timeout": ("PIPULATE_LLM_TIMEOUT", float),
    "system_prompt": ("PIPULATE_SYSTEM_PROMPT", str),
    "jobs_database_url": ("PIPULATE_JOBS_DATABASE_URL", str),
    "job_concurrency": ("PIPULATE_JOB_CONCURRENCY", int),
    "home_app": ("PIPULATE_HOME_APP", str),
    "backup_every_hours": ("PIPULATE_BACKUP_EVERY_HOURS", float),
    "backups_kept": ("PIPULATE_BACKUPS_KEPT", int),
}


def load_settings(
    config_file: str | Path | None = None,
    environ: dict[str, str] | None = None,
    **overrides,
) -> Settings:
    """Build Settings from a config file, the environment and explicit overrides.

    `config_file` defaults to $PIPULATE_CONFIG, else ./pipulate.toml when it exists.
    Relative paths in the file are taken from the file's folder.
    """
    environ = os.environ if environ is None else environ
    values: dict = {}
    config_file = config_file or environ.get("PIPULATE_CONFIG")
    if config_file is None and Path(CONFIG_FILE_NAME).is_file():
        config_file = CONFIG_FILE_NAME
    if config_file:
        values.update(_read_config_file(Path(config_file)))
    for name, (variable, kind) in _FIELDS.items():
        if variable in environ:
            value = _from_environment(variable, environ[variable], kind)
            if value is not None:  # an empty path means "not set"
                values[name] = value
    # Whether the model was given for this run (--model, PIPULATE_MODEL) rather than the brand's
    # default. `serve --live` hands every setting to its worker as PIPULATE_*, so it says which.
    given = environ.get(MODEL_GIVEN_VARIABLE)
    if given is not None:
        values["model_given"] = _from_environment(MODEL_GIVEN_VARIABLE, given, bool)
    else:
        values["model_given"] = "PIPULATE_MODEL" in environ
    if overrides.get("model") is not None:
        values["model_given"] = True
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except TypeError as error:  # an unknown keyword from a caller
        raise ConfigError(str(error)) from None


def _read_config_file(path: Path) -> dict:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    # A [pipulate] table is accepted too, so the settings can live in a shared TOML file.
    if isinstance(raw.get("pipulate"), dict) and len(raw) == 1:
        raw = raw["pipulate"]
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(_FIELDS)})"
        )
    values = {}
    for name, value in raw.items():
        kind = _FIELDS[name][1]
        values[name] = _from_file(path, name, value, kind)
    base = path.parent
    for name in ("data_dir", "model_file", "logo"):
        if name in values and not values[name].is_absolute():
            values[name] = base / values[name]
    if "plugin_dirs" in values:
        values["plugin_dirs"] = tuple(p if p.is_absolute() else base / p for p in values["plugin_dirs"])
    elif base != Path("."):
        values["plugin_dirs"] = (base / "plugins",)
    return values


def _from_file(path: Path, name: str, value, kind: type):
    def wrong(expected: str) -> ConfigError:
        return ConfigError(f"{path}: {name} must be {expected}, not {value!r}")

    if kind is bool:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("a whole number")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        return float(value)
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of strings")
        return tuple(Path(v) for v in value) if name == "plugin_dirs" else tuple(value)
    if not isinstance(value, str):
        raise wrong("a string")
    return Path(value) if kind is Path else value


def _from_environment(variable: str, text: str, kind: type):
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            expected = "a whole number" if kind is int else "a number"
            raise ConfigError(f"{variable} must be {expected}, not {text!r}") from None
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{variable} must be 1 or 0, not {text!r}")
    if kind is tuple:
        if variable == "PIPULATE_PLUGIN_DIRS":
            return tuple(Path(p) for p in text.split(os.pathsep) if p)
        return tuple(h.strip() for h in text.split(",") if h.strip())
    if kind is Path:
        return Path(text) if text else None
    return text


def _validate(settings: Settings) -> None:
    if not settings.app_name.strip() or len(settings.app_name) > 60:
        raise ConfigError("app_name must be 1 to 60 characters")
    if len(settings.page_title) > 120:
        raise ConfigError("page_title must be at most 120 characters")
    if not 1 <= settings.port <= 65535:
        raise ConfigError(f"port must be between 1 and 65535, not {settings.port}")
    name = settings.database_file
    if name and (
        not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name) or not name.endswith(".db")
    ):
        raise ConfigError(
            f"database_file must be a plain file name ending in .db (no folders), not {name!r}"
        )
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", settings.accent_color):
        raise ConfigError(f"accent_color must look like #2f6d5a, not {settings.accent_color!r}")
    if settings.synchronous not in ("normal", "full"):
        raise ConfigError(f"synchronous must be 'normal' or 'full', not {settings.synchronous!r}")
    if settings.logo is not None and settings.logo.suffix.lower() not in LOGO_TYPES:
        raise ConfigError(f"logo must be one of {', '.join(LOGO_TYPES)}, not {settings.logo.name!r}")
    if not 256 <= settings.chat_context_tokens <= 1_000_000:
        raise ConfigError(f"chat_context_tokens must be between 256 and 1000000, not {settings.chat_context_tokens}")
    if not 0 < settings.llm_timeout <= 3600:
        raise ConfigError(f"llm_timeout must be between 0 and 3600 seconds, not {settings.llm_timeout}")
    if not settings.model.strip() or len(settings.model) > 200:
        raise ConfigError("model must be 1 to 200 characters")
    if settings.llm_url and not re.match(r"^(https?://)?[\w.\-\[\]:]+(/.*)?$", settings.llm_url):
        raise ConfigError(f"llm_url must look like http://127.0.0.1:11434, not {settings.llm_url!r}")
    url = settings.jobs_database_url
    if url and not re.match(r"^(sqlite:///\S+|postgres(ql)?(\+psycopg)?://\S+)$", url):
        raise ConfigError("jobs_database_url must be sqlite:///PATH or postgresql://USER@HOST/DB (the password is never shown)")
    if not 1 <= settings.job_concurrency <= 64:
        raise ConfigError(f"job_concurrency must be between 1 and 64, not {settings.job_concurrency}")
    if settings.home_app and not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", settings.home_app):
        raise ConfigError(f"home_app must be the name of an app (its URL, like title-meta), not {settings.home_app!r}")
    if not 0 <= settings.backup_every_hours <= 24 * 366:
        raise ConfigError(f"backup_every_hours must be between 0 (never) and 8784, not {settings.backup_every_hours}")
    if not 1 <= settings.backups_kept <= 1000:
        raise ConfigError(f"backups_kept must be between 1 and 1000, not {settings.backups_kept}")
    if not settings.host or any(c.isspace() for c in settings.host):
        raise ConfigError(f"host must be an address or a host name, not {settings.host!r}")
