"""Chat history: per profile, kept across reopening, and trimmed to the context budget."""

from pipulate import open_database
from pipulate._chat.history import ChatHistory, estimate_tokens


def test_history_is_per_profile_and_survives_reopening(tmp_path):
    path = tmp_path / "app.db"
    history = ChatHistory(open_database(path))
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
    history = ChatHistory(open_database(tmp_path / "app.db"))
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
    history = ChatHistory(open_database(tmp_path / "app.db"))
    history.add(1, "user", "z" * 10_000)
    messages = history.for_model(1, "system", budget_tokens=256)
    assert [m["role"] for m in messages] == ["system", "user"]
