"""Forms from type hints: each supported type becomes its field, and each bad value a sentence."""

from __future__ import annotations

import pytest

from pipulate import URL, PluginError, Workflow, step
from pipulate._workflows.fields import FieldError, parse_fields
from tests.support.plugins.sample_workflows import Kinds, Size

FIELDS = {f.name: f for f in Kinds.step_specs[0].fields}


def test_each_parameter_becomes_a_field_of_its_kind():
    kinds = {name: (f.kind, f.required) for name, f in FIELDS.items()}
    assert kinds == {
        "title": ("text", True), "pages": ("int", False), "ratio": ("float", False), "deep": ("bool", False),
        "mode": ("choice", False), "size": ("choice", False), "keywords": ("lines", False), "site": ("url", False),
        "notes": ("text", False),
    }
    assert FIELDS["pages"].minimum == 1 and FIELDS["pages"].maximum == 500
    assert [label for _, label in FIELDS["mode"].choices] == ["spider", "list"]
    assert [label for _, label in FIELDS["size"].choices] == ["Small", "Large"]
    assert FIELDS["notes"].multiline and FIELDS["title"].max_length == 40


def test_good_values_are_typed():
    values = parse_fields(FIELDS.values(), {
        "title": "  A  title ", "pages": "1,000".replace(",", "")[:3], "ratio": "0.25", "deep": "on", "mode": "list",
        "size": "l", "keywords": "seo\n\n  local  \nfirst", "site": "http://127.0.0.1:8000/x", "notes": "line 1\nline 2",
    })
    assert values == {
        "title": "A title", "pages": 100, "ratio": 0.25, "deep": True, "mode": "list", "size": Size.LARGE,
        "keywords": ["seo", "local", "first"], "site": "http://127.0.0.1:8000/x", "notes": "line 1\nline 2",
    }
    assert isinstance(values["site"], URL)


def test_defaults_fill_what_was_left_empty():
    values = parse_fields(FIELDS.values(), {"title": "x"})
    assert values == {"title": "x", "pages": 10, "ratio": 0.5, "deep": False, "mode": "spider", "size": Size.SMALL,
                      "keywords": [], "site": "https://example.com/", "notes": ""}


@pytest.mark.parametrize(
    "field, raw, message",
    [
        ("title", "", "Title is needed."),
        ("title", "x" * 41, "the limit is 40"),
        ("title", "\u202eevil", "right-to-left override"),
        ("title", "\u200b", "cannot be empty"),
        ("pages", "ten", "Pages must be a whole number."),
        ("pages", "0", "Pages must be at least 1."),
        ("pages", "501", "Pages must be at most 500."),
        ("pages", "1.5", "whole number"),
        ("pages", "9" * 40, "whole number"),
        ("ratio", "nan", "Ratio must be a number."),
        ("ratio", "inf", "Ratio must be a number."),
        ("ratio", "1.5", "Ratio must be at most 1."),
        ("deep", "maybe", "Deep must be on or off."),
        ("mode", "crawl", "Mode must be one of: spider, list."),
        ("size", "m", "Size must be one of: Small, Large."),
        ("site", "javascript:alert(1)", "must start with http:// or https://"),
        ("site", "ftp://example.com", "must start with http:// or https://"),
        ("site", "https://", "needs a host name"),
        ("site", "http://example.com:99999/", "port"),
        ("keywords", "ok\n\x00bad", "control characters"),
    ],
)
def test_bad_values_get_a_sentence_naming_the_field(field, raw, message):
    with pytest.raises(FieldError) as refused:
        parse_fields(FIELDS.values(), {"title": "ok", field: raw})
    assert message in refused.value.errors[field]
    assert refused.value.status_code == 422


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(FieldError) as refused:
        parse_fields(FIELDS.values(), {"title": "", "pages": "x", "site": "nope"})
    assert set(refused.value.errors) == {"title", "pages", "site"}


def test_types_a_form_cannot_ask_for_are_refused_naming_the_step():
    def bad(data: dict) -> str:
        return ""

    with pytest.raises(PluginError, match=r"step 'bad'.*parameter 'data' has the type"):
        class Bad(Workflow):
            name = "bad"
            steps = (step(bad),)


def test_a_step_taking_job_must_say_job_true():
    def slow(job) -> int:
        return 1

    with pytest.raises(PluginError, match=r"mark it @step\(job=True\)"):
        class Bad(Workflow):
            name = "bad2"
            steps = (slow,)


def test_parameters_named_after_earlier_steps_are_wired_not_asked():
    from tests.support.plugins.sample_workflows import Chain

    specs = {s.id: s for s in Chain.step_specs}
    assert specs["joined"].wired == ("pick",) and specs["joined"].fields == ()
    assert specs["shout"].wired == ("joined",) and [f.name for f in specs["shout"].fields] == ["times"]
