"""JSON from clients, parsed with limits: how deep it nests, how long its numbers are.

Python's parser recurses once per `[` or `{` and gives up with RecursionError (not ValueError)
around a thousand levels, and refuses integers past 4,300 digits with ValueError. Both are the
client's fault, so both become `BadJSON` with a readable reason, checked before parsing.
"""

from __future__ import annotations

import json
import re

MAX_DEPTH = 64  # far beyond any form or frame this app reads
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


class BadJSON(ValueError):
    """The message says what was wrong, for the client."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, not counting brackets in strings."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads_limited(text: str, max_depth: int = MAX_DEPTH):
    """`json.loads`, refusing deep nesting and numbers Python will not read, as `BadJSON`."""
    if nesting_depth(text) > max_depth:
        raise BadJSON(f"The JSON is nested more than {max_depth} levels deep.")
    try:
        return json.loads(text)
    except RecursionError:  # not reached after the depth check; kept as a second guard
        raise BadJSON(f"The JSON is nested more than {max_depth} levels deep.") from None
    except ValueError as error:  # JSONDecodeError, or an integer with too many digits
        raise BadJSON(f"That is not valid JSON ({_short(error)}).") from None


def _short(error: ValueError) -> str:
    text = str(error)
    return text if len(text) <= 120 else text[:117] + "..."
