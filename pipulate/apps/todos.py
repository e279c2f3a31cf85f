"""Todos: a list per profile. Add, edit in place, toggle, delete, reorder by drag and drop.

Every handler finds the todo through the selected profile (`WHERE id = ? AND profile_id = ?`),
so an id from another profile is a 404 exactly like an id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from fasthtml.common import H2, Button, Form, Input, Li, P, Span, Ul

from .._database import Table
from .._errors import NotFound, UserError, parse_id
from .._plugins import Plugin, route
from .._text import clean_text

TITLE_LIMIT = 200


@dataclass(frozen=True)
class Todo:
    id: int
    title: str
    done: bool


class TodosApp(Plugin):
    name = "todos"
    label = "Todos"
    menu_order = 10
    tables = (
        Table(
            "todos",
            {"id": int, "profile_id": int, "title": str, "done": bool, "position": int},
            defaults={"done": False, "position": 0},
            # Every query is per profile, in order: the list, and max(position) on each add.
            indexes=(("profile_id", "position"),),
        ),
    )

    # --- the panel -------------------------------------------------------------------------

    async def render(self, request):
        profile = self.core.profiles.selected()
        return (
            H2("Todos ", Span(profile.name, cls="badge")),
            Form(
                Input(name="title", placeholder="What needs doing?", aria_label="New todo", autocomplete="off"),
                Button("Add"),
                id="todo-add",
                cls="inline-form",
                hx_post="/todos",
                hx_target="#todo-list",
                hx_swap="beforeend",
                data_reset_on_success=True,
            ),
            Ul(
                *[todo_item(todo) for todo in self.list_todos(profile.id)],
                id="todo-list",
                cls="item-list",
                data_sortable=True,
                # The drag-and-drop script fires "reordered"; the hidden inputs give the order.
                hx_post="/todos/reorder",
                hx_trigger="reordered",
                hx_include="this",  # htmx 2 sends every input inside the list
                hx_swap="none",
            ),
            P("Nothing to do yet. Add a todo above.", cls="empty-hint"),
            P("Drag a todo to reorder it (or Alt+↑/↓). Click its title to edit.", cls="hint"),
        )

    # --- actions: each answers with just the item that changed -----------------------------

    @route.post("")
    async def add(self, title: str = ""):
        # Raw SQL here: the new todo's position is computed in the same statement (one round trip).
        profile = self.core.profiles.selected()
        title = clean_text(title, field="Title", max_length=TITLE_LIMIT)
        cursor = self.db.execute(
            "INSERT INTO todos (profile_id, title, done, position) VALUES "
            "(?, ?, 0, (SELECT coalesce(max(position), 0) + 1 FROM todos WHERE profile_id = ?)) "
            "RETURNING id",
            [profile.id, title, profile.id],
        )
        todo = Todo(cursor.fetchall()[0][0], title, False)
        await self.core.chat.say(f"Added a todo: {title}")  # chatq: open tabs hear about it
        return todo_item(todo)

    @route.get("/{todo_id}")
    async def show(self, todo_id: str):
        return todo_item(self.find(todo_id))

    @route.get("/{todo_id}/edit")
    async def edit(self, todo_id: str):
        return todo_editor(self.find(todo_id))

    @route.put("/{todo_id}")
    async def update(self, todo_id: str, title: str = ""):
        todo = self.find(todo_id)
        title = clean_text(title, field="Title", max_length=TITLE_LIMIT)
        self.tables.todos.update({"id": todo.id, "title": title})
        return todo_item(Todo(todo.id, title, todo.done))

    @route.post("/{todo_id}/toggle")
    async def toggle(self, todo_id: str):
        todo = self.find(todo_id)
        self.tables.todos.update({"id": todo.id, "done": not todo.done})
        return todo_item(Todo(todo.id, todo.title, not todo.done))

    @route.delete("/{todo_id}")
    async def delete(self, todo_id: str):
        todo = self.find(todo_id)
        self.tables.todos.delete(todo.id)
        await self.core.chat.say(f"Deleted the todo: {todo.title}")
        return ""  # htmx swaps the item out

    @route.post("/reorder")
    async def reorder(self, request):
        """Put the given ids first, in the given order; the rest keep their order after them."""
        profile = self.core.profiles.selected()
        form = await request.form()
        wanted = [parse_id(value, field="todo") for value in form.getlist("order")]
        if len(set(wanted)) != len(wanted):
            raise UserError("The new order names a todo twice; nothing was changed.")
        current = [todo.id for todo in self.list_todos(profile.id)]
        unknown = set(wanted) - set(current)
        if unknown:
            raise NotFound(f"No such todo: {min(unknown)}. Nothing was reordered.")
        order = wanted + [todo_id for todo_id in current if todo_id not in set(wanted)]
        with self.db.conn:  # one transaction: all positions change, or none
            self.db.conn.executemany(
                "UPDATE todos SET position = ? WHERE id = ? AND profile_id = ?",
                [(position, todo_id, profile.id) for position, todo_id in enumerate(order, 1)],
            )
        return ""

    # --- data ------------------------------------------------------------------------------

    def list_todos(self, profile_id: int) -> list[Todo]:
        rows = self.tables.todos(where="profile_id = ?", where_args=[profile_id], order_by="position, id",
                                 select="id, title, done", as_cls=False)
        return [Todo(row["id"], row["title"], bool(row["done"])) for row in rows]

    def find(self, todo_id: object) -> Todo:
        number = parse_id(todo_id, field="todo")
        # By id *and* the page's profile: another profile's todo is a 404, like a missing one.
        rows = self.tables.todos(where="id = ? AND profile_id = ?", where_args=[number, self.core.profiles.selected().id],
                                 select="id, title, done", as_cls=False)
        if not rows:
            raise NotFound(f"No such todo: {number}.")
        return Todo(rows[0]["id"], rows[0]["title"], bool(rows[0]["done"]))

    def on_profile_deleted(self, profile_id: int) -> None:
        self.tables.todos.delete_where("profile_id = ?", [profile_id])


# --- components --------------------------------------------------------------------------------


def todo_item(todo: Todo) -> Li:
    target = f"#todo-{todo.id}"
    return Li(
        Input(type="hidden", name="order", value=str(todo.id)),
        Span("⋮⋮", cls="drag-handle", aria_hidden="true"),
        Input(
            type="checkbox",
            checked=todo.done,
            aria_label=f"Done: {todo.title}",
            hx_post=f"/todos/{todo.id}/toggle",
            hx_target=target,
            hx_swap="outerHTML",
        ),
        Button(
            todo.title,
            cls="text todo-title",
            title="Click to edit",
            hx_get=f"/todos/{todo.id}/edit",
            hx_target=target,
            hx_swap="outerHTML",
        ),
        Button(
            "✕",
            cls="quiet delete",
            aria_label=f"Delete: {todo.title}",
            hx_delete=f"/todos/{todo.id}",
            hx_target=target,
            hx_swap="outerHTML",
        ),
        id=f"todo-{todo.id}",
        cls="todo done" if todo.done else "todo",
        draggable="true",
        tabindex="0",
        data_id=str(todo.id),
    )


def todo_editor(todo: Todo) -> Li:
    target = f"#todo-{todo.id}"
    return Li(
        Input(type="hidden", name="order", value=str(todo.id)),
        Form(
            Input(name="title", value=todo.title, aria_label="Title", autofocus=True, autocomplete="off"),
            Button("Save"),
            Button(
                "Cancel",
                type="button",
                cls="secondary",
                data_cancel=True,
                hx_get=f"/todos/{todo.id}",
                hx_target=target,
                hx_swap="outerHTML",
            ),
            hx_put=f"/todos/{todo.id}",
            hx_target=target,
            hx_swap="outerHTML",
            data_editor=True,
        ),
        id=f"todo-{todo.id}",
        cls="todo editing",
    )
