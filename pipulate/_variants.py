"""Branded variants from the copier template: `pipulate new` and `pipulate upgrade`.

The template is `templates/variant/` of a Pipulate git repository (copier.yml at its root says
so); its versions are that repository's PEP 440 tags. A new variant is rendered from the latest
tag (or HEAD when there is none), becomes a git repository with one commit, and remembers
where its template came from in `.copier-answers.yml`. An upgrade re-renders the recorded
version and the latest one and three-way merges the difference into the variant: files the
user did not touch take the change, files both changed get conflict markers.

Every problem is a `VariantError` whose message is one line for the user: code 2 for bad input
(nothing was written), 1 for the environment (copier or git missing, a failed command).
The upgrade itself is in _variant_upgrade.py.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import _install
from ._install import DISTRIBUTION, IMPORT_NAME, flake_source, install_command, source_url

VARIANTS = ("darwinix", "pipulate", "botifython")
# The pipulate variant's default brand is not "Pipulate": its project (the slug) would be named
# like the core it depends on.
BRANDS = {"darwinix": "Darwinix", "pipulate": "Pipulate SEO", "botifython": "Botifython"}
# A variant's Python project must not be named like the core (pip would take one for the other).
RESERVED_SLUGS = frozenset({DISTRIBUTION, IMPORT_NAME})
ANSWERS_FILE = ".copier-answers.yml"
NAME_LIMIT = 60
NAME_PUNCTUATION = " -_.&',"
LOGO_LIMIT = 2_000_000  # bytes
LOGO_KINDS = {".svg": "SVG", ".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WebP"}
_URL_PREFIXES = ("https://", "http://", "git+", "git@", "ssh://", "gh:", "gl:", "file://")
_CORE_URL = re.compile(r"github:[\w.-]+/[\w.-]+(/[\w.-]+)?|(git\+)?https://[^\s\"']+")
_MODEL = re.compile(r"[A-Za-z0-9._:/@+-]{1,200}")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class VariantError(Exception):
    """The message is one line meant for the user; `code` is the exit status."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NewVariant:
    """Checked input of `pipulate new`."""

    variant: str
    directory: Path
    name: str
    slug: str
    port: int
    model: str | None
    accent_color: str | None
    logo: Path | None
    template: str
    core_url: str

    @property
    def logo_in_project(self) -> str:
        """Where the logo goes in the new project, as pipulate.toml names it ("" for none)."""
        return f"brand/logo{self.logo.suffix.lower()}" if self.logo else ""

    def answers(self) -> dict:
        data = {
            "variant": self.variant,
            "name": self.name,
            "slug": self.slug,
            "port": self.port,
            "logo": self.logo_in_project,
            "core_url": self.core_url,
        }
        # Left out, the template's per-variant defaults apply.
        if self.model:
            data["model"] = self.model
        if self.accent_color:
            data["accent_color"] = self.accent_color
        return data


@dataclass
class Created:
    directory: Path
    version: str
    notes: list[str] = field(default_factory=list)


# --- checking input (nothing is written before all of it passes) --------------------------------


def check_new(
    variant: str,
    directory: str | Path,
    *,
    name: str | None = None,
    port: int | None = None,
    model: str | None = None,
    accent_color: str | None = None,
    logo: str | Path | None = None,
    template: str | None = None,
    core_url: str | None = None,
) -> NewVariant:
    if variant not in VARIANTS:
        raise VariantError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    name = check_name(BRANDS[variant] if name is None else name)
    slug = slug_of(name)
    if slug in RESERVED_SLUGS:
        raise VariantError(
            f"--name {name!r} would name the project {slug!r}, which is the core's own name "
            f"({DISTRIBUTION}, imported as {IMPORT_NAME}); choose another, e.g. \"{name} Tools\""
        )
    directory = check_new_directory(Path(directory))
    port = default_port(slug) if port is None else port
    if not 1 <= port <= 65535:
        raise VariantError(f"port must be between 1 and 65535, not {port}")
    if model is not None and not _MODEL.fullmatch(model):
        raise VariantError(f"--model must be a model name such as llama3.2 or qwen2.5-coder:7b, not {model!r}")
    if accent_color is not None and not _COLOUR.fullmatch(accent_color):
        raise VariantError(f"--accent-color must look like #2f6d5a, not {accent_color!r}")
    return NewVariant(
        variant=variant,
        directory=directory,
        name=name,
        slug=slug,
        port=port,
        model=model,
        accent_color=accent_color,
        logo=check_logo(Path(logo)) if logo is not None else None,
        template=check_template(template) if template else default_template(),
        core_url=check_core_url(core_url) if core_url else default_core_url(),
    )


def default_port(slug: str) -> int:
    """A port of the variant's own, from its name: 5100 to 5899, the same for the same name, so
    two variants (and the core on 5001) can run side by side without choosing ports by hand."""
    import zlib

    return 5100 + zlib.crc32(slug.encode()) % 800


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise VariantError("--name cannot be empty")
    if len(name) > NAME_LIMIT:
        raise VariantError(f"--name is {len(name)} characters long; the limit is {NAME_LIMIT}")
    bad = next((ch for ch in name if not (ch.isalnum() or ch in NAME_PUNCTUATION)), None)
    if bad is not None:
        raise VariantError(
            f"--name may hold letters, digits, spaces and - _ . & ' , only, not {bad!r}"
        )
    if not re.search(r"[A-Za-z0-9]", name):
        raise VariantError("--name needs at least one letter A-Z or digit (for the project's short name)")
    return name


def slug_of(name: str) -> str:
    """"Acme Tools" -> "acme-tools": the Python project, the database file and the Nix name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:NAME_LIMIT].strip("-")


def check_new_directory(directory: Path) -> Path:
    directory = directory.expanduser().absolute()
    if directory.exists():
        if not directory.is_dir():
            raise VariantError(f"{directory} exists and is not a folder")
        if any(directory.iterdir()):
            raise VariantError(f"{directory} is not empty; choose a new folder")
    ancestor = next(p for p in [directory, *directory.parents] if p.exists())
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise VariantError(f"cannot create {directory}: {ancestor} is not a writable folder", 1)
    return directory


def check_logo(logo: Path) -> Path:
    kind = LOGO_KINDS.get(logo.suffix.lower())
    if kind is None:
        raise VariantError(f"--logo must be an .svg, .png, .jpg or .webp file, not {logo.name!r}")
    try:
        if not logo.is_file():
            raise VariantError(f"--logo {logo} does not exist or is not a file")
        if logo.stat().st_size > LOGO_LIMIT:
            raise VariantError(f"--logo {logo} is larger than {LOGO_LIMIT // 1_000_000} MB")
        head = logo.read_bytes()[:65536]
    except OSError as error:
        raise VariantError(f"cannot read --logo {logo}: {error.strerror or error}") from None
    if not _looks_like(kind, head):
        raise VariantError(f"--logo {logo} is not a {kind} image (its content does not match its name)")
    return logo.absolute()


def _looks_like(kind: str, head: bytes) -> bool:
    if kind == "PNG":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind == "JPEG":
        return head.startswith(b"\xff\xd8\xff")
    if kind == "WebP":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return b"<svg" in head.lower()


def _is_url(source: str) -> bool:
    return source.startswith(_URL_PREFIXES)


def check_template(template: str) -> str:
    """A URL as it is, or a local folder as an absolute path (copier resolves a relative one from
    the project's folder, so a relative path would break `pipulate upgrade`)."""
    if _is_url(template):
        return template
    path = Path(template).expanduser()
    if not (path / "copier.yml").is_file():
        raise VariantError(f"--template {template} is not a Pipulate checkout (no copier.yml in it)")
    if not (path / ".git").exists():
        raise VariantError(f"--template {template} is not a git repository (its tags are the template's versions)")
    return str(path.resolve())


def check_core_url(core_url: str) -> str:
    if _CORE_URL.fullmatch(core_url):
        return core_url
    path = Path(core_url).expanduser()
    if path.is_dir() and (path / "pyproject.toml").is_file():
        return str(path.resolve())
    raise VariantError(
        f"--core-url must be github:OWNER/REPO, an https:// git URL or a Pipulate checkout, not {core_url!r}"
    )


def default_template() -> str:
    """This installation's own checkout when it is one (a git repository with copier.yml), else
    this project's source repository ([project.urls] Source)."""
    root = _install.checkout()  # looked up at each call: a test stands in for an installed copy
    if root is not None and (root / "copier.yml").is_file() and (root / ".git").exists():
        return str(root)
    url = source_url().removeprefix("git+")
    return url if url.endswith(".git") else f"{url}.git"


def default_core_url() -> str:
    """Where a new variant gets the core (pip and its flake's `pipulate` input): this checkout
    when Pipulate runs from one, else this project's source (a flake with lib.mkVariant)."""
    root = _install.checkout()
    return str(root) if root is not None else flake_source()


def install_copier() -> str:
    return install_command("variants")


def require_tools() -> None:
    """copier and git, or a VariantError (code 1) saying how to get them."""
    try:
        import copier  # noqa: F401
    except ImportError:
        raise VariantError(f"copier is not installed; install it with: {install_copier()}", 1) from None
    if shutil.which("git") is None:
        raise VariantError("git is not installed (https://git-scm.com/downloads); variants are git repositories", 1)


# --- pipulate new ----------------------------------------------------------------------------------


def create(spec: NewVariant) -> Created:
    """Render the template into spec.directory, add the logo, and make the first commit."""
    require_tools()
    from copier import run_copy

    existed = spec.directory.exists()
    notes: list[str] = []
    try:
        with _copier_output(notes):
            run_copy(
                spec.template,
                spec.directory,
                data=spec.answers(),
                defaults=True,
                unsafe=False,  # the template has no tasks or extensions, and must not need any
                quiet=True,
                vcs_ref=None,  # the latest version tag of the template (HEAD when it has none)
            )
        if spec.logo:
            target = spec.directory / spec.logo_in_project
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(spec.logo, target)
        _git(spec.directory, *_init_options(spec.directory), "init", "-q")
        _git(spec.directory, "add", "-A")
        version = read_answers(spec.directory).get("_commit", "?")
        message = f"{spec.name}: a {spec.variant} variant, from Pipulate's template {version}"
        _git(spec.directory, *_identity_options(spec.directory), "commit", "-q", "-m", message)
    except VariantError:
        _remove_new(spec.directory, existed)
        raise
    except Exception as error:  # copier's own errors, git or the network failing
        _remove_new(spec.directory, existed)
        raise VariantError(f"cannot make the variant from {spec.template}: {_one_line(error)}", 1) from None
    return Created(spec.directory, version, notes)


def _remove_new(directory: Path, existed: bool) -> None:
    """Leave nothing behind: the folder as it was (it did not exist, or was empty)."""
    if not directory.exists():
        return
    if not existed:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


@contextlib.contextmanager
def _copier_output(notes: list[str]):
    """Copier prints progress and warnings; keep what matters as short notes instead."""
    captured = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(captured), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        yield
    text = captured.getvalue()
    if "No git tags found" in text:
        notes.append("the template has no version tag, so its HEAD was used; tag it (git tag v0.1.0) for upgrades")
    if any("Dirty template changes" in str(w.message) for w in caught):
        notes.append(
            "the template checkout has uncommitted changes; they were included, but that version exists "
            "nowhere else, so pipulate upgrade cannot start from it (commit and tag the template first)"
        )


def read_answers(directory: Path) -> dict:
    import yaml

    try:
        data = yaml.safe_load((directory / ANSWERS_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


# --- git -----------------------------------------------------------------------------------------


def _git(directory: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        words = [arg for index, arg in enumerate(args) if not arg.startswith("-") and args[index - 1] != "-c"]
        command = words[0] if words else ""
        raise VariantError(f"git {command} failed in {directory}: {detail[-1] if detail else 'no message'}", 1)
    return result.stdout


def _git_config(directory: Path, key: str) -> str:
    result = subprocess.run(["git", "config", key], cwd=directory, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def _identity_options(directory: Path) -> list[str]:
    """A stand-in author only when git has none configured (a fresh machine, CI)."""
    if _git_config(directory, "user.name") and _git_config(directory, "user.email"):
        return []
    return ["-c", "user.name=Pipulate", "-c", "user.email=pipulate@localhost"]


def _init_options(directory: Path) -> list[str]:
    # Without a configured default branch, git prints a page of advice; name it main instead.
    return [] if _git_config(directory, "init.defaultBranch") else ["-c", "init.defaultBranch=main"]


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."
