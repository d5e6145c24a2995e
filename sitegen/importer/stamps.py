"""What the importer wrote on a page, noted in the page itself, so that later tools can tell its text from a
person's.

- `auto_tags: [a, b]`: the tags the importer (or `sitegen retag --apply`) gave. While `tags` still equals it,
  nobody edited the tags, and `sitegen retag` may change them; once they differ, they are the curator's.
- `auto_abstract: 1a2b3c4d5e6f`: a fingerprint of the abstract as the importer wrote it. While the abstract
  still has it, `sitegen repair` may write it again with a better repair; once edited, it is the curator's.

Both are front-matter fields (they travel with the page, unlike a cache) that the built site never shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sitegen.store.files import text_fingerprint

AUTO_TAGS = "auto_tags"
AUTO_ABSTRACT = "auto_abstract"


def abstract_stamp(abstract: str) -> str:
    """The fingerprint of an abstract (its text as the page holds it, surrounding blank lines aside)."""
    return text_fingerprint(abstract.strip(), 6)


def tags_are_machine(fields: Mapping[str, Any]) -> bool:
    """Whether a page's tags are still the ones the importer gave (recorded in `auto_tags`)."""
    auto, tags = fields.get(AUTO_TAGS), fields.get("tags")
    # (a page without `tags:` had them removed by hand: the importer always writes the line)
    if not isinstance(auto, list) or not isinstance(tags, list):
        return False
    return [str(t) for t in auto] == [str(t) for t in tags]


def abstract_is_machine(fields: Mapping[str, Any], abstract: str) -> bool:
    """Whether a page's abstract is still the one the importer wrote (recorded in `auto_abstract`)."""
    stamp = fields.get(AUTO_ABSTRACT)
    return isinstance(stamp, str) and stamp == abstract_stamp(abstract)
