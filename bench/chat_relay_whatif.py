"""What-if launcher, used only by `chat_relay.py --whatif ...`: `pipulate serve` with candidate
changes to the WebSocket side of the relay, applied at run time (nothing in pipulate/ is changed),
so their effect can be measured before anyone edits the app.

    BENCH_CHAT_WHATIF=no-deflate python bench/chat_relay_whatif.py serve --port 5001 ...

  no-deflate   uvicorn without permessage-deflate on WebSockets (ws_per_message_deflate=False):
               no zlib per token frame here, and none in the browser.
  ws=NAME      uvicorn's WebSocket implementation: websockets-sansio (its default here),
               websockets or wsproto.

(Earlier candidates are now how the app ships: the plain-http stream reader,
pipulate/_llm/plain_http.py, and `synchronous = "normal"`, a setting: PIPULATE_SYNCHRONOUS.)
"""

from __future__ import annotations

import os
import sys

import uvicorn

from pipulate._cli import main

CHOICES = [c.strip() for c in os.environ.get("BENCH_CHAT_WHATIF", "").split(",") if c.strip()]

uvicorn_options = {}
for choice in CHOICES:
    if choice == "no-deflate":
        uvicorn_options["ws_per_message_deflate"] = False
    elif choice.startswith("ws="):
        uvicorn_options["ws"] = choice[3:]
    else:
        raise SystemExit(f"chat_relay_whatif: unknown choice {choice!r}")

if uvicorn_options:
    _run = uvicorn.run

    def run(*args, **kwargs):
        return _run(*args, **{**kwargs, **uvicorn_options})

    uvicorn.run = run

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
