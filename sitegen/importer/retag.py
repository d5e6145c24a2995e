"""`sitegen retag [--apply]`: the taxonomy's current rules applied to the pages already in the site.

A page's tags change only while they are the importer's: its `tags` still equal its `auto_tags`
(sitegen.importer.stamps). Tags a person edited are never touched. A page imported by a sitegen that kept no
`auto_tags` has no such record; `--adopt OLD_TAXONOMY` takes its tags as the importer's when they are exactly
what the rules of that older taxonomy file give it (the rules it was imported with), and records them.

Without `--apply` nothing is written: the result lists the change each page would get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sitegen.content.frontmatter import set_field
from sitegen.content.taxonomy import Taxonomy, assign_tags, load_taxonomy
from sitegen.errors import Diagnostic, SitegenError, display_path
from sitegen.importer.rewrite import PageFile, content_dir, read_pages, write_all
from sitegen.importer.stamps import AUTO_TAGS, tags_are_machine
from sitegen.importer.tagging import Tagged, tag_papers


@dataclass(frozen=True, slots=True)
class TagChange:
    path: Path
    line: int
    old: list[str]
    new: list[str]

    def __str__(self) -> str:
        gone = [f"-{t}" for t in self.old if t not in self.new]
        added = [f"+{t}" for t in self.new if t not in self.old]
        what = " ".join(gone + added) or "order"
        return (
            f"{display_path(self.path)}:{self.line}: tags [{', '.join(self.old)}] -> [{', '.join(self.new)}]"
            f"  ({what})"
        )


@dataclass(slots=True)
class RetagResult:
    pages: int = 0
    changes: list[TagChange] = field(default_factory=list)
    adopted: int = 0  # pages without auto_tags whose tags were taken as the importer's (--adopt)
    edited: int = 0  # pages whose tags a person edited: left alone
    unrecorded: int = 0  # pages with no auto_tags (imported by an older sitegen): left alone
    written: list[Path] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def summary(self, applied: bool) -> str:
        verb = "changed" if applied else "would change"
        line = f"retag: {len(self.changes)} of {self.pages} pages {verb}"
        if self.adopted:
            line += (
                f"; {self.adopted} {'recorded' if applied else 'would be recorded'} as the importer's tags"
            )
        line += f"; left alone: {self.edited} with tags edited by hand, {self.unrecorded} with no auto_tags"
        if self.unrecorded:
            line += " (see --adopt)"
        if not applied and (self.changes or self.adopted):
            line += "; run with --apply to write"
        return line


def _taxonomy(path: Path, missing: str = "no taxonomy file: there are no rules to retag with") -> Taxonomy:
    if not path.is_file():
        raise SitegenError(Diagnostic(str(path), missing))
    result = load_taxonomy(path)
    if result.errors:
        raise SitegenError(result.diagnostics, exit_code=2)
    return result.taxonomy


def _tag_list(page: PageFile) -> list[str] | None:
    tags = page.doc.fields.get("tags")
    return [str(t) for t in tags] if isinstance(tags, list) else None


def retag(root: Path, apply: bool = False, adopt: Path | None = None) -> RetagResult:
    """Compute (and with `apply`, write) the tags the current rules give to every page whose tags are the
    importer's. Raises SitegenError (exit code 2) for a taxonomy with errors or a page that cannot be
    written."""
    content = content_dir(root)
    taxonomy = _taxonomy(content / "taxonomy.yaml")
    old_rules = _taxonomy(adopt, "no such taxonomy file to --adopt from") if adopt is not None else None
    pages, warnings = read_pages(content / "papers", "retagged")
    result = RetagResult(pages=len(pages), diagnostics=warnings)
    machine: list[tuple[PageFile, bool]] = []  # (page, adopted)
    tagged: list[Tagged] = []  # the curator's tags: neighbours for the papers no rule matches
    for page in pages:
        tags, title = _tag_list(page), page.title
        if title is None:
            continue
        if tags_are_machine(page.doc.fields):
            machine.append((page, False))
            continue
        if AUTO_TAGS not in page.doc.fields and tags is not None:
            if old_rules is not None and tags == assign_tags(old_rules, title, page.abstract):
                machine.append((page, True))
                continue
            result.unrecorded += 1
        else:
            result.edited += 1
        if tags:
            tagged.append((title, page.abstract, tags))
    texts = [(page.title or "", page.abstract) for page, _ in machine]
    planned: list[tuple[PageFile, str]] = []
    for (page, adopted), new in zip(machine, tag_papers(taxonomy, texts, tagged), strict=True):
        old = _tag_list(page) or []
        if new != old:
            result.changes.append(TagChange(page.path, page.line("tags"), old, new))
        result.adopted += adopted
        if new != old or adopted:
            planned.append((page, set_field(set_field(page.text, "tags", new), AUTO_TAGS, new)))
    if apply:
        result.written = write_all(planned)
    return result
