"""Chat history per profile, in the app's database, and its trimming to a context budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastlite.core import Database

import time
from dataclasses import dataclass

# The table is declared with the core's tables in pipulate/_database.py.
# Roles: "user" and "assistant" go to the model; "notice" (chatq messages) and "error" (why a
# reply failed, kept so a reload does not leave a question hanging) are shown, never sent.
MODEL_ROLES = ("user", "assistant")
CONVERSATION_ROLES = ("user", "assistant", "error")


@dataclass(frozen=True)
class ChatMessage:
    id: int
    role: str
    content: str
    status: str = "complete"  # or "stopped" / "failed"


class ChatHistory:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, profile_id: int, role: str, content: str, status: str = "complete") -> ChatMessage | None:
        """Store a message; None (nothing stored) when the profile no longer exists, so a reply
        that ends after its profile was deleted cannot land anywhere."""
        rows = self._db.execute(
            "INSERT INTO chat_messages (profile_id, role, content, status, created_at) "
            "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM profiles WHERE id = ?) RETURNING id",
            [profile_id, role, content, status, time.time(), profile_id],
        ).fetchall()
        return ChatMessage(rows[0][0], role, content, status) if rows else None

    def recent(self, profile_id: int, limit: int = 200) -> list[ChatMessage]:
        rows = self._db.execute(
            "SELECT id, role, content, status FROM chat_messages WHERE profile_id = ? ORDER BY id DESC LIMIT ?",
            [profile_id, limit],
        ).fetchall()
        return [ChatMessage(*row) for row in reversed(rows)]

    def get(self, profile_id: int, message_id: int) -> ChatMessage | None:
        rows = self._db.execute(
            "SELECT id, role, content, status FROM chat_messages WHERE id = ? AND profile_id = ?",
            [message_id, profile_id],
        ).fetchall()
        return ChatMessage(*rows[0]) if rows else None

    def last(self, profile_id: int, roles=CONVERSATION_ROLES) -> ChatMessage | None:
        """The newest message of the conversation (chatq notices are not part of it)."""
        marks = ",".join("?" * len(roles))
        rows = self._db.execute(
            f"SELECT id, role, content, status FROM chat_messages WHERE profile_id = ? AND role IN ({marks}) "
            "ORDER BY id DESC LIMIT 1",
            [profile_id, *roles],
        ).fetchall()
        return ChatMessage(*rows[0]) if rows else None

    def delete_from(self, profile_id: int, message_id: int) -> None:
        """Drop the conversation from `message_id` on (what an edit or a retry replaces)."""
        self._db.execute(
            f"DELETE FROM chat_messages WHERE profile_id = ? AND id >= ? AND role IN ({','.join('?' * 3)})",
            [profile_id, message_id, *CONVERSATION_ROLES],
        )

    def replace(self, profile_id: int, message_id: int, content: str, status: str) -> None:
        self._db.execute(
            "UPDATE chat_messages SET content = ?, status = ? WHERE id = ? AND profile_id = ?",
            [content, status, message_id, profile_id],
        )

    def clear(self, profile_id: int) -> None:
        self._db.execute("DELETE FROM chat_messages WHERE profile_id = ?", [profile_id])

    def for_model(self, profile_id: int, system_prompt: str, budget_tokens: int, before_id: int | None = None) -> list[dict]:
        """The newest user/assistant messages that fit the budget, oldest first, after the system
        prompt (only those older than `before_id` when given: a reply regenerated in place).
        Tokens are estimated at four characters each: close enough to stay under a limit."""
        budget = budget_tokens - estimate_tokens(system_prompt)
        chosen: list[dict] = []
        for message in reversed(self.recent(profile_id, limit=500)):
            if before_id is not None and message.id >= before_id:
                continue
            if message.role not in MODEL_ROLES or not message.content:
                continue
            cost = estimate_tokens(message.content)
            if cost > budget and chosen:
                break
            chosen.append({"role": message.role, "content": message.content})
            budget -= cost
        return [{"role": "system", "content": system_prompt}, *reversed(chosen)]

    def as_markdown(self, profile_id: int, title: str) -> str:
        """The conversation as a Markdown document (Export): each message under who said it."""
        speakers = {"user": "You", "assistant": "Assistant", "error": "Error", "notice": "Note"}
        parts = [f"# {title}\n"]
        for message in self.recent(profile_id, limit=100_000):
            note = {"stopped": " (stopped)", "failed": " (cut short)"}.get(message.status, "")
            parts.append(f"## {speakers.get(message.role, message.role)}{note}\n\n{message.content.strip()}\n")
        return "\n".join(parts)


def estimate_tokens(text: str) -> int:
    return len(text) // 4 + 1
