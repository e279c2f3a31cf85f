"""Chat history: per profile, kept across reopening, and trimmed to the context budget."""

from pipulate import Profiles, Store, open_database
from pipulate._chat.history import ChatHistory, estimate_tokens


def history_with_profiles(path, count: int = 2) -> ChatHistory:
    """A history in a new database whose profiles 1..count exist (messages need their profile)."""
    db = open_database(path)
    profiles = Profiles(db, Store(db))
    for number in range(1, count + 1):
        profiles.create(f"Profile {number}")
    return ChatHistory(db)


def test_history_is_per_profile_and_survives_reopening(tmp_path):
    path = tmp_path / "app.db"
    history = history_with_profiles(path)
    history.add(1, "user", "hello from one")
    history.add(2, "user", "hello from two")
    history.add(1, "assistant", "answer", status="stopped")
    reopened = ChatHistory(open_database(path))
    assert [(m.role, m.content, m.status) for m in reopened.recent(1)] == [
        ("user", "hello from one", "complete"),
        ("assistant", "answer", "stopped"),
    ]
    reopened.clear(1)
    assert reopened.recent(1) == [] and len(reopened.recent(2)) == 1


def test_what_goes_to_the_model_fits_the_budget_newest_first(tmp_path):
    history = history_with_profiles(tmp_path / "app.db")
    for number in range(50):
        history.add(1, "user", f"question {number} " + "x" * 400)
        history.add(1, "assistant", f"answer {number} " + "y" * 400)
    history.add(1, "notice", "a chatq notice is shown, never sent")
    messages = history.for_model(1, "You are helpful.", budget_tokens=1024)
    assert messages[0] == {"role": "system", "content": "You are helpful."}
    assert sum(estimate_tokens(m["content"]) for m in messages) <= 1024
    assert messages[-1]["content"].startswith("answer 49")  # the newest is always kept
    assert all(m["role"] in ("system", "user", "assistant") for m in messages)
    kept = [m["content"].split(" ")[1] for m in messages[1:]]
    assert kept == sorted(kept, key=int)  # oldest first, no gaps in what was kept
    assert len(messages) < 101  # older turns were dropped


def test_a_single_message_over_the_budget_is_still_sent(tmp_path):
    history = history_with_profiles(tmp_path / "app.db")
    history.add(1, "user", "z" * 10_000)
    messages = history.for_model(1, "system", budget_tokens=256)
    assert [m["role"] for m in messages] == ["system", "user"]


def test_a_message_for_a_profile_that_no_longer_exists_is_dropped(tmp_path):
    db = open_database(tmp_path / "app.db")
    profiles = Profiles(db, Store(db))
    keep, gone = profiles.create("Keep"), profiles.create("Gone")
    history = ChatHistory(db)
    profiles.on_delete(history.clear)
    profiles.delete(gone.id)
    assert history.add(gone.id, "assistant", "a reply that ended after its profile was deleted") is None
    assert history.add(keep.id, "assistant", "kept") is not None
    assert db.execute("SELECT profile_id, content FROM chat_messages").fetchall() == [(keep.id, "kept")]


def test_tokens_are_estimated_at_four_characters_each():
    assert [estimate_tokens("x" * n) for n in (0, 3, 4, 7, 8, 400)] == [1, 1, 2, 2, 3, 101]


def test_trimming_keeps_the_newest_messages_that_fit_and_stops_at_the_first_that_does_not(tmp_path):
    """Fixed sizes, so the exact choice is known. The system prompt (60 characters: 16 tokens) is
    paid first: 84 of 100 left. Newest first: e (41) and d (6) fit, leaving 37; c (46) does not,
    and trimming stops there: the small, older a (3) must not be sent without b and c between."""
    history = history_with_profiles(tmp_path / "app.db")
    for role, content in [("user", "a" * 8), ("assistant", "b" * 200), ("user", "c" * 180),
                          ("assistant", "d" * 20), ("notice", "n" * 900), ("user", "e" * 160)]:
        history.add(1, role, content)
    messages = history.for_model(1, "s" * 60, budget_tokens=100)
    assert [(m["role"], m["content"][0], len(m["content"])) for m in messages] == [
        ("system", "s", 60), ("assistant", "d", 20), ("user", "e", 160),
    ]
    # With room for c too (a larger budget), the cut moves back one message, never past a gap.
    assert [m["content"][0] for m in history.for_model(1, "s" * 60, budget_tokens=116)] == ["s", "c", "d", "e"]
    assert [m["content"][0] for m in history.for_model(1, "s" * 60, budget_tokens=10_000)] == ["s", "a", "b", "c", "d", "e"]


def test_the_system_prompt_counts_against_the_budget(tmp_path):
    history = history_with_profiles(tmp_path / "app.db")
    history.add(1, "user", "q" * 396)  # 100 tokens
    history.add(1, "assistant", "r" * 396)  # 100 tokens
    assert len(history.for_model(1, "short", budget_tokens=202)) == 3  # 2 + 100 + 100 fit
    assert len(history.for_model(1, "p" * 40, budget_tokens=202)) == 2  # 11 + 100: the older one is cut


def test_add_returns_the_stored_message(tmp_path):
    history = history_with_profiles(tmp_path / "app.db")
    first = history.add(1, "user", "hello")
    second = history.add(1, "assistant", "hi", status="stopped")
    assert (first.role, first.content, first.status) == ("user", "hello", "complete")
    assert second.id > first.id
    assert history.recent(1) == [first, second]


def test_recent_keeps_the_newest_200_by_default_oldest_first(tmp_path):
    history = history_with_profiles(tmp_path / "app.db")
    for number in range(205):
        history.add(1, "user", f"m{number}")
    shown = history.recent(1)
    assert [m.content for m in shown] == [f"m{number}" for number in range(5, 205)]
    assert len(history.recent(1, limit=3)) == 3


def test_the_model_sees_at_most_the_newest_500_messages(tmp_path):
    history = history_with_profiles(tmp_path / "app.db")
    for number in range(502):
        history.add(1, "user", f"m{number}")
    messages = history.for_model(1, "s", budget_tokens=1_000_000)
    assert len(messages) == 501 and messages[1]["content"] == "m2"


def test_a_message_that_fits_the_budget_exactly_is_kept(tmp_path):
    history = history_with_profiles(tmp_path / "app.db")
    history.add(1, "user", "a" * 36)  # 10 tokens
    history.add(1, "user", "b" * 36)  # 10 tokens
    history.add(1, "user", "c" * 36)  # 10 tokens
    # 1 for the system prompt, then 10 + 10 + 10: exactly 31.
    assert [m["content"][0] for m in history.for_model(1, "s", budget_tokens=31)] == ["s", "a", "b", "c"]
    assert [m["content"][0] for m in history.for_model(1, "s", budget_tokens=30)] == ["s", "b", "c"]


def test_edit_retry_and_regenerate_work_on_the_conversation_not_the_notices(tmp_path):
    history = history_with_profiles(tmp_path / "app.db")
    question = history.add(1, "user", "first")
    answer = history.add(1, "assistant", "one")
    history.add(1, "notice", "a crawl finished")  # chatq: kept, but not part of the conversation
    again = history.add(1, "user", "second")
    failed = history.add(1, "error", "the model ran out of memory")
    assert history.last(1) == failed and history.last(1, roles=("user",)) == again
    # The model is never told about errors or notices; a regenerated reply sees only what came before.
    assert [m["content"] for m in history.for_model(1, "sys", 2048)] == ["sys", "first", "one", "second"]
    assert [m["content"] for m in history.for_model(1, "sys", 2048, before_id=answer.id)] == ["sys", "first"]
    history.replace(1, answer.id, "one, better", "complete")
    history.replace(2, answer.id, "another profile's write", "complete")  # another profile cannot
    history.delete_from(1, again.id)  # editing "second": it and what followed go, the notice stays
    assert [(m.role, m.content) for m in history.recent(1)] == [
        ("user", "first"), ("assistant", "one, better"), ("notice", "a crawl finished")]
    assert history.get(1, question.id) == question and history.get(2, question.id) is None


def test_a_conversation_exports_as_markdown_with_who_said_what(tmp_path):
    history = history_with_profiles(tmp_path / "app.db")
    history.add(1, "user", "Hi **there**")
    history.add(1, "assistant", "Hello\n\n```python\nx = 1\n```", "stopped")
    history.add(1, "error", "No model server answers.")
    assert history.as_markdown(1, "Chat · Ann") == (
        "# Chat · Ann\n\n## You\n\nHi **there**\n\n## Assistant (stopped)\n\nHello\n\n```python\nx = 1\n```\n\n"
        "## Error\n\nNo model server answers.\n"
    )


def test_the_export_names_notes_and_cut_short_replies_and_holds_every_message(tmp_path):
    history = history_with_profiles(tmp_path / "app.db")
    assert history.last(1) is None  # nothing said yet
    history.add(1, "notice", "Todo added: milk")
    history.add(1, "assistant", "Half an ans", "failed")
    assert history.as_markdown(1, "T") == "# T\n\n## Note\n\nTodo added: milk\n\n## Assistant (cut short)\n\nHalf an ans\n"
    for number in range(250):  # more than the chat panel shows (200): the export has them all
        history.add(1, "user", f"message {number}")
    exported = history.as_markdown(1, "T")
    assert exported.count("## You") == 250 and "message 0\n" in exported and "Todo added: milk" in exported
    history.add(1, "summary", "A role this version does not name (a newer version's)")
    assert history.as_markdown(1, "T").endswith("## summary\n\nA role this version does not name (a newer version's)\n")
