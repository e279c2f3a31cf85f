"""JSON from clients: nesting is measured without counting brackets inside strings, and what
Python cannot parse becomes BadJSON with a short reason, never RecursionError."""

from __future__ import annotations

import pytest

from pipulate._json_input import MAX_DEPTH, BadJSON, loads_limited, nesting_depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("", 0),
        ("1", 0),
        ("[]", 1),
        ("{}", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ("[[]] [[[]]]", 3),  # the deepest point counts, not the total
        ("[[]], [], [[]]", 2),
        ('["[[[[", "]]]]", "{{"]', 1),  # brackets in strings do not count
        ('["a \\" [[[ still in the string"]', 1),  # nor after an escaped quote
        ('{"k": "\\\\"} [', 1),  # an escaped backslash: the quote after it ends the string
        ("]]][", 0),  # closing brackets never count below zero deep
    ],
)
def test_nesting_depth(text, depth):
    assert nesting_depth(text) == depth


def test_up_to_the_limit_parses_and_one_more_level_is_refused():
    assert loads_limited("[" * MAX_DEPTH + "]" * MAX_DEPTH) == eval("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    with pytest.raises(BadJSON) as refused:
        loads_limited("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert str(refused.value) == "The JSON is nested more than 64 levels deep."
    with pytest.raises(BadJSON, match="^The JSON is nested more than 3 levels deep.$"):
        loads_limited('{"a": {"b": {"c": {}}}}', max_depth=3)
    assert loads_limited('{"a": {"b": {}}}', max_depth=3) == {"a": {"b": {}}}


def test_a_deep_body_is_refused_before_the_parser_recurses():
    with pytest.raises(BadJSON, match="nested more than 64 levels"):
        loads_limited("[" * 200_000)


def test_what_is_not_json_says_where():
    with pytest.raises(BadJSON) as refused:
        loads_limited('{"a": }')
    assert str(refused.value) == "That is not valid JSON (Expecting value: line 1 column 7 (char 6))."


def test_a_number_python_will_not_read_is_bad_json_with_a_short_reason():
    with pytest.raises(BadJSON) as refused:
        loads_limited("1" * 5000)
    message = str(refused.value)
    assert message.startswith("That is not valid JSON (Exceeds the limit (4300 digits) for integer string conversion")
    reason = message[len("That is not valid JSON ("):-len(").")]
    assert len(reason) == 120 and reason.endswith("...")  # cut to 117 characters and "..."


def test_a_reason_of_exactly_120_characters_is_kept_whole():
    from pipulate._json_input import _short

    assert _short(ValueError("x" * 120)) == "x" * 120
    assert _short(ValueError("x" * 121)) == "x" * 117 + "..."
