"""Testing workflows without a browser: for this project's tests and for variant authors.

    from pipulate.testing import workflow_tester

    def test_hello(tmp_path):
        with workflow_tester(Hello, data_dir=tmp_path) as app:
            run = app.start("hello")
            run.submit("greeting", name="Ada", tone="formal")
            assert run.result("greeting") == "Good day, Ada!"

`app` is the same object a notebook gets from `pipulate.workflows()` (start, open, runs; a run's
submit, run_all, result, table, cancel, retry, finalize), on a fresh data dir: background steps
run on the real job engine, in this process.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ._config import Settings
from ._workflows.fields import FieldError
from ._workflows.notebook import StepFailed, StepNeedsInput, Workflows

__all__ = ["FieldError", "StepFailed", "StepNeedsInput", "workflow_tester"]


@contextmanager
def workflow_tester(*workflows, data_dir, **settings):
    """The given Workflow classes on `data_dir` (a pytest tmp_path), closed afterwards."""
    app = Workflows(Settings(data_dir=Path(data_dir), plugin_dirs=(), **settings), plugins=list(workflows))
    try:
        yield app
    finally:
        app.close()
