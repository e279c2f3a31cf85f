"""What a background step's code sees: `job` (checkpoints, progress, cancel) and `llm` (the model).

    @step("Crawl", job=True)
    def crawl(urls: list[str], job: Job) -> list[dict]:
        pages = []
        for number, url in enumerate(urls, 1):
            pages.append(job.run(fetch, url))          # a checkpoint: not fetched again after a restart
            job.progress(number, len(urls), note=url)  # the card's bar, and the chat's
        return pages

After a kill the step's function runs again from its start, and every `job.run` that had
finished returns its recorded result at once: keep the code between checkpoints quick and
deterministic, and put the slow or side-effecting work inside `job.run`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

PROGRESS_INTERVAL = 0.1  # seconds between progress writes (the last one always goes out)


class JobCancelled(Exception):
    """Raised inside a job's code when someone pressed Cancel; the job ends as cancelled."""


class Job:
    def __init__(self, run_key: str, step: str, checkpoint: Callable, report: Callable, is_cancelled: Callable, say: Callable,
                 folder=None) -> None:
        self.run_key = run_key
        self.step = step
        # The run's folder in the data dir, for what a long job keeps on disk (a crawl's frontier):
        # it survives a restart, a Cancel and a Retry, and goes when the run is deleted.
        self.folder = folder
        self._checkpoint = checkpoint
        self._report = report  # report(done, total, note)
        self._is_cancelled = is_cancelled
        self._say = say
        self._last_report = 0.0
        self._pending: tuple | None = None
        self.checkpoints = 0

    def run(self, function: Callable, *args, **kwargs):
        """Run `function(*args, **kwargs)` as a checkpoint and answer its result."""
        self.check_cancelled()
        self.checkpoints += 1
        return self._checkpoint(function, *args, **kwargs)

    def map(self, function: Callable, items: Iterable, note: Callable[[object], str] | None = None) -> list:
        """`[job.run(function, item) for item in items]`, with progress after each."""
        items = list(items)
        results = []
        for number, item in enumerate(items, 1):
            results.append(self.run(function, item))
            self.progress(number, len(items), note(item) if note else "")
        return results

    def progress(self, done: int, total: int | None = None, note: str = "") -> None:
        """Show how far the job is: a bar when `total` is known, and a short note."""
        self.check_cancelled()
        self._pending = (int(done), int(total) if total else 0, str(note)[:200])
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_INTERVAL or (total and done >= total):
            self.flush()

    def flush(self) -> None:
        if self._pending is not None:
            self._report(*self._pending)
            self._pending = None
            self._last_report = time.monotonic()

    def say(self, text: str) -> None:
        """A line in the chat of every open page (Markdown, sanitized), like chatq's `say`."""
        self._say(str(text))

    @property
    def cancelled(self) -> bool:
        return self._is_cancelled()

    def check_cancelled(self) -> None:
        if self._is_cancelled():
            raise JobCancelled()
