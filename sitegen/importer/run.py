"""`sitegen import`: files of papers -> paper pages, one order record per digest date, and copies of the
digests.

The files may be digest text, Hugging Face daily-papers JSON, arXiv Atom, BibTeX or CSL-JSON, mixed in one
call: each is told by its content and read into ImportedEntry records (sitegen.importer.readers). The import
reads and checks every input first (all files, the taxonomy, existing pages and records) and refuses the
whole run, writing nothing, if any file is unusable. Only then does it write, each file atomically and only
if its bytes change, so that importing the same file twice changes nothing at all.

One paper is one page whatever the source: an entry is matched to a page by arXiv id first (any version), then
by DOI, then by title key. An existing page is never rewritten: an import only appends a digest date to its
`digests:` list (in the list's own style) and adds the fields it lacks (`arxiv`, `authors`, `published`,
`doi`, `upvotes`). On a page's very first import (a hand-made page without `digests:`), absent `tags` and
`links` are filled in and an empty body gets the abstract; once a page has `digests` (an empty list for a
paper from a reference library), a missing `tags:` line means the curator removed it, and it stays removed.

Digest text is repaired as it is read (sitegen.text.clean, in readers/digest_text.py); the titles of the other
sources go through the same repair. What still looks damaged is a warning with its file and line, and each
digest gets a repair report beside its kept copy (sitegen.importer.repairlog). Tags come from the taxonomy's
rules, or for a paper no rule matches, from the most similar tagged pages (sitegen.importer.tagging). The
importer notes on a page what it wrote (sitegen.importer.stamps): `auto_tags`, and `auto_abstract` for an
abstract from a digest, so that `sitegen retag` and `sitegen repair` can later tell its text from a person's.

A site without content/taxonomy.yaml gets sitegen's default taxonomy written there by its first import, so
that papers are tagged and the curator has a file to edit.

Size: the import run in its three stages (read and check everything, plan, write) over every source kind; each
stage is a function, and they share the page and record types defined here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sitegen.config import load_config, site_path
from sitegen.content.frontmatter import (
    FrontMatterError,
    add_list_item,
    decode,
    dump,
    dump_fields,
    insert_field,
    parse,
)
from sitegen.content.model import parse_iso_date, parse_record, split_body
from sitegen.content.slugs import title_key, unique_slug
from sitegen.content.taxonomy import Taxonomy, default_taxonomy, load_taxonomy, parse_taxonomy
from sitegen.errors import Diagnostic, Report, SitegenError, display_path, plural
from sitegen.importer.readers import KIND_NAMES, Dating, ImportedEntry, ReaderError, SourceFile, read_file
from sitegen.importer.readers.text import arxiv_id, doi
from sitegen.importer.repairlog import RepairLog, report_path, report_text
from sitegen.importer.stamps import AUTO_ABSTRACT, AUTO_TAGS, abstract_stamp
from sitegen.importer.tagging import Tagged, tag_papers
from sitegen.store.files import remove_leftovers, write_if_changed
from sitegen.text.clean import clean_title, describe

PAGE_FIELDS = ("title", "slug", "digests", "tags", "links")
#: The fields an import adds to a page that lacks them, in the order a new page has them.
ADDED_FIELDS = ("arxiv", "authors", "published", "doi", "upvotes")
#: The kinds of source that list papers by digest date, and the order files are taken in: when one call
#: brings a new paper from several files, its page is made from the richest (the others add what it lacks).
DIGEST_KINDS = ("digest", "hf")
_ORDER = ("hf", "atom", "csl", "bibtex", "digest")


@dataclass(slots=True)
class ImportResult:
    """What an import did. `diagnostics`: the anomalies found in the inputs (warnings, with file:line).
    `sources`: the files read, by kind (see readers.KIND_NAMES); `digests` counts the digest text files."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    digests: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    listed: int = 0
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    repaired: int = 0
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)  # temporary files left by killed imports
    scaffolded: Path | None = None  # the default taxonomy, written because the site had none

    @property
    def anomalies(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "warning")

    def _files(self) -> str:
        if set(self.sources) <= {"digest"}:
            return plural(self.digests, "digest")
        return ", ".join(
            plural(count, *KIND_NAMES[kind]) for kind in KIND_NAMES if (count := self.sources.get(kind, 0))
        )

    def summary(self) -> str:
        line = (
            f"{self._files()} read, {plural(self.listed, 'paper')} listed: {len(self.new)} new, "
            f"{len(self.updated)} updated, {len(self.unchanged)} unchanged; "
            f"{self.repaired} with repaired text; {plural(self.anomalies, 'anomaly', 'anomalies')}"
        )
        if self.removed:
            line += f"; {plural(len(self.removed), 'temporary file')} of a killed import removed"
        if self.scaffolded is not None:
            line += f"; default tags written to {display_path(self.scaffolded)}"
        return line


@dataclass(slots=True)
class _Page:
    """A page that exists or will exist. For an existing page, `text` is its file as read (newlines as LF).

    What this import brings to it: `add_dates` (digest dates), `add` (fields it lacks, by name), and from the
    first entry that has them, the text a new page (or a hand-made page's first import) is written from;
    `scraped`: that abstract is a digest's; `tags`: the tags it gets, if the importer gives it tags."""

    key: str
    slug: str
    path: Path
    new: bool
    fields: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    text: str = ""
    crlf: bool = False
    bom: bool = False
    add_dates: list[str] = field(default_factory=list)
    add: dict[str, Any] = field(default_factory=dict)
    first: ImportedEntry | None = None
    abstract: str = ""
    links: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    scraped: bool = False
    tags: list[str] | None = None

    def arxiv(self) -> str | None:
        """The page's arXiv id (without a version), or the one this import adds."""
        return arxiv_id(self.fields.get("arxiv")) or self.add.get("arxiv")

    def take(self, entry: ImportedEntry) -> None:
        """What `entry` brings: text if none came yet, and every field the page lacks."""
        if self.first is None:
            self.first, self.scraped = entry, entry.scraped
        if not self.abstract and entry.abstract:
            self.abstract, self.scraped = entry.abstract, entry.scraped
        self.links += [url for url in entry.links if url not in self.links]
        self.keywords += [word for word in entry.keywords if word not in self.keywords]
        for name in ADDED_FIELDS:
            value = getattr(entry, name)
            if value is None or value == [] or name in self.fields or name in self.add:
                continue
            self.add[name] = value.isoformat() if isinstance(value, date) else value


class _Index:
    """Pages by arXiv id, by DOI (lower case) and by title key: how an entry finds its page. `pages`: every
    page, by path."""

    def __init__(self) -> None:
        self.by_arxiv: dict[str, _Page] = {}
        self.by_doi: dict[str, _Page] = {}
        self.by_key: dict[str, _Page] = {}
        self.pages: dict[str, _Page] = {}

    def add(self, page: _Page) -> None:
        """Index `page` under its ids (an id already taken stays with its first page)."""
        self.pages[str(page.path)] = page
        self.by_key.setdefault(page.key, page)
        if (arxiv := page.arxiv()) is not None:
            self.by_arxiv.setdefault(arxiv, page)
        if (found := doi(page.fields.get("doi")) or page.add.get("doi")) is not None:
            self.by_doi.setdefault(found.lower(), page)

    def find(self, entry: ImportedEntry, key: str) -> tuple[_Page | None, _Page | None]:
        """(the page of `entry`, None) or (None, a page of the same title but another arXiv id)."""
        if entry.arxiv is not None and entry.arxiv in self.by_arxiv:
            return self.by_arxiv[entry.arxiv], None
        if entry.doi is not None and entry.doi.lower() in self.by_doi:
            return self.by_doi[entry.doi.lower()], None
        page = self.by_key.get(key)
        if page is not None and entry.arxiv is not None and page.arxiv() not in (None, entry.arxiv):
            return None, page
        return page, None


# --- reading and checking inputs ----------------------------------------------------------------------------


def _read_sources(files: Sequence[Path], dating: Dating) -> tuple[list[SourceFile], list[Diagnostic]]:
    """Every file read, in the order they are taken in (see _ORDER), and their warnings. Raises SitegenError
    (exit 2) naming every file refused, after reading them all."""
    sources: list[SourceFile] = []
    errors: list[Diagnostic] = []
    seen: set[Path] = set()
    for path in files:
        where = str(path)
        try:
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            source = read_file(path, dating)
        except ReaderError as exc:
            errors.append(Diagnostic(where, exc.message, exc.line, exc.col))
            continue
        except OSError as exc:
            errors.append(Diagnostic(where, f"cannot read: {exc.strerror or exc}"))
            continue
        if dating.day is not None:  # --date: every file's papers are listed under that date
            for entry in source.entries:
                entry.digest = dating.day
        elif source.kind == "hf":
            _warn_undated(source)
        sources.append(source)
    if errors:
        raise SitegenError(errors, exit_code=2)
    sources.sort(key=lambda s: (_ORDER.index(s.kind), s.days[:1] or [date.min], s.path.name))
    return sources, [w for s in sources for w in s.warnings]


def _warn_undated(source: SourceFile) -> None:
    """Listings of a Hugging Face list without a listing date: in no digest, and said so once."""
    undated = [e for e in source.entries if e.digest is None]
    if undated:
        count = f"{len(undated)} listing{'s' if len(undated) != 1 else ''}"
        source.warn(
            f"{count} without a listing date ('publishedAt'): not added to a digest (give one with --date)",
            undated[0].line,
            undated[0].col,
        )


def _read_pages(papers_dir: Path, warnings: list[Diagnostic]) -> tuple[_Index, set[str]]:
    """Existing pages, indexed, and every slug or file name already in use."""
    index = _Index()
    taken: set[str] = set()
    for path in sorted(papers_dir.glob("*.md")):
        taken.add(path.stem)
        try:
            raw = path.read_bytes()
            text, bom = decode(raw)
            doc = parse(text)
        except (OSError, FrontMatterError) as exc:
            message = exc.message if isinstance(exc, FrontMatterError) else str(exc)
            line = exc.line if isinstance(exc, FrontMatterError) else 0
            warnings.append(
                Diagnostic(
                    str(path), f"{message}; this page is not matched against the digests", line, 0, "warning"
                )
            )
            continue
        title, slug = doc.fields.get("title"), doc.fields.get("slug")
        if isinstance(slug, str):
            taken.add(slug)
        if not isinstance(title, str) or not title.strip():
            continue
        key = title_key(clean_title(title).text)
        if not key:
            continue
        page = _Page(
            key,
            slug if isinstance(slug, str) else path.stem,
            path,
            False,
            dict(doc.fields),
            doc.body,
            text,
            b"\r\n" in raw,
            bom,
        )
        for what, found, first in (
            ("title", key, index.by_key.get(key)),
            ("arXiv id", page.arxiv(), index.by_arxiv.get(page.arxiv() or "")),
        ):
            if found and first is not None:
                name = first.path.name
                line = doc.key_positions.get("title" if what == "title" else "arxiv", (1, 1))[0]
                warnings.append(
                    Diagnostic(str(path), f"same {what} as {name}; imports go to {name}", line, 0, "warning")
                )
        index.add(page)
    return index, taken


@dataclass(slots=True)
class _Record:
    """A digest record to write. `read`: its (sources, papers) as read from the file (None if new or empty);
    `repaired`: the reader took items as written that YAML reads otherwise, so the file must be rewritten."""

    path: Path
    day: date
    sources: list[str] = field(default_factory=list)
    papers: list[str] = field(default_factory=list)
    read: tuple[list[str], list[str]] | None = None
    repaired: bool = False


def _read_record(path: Path, day: date, warnings: list[Diagnostic]) -> _Record:
    """The record of `day`, read by the same reader as the build's (model.parse_record)."""
    record = _Record(path, day)
    if not path.is_file():
        return record
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SitegenError(Diagnostic(str(path), f"cannot read: {exc.strerror}")) from None
    report = Report()
    parsed = parse_record(path, data, report)
    if report.errors:
        raise SitegenError(report.errors) from None
    if parsed is None:
        return record
    iso, papers, sources = parsed
    if iso != day.isoformat():
        raise SitegenError(Diagnostic(str(path), f"a digest record needs 'date: {day.isoformat()}'", 1, 1))
    warnings += report.warnings
    # Every warning of the reader is an item it repaired, which rewriting the record makes permanent.
    record.repaired = bool(report.warnings)
    record.sources, record.papers = list(sources), list(papers)
    record.read = (sources, papers)
    return record


def _record_changed(record: _Record) -> bool:
    """Whether the record must be written: it is new, gained a source or a paper, or had items to repair
    (an unchanged hand-edited record is left as it is, comments and all)."""
    return record.read != (record.sources, record.papers) or record.repaired


def record_text(day: date, sources: Sequence[str], papers: Sequence[str]) -> str:
    """A digest record as the importer writes it, through the writer of page front matter."""
    header = f"# The papers of the digest of {day.isoformat()} in the digest's own order (sitegen import).\n"
    fields = {"date": day.isoformat(), "sources": list(sources), "papers": list(papers)}
    return header + dump_fields(fields, block_lists=("papers",))


def _dates_of(page: _Page) -> set[str]:
    """The ISO dates already in an existing page's `digests` (a lone date written without brackets counts)."""
    value = page.fields.get("digests")
    items = value if isinstance(value, list) else [value] if value is not None else []
    return {d.isoformat() for d in (parse_iso_date(str(v)) for v in items) if d is not None}


# --- writing ------------------------------------------------------------------------------------------------


def _encode(text: str, crlf: bool, bom: bool) -> bytes:
    if crlf:
        text = text.replace("\n", "\r\n")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


# --- the import ---------------------------------------------------------------------------------------------


def _source_name(source: SourceFile, day: date, digests_dir: Path) -> str:
    """The name a digest is kept under in content/digests/ (never a name a record could take)."""
    name = source.path.name
    if name.lower().endswith((".yaml", ".yml")):
        name += ".txt"
    target = digests_dir / name
    if target.exists() and target.resolve() != source.path.resolve():
        with contextlib.suppress(OSError):
            if target.read_bytes() != source.keep:
                stem, dot, ext = name.partition(".")
                name = f"{stem}-{day.isoformat()}{dot}{ext}"
    return name


def _new_page_text(page: _Page) -> str:
    assert page.first is not None and page.tags is not None
    fields: dict[str, Any] = {
        "title": page.first.title,
        "slug": page.slug,
        "digests": sorted(page.add_dates),
        "tags": page.tags,
        "links": page.links,
    }
    fields.update((name, page.add[name]) for name in ADDED_FIELDS if name in page.add)
    fields[AUTO_TAGS] = (
        page.tags
    )  # what the importer gave, to tell them from a curator's (sitegen.importer.stamps)
    if page.scraped:  # (only a digest's abstract can be written again by `sitegen repair`)
        fields[AUTO_ABSTRACT] = abstract_stamp(page.abstract)
    return dump(fields, page.abstract + "\n" if page.abstract else "", quote_keys=("title", "arxiv"))


def _merged_page_text(page: _Page) -> str:
    text = page.text.replace("\r\n", "\n")
    first_import = "digests" not in page.fields
    for day in page.add_dates:
        text = add_list_item(text, "digests", day, ordered=True)
    if first_import and not page.add_dates:
        text = insert_field(text, "digests", [])  # imported now: a tag removed later stays removed
    stamps: dict[str, Any] = {}
    if first_import and page.first is not None:
        if page.tags is not None:
            text = insert_field(text, "tags", page.tags)
            stamps[AUTO_TAGS] = page.tags
        if "links" not in page.fields and page.links:
            text = insert_field(text, "links", page.links)
        if not page.body.strip() and page.abstract:  # the body is what follows the front matter, untouched
            text = text[: len(text) - len(page.body)] + page.abstract + "\n"
            if page.scraped:
                stamps[AUTO_ABSTRACT] = abstract_stamp(page.abstract)
    for name in ADDED_FIELDS:
        if name in page.add:
            text = insert_field(text, name, page.add[name], quoted=name == "arxiv")
    for name, value in stamps.items():
        if name not in page.fields:
            text = insert_field(text, name, value)
    return text


def _gets_tags(page: _Page) -> bool:
    """Whether the importer tags this page: a new one, or one made by hand whose first import this is and that
    has no `tags:` line."""
    return page.new or ("digests" not in page.fields and "tags" not in page.fields)


def _assign_tags(index: _Index, touched: dict[str, _Page], taxonomy: Taxonomy) -> None:
    """Tags of the pages the import tags: by the rules (a source's keywords and categories count as words of
    the title), else borrowed from the most similar tagged pages."""
    todo = [page for _path, page in sorted(touched.items()) if page.first is not None and _gets_tags(page)]
    if not todo:
        return
    tagged: list[Tagged] = []
    for page in index.pages.values():
        tags, title = page.fields.get("tags"), page.fields.get("title")
        if not page.new and isinstance(tags, list) and tags and isinstance(title, str):
            tagged.append((title, split_body(page.body)[0], [str(t) for t in tags]))
    texts = [(page.first.title, page.abstract) for page in todo if page.first is not None]
    keywords = [page.keywords for page in todo]
    for page, tags in zip(todo, tag_papers(taxonomy, texts, tagged, keywords=keywords), strict=True):
        page.tags = tags


def _plan_entries(
    sources: list[SourceFile],
    index: _Index,
    taken: set[str],
    records: dict[date, _Record],
    papers_dir: Path,
    result: ImportResult,
    warnings: list[Diagnostic],
    logs: dict[str, RepairLog],
) -> dict[str, _Page]:
    """Match every entry to its page (a new one if none), noting what each page gets, the order of every
    digest, and what the repair did to each entry listed (in `logs`, by digest path, and in `warnings`).
    Returns the pages touched, by path."""
    touched: dict[str, _Page] = {}
    for source in sources:
        where = str(source.path)
        listed_at: dict[int, int] = {}  # page (by id) -> line of its first entry in this file
        for entry in source.entries:
            key = title_key(entry.title)
            if not key:
                warnings.append(
                    Diagnostic(where, "title has no letters or digits; skipped", entry.line, 0, "warning")
                )
                continue
            page, other = index.find(entry, key)
            if page is not None and id(page) in listed_at:
                warnings.append(
                    Diagnostic(
                        where,
                        f"same paper as line {listed_at[id(page)]}; listed once",
                        entry.line,
                        0,
                        "warning",
                    )
                )
                continue
            result.listed += 1
            if entry.repairs and where in logs:
                logs[where].repaired.append((entry.line, entry.title, entry.repairs))
            for line, leftover in entry.leftovers:
                warnings.append(Diagnostic(where, describe(leftover), line, 0, "warning"))
            if page is None:
                if other is not None:
                    message = (
                        f"same title as {other.path.name}, but arXiv {entry.arxiv} is not its "
                        f"{other.arxiv()}: a page of its own"
                    )
                    warnings.append(Diagnostic(where, message, entry.line, entry.col, "warning"))
                slug = unique_slug(entry.title, taken)
                taken.add(slug)
                page = _Page(key, slug, papers_dir / f"{slug}.md", True)
                result.repaired += entry.repaired
            listed_at[id(page)] = entry.line
            page.take(entry)
            index.add(page)
            touched[str(page.path)] = page
            if entry.digest is None:
                continue
            iso = entry.digest.isoformat()
            if iso not in _dates_of(page) and iso not in page.add_dates:
                page.add_dates.append(iso)
            record = records[entry.digest]
            if page.slug not in record.papers:
                record.papers.append(page.slug)
    return touched


def import_files(
    root: Path,
    files: Sequence[Path],
    day: date | None = None,
    year: int | None = None,
    today: date | None = None,
) -> ImportResult:
    """Import files of any format (see sitegen.importer.readers) into ROOT/content. Raises SitegenError (exit
    code 2) if any input is refused."""
    today = today or date.today()
    root = Path(root)
    config = load_config(root)
    content = site_path(root, config.content_dir)
    papers_dir, digests_dir = content / "papers", content / "digests"

    # 1. read and check everything; nothing is written unless all of it is usable
    sources, warnings = _read_sources(list(files), Dating(today, day, year))
    taxonomy_path = content / "taxonomy.yaml"
    scaffold = None if taxonomy_path.exists() else default_taxonomy()
    taxonomy_result = (
        load_taxonomy(taxonomy_path) if scaffold is None else parse_taxonomy(scaffold, taxonomy_path)
    )
    if taxonomy_result.errors:
        raise SitegenError(taxonomy_result.diagnostics, exit_code=2)
    warnings += taxonomy_result.diagnostics
    taxonomy = taxonomy_result.taxonomy
    index, taken = _read_pages(papers_dir, warnings)
    records: dict[date, _Record] = {}
    for source in sources:
        for source_day in source.days:
            if source_day not in records:
                path = digests_dir / f"{source_day.isoformat()}.yaml"
                records[source_day] = _read_record(path, source_day, warnings)

    # 2. plan: which pages are new, what each gets, the order of every digest
    result = ImportResult()
    for source in sources:
        result.sources[source.kind] = result.sources.get(source.kind, 0) + 1
    result.digests = result.sources.get("digest", 0)
    kept: list[tuple[Path, bytes]] = []
    logs: dict[str, RepairLog] = {}  # the repair report of each digest, by its path
    for source in sources:
        if source.kind == "digest" and source.keep is not None and source.days:
            name = _source_name(source, source.days[0], digests_dir)
            record = records[source.days[0]]
            if name not in record.sources:
                record.sources.append(name)
            if (digests_dir / name).resolve() != source.path.resolve():
                kept.append((digests_dir / name, source.keep))
            logs[str(source.path)] = RepairLog(name, source.days[0])
    touched = _plan_entries(sources, index, taken, records, papers_dir, result, warnings, logs)
    _assign_tags(index, touched, taxonomy)

    # 3. compute every file's new bytes, then write
    planned: list[tuple[Path, bytes]] = []
    if scaffold is not None:  # a site without tags gets the default taxonomy, to edit
        planned.append((taxonomy_path, scaffold))
        result.scaffolded = taxonomy_path
    planned += kept
    for where, log in logs.items():
        log.anomalies = [d for d in warnings if d.path == where]
        planned.append((report_path(digests_dir, log.source), report_text(log).encode("utf-8")))
    for path_key in sorted(touched):
        page = touched[path_key]
        if page.new:
            planned.append((page.path, _new_page_text(page).encode("utf-8")))
            result.new.append(page.slug)
            continue
        try:
            text = _merged_page_text(page)
        except FrontMatterError as exc:
            warnings.append(
                Diagnostic(
                    str(page.path), f"{exc.message}; nothing added to it", exc.line, exc.col, "warning"
                )
            )
            result.unchanged.append(page.slug)
            continue
        data = _encode(text, page.crlf, page.bom)
        if text == page.text.replace("\r\n", "\n"):
            result.unchanged.append(page.slug)
        else:
            planned.append((page.path, data))
            result.updated.append(page.slug)
    for record in records.values():
        if _record_changed(record):
            text = record_text(record.day, record.sources, record.papers)
            planned.append((record.path, text.encode("utf-8")))
    result.diagnostics = warnings
    # What killed imports (and `retag`, `repair`) left: temporary files whose writer is gone.
    for folder in dict.fromkeys((papers_dir, digests_dir, taxonomy_path.parent)):
        result.removed += remove_leftovers(folder)
    for path, data in planned:
        try:
            if write_if_changed(path, data):
                result.written.append(path)
        except OSError as exc:
            raise SitegenError(
                Diagnostic(str(path), f"cannot write: {exc.strerror or exc}"), exit_code=2
            ) from None
    return result


#: The name of import_files before it read more than digests.
import_digests = import_files
