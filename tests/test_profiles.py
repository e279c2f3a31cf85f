"""Profiles (the core's, behind the profiles app): names, the selection that new pages open with,
the profile a page shows, and deletion with every plugin's data in one transaction."""

from __future__ import annotations

import pytest

from pipulate import Store, open_database
from pipulate._errors import NotFound, UserError
from pipulate._profiles import (
    SELECTED_PROFILE_KEY,
    PageOutOfDate,
    Profile,
    Profiles,
    page_profile_id,
    parse_page_profile,
)


@pytest.fixture
def profiles(tmp_path):
    db = open_database(tmp_path / "app.db")
    return Profiles(db, Store(db))


@pytest.fixture
def shown():
    """Set the profile 'the requesting page shows' for one test."""
    tokens = []

    def show(value):
        tokens.append(page_profile_id.set(value))

    yield show
    for token in reversed(tokens):
        page_profile_id.reset(token)


def test_a_first_run_makes_and_selects_the_default_profile(profiles):
    assert profiles.all() == []
    assert profiles.stored_selection() == Profile(1, "Default")
    assert profiles.all() == [Profile(1, "Default")]
    assert profiles._store[SELECTED_PROFILE_KEY] == 1
    assert profiles.stored_selection() == Profile(1, "Default")  # not made twice


def test_profiles_are_listed_in_creation_order_and_found_by_id(profiles):
    made = [profiles.create(name) for name in ("Work", "Home", "Club")]
    assert made == [Profile(1, "Work"), Profile(2, "Home"), Profile(3, "Club")]
    assert profiles.all() == made
    assert profiles.get(2) == Profile(2, "Home")
    assert profiles.exists(3) and not profiles.exists(4)
    with pytest.raises(NotFound) as missing:
        profiles.get(4)
    assert missing.value.message == "No such profile: 4."


def test_names_are_cleaned_and_duplicates_refused_whatever_their_case(profiles):
    assert profiles.create("  Work  ").name == "Work"
    with pytest.raises(UserError) as duplicate:
        profiles.create("WORK")
    assert duplicate.value.message == "A profile named “WORK” already exists."
    with pytest.raises(UserError, match="^Profile name cannot be empty.$"):
        profiles.create("   ")
    with pytest.raises(UserError, match="^Profile name is 61 characters long; the limit is 60. Nothing was saved.$"):
        profiles.create("x" * 61)
    assert profiles.create("x" * 60).name == "x" * 60


def test_rename(profiles):
    work, home = profiles.create("Work"), profiles.create("Home")
    assert profiles.rename(work.id, " Office ") == Profile(work.id, "Office")
    assert profiles.all() == [Profile(work.id, "Office"), Profile(home.id, "Home")]
    assert profiles.rename(work.id, "OFFICE") == Profile(work.id, "OFFICE")  # its own name, another case
    with pytest.raises(UserError, match="A profile named “home” already exists."):
        profiles.rename(work.id, "home")
    with pytest.raises(UserError, match="^Profile name is 61 characters long"):
        profiles.rename(work.id, "y" * 61)
    with pytest.raises(UserError, match="^Profile name cannot be empty.$"):
        profiles.rename(work.id, "")
    with pytest.raises(NotFound, match="No such profile: 99."):
        profiles.rename(99, "Anything")
    assert profiles.all() == [Profile(work.id, "OFFICE"), Profile(home.id, "Home")]


def test_delete_runs_every_hook_then_deletes_and_moves_the_selection(profiles):
    first, second, third = (profiles.create(n) for n in ("One", "Two", "Three"))
    profiles.select(second.id)
    calls = []
    profiles.on_delete(lambda profile_id: calls.append(("a", profile_id)))
    profiles.on_delete(lambda profile_id: calls.append(("b", profile_id, profiles.exists(profile_id))))
    profiles.delete(second.id)
    assert calls == [("a", second.id), ("b", second.id, True)]  # in order, before the row goes
    assert profiles.all() == [first, third]
    assert profiles._store[SELECTED_PROFILE_KEY] == first.id
    profiles.delete(third.id)  # not the selected one: the selection stays
    assert profiles._store[SELECTED_PROFILE_KEY] == first.id


def test_a_failing_hook_deletes_nothing(profiles):
    keep, other = profiles.create("Keep"), profiles.create("Other")

    def fail(profile_id):
        raise RuntimeError("a plugin could not delete its rows")

    profiles.on_delete(fail)
    with pytest.raises(RuntimeError):
        profiles.delete(other.id)
    assert profiles.all() == [keep, other]


def test_the_only_profile_cannot_be_deleted(profiles):
    only = profiles.create("Only")
    with pytest.raises(UserError) as refused:
        profiles.delete(only.id)
    assert refused.value.message == "This is the only profile; create another one before deleting it."
    with pytest.raises(NotFound):
        profiles.delete(only.id + 1)
    assert profiles.all() == [only]


def test_the_page_profile_wins_over_the_stored_selection(profiles, shown):
    first, second = profiles.create("First"), profiles.create("Second")
    profiles.select(first.id)
    assert profiles.selected() == first  # no page said: the stored selection
    shown(second.id)
    assert profiles.selected() == second
    profiles.select(first.id)  # a page that switches now shows the new one
    assert page_profile_id.get() == first.id and profiles.selected() == first


def test_select_without_a_page_leaves_no_page_profile(profiles):
    profiles.create("First")
    second = profiles.create("Second")
    assert profiles.select(second.id) == second
    assert page_profile_id.get() is None
    assert profiles._store[SELECTED_PROFILE_KEY] == second.id
    with pytest.raises(NotFound):
        profiles.select(99)
    assert profiles._store[SELECTED_PROFILE_KEY] == second.id


def test_a_page_showing_a_deleted_profile_is_out_of_date(profiles, shown):
    profiles.create("First")
    second = profiles.create("Second")
    profiles.delete(second.id)
    shown(second.id)
    with pytest.raises(PageOutOfDate) as stale:
        profiles.selected()
    assert stale.value.status_code == 409
    assert stale.value.message == (
        "This page was showing a profile that has since been deleted; nothing was done. "
        "The page now shows the current profile."
    )


@pytest.mark.parametrize("value", [0, -1])
def test_a_page_profile_that_is_not_an_id_is_400(profiles, shown, value):
    profiles.create("First")
    shown(value)
    with pytest.raises(UserError) as refused:
        profiles.selected()
    assert refused.value.status_code == 400
    assert refused.value.message == "The page named its profile in a form this app does not understand."


def test_the_page_that_deletes_its_own_profile_then_shows_the_selection(profiles, shown):
    first, second = profiles.create("First"), profiles.create("Second")
    profiles.select(first.id)
    shown(second.id)
    profiles.delete(second.id)
    assert page_profile_id.get() is None
    assert profiles.selected() == first
    shown(first.id)
    third = profiles.create("Third")
    profiles.delete(third.id)  # another page's profile: this page keeps its own
    assert page_profile_id.get() == first.id


def test_a_stored_selection_deleted_behind_our_back_falls_back_to_the_first(profiles):
    first, second = profiles.create("First"), profiles.create("Second")
    profiles.select(second.id)
    profiles._db.execute("DELETE FROM profiles WHERE id = ?", [second.id])  # another process did it
    assert profiles.stored_selection() == first
    assert profiles._store[SELECTED_PROFILE_KEY] == first.id


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        (None, None), ("", None), ("7", 7), (" 7 ", 7), ("007", 7), ("1" * 18, int("1" * 18)),
        ("1" * 19, 0), ("abc", 0), ("-1", 0), ("1.5", 0), ("٣", 0), ("0", 0), ("7 8", 0),
    ],
)
def test_parse_page_profile(header, parsed):
    assert parse_page_profile(header) == parsed
