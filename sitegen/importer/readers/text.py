"""Text helpers shared by the readers of structured sources: titles, abstracts with their TeX kept, and the
identifiers (arXiv ids, DOIs, dates) that sources write in many forms."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sitegen.content.model import is_web_link, parse_iso_date
from sitegen.text.clean import clean_title, escape_markdown, trim_url

# An arXiv identifier: new style (2501.08313) or old style (hep-th/9901001, math.GT/0309136), and a version.
_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_EXACT = re.compile(
    r"(?:arxiv:\s*|https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/|10\.48550/arxiv\.)?"
    + _ARXIV_ID
    + r"(?:\.pdf)?/?",
    re.IGNORECASE,
)
# An id inside prose ("arXiv preprint arXiv:1706.03762", "arXiv:2501.08313 [cs.CL]", a URL): only with an
# explicit arXiv mark, so that no other number is taken for one.
_ARXIV_MENTION = re.compile(
    r"(?:arxiv:\s*|arxiv\.org/(?:abs|pdf)/|10\.48550/arxiv\.)" + _ARXIV_ID + r"(?!\w|\.\d)", re.IGNORECASE
)
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:$|[T ])")


def arxiv_id(value: Any) -> str | None:
    """The arXiv id (without its version) that `value` is: a bare id, "arXiv:ID", an abs or PDF URL, or
    arXiv's own DOI 10.48550/arXiv.ID; None for anything else."""
    if not isinstance(value, str):
        return None
    match = _ARXIV_EXACT.fullmatch(value.strip())
    return _old_style_case(match.group(1)) if match else None


def find_arxiv(value: Any) -> str | None:
    """The first arXiv id that `value` mentions with an arXiv mark ("arXiv:ID", an arxiv.org URL)."""
    if not isinstance(value, str):
        return None
    match = _ARXIV_MENTION.search(value)
    return _old_style_case(match.group(1)) if match else None


def _old_style_case(found: str) -> str:
    """Old-style ids are lower case but for the subject class ("math.GT/0309136"); IGNORECASE let in any."""
    if "/" not in found:
        return found
    archive, number = found.split("/")
    head, dot, subject = archive.partition(".")
    return f"{head.lower()}{dot}{subject.upper()}/{number}"


def doi(value: Any) -> str | None:
    """The DOI `value` holds ("10.1000/x", "doi:10.1000/x", "https://doi.org/10.1000/x"), else None."""
    if not isinstance(value, str):
        return None
    text = _DOI_PREFIX.sub("", value.strip(), count=1)
    return text if _DOI.fullmatch(text) else None


def iso_day(value: Any) -> date | None:
    """The day of an ISO date or timestamp ("2025-01-14", "2025-01-14T16:28:39.000Z"), as written."""
    if not isinstance(value, str):
        return None
    match = _ISO_DAY.match(value.strip())
    return parse_iso_date(match.group(1)) if match else None


def full_date(year: Any, month: Any, day: Any) -> date | None:
    """A date from its parts (numbers or digit strings), if all three make one."""
    try:
        return date(int(year), int(month), int(day))
    except (TypeError, ValueError, OverflowError):
        return None


def split_keywords(value: Any) -> list[str]:
    """Keywords from a list of strings or a string separated by commas or semicolons, without repeats."""
    items = value if isinstance(value, list) else re.split(r"[,;]", value) if isinstance(value, str) else []
    words = (" ".join(item.split()) for item in items if isinstance(item, str))
    return list(dict.fromkeys(word for word in words if word))


def plain_title(raw: str, line: int) -> tuple[str, list[tuple[int, str]]]:
    """A title as plain text, through the same repairs as a digest's, so that both give the same title key;
    and what the repair left as it is (as ImportedEntry.leftovers, at `line`), for the import to report."""
    cleaned = clean_title(raw)
    return cleaned.text, [(line, leftover) for leftover in cleaned.leftovers]


def name(raw: str) -> str:
    """A person's name with its spacing normalised."""
    return " ".join(raw.split())


# --- abstracts ----------------------------------------------------------------------------------------------

# Math as Markdown math extensions read it: $$...$$, $...$ (no space inside the dollars, no digit after the
# closing one: "$5 and $10" is money), \(...\) and \[...\].
_MATH = re.compile(
    r"\$\$.+?\$\$"
    r"|(?<![\\$])\$(?=[^\s$])(?:[^$\\]|\\.)+?(?<=[^\s\\])\$(?![\d$])"
    r"|\\\(.+?\\\)|\\\[.+?\\\]"
)
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_HOLE = re.compile("\x00(\\d+)\x00")


def markdown_abstract(raw: str) -> tuple[str, list[str]]:
    """An abstract from a structured source as one Markdown paragraph, and the links it holds.

    Its TeX is kept as written (math spans verbatim, for math rendering); outside math, what Markdown would
    read as markup is escaped and URLs become autolinks. Line breaks are spaces: a blank line would end the
    abstract (the rest of a page's body is the curator's notes)."""
    text = " ".join(_CONTROL.sub("", raw).split())
    kept: list[str] = []
    links: list[str] = []

    def hole(value: str) -> str:
        kept.append(value)
        return f"\x00{len(kept) - 1}\x00"

    def url(match: re.Match[str]) -> str:
        found = trim_url(match.group())
        rest = match.group()[len(found) :]
        if not is_web_link(found):
            return match.group()
        links.append(found)
        return hole(f"<{found}>") + rest

    text = _MATH.sub(lambda m: hole(m.group()), text)
    text = _URL.sub(url, text)
    text = escape_markdown(text)
    text = _HOLE.sub(lambda m: kept[int(m.group(1))], text)
    return text, list(dict.fromkeys(links))


def add_links(links: list[str], *more: Any) -> list[str]:
    """`links` and then each of `more` that is an http(s) URL not already there."""
    out = list(links)
    for item in more:
        if is_web_link(item) and item not in out:
            out.append(item)
    return out
