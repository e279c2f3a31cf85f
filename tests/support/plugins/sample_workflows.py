"""Workflows made for the tests: every kind of field, a chain whose middle step needs no input,
a step that fails, a large table, and a slow background job that leaves a trace of its work.

Headless tests import them; server tests copy this file into the server's plugins folder.
"""

from __future__ import annotations

import enum
import os
import time
from pathlib import Path
from typing import Annotated, Literal

from pipulate import URL, Field, Job, Upload, Workflow, step

CALLS: dict[str, int] = {}  # how often each step's function ran (in this process)


def _called(name: str) -> None:
    CALLS[name] = CALLS.get(name, 0) + 1


class Size(enum.Enum):
    SMALL = "s"
    LARGE = "l"


@step("Every kind of field")
def fields(
    title: Annotated[str, Field(max_length=40)],
    pages: Annotated[int, Field(min=1, max=500)] = 10,
    ratio: Annotated[float, Field(min=0, max=1)] = 0.5,
    deep: bool = False,
    mode: Literal["spider", "list"] = "spider",
    size: Size = Size.SMALL,
    keywords: list[str] = (),
    site: URL = URL("https://example.com/"),
    notes: Annotated[str, Field(multiline=True)] = "",
) -> dict:
    return {"title": title, "pages": pages, "ratio": ratio, "deep": deep, "mode": mode, "size": size.value,
            "keywords": list(keywords), "site": str(site), "notes": notes}


class Kinds(Workflow):
    name = "kinds"
    steps = (fields,)


@step("A file")
def upload(report: Upload) -> dict:
    return {"name": report.name, "size": report.size, "text": report.read_text()[:100]}


class Uploads(Workflow):
    name = "uploads"
    steps = (upload,)


@step("Pick words")
def pick(words: list[str], count: Annotated[int, Field(min=1, max=10)] = 2) -> list[str]:
    _called("pick")
    return list(words)[:count]


@step("Join them")
def joined(pick: list[str]) -> str:
    """Needs no input: it runs again by itself when the words change."""
    _called("joined")
    return " ".join(pick)


@step("Shout")
def shout(joined: str, times: Annotated[int, Field(min=1, max=5)] = 1) -> str:
    _called("shout")
    return "!".join([joined.upper()] * times)


@step("Independent")
def independent(note: str = "kept") -> str:
    _called("independent")
    return note


class Chain(Workflow):
    name = "chain"
    description = "Picks words, joins them, shouts them."
    steps = (pick, joined, shout, independent)


@step("Count rows")
def rows(count: Annotated[int, Field(min=0, max=1_000_000)] = 3) -> list[dict]:
    if count == 13:
        raise ValueError("thirteen rows are unlucky")
    return [{"n": n, "square": n * n, "label": f"row {n}", "formula": "=1+1" if n == 0 else ""} for n in range(count)]


@step("Summary")
def summary(rows: list[dict]) -> dict:
    return {"rows": len(rows), "last": rows[-1]["n"] if rows else None}


class BigTable(Workflow):
    name = "big-table"
    steps = (rows, summary)


def work_unit(number: int, seconds: float) -> int:
    """One unit of a slow job; it leaves a line in a trace file, so a test can count runs."""
    trace = os.environ.get("PIPULATE_TEST_TRACE")
    if trace:
        with open(trace, "a") as file:
            file.write(f"{number}\n")
    time.sleep(seconds)
    return number


@step("How much work")
def setup(units: Annotated[int, Field(min=1, max=500)] = 50, seconds: Annotated[float, Field(min=0, max=5)] = 0.1) -> dict:
    return {"units": units, "seconds": seconds}


@step("Count slowly", job=True)
def slow(setup: dict, *, job: Job) -> dict:
    total = 0
    for number in range(1, setup["units"] + 1):
        total += job.run(work_unit, number, setup["seconds"])  # a checkpoint per unit
        job.progress(number, setup["units"], note=f"unit {number}")
    return {"units": setup["units"], "total": total}


@step("After the job")
def after(slow: dict) -> str:
    return f"total {slow['total']}"


class SlowCount(Workflow):
    name = "slow-count"
    steps = (setup, slow, after)


def trace_lines(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []
