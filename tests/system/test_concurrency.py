"""Many clients at once against the real server: no errors, no lost and no doubled todos."""

from __future__ import annotations

import asyncio
import re
import time

import httpx

from tests.apps.test_todos_over_http import parse_items
from tests.support.timing import scaled

CLIENTS = 16
ADDS_PER_CLIENT = 20  # each list renders every todo so far (cost grows with the square): ~15 s
TIME_LIMIT = 55  # seconds for the whole run (about 15 s on two idle cores)
HTMX = {"HX-Request": "true"}
TODO_ID = re.compile(r'id="todo-(\d+)"')


async def _client_session(url: str, number: int, acknowledged: dict[int, str], failures: list) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=scaled(20), headers=HTMX, trust_env=False) as client:
        for n in range(ADDS_PER_CLIENT):
            title = f"client {number} todo {n}"
            response = await client.post("/todos", data={"title": title})
            if response.status_code != 200:
                failures.append(("add", title, response.status_code, response.text[:200]))
                continue
            ids = TODO_ID.findall(response.text)
            if len(ids) != 1:
                failures.append(("add", title, "ids", ids))
                continue
            acknowledged[int(ids[0])] = title
            listed = await client.get("/todos")
            if listed.status_code != 200:
                failures.append(("list", title, listed.status_code, listed.text[:200]))
            elif f'id="todo-{ids[0]}"' not in listed.text:
                failures.append(("list", title, "own todo missing right after its add"))


async def _run_all(url: str, acknowledged: dict[int, str], failures: list) -> None:
    await asyncio.gather(*(_client_session(url, number, acknowledged, failures) for number in range(CLIENTS)))


def test_concurrent_clients_lose_and_double_nothing(server):
    acknowledged: dict[int, str] = {}
    failures: list = []
    started = time.monotonic()
    asyncio.run(asyncio.wait_for(_run_all(server.url, acknowledged, failures), scaled(TIME_LIMIT)))
    assert time.monotonic() - started < scaled(TIME_LIMIT)

    assert failures == []
    assert len(acknowledged) == CLIENTS * ADDS_PER_CLIENT  # every id handed out once

    with server.client() as client:
        final = client.get("/todos", headers=HTMX)
    assert final.status_code == 200
    listed = [(item.id, item.title) for item in parse_items(final.text)]
    ids = [todo_id for todo_id, _ in listed]
    assert len(ids) == len(set(ids)), "a todo is listed twice"
    assert set(ids) == set(acknowledged), "the final list differs from the acknowledged adds"
    assert dict(listed) == acknowledged
    # Each client's todos appear in the order it added them (positions grow with each add).
    for number in range(CLIENTS):
        own = [title for _, title in listed if title.startswith(f"client {number} ")]
        assert own == [f"client {number} todo {n}" for n in range(ADDS_PER_CLIENT)]
    assert "Traceback" not in server.log(), server.log()
