"""What a workflow author writes: ordinary functions, in order, listed on a `Workflow` plugin.

    @step("Your name")
    def ask_name(who: str = "World") -> str:
        return who

    @step("A greeting")
    def greet(ask_name: str, excited: bool = False) -> str:   # `ask_name` is wired from step 1
        return f"Hello, {ask_name}{'!' if excited else '.'}"

    class Hello(Workflow):            # the plugin: see plugin.py
        name = "hello"
        steps = (ask_name, greet)

A parameter named after an earlier step receives that step's result; `job` receives the `Job`
of a background step (`@step(job=True)`), `llm` the local model (`LLM`); every other parameter
is a form field (fields.py). The decorator only annotates: the function stays a plain function
that a notebook or a test can call directly.
"""

from __future__ import annotations

import hashlib
import inspect
import typing
from dataclasses import dataclass

from .._plugins import PluginError
from .fields import FieldSpec, field_spec

SPECIAL_PARAMETERS = frozenset({"job", "llm"})
_STEP_ATTRIBUTE = "__pipulate_step__"


def step(title: str | None = None, *, job: bool = False, render=None, description: str = "", resumable: bool = False):
    """Mark a function as a workflow step. `job=True`: it runs in the background, survives a
    restart and reports progress (its function takes `job`). `render(result)` (or
    `render(result, run)`) returns the FastHTML shown in the step's card instead of the default
    rendering. `resumable=True`: the job keeps its progress on disk (`job.folder`) and continues
    from there when run again, so its card says Pause and Resume rather than Cancel and Retry."""
    if callable(title):  # used bare: @step
        return step()(title)

    def mark(function):
        setattr(function, _STEP_ATTRIBUTE, {"title": title, "job": job, "render": render, "description": description,
                                             "resumable": resumable})
        return function

    return mark


@dataclass(frozen=True)
class StepSpec:
    id: str
    function: typing.Callable
    title: str
    description: str
    job: bool
    render: typing.Callable | None
    wired: tuple[str, ...]  # earlier steps whose results this step receives
    fields: tuple[FieldSpec, ...]
    takes_job: bool
    takes_llm: bool
    code_digest: str
    resumable: bool = False

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def build_steps(cls) -> tuple[StepSpec, ...]:
    """Check a workflow's steps and read their forms; a PluginError names what is wrong."""
    if not cls.steps:
        raise PluginError(f"workflow {cls.__qualname__} has no steps; list its step functions in `steps`")
    specs: list[StepSpec] = []
    for function in cls.steps:
        where = f"workflow {cls.__qualname__}, step {getattr(function, '__name__', function)!r}"
        if not callable(function) or not hasattr(function, "__code__"):
            raise PluginError(f"{where}: a step is a function (def or async def), not {function!r}")
        marks = getattr(function, _STEP_ATTRIBUTE, {})
        if function.__name__ in {spec.id for spec in specs}:
            raise PluginError(f"{where}: two steps have the same name")
        try:
            hints = typing.get_type_hints(function, include_extras=True)
        except Exception as error:
            raise PluginError(f"{where}: its type hints cannot be read: {error}") from None
        earlier = {spec.id for spec in specs}
        wired, fields = [], []
        for parameter in inspect.signature(function).parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise PluginError(f"{where}: *args and **kwargs cannot become form fields")
            if parameter.name in earlier:
                wired.append(parameter.name)
            elif parameter.name in SPECIAL_PARAMETERS:
                continue
            else:
                try:
                    fields.append(field_spec(parameter, hints.get(parameter.name, str)))
                except TypeError as error:
                    raise PluginError(f"{where}: {error}") from None
        parameters = inspect.signature(function).parameters
        if "job" in parameters and not marks.get("job"):
            raise PluginError(f"{where}: it takes `job`, so mark it @step(job=True)")
        specs.append(StepSpec(
            id=function.__name__,
            function=function,
            title=marks.get("title") or function.__name__.replace("_", " ").capitalize(),
            description=marks.get("description") or inspect.cleandoc(function.__doc__ or ""),
            job=bool(marks.get("job")),
            render=marks.get("render"),
            wired=tuple(wired),
            fields=tuple(fields),
            takes_job="job" in parameters,
            takes_llm="llm" in parameters,
            code_digest=code_digest(function),
            resumable=bool(marks.get("resumable")),
        ))
    return tuple(specs)


def code_digest(function) -> str:
    """Changes when the step's code does: a revert recomputes a step only if its inputs or this changed."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        source = repr(function.__code__.co_code) + repr(function.__code__.co_consts)
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def dependents(specs: tuple[StepSpec, ...], changed: str) -> list[str]:
    """Every later step that depends on `changed`, directly or through another step."""
    affected = {changed}
    for spec in specs:
        if affected & set(spec.wired):
            affected.add(spec.id)
    affected.discard(changed)
    return [spec.id for spec in specs if spec.id in affected]
