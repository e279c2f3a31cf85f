"""A stand-in for Botify's public API, served on 127.0.0.1 and a free port, for tests.

    with FakeBotify() as botify:                 # uvicorn in a thread; stopped on exit
        client = BotifyClient(VALID_TOKEN, botify.url)
        botify.rate_limit(2, retry_after="0")    # the next 2 requests answer 429
        botify.fail(1)                           # the next request answers 500 (an HTML page)
        botify.answer_html(1)                    # the next request answers 200 with HTML, not JSON
        botify.requests                          # what was asked: method, path, query, authorized

It answers as Botify's documentation describes (see botify/client.py for what is confirmed and
what is assumed):
- every request needs `Authorization: Token <VALID_TOKEN>`; anything else is a 401 with
  Botify's error JSON {"error": {"error_code": "1001", "message": "Not Authorized"}};
- GET /v1/authentication/profile -> {"data": {"username", "email", "first_name", "last_name"}};
- GET /v1/projects/{username} -> the user's projects, their organisations' included;
- GET /v1/analyses/{owner}/{project_slug}[?only_success=true] -> a project's analyses;
- lists are paginated (`page`, `size`; `page_size` items per page by default, so the default
  data spans several pages): {"count", "next", "previous", "page", "size", "results"} with
  absolute `next`/`previous` links, null at the ends;
- an unknown user or project is a 404 with Botify's error JSON (1007, 1010).

This file is the same as the Botifython variant's tests/fake_botify.py (a core test checks it).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from copy import deepcopy

import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

VALID_TOKEN = "f4c3b0715e1a2d3c4b5a69788796a5b4c3d2e1f0"
USERNAME = "jane.doe"
ORGANISATION = "acme-org"


def _scaled(seconds: float) -> float:
    """A time bound stretched by PIPULATE_TEST_TIME_FACTOR (tests/support/timing.py; this file is
    copied into variants, so it reads the factor itself)."""
    return seconds * float(os.environ.get("PIPULATE_TEST_TIME_FACTOR") or 1)

# Botify's shapes, cut down to what a list shows. Names hold markup on purpose: it must be escaped.
DEFAULT_PROJECTS = [
    {"name": "Jane's sandbox", "slug": "jane-sandbox", "owner": USERNAME},
    {"name": "Acme <b>shop</b> & co", "slug": "acme-shop", "owner": ORGANISATION},
    {"name": "Acme blog", "slug": "acme-blog", "owner": ORGANISATION},
    {"name": "Acme <script>alert(1)</script> docs", "slug": "acme-docs", "owner": ORGANISATION},
    {"name": "Acme careers", "slug": "acme-careers", "owner": ORGANISATION},
]
DEFAULT_ANALYSES = {
    (ORGANISATION, "acme-shop"): [
        {"slug": "20240301", "name": "2024 Mar. 1st", "status": "success"},
        {"slug": "20240215", "name": "2024 Feb. 15th", "status": "failed"},
        {"slug": "20240201", "name": "Feb <i>crawl</i>", "status": "success"},
        {"slug": "20240115", "name": "2024 Jan. 15th", "status": "success"},
        {"slug": "20240110", "name": "2024 Jan. 10th", "status": "crawling"},
    ],
    (USERNAME, "jane-sandbox"): [
        {"slug": "20240105", "name": "2024 Jan. 5th", "status": "success"},
    ],
}


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"error_code": code, "message": message}}, status_code=status, headers=headers)


class FakeBotify:
    def __init__(
        self,
        *,
        token: str = VALID_TOKEN,
        username: str = USERNAME,
        projects: list[dict] | None = None,
        analyses: dict | None = None,
        page_size: int = 2,
    ) -> None:
        self.token = token
        self.username = username
        self.projects = deepcopy(DEFAULT_PROJECTS if projects is None else projects)
        self.analyses = deepcopy(DEFAULT_ANALYSES if analyses is None else analyses)
        self.page_size = page_size
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._rate_limited = 0
        self._retry_after: str | None = None
        self._failures = 0
        self._failure_status = 500
        self._html_answers = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- switches for failure tests --------------------------------------------------------

    def rate_limit(self, times: int, retry_after: str | None = "0") -> None:
        """The next `times` requests answer 429 (Botify's error 1053), with Retry-After if given."""
        with self._lock:
            self._rate_limited, self._retry_after = times, retry_after

    def fail(self, times: int = 1, status: int = 500) -> None:
        """The next `times` requests answer `status` with an HTML error page (as a crashed server does)."""
        with self._lock:
            self._failures, self._failure_status = times, status

    def answer_html(self, times: int = 1) -> None:
        """The next `times` requests answer 200 with an HTML page instead of JSON."""
        with self._lock:
            self._html_answers = times

    # --- running ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> "FakeBotify":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))  # bound before uvicorn starts: no race for the port
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app(), log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _scaled(timeout)
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the fake Botify server did not start within {_scaled(timeout):g}s")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(_scaled(timeout))

    def __enter__(self) -> "FakeBotify":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- the API ---------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/authentication/profile", self._guarded(self._profile)),
                Route("/v1/projects/{username}", self._guarded(self._projects)),
                Route("/v1/analyses/{owner}/{project_slug}", self._guarded(self._analyses)),
            ]
        )

    def _guarded(self, endpoint):
        async def handle(request):
            authorized = request.headers.get("authorization") == f"Token {self.token}"
            with self._lock:
                self.requests.append({
                    "method": request.method,
                    "path": request.url.path,
                    "query": dict(request.query_params),
                    "authorized": authorized,
                })
                if self._rate_limited > 0:
                    self._rate_limited -= 1
                    headers = {"Retry-After": self._retry_after} if self._retry_after is not None else None
                    return _error(429, "1053", "Too many requests", headers)
                if self._failures > 0:
                    self._failures -= 1
                    return HTMLResponse("<h1>Server Error</h1>", status_code=self._failure_status)
                if self._html_answers > 0:
                    self._html_answers -= 1
                    return HTMLResponse("<html><body>Maintenance</body></html>")
            if not authorized:
                return _error(401, "1001", "Not Authorized")
            return await endpoint(request)

        return handle

    async def _profile(self, request):
        return JSONResponse({
            "data": {
                "username": self.username,
                "email": f"{self.username}@example.com",
                "first_name": "Jane",
                "last_name": "Doe",
            }
        })

    async def _projects(self, request):
        username = request.path_params["username"]
        if username != self.username:
            return _error(404, "1007", "User was not found")
        return self._page(request, [self._project(p) for p in self.projects])

    async def _analyses(self, request):
        key = (request.path_params["owner"], request.path_params["project_slug"])
        if not any((p["owner"], p["slug"]) == key for p in self.projects):
            return _error(404, "1010", "Project was not found")
        analyses = self.analyses.get(key, [])
        if request.query_params.get("only_success", "").lower() == "true":
            analyses = [a for a in analyses if a["status"] == "success"]
        return self._page(request, [self._analysis(key, a, n) for n, a in enumerate(analyses, 1)])

    def _page(self, request, items: list[dict]):
        try:
            page = int(request.query_params.get("page", "1"))
            size = int(request.query_params.get("size", str(self.page_size)))
        except ValueError:
            return _error(400, "1020", "Badly formatted request")
        if page < 1 or not 1 <= size <= 500:
            return _error(400, "1020", "Badly formatted request")
        start = (page - 1) * size
        more = start + size < len(items)
        return JSONResponse({
            "count": len(items),
            "next": str(request.url.include_query_params(page=page + 1)) if more else None,
            "previous": str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
            "page": page,
            "size": size,
            "results": items[start : start + size],
        })

    def _user(self, login: str) -> dict:
        return {
            "login": login,
            "email": f"{login}@example.com",
            "is_organization": login != self.username,
            "url": f"https://app.botify.com/{login}/",
            "date_joined": "2020-01-02T03:04:05Z",
            "first_name": "",
            "last_name": "",
            "company_name": None,
        }

    def _project(self, project: dict) -> dict:
        return {
            "name": project["name"],
            "slug": project["slug"],
            "active": True,
            "date_created": "2021-05-06T07:08:09Z",
            "user": self._user(project["owner"]),
            "current_settings": {"start_urls": [f"https://{project['slug']}.example.com/"], "max_nb_pages": 20000},
        }

    def _analysis(self, key: tuple, analysis: dict, number: int) -> dict:
        owner, project_slug = key
        day = f"{analysis['slug'][:4]}-{analysis['slug'][4:6]}-{analysis['slug'][6:8]}"
        return {
            "id": 1000 + number,
            "slug": analysis["slug"],
            "name": analysis["name"],
            "status": analysis["status"],
            "url": f"https://app.botify.com/{owner}/{project_slug}/{analysis['slug']}/",
            "urls_done": 1234,
            "urls_in_queue": 0,
            "date_launched": f"{day}T10:00:00Z",
            "date_finished": f"{day}T12:00:00Z" if analysis["status"] == "success" else None,
            "user": self._user(owner),
            "features": {},
            "config": {},
        }


if __name__ == "__main__":  # python tests/support/fake_botify.py: serve until Ctrl-C, for trying things by hand
    with FakeBotify() as fake:
        print(f"fake Botify on {fake.url}; token {VALID_TOKEN}", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
