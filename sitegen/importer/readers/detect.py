"""Which reader a file needs, told from its first bytes (never from its name): JSON (Hugging Face daily papers
or CSL-JSON, told apart by their first item), XML (an arXiv Atom feed), BibTeX, or else digest text."""

from __future__ import annotations

import re

_JSON = re.compile(r'\[\s*(?:[\[\]{"]|$)|\{\s*(?:["}]|$)')
_XML = re.compile(r"<(?:\?xml|!--|[A-Za-z_])")
_BIBTEX = re.compile(r"(?:[ \t]*(?:%[^\n]*)?\n)*[ \t]*@\s*[A-Za-z]+\s*[{(]")


def detect(head: bytes) -> str:
    """ "json", "xml", "bibtex" or "digest", from the first bytes of a file."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "digest"  # UTF-16: only digests are saved that way (decode_digest reads it)
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace").replace("\r\n", "\n")
    start = text.lstrip()
    if _JSON.match(start):
        return "json"
    if _XML.match(start):
        return "xml"
    if _BIBTEX.match(text.lstrip("\n")):
        return "bibtex"
    return "digest"
