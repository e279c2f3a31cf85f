"""What the model-server tests share: a time limit, and a ModelServer that is always closed."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from pipulate._llm import ModelServer
from tests.support.timing import scaled

TIME_LIMIT = 90  # seconds for any one scenario, so nothing hangs the suite


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, scaled(TIME_LIMIT)))


@asynccontextmanager
async def model_server(url: str, **kwargs):
    server = ModelServer(url, **kwargs)
    try:
        yield server
    finally:
        await server.aclose()
