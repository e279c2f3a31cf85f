"""The workflows bench/workflows.py measures; it copies this file into the server's plugins folder."""

from __future__ import annotations

import os
import time

from pipulate import Job, Workflow, step


@step("A note")
def note(text: str = "x") -> str:
    return text


class Trivial(Workflow):
    name = "trivial"
    steps = (note,)


def _chain_step(number: int):
    def run(**earlier) -> int:
        return number + sum(earlier.values())

    run.__name__ = f"s{number}"
    run.__qualname__ = run.__name__
    previous = [f"s{number - 1}"] if number > 1 else []
    import inspect

    run.__signature__ = inspect.Signature(
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=int) for name in previous]
    )
    run.__annotations__ = {name: int for name in previous} | {"return": int}
    return step(f"Step {number}")(run)


class Ten(Workflow):
    name = "ten"
    steps = tuple(_chain_step(number) for number in range(1, 11))


def nothing(number: int) -> int:
    return number


@step("Start and report", job=True)
def first_progress(count: int = 1, *, job: Job) -> int:
    job.progress(0, count, note="started")
    return count


class JobStart(Workflow):
    name = "job-start"
    steps = (first_progress,)


@step("Checkpoints", job=True)
def checkpoints(count: int = 200, use_checkpoints: bool = True, *, job: Job) -> float:
    began = time.perf_counter()
    total = 0
    for number in range(count):
        total += job.run(nothing, number) if use_checkpoints else nothing(number)
    return time.perf_counter() - began


class Checkpoints(Workflow):
    name = "checkpoints"
    steps = (checkpoints,)


def slow_unit(number: int) -> int:
    trace = os.environ.get("BENCH_TRACE")
    if trace:
        with open(trace, "a") as file:
            file.write(f"{number} {time.time()}\n")
    time.sleep(0.05)
    return number


@step("Slow", job=True)
def slow(units: int = 200, *, job: Job) -> int:
    return sum(job.run(slow_unit, number) for number in range(units))


class Slow(Workflow):
    name = "slow"
    steps = (slow,)
