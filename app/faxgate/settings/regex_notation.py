"""The vendor's `/pattern/flags` notation for matcher settings.

The documented values look like `/@@\\+FAX:\\s*(.*?)\\s*@@/` and `/||(\\d+)@.*/`: a regular
expression between slashes, optionally followed by flags (i: ignore case, m: multi-line,
s: dot matches newline, x: verbose). The first capturing group that took part in the match is
the value ("the first pair of brackets indicates the position of the number").

Matching tries a whole-string match first and then a search: a whole-string match lets an
empty alternative (as in the documented `/||(\\d+)@.*/`) give way to the alternative that
captures, while a search finds fields inside a document's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_NOTATION = re.compile(r"\A/(?P<body>.*)/(?P<flags>[imsx]*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Matcher:
    """A compiled matcher setting."""

    source: str
    pattern: re.Pattern[str]

    def first_group(self, text: str) -> str | None:
        """The first participating group of a whole-string match, else of the first search hit."""
        match = self.pattern.fullmatch(text) or self.pattern.search(text)
        return _first_group(match) if match else None

    def all_values(self, text: str) -> list[str]:
        """Every value found in `text`, in order (for documents with several fields)."""
        return [
            value for m in self.pattern.finditer(text) if (value := _first_group(m)) is not None
        ]


def _first_group(match: re.Match[str]) -> str | None:
    for value in match.groups():
        if value is not None:
            return value
    return None


def parse_matcher(value: str) -> Matcher:
    """Compile `/pattern/flags`; ValueError with a plain reason when it is not usable."""
    found = _NOTATION.match(value.strip())
    if not found:
        raise ValueError("must be written as /pattern/ (a regular expression between slashes)")
    flags = 0
    for letter in found["flags"]:
        flags |= _FLAGS[letter]
    try:
        pattern = re.compile(found["body"], flags)
    except re.error as exc:
        raise ValueError(f"is not a valid regular expression: {exc}") from exc
    except (OverflowError, RecursionError) as exc:
        # re's parser raises these, not re.error, for huge repeat counts or deep nesting
        raise ValueError("is not a usable regular expression: it is too large") from exc
    if pattern.groups < 1:
        raise ValueError("needs a pair of brackets ( ) around the part to take")
    return Matcher(source=value.strip(), pattern=pattern)
