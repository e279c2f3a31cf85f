"""A long task: a workflow with one background step, the example to copy for real ones.

The step runs as a job: it keeps going when the tab closes, and after a restart (even a kill)
it resumes after its last checkpoint. Its card shows a live progress bar with a Cancel button,
and the chat shows the same bar. (Plugins that are not workflows can show progress in the chat
with `core.chat.progress()`, see pipulate/_chat/queue.py.)
"""

from __future__ import annotations

import time
from typing import Annotated

from pipulate import Field, Job, Workflow, step


def one_unit_of_work(number: int, seconds: float) -> int:
    """Stands for real work (a page fetched, a file processed)."""
    time.sleep(seconds)
    return number


@step("Count slowly", job=True)
def count(
    steps: Annotated[int, Field(min=1, max=1000, label="Steps")] = 10,
    seconds_per_step: Annotated[float, Field(min=0, max=10, label="Seconds per step")] = 0.3,
    *,
    job: Job,
) -> dict:
    """Counts to `steps`, one checkpoint per step; the total is the sum of the numbers."""
    total = 0
    for number in range(1, steps + 1):
        total += job.run(one_unit_of_work, number, seconds_per_step)  # recorded: not redone after a restart
        job.progress(number, steps, note=f"step {number} of {steps}")
    return {"steps": steps, "total": total}


class TasksApp(Workflow):
    name = "tasks"
    label = "Long task"
    menu_order = 80
    description = "A background job that counts slowly, with progress, Cancel, and resume after a restart."
    steps = (count,)
