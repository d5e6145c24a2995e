"""`sitegen repair [--apply]`: the importer's current text repair applied to the pages already in the site.

Each page is matched, by title, to the first digest entry that listed it (the digests kept in
content/digests/, in date order, as the importer took it). Its abstract is written again from that entry only
while it is the importer's text, which is told from a person's by what the importer left on the page:

- `auto_abstract` (sitegen.importer.stamps) still matches the abstract: nobody edited it since it was written;
- a page without `auto_abstract` (imported by a sitegen that kept none) counts as the importer's only if its
  abstract is exactly what that sitegen wrote (`clean_abstract(..., legacy=True)`).

Any other abstract is a person's and stays as it is, as do the notes below every abstract. `links:` is
rewritten with the abstract only while it lists exactly the abstract's links (as the importer writes it). A
repaired page records the new text's `auto_abstract`; an unchanged importer page without one gets it.

Without `--apply` nothing is written: the result lists each repair with the text around it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sitegen.content.frontmatter import set_field
from sitegen.content.model import load_digests
from sitegen.content.slugs import title_key
from sitegen.errors import Diagnostic, Report, display_path
from sitegen.importer.digest import DigestEntry, DigestError, read_digest
from sitegen.importer.rewrite import PageFile, autolinks, content_dir, read_pages, with_abstract, write_all
from sitegen.importer.stamps import AUTO_ABSTRACT, abstract_is_machine, abstract_stamp
from sitegen.text.clean import Cleaned, clean_abstract, clean_title


@dataclass(frozen=True, slots=True)
class AbstractChange:
    path: Path
    line: int
    old: str
    new: str
    repairs: tuple[str, ...]

    def __str__(self) -> str:
        """The first few differences, word by word, each with a little of the text around it."""
        old, new = _words(self.old), _words(self.new)
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        changed = [op for op in matcher.get_opcodes() if op[0] != "equal"]
        parts = [f'"{_around(old, a1, a2)}" -> "{_around(new, b1, b2)}"' for _, a1, a2, b1, b2 in changed[:3]]
        more = f" (and {len(changed) - 3} more)" if len(changed) > 3 else ""
        return f"{display_path(self.path)}:{self.line}: abstract: " + "; ".join(parts) + more


def _words(text: str) -> list[str]:
    return re.findall(r"\s+|[^\s]+", text)


def _around(words: list[str], start: int, end: int, context: int = 4) -> str:
    left, right = max(0, start - context), min(len(words), end + context)
    return ("…" if left else "") + "".join(words[left:right]) + ("…" if right < len(words) else "")


@dataclass(slots=True)
class RepairResult:
    pages: int = 0
    changes: list[AbstractChange] = field(default_factory=list)
    stamped: int = 0  # importer pages without auto_abstract, given one
    edited: int = 0  # abstracts a person edited that a repair would have changed: left alone
    unmatched: int = 0  # pages that no kept digest lists
    written: list[Path] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def summary(self, applied: bool) -> str:
        verb = "repaired" if applied else "would be repaired"
        line = f"repair: {len(self.changes)} of {self.pages} abstracts {verb}"
        if self.stamped:
            line += f"; {self.stamped} {'given' if applied else 'would get'} an auto_abstract record"
        line += f"; left alone: {self.edited} edited by hand, {self.unmatched} not in a kept digest"
        if not applied and (self.changes or self.stamped):
            line += "; run with --apply to write"
        return line


def _entries(digests_dir: Path, warnings: list[Diagnostic]) -> dict[str, DigestEntry]:
    """The first entry of each paper (by title key) in the kept digests, oldest digest first."""
    report = Report()
    records = load_digests(digests_dir, report)
    warnings += [d for d in report.diagnostics if d.severity == "warning"]
    sources: list[tuple[date, str]] = sorted(
        (day, name) for day, record in records.items() for name in record.sources
    )
    entries: dict[str, DigestEntry] = {}
    for _day, name in sources:
        path = digests_dir / name
        try:
            parsed = read_digest(path.read_bytes())
        except (OSError, DigestError) as exc:
            message = exc.message if isinstance(exc, DigestError) else f"cannot read: {exc.strerror}"
            warnings.append(Diagnostic(str(path), f"{message}; its papers are not repaired", 0, 0, "warning"))
            continue
        for entry in parsed.entries:
            key = title_key(clean_title(entry.title).text)
            if key and key not in entries:
                entries[key] = entry
    return entries


def _plan(page: PageFile, entry: DigestEntry, result: RepairResult) -> str | None:
    """The page's new text, or None to leave it as it is."""
    fields, abstract = page.doc.fields, page.abstract
    new: Cleaned = clean_abstract(entry.abstract)
    if AUTO_ABSTRACT in fields:
        machine = abstract_is_machine(fields, abstract)
    else:
        machine = abstract in (clean_abstract(entry.abstract, legacy=True).text, new.text)
    if not machine:
        result.edited += abstract != new.text
        return None
    text = page.text
    if abstract != new.text:
        result.changes.append(
            AbstractChange(page.path, page.doc.body_line, abstract, new.text, tuple(new.repairs))
        )
        text = with_abstract(page, text, new.text)
        links = fields.get("links")
        if isinstance(links, list) and [str(x) for x in links] == autolinks(abstract) and links != new.links:
            text = set_field(text, "links", new.links)
    elif AUTO_ABSTRACT not in fields:
        result.stamped += 1
    else:
        return None
    return set_field(text, AUTO_ABSTRACT, abstract_stamp(new.text))


def repair(root: Path, apply: bool = False) -> RepairResult:
    """Compute (and with `apply`, write) the repaired abstract of every page whose abstract is the importer's.
    Raises SitegenError (exit code 2) for a file that cannot be written."""
    content = content_dir(root)
    pages, warnings = read_pages(content / "papers", "repaired")
    result = RepairResult(pages=len(pages), diagnostics=warnings)
    entries = _entries(content / "digests", result.diagnostics)
    planned: list[tuple[PageFile, str]] = []
    for page in pages:
        entry = entries.get(title_key(clean_title(page.title).text)) if page.title else None
        if entry is None:
            result.unmatched += 1
            continue
        text = _plan(page, entry, result)
        if text is not None:
            planned.append((page, text))
    if apply:
        result.written = write_all(planned)
    return result
