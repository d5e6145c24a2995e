"""`sitegen import`: digest files -> paper pages, one order record per digest date, and copies of the
originals.

The import reads and checks every input first (all digests, the taxonomy, existing pages and records) and
refuses the whole run, writing nothing, if any digest is unusable. Only then does it write, each file
atomically and only if its bytes change, so that importing the same digest twice changes nothing at all.

An existing page is never rewritten: the only edit is appending the new digest date to its `digests:` list, in
the list's own style. On a page's very first import (a hand-made page without `digests:`), absent `tags` and
`links` are filled in and an empty body gets the abstract; once a page has digests, a missing `tags:` line
means the curator removed it, and it stays removed.

A site without content/taxonomy.yaml gets sitegen's default taxonomy written there by its first import, so
that papers are tagged and the curator has a file to edit.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sitegen.clean import clean_abstract, clean_title, describe
from sitegen.config import load_config, site_path
from sitegen.digest import DigestEntry, DigestError, ParsedDigest, read_digest, resolve_date
from sitegen.errors import Diagnostic, Report, SitegenError, display_path, plural
from sitegen.frontmatter import (
    FrontMatterError,
    add_list_item,
    decode,
    dump,
    dump_fields,
    insert_field,
    parse,
)
from sitegen.model import is_web_link, parse_iso_date, parse_record, split_body
from sitegen.repairlog import RepairLog, report_path, report_text
from sitegen.slugs import title_key, unique_slug
from sitegen.stamps import AUTO_ABSTRACT, AUTO_TAGS, abstract_stamp
from sitegen.tagging import Tagged, tag_papers
from sitegen.taxonomy import Taxonomy, default_taxonomy, load_taxonomy, parse_taxonomy

PAGE_FIELDS = ("title", "slug", "digests", "tags", "links")


@dataclass(slots=True)
class ImportResult:
    """What an import did. `diagnostics`: the anomalies found in the inputs (warnings, with file:line)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    digests: int = 0
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

    def summary(self) -> str:
        line = (
            f"{plural(self.digests, 'digest')} read, {plural(self.listed, 'paper')} listed: "
            f"{len(self.new)} new, {len(self.updated)} updated, {len(self.unchanged)} unchanged; "
            f"{self.repaired} with repaired text; {plural(self.anomalies, 'anomaly', 'anomalies')}"
        )
        if self.removed:
            line += f"; {plural(len(self.removed), 'temporary file')} of a killed import removed"
        if self.scaffolded is not None:
            line += f"; default tags written to {display_path(self.scaffolded)}"
        return line


@dataclass(slots=True)
class _Digest:
    path: Path
    data: bytes
    parsed: ParsedDigest
    day: date


@dataclass(slots=True)
class _Page:
    """A page that exists or will exist. For an existing page, `text` is its file as read (newlines as LF)."""

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
    first_entry: tuple[DigestEntry, str, str, list[str]] | None = None  # (entry, title, abstract md, links)
    tags: list[str] | None = None  # the tags it gets, if the importer gives it tags


# --- reading and checking inputs ----------------------------------------------------------------------------


def _read_digests(
    files: Sequence[Path], day: date | None, year: int | None, today: date
) -> tuple[list[_Digest], list[Diagnostic]]:
    digests: list[_Digest] = []
    errors: list[Diagnostic] = []
    warnings: list[Diagnostic] = []
    seen: set[Path] = set()
    for path in files:
        where = str(path)
        try:
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            if path.is_dir():
                errors.append(Diagnostic(where, "is a folder, not a digest file"))
                continue
            data = path.read_bytes()
        except OSError as exc:
            errors.append(Diagnostic(where, f"cannot read: {exc.strerror or exc}"))
            continue
        try:
            parsed = read_digest(data)
        except DigestError as exc:
            errors.append(Diagnostic(where, exc.message, exc.line, exc.col))
            continue
        if day is not None:
            digest_day = day
        elif parsed.date_text is not None:
            try:
                digest_day = resolve_date(parsed.date_text, today, year)
            except DigestError as exc:
                errors.append(Diagnostic(where, exc.message, parsed.date_line, 1))
                continue
        else:
            errors.append(
                Diagnostic(
                    where,
                    "no date line (like 'Mar 13') in this digest; give its date with --date YYYY-MM-DD",
                    1,
                    1,
                )
            )
            continue
        warnings += [Diagnostic(where, a.message, a.line, 0, "warning") for a in parsed.anomalies]
        digests.append(_Digest(path, data, parsed, digest_day))
    if errors:
        raise SitegenError(errors, exit_code=2)
    digests.sort(key=lambda d: (d.day, d.path.name))
    return digests, warnings


def _read_pages(papers_dir: Path, warnings: list[Diagnostic]) -> tuple[dict[str, _Page], set[str]]:
    """Existing pages by title key, and every slug or file name already in use."""
    by_key: dict[str, _Page] = {}
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
        if key in by_key:
            first = by_key[key].path.name
            warnings.append(
                Diagnostic(
                    str(path),
                    f"same title as {first}; new digest dates go to {first}",
                    doc.key_positions.get("title", (1, 1))[0],
                    0,
                    "warning",
                )
            )
            continue
        by_key[key] = _Page(
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
    return by_key, taken


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


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write atomically (temporary file in the same folder, then rename) unless the file holds `data`.
    A process killed between the two leaves the temporary file, which the next import removes."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return True


#: The temporary files of write_if_changed: ".<name>.<mkstemp's 8 random characters>.tmp".
_TEMPORARY = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
#: A temporary file this old is a leftover of an import that was killed: a running import renames its own
#: within moments of writing it (younger ones may be another import's, still at work).
LEFTOVER_AGE = 10.0


def remove_leftovers(folder: Path, now: float) -> list[Path]:
    """Remove from `folder` the temporary files of killed imports (see write_if_changed) that are older than
    LEFTOVER_AGE seconds at time `now`; returns them. Only regular files, never through a symbolic link."""
    removed: list[Path] = []
    try:
        with os.scandir(folder) as entries:
            found = [e for e in entries if _TEMPORARY.fullmatch(e.name) and e.is_file(follow_symlinks=False)]
    except OSError:
        return removed  # no folder: nothing left over in it
    for entry in found:
        try:
            if entry.stat(follow_symlinks=False).st_mtime <= now - LEFTOVER_AGE:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except FileNotFoundError:
            continue  # removed meanwhile (by another import, say)
        except OSError as exc:
            raise SitegenError(
                Diagnostic(entry.path, f"cannot remove this leftover temporary file: {exc.strerror or exc}")
            ) from None
    return removed


def _encode(text: str, crlf: bool, bom: bool) -> bytes:
    if crlf:
        text = text.replace("\n", "\r\n")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


# --- the import ---------------------------------------------------------------------------------------------


def _source_name(digest: _Digest, digests_dir: Path) -> str:
    """The name the original digest is kept under in content/digests/ (never a name a record could take)."""
    name = digest.path.name
    if name.lower().endswith((".yaml", ".yml")):
        name += ".txt"
    target = digests_dir / name
    if target.exists() and target.resolve() != digest.path.resolve():
        with contextlib.suppress(OSError):
            if target.read_bytes() != digest.data:
                stem, dot, ext = name.partition(".")
                name = f"{stem}-{digest.day.isoformat()}{dot}{ext}"
    return name


def _prepare(entry: DigestEntry) -> tuple[str, str, list[str], list[str], list[str]]:
    """(title, abstract Markdown, links, repairs, leftovers) of one digest entry."""
    title = clean_title(entry.title)
    abstract = clean_abstract(entry.abstract)
    # `links:` holds what the page validator accepts, as it decides: a URL it would refuse drops the page.
    links = [url for url in abstract.links if is_web_link(url)]
    return (
        title.text,
        abstract.text,
        links,
        title.repairs + abstract.repairs,
        title.leftovers + abstract.leftovers,
    )


def _new_page_text(page: _Page) -> str:
    assert page.first_entry is not None and page.tags is not None
    _entry, title, abstract, links = page.first_entry
    fields = {
        "title": title,
        "slug": page.slug,
        "digests": sorted(page.add_dates),
        "tags": page.tags,
        "links": links,
        AUTO_TAGS: page.tags,  # what the importer gave, to tell them from a curator's (sitegen.stamps)
        AUTO_ABSTRACT: abstract_stamp(abstract),
    }
    return dump(fields, abstract + "\n" if abstract else "")


def _merged_page_text(page: _Page) -> str:
    text = page.text.replace("\r\n", "\n")
    first_import = "digests" not in page.fields
    for day in page.add_dates:
        text = add_list_item(text, "digests", day, ordered=True)
    if first_import and page.first_entry is not None:
        _entry, _title, abstract, links = page.first_entry
        if page.tags is not None:
            text = insert_field(text, "tags", page.tags)
            if AUTO_TAGS not in page.fields:
                text = insert_field(text, AUTO_TAGS, page.tags)
        if "links" not in page.fields and links:
            text = insert_field(text, "links", links)
        if not page.body.strip() and abstract:  # the body is what follows the front matter, untouched above
            if AUTO_ABSTRACT not in page.fields:
                text = insert_field(text, AUTO_ABSTRACT, abstract_stamp(abstract))
            text = text[: len(text) - len(page.body)] + abstract + "\n"
    return text


def _gets_tags(page: _Page) -> bool:
    """Whether the importer tags this page: a new one, or one made by hand whose first import this is and that
    has no `tags:` line."""
    return page.new or ("digests" not in page.fields and "tags" not in page.fields)


def _assign_tags(pages: dict[str, _Page], touched: dict[str, _Page], taxonomy: Taxonomy) -> None:
    """Tags of the pages the import tags: by the rules, else borrowed from the most similar tagged pages."""
    todo = [page for _key, page in sorted(touched.items()) if page.first_entry and _gets_tags(page)]
    if not todo:
        return
    tagged: list[Tagged] = []
    for page in pages.values():
        tags = page.fields.get("tags")
        if not page.new and isinstance(tags, list) and tags and isinstance(page.fields.get("title"), str):
            tagged.append((page.fields["title"], split_body(page.body)[0], [str(t) for t in tags]))
    texts = [(page.first_entry[1], page.first_entry[2]) for page in todo if page.first_entry]
    for page, tags in zip(todo, tag_papers(taxonomy, texts, tagged), strict=True):
        page.tags = tags


def import_digests(
    root: Path,
    files: Sequence[Path],
    day: date | None = None,
    year: int | None = None,
    today: date | None = None,
) -> ImportResult:
    """Import digest files into ROOT/content. Raises SitegenError (exit code 2) if any input is refused."""
    today = today or date.today()
    root = Path(root)
    config = load_config(root)
    content = site_path(root, config.content_dir)
    papers_dir, digests_dir = content / "papers", content / "digests"

    # 1. read and check everything; nothing is written unless all of it is usable
    digests, warnings = _read_digests(list(files), day, year, today)
    taxonomy_path = content / "taxonomy.yaml"
    scaffold = None if taxonomy_path.exists() else default_taxonomy()
    taxonomy_result = (
        load_taxonomy(taxonomy_path) if scaffold is None else parse_taxonomy(scaffold, taxonomy_path)
    )
    if taxonomy_result.errors:
        raise SitegenError(taxonomy_result.diagnostics, exit_code=2)
    warnings += taxonomy_result.diagnostics
    taxonomy = taxonomy_result.taxonomy
    pages, taken = _read_pages(papers_dir, warnings)
    records: dict[date, _Record] = {}
    for digest in digests:
        if digest.day not in records:
            path = digests_dir / f"{digest.day.isoformat()}.yaml"
            records[digest.day] = _read_record(path, digest.day, warnings)

    # 2. plan: which pages are new, which get a date, the order of every digest
    result = ImportResult(digests=len(digests))
    touched: dict[str, _Page] = {}
    logs: list[tuple[str, RepairLog]] = []
    for digest in digests:
        where = str(digest.path)
        iso = digest.day.isoformat()
        record = records[digest.day]
        source = _source_name(digest, digests_dir)
        if source not in record.sources:
            record.sources.append(source)
        log = RepairLog(source, digest.day)
        logs.append((where, log))
        listed_at: dict[str, int] = {}
        for entry in digest.parsed.entries:
            title, abstract, links, repairs, leftovers = _prepare(entry)
            key = title_key(title)
            if not key:
                warnings.append(
                    Diagnostic(
                        where, "title has no letters or digits; skipped", entry.title_line, 0, "warning"
                    )
                )
                continue
            if key in listed_at:
                warnings.append(
                    Diagnostic(
                        where,
                        f"same paper as line {listed_at[key]}; listed once",
                        entry.title_line,
                        0,
                        "warning",
                    )
                )
                continue
            listed_at[key] = entry.title_line
            result.listed += 1
            if repairs:
                log.repaired.append((entry.title_line, title, repairs))
            for leftover in leftovers:
                in_title = leftover in entry.title
                line = entry.title_line if in_title else entry.abstract_line or entry.title_line
                warnings.append(Diagnostic(where, describe(leftover), line, 0, "warning"))
            page = pages.get(key)
            if page is None:
                slug = unique_slug(title, taken)
                taken.add(slug)
                page = _Page(key, slug, papers_dir / f"{slug}.md", True)
                pages[key] = page
                result.repaired += bool(repairs)
            if page.first_entry is None:
                page.first_entry = (entry, title, abstract, links)
            if iso not in _dates_of(page) and iso not in page.add_dates:
                page.add_dates.append(iso)
            touched[key] = page
            if page.slug not in record.papers:
                record.papers.append(page.slug)

    _assign_tags(pages, touched, taxonomy)

    # 3. compute every file's new bytes, then write
    planned: list[tuple[Path, bytes]] = []
    if scaffold is not None:  # a site without tags gets the default taxonomy, to edit
        planned.append((taxonomy_path, scaffold))
        result.scaffolded = taxonomy_path
    for digest in digests:
        source = digests_dir / _source_name(digest, digests_dir)
        if source.resolve() != digest.path.resolve():
            planned.append((source, digest.data))
    for where, log in logs:
        log.anomalies = [d for d in warnings if d.path == where]
        planned.append((report_path(digests_dir, log.source), report_text(log).encode("utf-8")))
    for key in sorted(touched):
        page = touched[key]
        if page.new:
            planned.append((page.path, _new_page_text(page).encode("utf-8")))
            result.new.append(page.slug)
            continue
        try:
            text = _merged_page_text(page)
        except FrontMatterError as exc:
            warnings.append(
                Diagnostic(
                    str(page.path), f"{exc.message}; digest date not added", exc.line, exc.col, "warning"
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
    now = time.time()
    for folder in dict.fromkeys((papers_dir, digests_dir, taxonomy_path.parent)):
        result.removed += remove_leftovers(folder, now)
    for path, data in planned:
        try:
            if write_if_changed(path, data):
                result.written.append(path)
        except OSError as exc:
            raise SitegenError(
                Diagnostic(str(path), f"cannot write: {exc.strerror or exc}"), exit_code=2
            ) from None
    return result
