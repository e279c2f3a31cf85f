"""The one text cleaner: what a person may type, and what a model's text becomes."""

from __future__ import annotations

import pytest

from pipulate import UserError, clean_text
from pipulate._text import SurrogateJoiner, clean_model_text, is_visible


def check(value, **options):
    return clean_text(value, field="Title", max_length=options.pop("max_length", 50), **options)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("  buy   milk \n", "buy milk"),
        ("e\u0301t\u00e9", "\u00e9t\u00e9"),  # NFC: the same word typed two ways is one title
        ("日本語のタイトル", "日本語のタイトル"),
        ("emoji 🎉 ok", "emoji 🎉 ok"),
        ("עברית and English", "עברית and English"),  # right-to-left text itself is fine
        ("a\u200db", "a\u200db"),  # a zero-width joiner between letters (emoji sequences use it)
    ],
)
def test_accepted_text_is_normalised(value, expected):
    assert check(value) == expected


@pytest.mark.parametrize(
    "value, reason",
    [
        ("a\ud800b", "not valid Unicode"),
        ("\udfff", "not valid Unicode"),
        ("nul\x00byte", "control characters"),
        ("bell\x07", "control characters"),
        ("esc\x1b[31m", "control characters"),
        ("c1\x9b", "control characters"),
        ("del\x7f", "control characters"),
        ("\u202eevil", "right-to-left override"),
        ("a\u202ab", "right-to-left override"),
        ("x\u2066y\u2069", "right-to-left override"),
        ("", "cannot be empty"),
        ("   \n\t ", "cannot be empty"),
        ("\u200b\u200b\u200b", "cannot be empty"),  # zero-width spaces
        ("\u2060\ufeff\u00ad", "cannot be empty"),  # word joiner, BOM, soft hyphen
        ("\u3164\u115f", "cannot be empty"),  # Hangul fillers
        ("\u2800\u2800", "cannot be empty"),  # blank Braille pattern
        ("\u00a0\u2003\u3000", "cannot be empty"),  # other spaces
        ("\ufe0f\u034f", "cannot be empty"),  # variation selector, combining grapheme joiner
        ("x" * 51, "51 characters long; the limit is 50"),
        (5, "must be text"),
        (None, "must be text"),
        (["a"], "must be text"),
        (b"bytes", "must be text"),
    ],
)
def test_refused_text_says_why(value, reason):
    with pytest.raises(UserError, match=reason) as refused:
        check(value)
    assert refused.value.status_code == 422
    assert refused.value.message.startswith("Title ")


def test_multiline_keeps_line_breaks_but_not_trailing_space():
    assert check("one  \r\ntwo\r\rthree\n\n", multiline=True, max_length=100) == "one\ntwo\n\nthree"
    assert check("tab\tinside", multiline=True) == "tab\tinside"
    assert check("tab\tinside") == "tab inside"  # one-line text folds every run of white space


def test_the_limit_counts_characters_after_normalising():
    assert check("e\u0301" * 50) == "\u00e9" * 50


def test_visibility():
    assert is_visible("a") and is_visible("\u200ba") and is_visible("·")
    assert not is_visible("") and not is_visible("\u200b \u2060")


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("fine text", "fine text"),
        ("lone \ud800 high", "lone \ufffd high"),
        ("lone \udc00 low", "lone \ufffd low"),
        ("nul\x00 and bell\x07", "nul and bell"),
        ("crlf\r\nline", "crlf\nline"),
        ("\u202eevil", "evil"),
        ("e\u0301", "\u00e9"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
    ],
)
def test_model_text_is_cleaned_never_refused(raw, cleaned):
    assert clean_model_text(raw) == cleaned
    clean_model_text(raw).encode("utf-8")  # always encodable


def test_a_surrogate_pair_split_across_fragments_is_rejoined():
    joiner = SurrogateJoiner()
    out = joiner.feed("smile \ud83d") + joiner.feed("\ude00 done") + joiner.flush()
    assert out == "smile 😀 done"


def test_a_lone_half_at_the_end_becomes_a_replacement_character():
    joiner = SurrogateJoiner()
    assert joiner.feed("end \ud83d") == "end "
    assert joiner.flush() == "\ufffd"
    assert joiner.feed("\ude00x") == "\ufffdx"


def test_each_refusal_says_what_was_wrong():
    cases = {
        5: "Title must be text.",
        "a\ud800": "Title contains characters that are not valid Unicode; nothing was saved.",
        "a\x07b": "Title contains control characters; nothing was saved.",
        "\u202eevil": "Title contains a right-to-left override character, which would make it display "
                      "differently from what it says; nothing was saved.",
        "\u200b \u200b": "Title cannot be empty.",
        "x" * 1234: "Title is 1,234 characters long; the limit is 50. Nothing was saved.",
    }
    for value, message in cases.items():
        with pytest.raises(UserError) as refused:
            check(value)
        assert refused.value.message == message, value


@pytest.mark.parametrize("text", ["\u200b", "\u2060\ufeff", "\u0301", "\u3164", " \u00a0\u2028", ""])
def test_format_characters_combining_marks_and_fillers_alone_are_invisible(text):
    assert not is_visible(text)
    assert is_visible(text + "a")


@pytest.mark.parametrize("high", ["\ud800", "\udbff"])
def test_a_high_surrogate_at_either_end_of_its_range_waits_for_its_pair(high):
    joiner = SurrogateJoiner()
    assert joiner.feed("a" + high) == "a"
    low = "\udc00"
    pair = (high + low).encode("utf-16", "surrogatepass").decode("utf-16")
    assert joiner.feed(low + "b") == pair + "b"


def test_a_low_surrogate_at_the_end_is_not_held():
    joiner = SurrogateJoiner()
    assert joiner.feed("a\udc00") == "a\ufffd"
    assert joiner.flush() == ""
