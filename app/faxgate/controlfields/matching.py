"""Which pages go where: control fields per page, and a document split at each FAX field.

The ERP serial letter: one PDF holds many letters, each with its own `@@+FAX:…@@` on its first
page. Each FAX field starts a section that runs up to the page before the next FAX field; the
pages before the first field belong to the first section. Several FAX fields on one page send
that section to several numbers. TAG, PRIO and NOTIFY apply to the section they are found in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from faxgate.controlfields.normalise import page_text_variants
from faxgate.numbers import NumberError, normalise
from faxgate.settings.regex_notation import Matcher

MAX_PRIORITY = 255
_EMAIL = re.compile(r"\A[^@\s]+@[^@\s]+\.[^@\s]+\Z")


@dataclass(frozen=True)
class FieldMatchers:
    """The four matcher settings (`faxprint.matcher.fax|jobtag|priority|notify`)."""

    fax: Matcher
    tag: Matcher
    priority: Matcher
    notify: Matcher


@dataclass(frozen=True)
class FieldProblem:
    page: int  # 1-based
    message: str  # plain words for the notification


@dataclass(frozen=True)
class Section:
    """Pages first_page..last_page (1-based, inclusive) go to `numbers`."""

    first_page: int
    last_page: int
    numbers: tuple[str, ...]  # normalised digits
    written: tuple[str, ...]  # as found in the document, for logs and notifications
    tag: str | None = None
    priority: int | None = None
    notify: str | None = None


@dataclass(frozen=True)
class SectionsFound:
    sections: list[Section] = field(default_factory=list)
    problems: list[FieldProblem] = field(default_factory=list)
    fax_fields: int = 0  # FAX fields seen, usable or not


def _values(matcher: Matcher, text: str) -> list[str]:
    for variant in page_text_variants(text):
        found = [value.strip() for value in matcher.all_values(variant)]
        if found:
            return found
    return []


def find_sections(page_texts: Sequence[str], matchers: FieldMatchers) -> SectionsFound:
    """Sections and the problems of the fields found in `page_texts` (one string per page)."""
    problems: list[FieldProblem] = []
    fax_pages: list[tuple[int, list[str]]] = []
    for page, text in enumerate(page_texts, 1):
        values = _values(matchers.fax, text)
        if values:
            fax_pages.append((page, values))
    sections: list[Section] = []
    for index, (page, written) in enumerate(fax_pages):
        first = 1 if index == 0 else page
        last = fax_pages[index + 1][0] - 1 if index + 1 < len(fax_pages) else len(page_texts)
        numbers: list[str] = []
        for value in written:
            try:
                numbers.append(normalise(value))
            except NumberError as exc:
                problems.append(FieldProblem(page, f"page {page}: the fax number field {exc}"))
        texts = page_texts[first - 1 : last]
        tag = _first(matchers.tag, texts)
        notify = _first(matchers.notify, texts)
        priority_text = _first(matchers.priority, texts)
        priority: int | None = None
        if priority_text is not None:
            if priority_text.isdigit() and int(priority_text) <= MAX_PRIORITY:
                priority = int(priority_text)
            else:
                problems.append(FieldProblem(
                    page, f"pages {first}-{last}: PRIO {priority_text!r} is not a number from 0 to 255"
                ))  # fmt: skip
        if notify is not None and not _EMAIL.match(notify):
            problems.append(FieldProblem(
                page, f"pages {first}-{last}: NOTIFY {notify!r} is not an e-mail address"
            ))  # fmt: skip
            notify = None
        if numbers:
            sections.append(
                Section(first, last, tuple(numbers), tuple(written), tag, priority, notify)
            )
    return SectionsFound(sections, problems, sum(len(values) for _, values in fax_pages))


def _first(matcher: Matcher, texts: Sequence[str]) -> str | None:
    for text in texts:
        values = _values(matcher, text)
        if values:
            return values[0]
    return None
