"""Reading every page for a command that rewrites some of them (`sitegen retag`, `sitegen repair`), and
writing back only the characters that change: the rest of each file (comments, quoting, line endings, a
byte-order mark, the curator's notes) stays as it was. Nothing is written until every change is known."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sitegen.config import load_config, site_path
from sitegen.content.frontmatter import Document, FrontMatterError, decode, parse
from sitegen.content.model import split_body
from sitegen.errors import Diagnostic, SitegenError
from sitegen.store.files import write_if_changed


@dataclass(slots=True)
class PageFile:
    path: Path
    text: str  # the file's text, newlines as LF
    doc: Document
    crlf: bool
    bom: bool

    @property
    def title(self) -> str | None:
        title = self.doc.fields.get("title")
        return title if isinstance(title, str) and title.strip() else None

    @property
    def abstract(self) -> str:
        return split_body(self.doc.body)[0]

    def line(self, key: str) -> int:
        return self.doc.key_positions.get(key, (1, 1))[0]

    def encode(self, text: str) -> bytes:
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return (b"\xef\xbb\xbf" if self.bom else b"") + text.encode("utf-8")


def content_dir(root: Path) -> Path:
    if not Path(root).is_dir():
        raise SitegenError(Diagnostic(str(root), "site folder does not exist"))
    return site_path(root, load_config(root).content_dir)


def read_pages(papers_dir: Path, command: str) -> tuple[list[PageFile], list[Diagnostic]]:
    """Every page that parses; a warning for each one that does not (it is left alone)."""
    pages: list[PageFile] = []
    warnings: list[Diagnostic] = []
    for path in sorted(papers_dir.glob("*.md")):
        try:
            raw = path.read_bytes()
            text, bom = decode(raw)
            pages.append(PageFile(path, text, parse(text), b"\r\n" in raw, bom))
        except FrontMatterError as exc:
            warnings.append(
                Diagnostic(str(path), f"{exc.message}; not {command}", exc.line, exc.col, "warning")
            )
        except OSError as exc:
            warnings.append(
                Diagnostic(str(path), f"cannot read: {exc.strerror}; not {command}", 0, 0, "warning")
            )
    return pages, warnings


def with_abstract(page: PageFile, text: str, abstract: str) -> str:
    """`text` (the page's text, maybe with front-matter edits) with the abstract replaced by `abstract`; the
    notes below it stay byte for byte."""
    body = page.doc.body
    old = page.abstract
    at = body.find(old) if old else len(body) - len(body.lstrip())
    new_body = body[:at] + abstract + body[at + len(old) :]
    if not old and body[at:].strip():
        new_body = body[:at] + abstract + "\n\n" + body[at:]
    elif not body.strip():
        new_body = abstract + "\n"
    return text[: len(text) - len(body)] + new_body


def autolinks(markdown: str) -> list[str]:
    """The `<https://...>` links of an abstract, in order, without repeats: what the importer lists."""
    return list(dict.fromkeys(re.findall(r"<(https?://[^<>\s]+)>", markdown)))


def write_all(planned: list[tuple[PageFile, str]]) -> list[Path]:
    """Write each page whose text changed (atomically, one file at a time); the paths written."""
    written = []
    for page, text in planned:
        try:
            if write_if_changed(page.path, page.encode(text)):
                written.append(page.path)
        except OSError as exc:
            raise SitegenError(
                Diagnostic(str(page.path), f"cannot write: {exc.strerror or exc}"), exit_code=2
            ) from None
    return written
