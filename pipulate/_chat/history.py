"""Chat history per profile, in the app's database, and its trimming to a context budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastlite.core import Database

import time
from dataclasses import dataclass

# The table is declared with the core's tables in pipulate/_database.py.
# Roles: "user" and "assistant" go to the model; "notice" (chatq messages) is shown, not sent.
MODEL_ROLES = ("user", "assistant")


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

    def clear(self, profile_id: int) -> None:
        self._db.execute("DELETE FROM chat_messages WHERE profile_id = ?", [profile_id])

    def for_model(self, profile_id: int, system_prompt: str, budget_tokens: int) -> list[dict]:
        """The newest user/assistant messages that fit the budget, oldest first, after the system
        prompt. Tokens are estimated at four characters each: close enough to stay under a limit."""
        budget = budget_tokens - estimate_tokens(system_prompt)
        chosen: list[dict] = []
        for message in reversed(self.recent(profile_id, limit=500)):
            if message.role not in MODEL_ROLES or not message.content:
                continue
            cost = estimate_tokens(message.content)
            if cost > budget and chosen:
                break
            chosen.append({"role": message.role, "content": message.content})
            budget -= cost
        return [{"role": "system", "content": system_prompt}, *reversed(chosen)]


def estimate_tokens(text: str) -> int:
    return len(text) // 4 + 1
