"""Control fields (`@@+FAX:…@@`, TAG, PRIO, NOTIFY) found in the text of printed pages.

Pure: `find_sections(page_texts, matchers)` reads the text of each page as a text extractor
gave it and says which pages go to which number with which tag, priority and notification
address. See `faxgate.controlfields.matching`.
"""

from faxgate.controlfields.matching import (
    FieldMatchers,
    FieldProblem,
    Section,
    SectionsFound,
    find_sections,
)
from faxgate.controlfields.normalise import letter_spacing_collapsed, page_text_variants

__all__ = [
    "FieldMatchers",
    "FieldProblem",
    "Section",
    "SectionsFound",
    "find_sections",
    "letter_spacing_collapsed",
    "page_text_variants",
]
