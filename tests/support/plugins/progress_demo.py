"""A plugin that is not a workflow and reports progress through chatq (`core.chat.progress`):
the tests copy it into a server's plugins folder to check that chatq progress keeps working."""

from __future__ import annotations

import asyncio

from pipulate import Plugin, route
from pipulate._errors import parse_int


class ProgressDemo(Plugin):
    name = "progress-demo"
    label = "Progress demo"

    def __init__(self, core) -> None:
        super().__init__(core)
        self._running: set[asyncio.Task] = set()

    async def render(self, request):
        return "A demo of chatq progress."

    @route.post("/start")
    async def start(self, steps: str = "10"):
        count = parse_int(steps, field="Steps", minimum=1, maximum=100)
        task = asyncio.create_task(self.run(count))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return f"Started a task of {count} steps; watch the chat panel."

    async def run(self, steps: int) -> None:
        async with self.core.chat.progress("Demo task", total=steps) as progress:
            for step in range(1, steps + 1):
                await asyncio.sleep(0.05)
                await progress.advance(note=f"step {step} of {steps}")
        await self.core.chat.say(f"The demo task finished its {steps} steps.", keep=True)
