"""The baseline: a minimal FastHTML + fastlite todo app, served the way `pipulate serve` serves.

    python bench/bare_app.py --port 5002 --data-dir /tmp/bare

One table `todos`; GET / is a small page, POST /todos inserts one row and answers with an <li>,
GET /todos renders every row as an <li>. No middleware, no sessions, no CDN headers. Like
Pipulate it uses fastlite's `database()` (WAL; synchronous stays at SQLite's FULL unless
BENCH_SQLITE_SYNC_NORMAL=1, which core.py sets for its default --sync normal) and runs under
uvicorn on 127.0.0.1 with log_level="warning" and access_log=False.

BENCH_BARE_INSERT=sql makes the insert a raw `INSERT ... RETURNING` instead of fastlite's
`table.insert()` (about 40 µs less Python per insert); the default is the idiomatic fastlite call.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from fasthtml.common import H1, Button, FastHTML, Form, Input, Li, Title, Ul
from fastlite import database


def create_app(data_dir: Path) -> FastHTML:
    data_dir.mkdir(parents=True, exist_ok=True)
    db = database(data_dir / "bare.db")
    if os.environ.get("BENCH_SQLITE_SYNC_NORMAL") == "1":  # core.py --sync normal (the default)
        db.execute("PRAGMA synchronous = NORMAL")
    todos = db.t.todos
    if todos not in db.t:
        todos.create(id=int, title=str, done=bool, pk="id")
    raw_sql = os.environ.get("BENCH_BARE_INSERT") == "sql"

    app = FastHTML(default_hdrs=False, sess_cls=None, secret_key="bench-not-used", canonical=False)

    def item(row_id: int, title: str, done: bool = False):
        return Li(Input(type="checkbox", checked=done), title, id=f"todo-{row_id}")

    @app.get("/")
    async def home():
        return Title("Bare todos"), H1("Todos"), Form(Input(name="title"), Button("Add"), hx_post="/todos")

    @app.post("/todos")
    async def add(title: str = ""):
        if raw_sql:
            row_id = db.execute(
                "INSERT INTO todos (title, done) VALUES (?, 0) RETURNING id", [title]
            ).fetchall()[0][0]
        else:
            row_id = todos.insert(title=title, done=False)["id"]
        return item(row_id, title)

    @app.get("/todos")
    async def list_todos():
        rows = db.execute("SELECT id, title, done FROM todos ORDER BY id").fetchall()
        return Ul(*[item(row[0], row[1], bool(row[2])) for row in rows], id="todo-list")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5002)
    parser.add_argument("--data-dir", type=Path, default=Path("bare-data"))
    args = parser.parse_args()
    import uvicorn

    app = create_app(args.data_dir)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
