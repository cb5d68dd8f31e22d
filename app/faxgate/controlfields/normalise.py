"""Undo what printer drivers and text extractors do to the text of a control field.

Drivers render `@@+FAX:0991 234@@` in many ways: split over two lines, with non-breaking or
zero-width spaces, with soft hyphens, in a compatibility form (full-width `＠`), or letter-spaced
so that the extractor returns `@ @ + F A X : 0 9 9 1 @ @` (one glyph per word). White text is
text like any other. Each page is therefore matched in up to two readings: the text with line
breaks and odd spaces made plain spaces, and the same text with letter-spacing collapsed.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that take no room or only hint a break: dropped.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[^\S\n]+")  # any run of whitespace except line breaks
_TOKENS = re.compile(r"(\s+)")


def plain_text(text: str) -> str:
    """Compatibility forms folded, invisible characters dropped, every whitespace run one space."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = text.replace("\r", "\n").replace("\f", "\n")
    # A field broken over lines is one field: line breaks become spaces too.
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


def letter_spacing_collapsed(text: str) -> str:
    """Runs of single characters separated by single spaces joined into words.

    `@ @ + F A X : 0 9 9 1 @ @` becomes `@@+FAX:0991@@`; a wider gap (two or more spaces, a
    tab or a line break) stays a word boundary, shown as one space.
    """
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    words = [part for index, part in enumerate(_TOKENS.split(text)) if index % 2 == 0]
    gaps = [part for index, part in enumerate(_TOKENS.split(text)) if index % 2 == 1]
    out = words[0] if words else ""
    for gap, previous, word in zip(gaps, words, words[1:], strict=False):
        # A single space between two single characters is letter-spacing, not a word gap.
        joined = gap == " " and len(previous) == 1 and len(word) == 1
        out += word if joined else " " + word
    return re.sub(r" +", " ", out).strip()


def page_text_variants(text: str) -> list[str]:
    """The readings of one page to match, most literal first (duplicates removed)."""
    plain = plain_text(text)
    collapsed = letter_spacing_collapsed(text)
    return [plain] if collapsed == plain else [plain, collapsed]
