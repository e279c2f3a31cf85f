"""Politeness per host: how many requests at once, the delay between them, back-off when the
host asks for it (429/503 with Retry-After), and its robots.txt."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from .robots import Robots

MAX_BACKOFF = 300.0  # seconds; a Retry-After beyond this is waited as this


@dataclass
class Host:
    name: str
    slots: asyncio.Semaphore
    delay: float
    next_at: float = 0.0  # monotonic time before which no request starts
    backoff_until: float = 0.0
    robots: Robots | None = None
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    backoffs: int = 0  # times the host asked us to slow down

    async def turn(self) -> None:
        """Wait until a request to this host may start, and book the next one `delay` later."""
        while True:
            now = time.monotonic()
            ready = max(self.next_at, self.backoff_until)
            if now >= ready:
                self.next_at = now + self.delay
                return
            await asyncio.sleep(ready - now)

    def back_off(self, seconds: float) -> float:
        seconds = min(max(seconds, 0.5), MAX_BACKOFF)
        self.backoff_until = max(self.backoff_until, time.monotonic() + seconds)
        self.backoffs += 1
        return seconds


class Hosts:
    def __init__(self, per_host: int, delay: float) -> None:
        self.per_host = per_host
        self.delay = delay
        self._hosts: dict[str, Host] = {}

    def get(self, name: str) -> Host:
        host = self._hosts.get(name)
        if host is None:
            if len(self._hosts) > 10_000:  # a crawl of many subdomains: forget the idle ones
                for key in [k for k, h in self._hosts.items() if not h.slots.locked()][:5_000]:
                    del self._hosts[key]
            host = self._hosts[name] = Host(name, asyncio.Semaphore(self.per_host), self.delay)
        return host
