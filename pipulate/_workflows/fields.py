"""A step's form, read from its function's signature: each parameter that is not an earlier step's
result becomes a field, typed by its annotation and defaulted by its default.

    def crawl(start: URL, max_pages: Annotated[int, Field(min=1, max=10_000)] = 500,
              mode: Literal["spider", "list"] = "spider", follow_subdomains: bool = False,
              exclude: list[str] = ()): ...

Supported types: str, int, float, bool, Literal[...] and Enum (a select), list[str] (one per
line), URL (http/https only), Upload (a file). Each value a person sends is checked here with a
message naming the field; nothing is stored until every field of the step is valid.
"""

from __future__ import annotations

import enum
import inspect
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .._errors import UserError
from .._text import clean_text

TEXT_LIMIT = 2_000
LINES_LIMIT = 10_000  # lines of a list[str] field
INT_LIMIT = 2**53  # what JavaScript and JSON carry exactly


class URL(str):
    """An http(s) URL field: `def step(site: URL)`; the value arrives checked (scheme and host)."""


@dataclass(frozen=True)
class Upload:
    """A file a person uploaded to a step (`def step(report: Upload)`), kept in the run's folder."""

    name: str  # the file name as the person's computer had it
    path: Path  # where it is stored now
    size: int
    content_type: str = ""

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.path.read_text(encoding=encoding)


@dataclass(frozen=True)
class Field:
    """Extra facts about a field: `Annotated[int, Field(label="Pages", min=1, max=500)]`."""

    label: str | None = None
    help: str = ""
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    placeholder: str = ""
    multiline: bool = False  # a str field shown as a text area (line breaks kept)


class FieldError(UserError):
    """A bad value for one field; `errors` maps field names to messages (all of the step's)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("Some fields need another look: " + " ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # text, int, float, bool, choice, lines, url, upload
    label: str
    default: object = None  # None: required (bool and lines default to False / [])
    choices: tuple = ()  # (value, label) pairs for a choice
    enum_type: type | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = TEXT_LIMIT
    help: str = ""
    placeholder: str = ""
    multiline: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return self.default is None and self.kind != "bool"

    def parse(self, raw: object) -> object:
        """The value a person sent for this field (a str, or an UploadFile), checked; a bad one is
        a `ValueError` whose message is shown next to the field."""
        if self.kind in _SINGLE_VALUED:
            raw = _one(raw)
            if _missing(raw):  # left empty: the default, or a sentence saying it is needed
                if self.default is not None:
                    return self.default
                raise ValueError(f"{self.label} is needed.")
        return _PARSERS[self.kind](self, raw)

    def as_form_value(self, value: object) -> str:
        """A stored value as the form shows it again (revert prefills the form)."""
        if value is None:
            return ""
        if self.kind == "lines":
            return "\n".join(value or ())
        if self.kind == "choice" and self.enum_type is not None and isinstance(value, enum.Enum):
            return str(value.value)
        if self.kind == "bool":
            return "on" if value else ""
        if self.kind == "upload":
            return ""
        return str(value)


def field_spec(parameter: inspect.Parameter, hint: object) -> FieldSpec:
    """The field for one parameter, or a TypeError saying which type is not supported."""
    extra = Field()
    if typing.get_origin(hint) is typing.Annotated:
        hint, *metadata = typing.get_args(hint)
        extra = next((m for m in metadata if isinstance(m, Field)), extra)
    default = None if parameter.default is inspect.Parameter.empty else parameter.default
    label = extra.label or parameter.name.replace("_", " ").capitalize()
    common = dict(name=parameter.name, label=label, help=extra.help, placeholder=extra.placeholder)
    origin = typing.get_origin(hint)
    if hint is bool:
        return FieldSpec(kind="bool", default=bool(default), **common)
    if hint is int:
        return FieldSpec(kind="int", default=default, minimum=_bound(extra.min, -INT_LIMIT), maximum=_bound(extra.max, INT_LIMIT), **common)
    if hint is float:
        return FieldSpec(kind="float", default=default, minimum=extra.min, maximum=extra.max, **common)
    if hint is URL:
        return FieldSpec(kind="url", default=default, max_length=extra.max_length or TEXT_LIMIT, **common)
    if hint is str:
        limit = extra.max_length or (20_000 if extra.multiline else TEXT_LIMIT)
        return FieldSpec(kind="text", default=default, max_length=limit, multiline=extra.multiline, **common)
    if hint is Upload:
        return FieldSpec(kind="upload", default=default, max_length=extra.max_length or 50 * 1024 * 1024, **common)
    if origin is typing.Literal:
        values = typing.get_args(hint)
        return FieldSpec(kind="choice", default=default, choices=tuple((v, str(v)) for v in values), **common)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        choices = tuple((member, _enum_label(member)) for member in hint)
        return FieldSpec(kind="choice", default=default, choices=choices, enum_type=hint, **common)
    if origin in (list, tuple) and typing.get_args(hint)[:1] == (str,):
        kept = None if parameter.default is inspect.Parameter.empty else list(default or ())
        return FieldSpec(kind="lines", default=kept, max_length=extra.max_length or TEXT_LIMIT, **common)
    raise TypeError(
        f"parameter {parameter.name!r} has the type {hint!r}, which a form cannot ask for; use str, int, float, "
        "bool, Literal[...], an Enum, list[str], URL or Upload (or name an earlier step to receive its result)"
    )


def parse_fields(specs, raw: dict) -> dict:
    """Every field of a step from what the form sent; FieldError with a message per bad field."""
    values, errors = {}, {}
    for spec in specs:
        try:
            values[spec.name] = spec.parse(raw.get(spec.name))
        except ValueError as error:
            errors[spec.name] = str(error)
    if errors:
        raise FieldError(errors)
    return values


def _bound(value, fallback):
    return fallback if value is None else value


def _enum_label(member: enum.Enum) -> str:
    return member.name.replace("_", " ").capitalize()


def _missing(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _one(raw: object) -> object:
    # A field sent twice (a crafted form) counts by its last value, as FastHTML reads forms.
    if isinstance(raw, (list, tuple)):
        return raw[-1] if raw else None
    return raw


def _text(spec: FieldSpec, raw: object, *, multiline: bool | None = None) -> str:
    try:
        return clean_text(raw, field=spec.label, max_length=spec.max_length, multiline=spec.multiline if multiline is None else multiline)
    except UserError as error:
        raise ValueError(error.message) from None


def _parse_text(spec, raw):
    return _text(spec, raw)


def _parse_int(spec, raw):
    text = str(raw).strip().replace(",", "").replace("_", "") if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.lstrip("+-").isdigit() and len(text) <= 20):
        raise ValueError(f"{spec.label} must be a whole number.")
    return _in_range(spec, int(text))


def _parse_float(spec, raw):
    try:
        number = float(str(raw).strip().replace(",", "")) if isinstance(raw, (str, int, float)) and not isinstance(raw, bool) else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or len(str(raw)) > 40:
        raise ValueError(f"{spec.label} must be a number.")
    return _in_range(spec, number)


def _in_range(spec, number):
    if spec.minimum is not None and number < spec.minimum:
        raise ValueError(f"{spec.label} must be at least {_show(spec.minimum)}.")
    if spec.maximum is not None and number > spec.maximum:
        raise ValueError(f"{spec.label} must be at most {_show(spec.maximum)}.")
    return number


def _show(number) -> str:
    return f"{number:,}" if isinstance(number, int) or float(number).is_integer() else str(number)


def _parse_bool(spec, raw):
    raw = _one(raw)
    if raw is None or raw == "" or raw is False:
        return False
    if raw is True or (isinstance(raw, str) and raw.strip().lower() in ("on", "true", "1", "yes")):
        return True
    if isinstance(raw, str) and raw.strip().lower() in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"{spec.label} must be on or off.")


def _parse_choice(spec, raw):
    for value, _label in spec.choices:
        if isinstance(raw, str) and raw == str(value.value if isinstance(value, enum.Enum) else value):
            return value
    options = ", ".join(label for _value, label in spec.choices)
    raise ValueError(f"{spec.label} must be one of: {options}.")


def _parse_lines(spec, raw):
    if isinstance(raw, (list, tuple)):
        raw = "\n".join(str(item) for item in raw)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if spec.default is None:
            raise ValueError(f"{spec.label} needs at least one line.")
        return list(spec.default)
    text = _text(spec, raw, multiline=True)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    lines = [line for line in lines if line]
    if len(lines) > LINES_LIMIT:
        raise ValueError(f"{spec.label} has {len(lines):,} lines; the limit is {LINES_LIMIT:,}.")
    return lines


def _parse_url(spec, raw):
    text = _text(spec, raw)
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{spec.label} must start with http:// or https://.")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"{spec.label} has a port that is not a number from 1 to 65535.") from None
    if not parts.hostname or " " in text:
        raise ValueError(f"{spec.label} needs a host name, like https://example.com/.")
    return URL(text)


def _parse_upload(spec, raw):
    raw = _one(raw)
    if raw is None or isinstance(raw, str):  # no file chosen (browsers send an empty string)
        if spec.default is not None:
            return spec.default
        raise ValueError(f"{spec.label}: choose a file to upload.")
    if not hasattr(raw, "filename") or not hasattr(raw, "file"):
        raise ValueError(f"{spec.label} must be a file.")
    return raw  # the engine stores it in the run's folder (see engine.py)


# Kinds whose value is one string: empty means "use the default" (bool: unchecked is False;
# lines: a list; upload: a file object).
_SINGLE_VALUED = frozenset({"text", "int", "float", "choice", "url"})
_PARSERS = {
    "text": _parse_text, "int": _parse_int, "float": _parse_float, "bool": _parse_bool,
    "choice": _parse_choice, "lines": _parse_lines, "url": _parse_url, "upload": _parse_upload,
}
