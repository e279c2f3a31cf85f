"""What the workflow tests share: a server with the sample workflows, and reading a run's page."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import httpx

from tests.support.timing import scaled

SAMPLES = Path(__file__).parents[1] / "support" / "plugins" / "sample_workflows.py"
HTMX = {"HX-Request": "true"}


def install_samples(project: Path) -> None:
    """The sample workflows in `project`/plugins, where a server started in `project` finds them."""
    (project / "plugins").mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES, project / "plugins" / "sample_workflows.py")


def new_run(client: httpx.Client, workflow: str) -> str:
    answer = client.post(f"/{workflow}/runs", headers=HTMX)
    assert answer.status_code == 200, answer.text[:300]
    return answer.headers["HX-Push-Url"].rsplit("/", 1)[1]


def submit(client: httpx.Client, workflow: str, key: str, step: str, status: int = 200, **form) -> str:
    answer = client.post(f"/{workflow}/runs/{key}/steps/{step}", data=form, headers=HTMX)
    assert answer.status_code == status, (answer.status_code, answer.text[:500])
    return answer.text


def body(client: httpx.Client, workflow: str, key: str) -> str:
    answer = client.get(f"/{workflow}/runs/{key}/body", headers=HTMX)
    assert answer.status_code == 200, answer.text[:300]
    return answer.text


def step_states(html: str) -> dict[str, str]:
    """Each step card's state, from its class: done, stale, running, failed, form, later..."""
    return {m.group(2): m.group(3) for m in re.finditer(r'<article id="step-([\w-]+?)-([a-z_]+)" class="step ([a-z]+)"', html)}


def wait_for_state(client, workflow: str, key: str, step: str, states: tuple, timeout: float = 30) -> str:
    deadline = time.monotonic() + scaled(timeout)
    while True:
        html = body(client, workflow, key)
        if step_states(html).get(step) in states:
            return html
        assert time.monotonic() < deadline, f"{step} never reached {states}: {step_states(html)}"
        time.sleep(0.1)
