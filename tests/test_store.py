"""Store: a dict-like key/value table in the app's database."""

import pytest

from pipulate import Store, migrate, open_database
from pipulate._database import CORE_TABLES


@pytest.fixture
def store(tmp_path):
    db = open_database(tmp_path / "store.db")
    migrate(db, CORE_TABLES)
    return Store(db)


def test_set_get_contains_delete(store):
    assert "last_profile_id" not in store
    store["last_profile_id"] = 3
    assert "last_profile_id" in store
    assert store["last_profile_id"] == 3
    del store["last_profile_id"]
    assert "last_profile_id" not in store
    with pytest.raises(KeyError):
        store["last_profile_id"]
    with pytest.raises(KeyError):
        del store["last_profile_id"]


def test_get_with_default(store):
    assert store.get("missing") is None
    assert store.get("missing", "fallback") == "fallback"
    store["present"] = ""
    assert store.get("present", "fallback") == ""


def test_values_keep_their_json_type(store):
    values = {"int": 1, "str": "text", "list": [1, "a"], "dict": {"k": [True, None]}, "float": 1.5}
    for key, value in values.items():
        store[key] = value
    assert {key: store[key] for key in values} == values


def test_overwrite_iterate_and_len(store):
    store["b"] = 1
    store["a"] = 2
    store["b"] = 3
    assert list(store) == ["a", "b"]
    assert len(store) == 2
    assert dict(store.items()) == {"a": 2, "b": 3}


def test_bad_keys_and_values_are_refused_without_change(store):
    store["kept"] = 1
    with pytest.raises(TypeError):
        store[1] = "x"
    with pytest.raises(TypeError):
        store["kept"] = object()
    assert store["kept"] == 1
    assert 1 not in store


def test_markup_and_sql_are_just_text(store):
    tricky = "'); DROP TABLE store; -- <script>"
    store[tricky] = tricky
    assert store[tricky] == tricky
    assert len(store) == 1


def test_survives_reopening(tmp_path):
    path = tmp_path / "store.db"
    db = open_database(path)
    migrate(db, CORE_TABLES)
    Store(db)["last_app"] = "todos"
    db.close()
    reopened = open_database(path)
    assert Store(reopened)["last_app"] == "todos"


def test_missing_keys_and_bad_keys_say_which(store):
    with pytest.raises(KeyError) as missing:
        store["nowhere"]
    assert missing.value.args == ("nowhere",)
    with pytest.raises(KeyError) as missing:
        del store["nowhere"]
    assert missing.value.args == ("nowhere",)
    with pytest.raises(TypeError) as bad:
        store[3] = "x"
    assert str(bad.value) == "store keys are strings, not int"


def test_repr_shows_the_contents(store):
    store["a"] = 1
    store["b"] = [2]
    assert repr(store) == "Store({'a': 1, 'b': [2]})"


def test_setting_again_replaces_the_value(store):
    store["k"] = 1
    store["k"] = {"now": "a dict"}
    assert store["k"] == {"now": "a dict"} and list(store) == ["k"]
