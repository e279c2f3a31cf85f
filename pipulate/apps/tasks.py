"""A long task that reports its progress through chatq: the example to copy for real ones.

The task runs in the background, not tied to the page that started it: its progress bar and its
closing message reach every open tab, and the closing message is kept in the history.
"""

from __future__ import annotations

import asyncio

from fasthtml.common import H2, Button, Form, Input, Label, P

from .._errors import parse_int
from .._plugins import Plugin, route


class TasksApp(Plugin):
    name = "tasks"
    label = "Long task"
    menu_order = 80

    def __init__(self, core) -> None:
        super().__init__(core)
        self._running: set[asyncio.Task] = set()

    async def render(self, request):
        return (
            H2("A long task"),
            P(
                "Starts a task on the server that reports its progress in the chat panel, then says "
                "when it is done. Any server code can do the same with ",
                "core.chat.progress() and core.chat.say().",
            ),
            Form(
                Label("Steps ", Input(name="steps", type="number", value="10", min="1", max="100")),
                Button("Start the task"),
                cls="inline-form",
                hx_post="/tasks/start",
                hx_target="#task-status",
                hx_swap="innerHTML",
            ),
            P(id="task-status", cls="hint"),
        )

    @route.post("/start")
    async def start(self, steps: str = "10"):
        count = parse_int(steps, field="Steps", minimum=1, maximum=100)
        task = asyncio.create_task(self.run(count))
        self._running.add(task)  # a reference, or the task could be garbage-collected mid-way
        task.add_done_callback(self._running.discard)
        return f"Started a task of {count} steps; watch the chat panel."

    async def run(self, steps: int, seconds_per_step: float = 0.3) -> None:
        chat = self.core.chat
        async with chat.progress("Demo task", total=steps) as progress:
            for step in range(1, steps + 1):
                await asyncio.sleep(seconds_per_step)  # stands for real work
                await progress.advance(note=f"step {step} of {steps}")
        await chat.say(f"The demo task finished its {steps} steps.", keep=True)

    async def shutdown(self) -> None:
        for task in self._running:
            task.cancel()
