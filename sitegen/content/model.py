"""The content model: papers, tags and digests as plain dataclasses, loaded and validated from content/.

Size: the paper, tag and digest dataclasses next to the validator of every field and the readers of the files
they come from: a field's type, check and error message change together.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sitegen.config import SiteConfig, site_path
from sitegen.content.frontmatter import Document, FrontMatterError, decode, parse, parse_yaml
from sitegen.content.slugs import SLUG_RE
from sitegen.content.taxonomy import parse_taxonomy
from sitegen.errors import Report, did_you_mean, shown
from sitegen.store.files import NAME_MAX, fingerprint
from sitegen.store.sources import cannot_read, read_bytes
from sitegen.text.mathml import problems as math_problems

if TYPE_CHECKING:
    from sitegen.content.loadcache import Identity, LoadCache

#: A slug or tag names a folder of the output (`papers/<slug>/`, `tags/<tag>/`) and a page file `<slug>.md`,
#: which must fit NAME_MAX (slugs are ASCII: characters are bytes). The bound also leaves room for what the
#: importer's writer once added around a page's name, `.<slug>.md.<8 random characters>.tmp`: the writer
#: now cuts its temporary names to fit (sitegen.store.files.temp_name), but a bound sites know of stays.
MAX_SLUG = NAME_MAX - len("..md.12345678.tmp")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
ARXIV_RE = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")
#: A DOI as `doi:` holds it: the name alone, without "https://doi.org/" or "doi:" before it.
DOI_RE = re.compile(r"10\.\d{4,9}/\S+")
STATUSES = ("unread", "reading", "read")

KNOWN_FIELDS = (
    "title",
    "slug",
    "digests",
    "tags",
    "links",
    "draft",
    "status",
    "rating",
    "arxiv",
    "authors",
    "published",
    "doi",
    "upvotes",
)
# What the importer noted it wrote (sitegen.importer.stamps): known, never shown.
STAMP_FIELDS = ("auto_tags", "auto_abstract")
REQUIRED_FIELDS = ("title", "slug")


@dataclass(slots=True)
class Paper:
    """One paper page. `body` is the Markdown after the front matter: the abstract, then curator notes."""

    #: The page file's path. A string: a build makes ten thousand of these, and a Path each would cost more
    #: than all the rest of loading them from the cache.
    source: str
    title: str
    slug: str
    digests: list[date] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    draft: bool = False
    status: str | None = None
    rating: int | None = None
    arxiv: str | None = None
    authors: list[str] = field(default_factory=list)
    published: date | None = None  # the day of first publication
    doi: str | None = None
    upvotes: int | None = None
    body: str = ""
    body_line: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    slug_position: tuple[int, int] = (1, 1)
    #: A hash of the page file's bytes, which every other field comes from ("" for a Paper made in code):
    #: the build compares it to tell whether anything a page shows of the paper changed.
    fingerprint: str = ""
    #: A hash of the front matter alone (the file up to its body): what a page shows of the paper's fields,
    #: so that a build can tell an edit of the abstract or notes from one of the title, tags or status.
    front_fingerprint: str = ""

    @property
    def abstract(self) -> str:
        """The first paragraph block of the body."""
        return split_body(self.body)[0]

    @property
    def notes(self) -> str:
        """Everything the curator wrote below the abstract."""
        return split_body(self.body)[1]

    @property
    def latest_digest(self) -> date | None:
        return max(self.digests) if self.digests else None


def split_body(body: str) -> tuple[str, str]:
    """Abstract = the body up to its first blank line; notes = the rest (both stripped)."""
    text = body.strip("\n")
    parts = re.split(r"\n[ \t]*\n", text, maxsplit=1)
    abstract = parts[0].strip()
    notes = parts[1].strip() if len(parts) > 1 else ""
    return abstract, notes


@dataclass(slots=True)
class Tag:
    slug: str
    name: str
    description: str = ""


@dataclass(slots=True)
class Digest:
    """One digest date and the order in which its papers appeared (slugs)."""

    date: date
    order: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Site:
    root: Path
    config: SiteConfig
    papers: list[Paper] = field(default_factory=list)
    tags: dict[str, Tag] = field(default_factory=dict)
    digests: dict[date, Digest] = field(default_factory=dict)

    @property
    def content_dir(self) -> Path:
        return site_path(self.root, self.config.content_dir)


def parse_iso_date(text: Any) -> date | None:
    if isinstance(text, datetime):
        return None  # a moment, not a day (and it cannot be compared with dates)
    if isinstance(text, date):
        return text
    if not isinstance(text, str) or not DATE_RE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


#: An http(s) URL without spaces; the scheme in any case, as the host (both are case-insensitive).
_WEB_LINK = re.compile(r"https?://\S+", re.IGNORECASE)


def is_web_link(text: Any) -> bool:
    """Whether `text` is a valid `links:` item: the one rule of the page validator and of the importer, which
    writes only links the validator accepts (one it refused would drop the page from the build)."""
    return isinstance(text, str) and _WEB_LINK.fullmatch(text) is not None


_TYPE_NAMES = {list: "a list", dict: "a mapping", bool: "true/false", int: "a number", float: "a number"}


def _type_name(value: Any) -> str:
    return "null" if value is None else _TYPE_NAMES.get(type(value), type(value).__name__)


class _Validator:
    """Turns a parsed Document into a Paper, reporting every problem with its file position."""

    def __init__(self, path: Path | str, doc: Document, report: Report):
        self.path, self.doc, self.report = path, doc, report
        self.ok = True

    def error(self, key: str, message: str, index: int | None = None) -> None:
        line, col = self.doc.position(key, index)
        self.report.error(self.path, message, line, col)
        self.ok = False

    def string(self, key: str, required: bool = False) -> str | None:
        value = self.doc.fields.get(key)
        if value is None:
            if required:
                line = self.doc.body_line - 1
                self.report.error(self.path, f"missing required field '{key}'", line, 1)
                self.ok = False
            return None
        if not isinstance(value, str):
            self.error(key, f"'{key}' must be a string, not {_type_name(value)}")
            return None
        if required and not value.strip():
            self.error(key, f"'{key}' must not be empty")
            return None
        return value

    def slug(self, key: str, value: Any, index: int | None = None) -> str | None:
        if not isinstance(value, str) or not SLUG_RE.fullmatch(value):
            what = "slug" if key == "slug" else "tag"
            self.error(
                key,
                f"{what} {shown(value)} may hold only lowercase ASCII letters, digits and single hyphens",
                index,
            )
            return None
        if len(value) > MAX_SLUG:
            what = "slug" if key == "slug" else "tag"
            message = f"{what} is {len(value)} characters long; at most {MAX_SLUG} fit in a file name"
            self.error(key, message, index)
            return None
        return value

    def string_list(self, key: str) -> list[Any]:
        value = self.doc.fields.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(key, f"'{key}' must be a list like [a, b], not {_type_name(value)}")
            return []
        return value

    def iso_date(self, key: str) -> date | None:
        value = self.doc.fields.get(key)
        if value is None:
            return None
        parsed = parse_iso_date(value)
        if parsed is None:
            self.error(key, f"'{key}' must be a date like 2024-03-13 (YYYY-MM-DD), not {shown(value)}")
        return parsed

    def paper(self) -> Paper | None:
        fields = self.doc.fields
        title = self.string("title", required=True)
        slug_value = self.string("slug", required=True)
        slug = self.slug("slug", slug_value) if slug_value is not None else None
        digests: list[date] = []
        for i, item in enumerate(self.string_list("digests")):
            parsed = parse_iso_date(item)
            if parsed is None:
                self.error("digests", f"digest date {shown(item)} is not a valid date (YYYY-MM-DD)", i)
            elif parsed not in digests:
                digests.append(parsed)
        tags: list[str] = []
        for i, item in enumerate(self.string_list("tags")):
            tag = self.slug("tags", item, i)
            if tag and tag not in tags:
                tags.append(tag)
        links: list[str] = []
        for i, item in enumerate(self.string_list("links")):
            if not is_web_link(item):
                self.error("links", f"link {shown(item)} must be an http(s) URL", i)
            else:
                links.append(item)
        draft = fields.get("draft", False)
        if not isinstance(draft, bool):
            self.error("draft", f"'draft' must be true or false, not {shown(draft)}")
            draft = False
        status = fields.get("status")
        if status is not None and status not in STATUSES:
            self.error("status", f"'status' must be one of {', '.join(STATUSES)}, not {shown(status)}")
            status = None
        rating = fields.get("rating")
        if rating is not None and (
            isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
        ):
            self.error("rating", f"'rating' must be a whole number from 1 to 5, not {shown(rating)}")
            rating = None
        arxiv = fields.get("arxiv")
        if isinstance(arxiv, float):
            # YAML reads 2403.01230 as a number and drops the trailing zero: the id would silently change.
            self.error("arxiv", f"write the arXiv id in quotes (YAML read it as the number {shown(arxiv)})")
        elif arxiv is not None and (not isinstance(arxiv, str) or not ARXIV_RE.fullmatch(arxiv)):
            self.error("arxiv", f"'arxiv' must be an arXiv id like 2403.01234, not {shown(arxiv)}")
            arxiv = None
        authors: list[str] = []
        for i, item in enumerate(self.string_list("authors")):
            if not isinstance(item, str) or not item.strip():
                self.error("authors", f"author {shown(item)} must be a name (text)", i)
            else:  # (two authors may share a name: a repeated one is kept)
                authors.append(item.strip())
        published = self.iso_date("published")
        doi = fields.get("doi")
        if doi is not None and (not isinstance(doi, str) or not DOI_RE.fullmatch(doi)):
            prefixed = isinstance(doi, str) and re.match(r"(?i)https?://|doi:", doi)
            hint = " (write the DOI alone, without https://doi.org/ or doi:)" if prefixed else ""
            self.error("doi", f"'doi' must be a DOI like 10.1000/xyz123, not {shown(doi)}{hint}")
            doi = None
        upvotes = fields.get("upvotes")
        if upvotes is not None and (isinstance(upvotes, bool) or not isinstance(upvotes, int) or upvotes < 0):
            self.error("upvotes", f"'upvotes' must be a whole number of 0 or more, not {shown(upvotes)}")
            upvotes = None
        extra = {k: v for k, v in fields.items() if k not in KNOWN_FIELDS and k not in STAMP_FIELDS}
        for key in extra:
            line, col = self.doc.key_positions.get(key, (1, 1))
            hint = did_you_mean(key, KNOWN_FIELDS, "fields")
            self.report.warning(self.path, f"unknown field {shown(key)}; {hint}", line, col)
        if not self.ok or title is None or slug is None:
            return None
        return Paper(
            source=os.fspath(self.path),
            title=title.strip(),
            slug=slug,
            digests=sorted(digests),
            tags=tags,
            links=links,
            draft=draft,
            status=status,
            rating=rating,
            arxiv=arxiv,
            authors=authors,
            published=published,
            doi=doi,
            upvotes=upvotes,
            body=self.doc.body,
            body_line=self.doc.body_line,
            extra=extra,
            slug_position=self.doc.position("slug"),
        )


def load_paper(path: Path, report: Report) -> Paper | None:
    """Read one page; problems go to `report` and the page is skipped (None) if it has errors."""
    try:
        data = read_bytes(path)
    except OSError as exc:
        report.error(path, cannot_read(exc))
        return None
    return parse_paper(path, data, report)


def parse_paper(path: Path | str, data: bytes, report: Report) -> Paper | None:
    """A page from the bytes of its file (see load_paper)."""
    try:
        text, had_bom = decode(data)
        doc = parse(text)
    except FrontMatterError as exc:
        report.diagnostics.append(exc.diagnostic(path))
        return None
    if had_bom:
        report.warning(path, "UTF-8 byte-order mark ignored", 1, 1)
    paper = _Validator(path, doc, report).paper()
    if paper is not None:
        paper.fingerprint = fingerprint(data)
        front = text[: len(text) - len(doc.body)] if text.endswith(doc.body) else text
        paper.front_fingerprint = fingerprint(front.encode("utf-8", "surrogatepass"))
        for offset, message in math_problems(paper.body):
            report.warning(path, message, paper.body_line + offset, 1)
    return paper


#: A tag as the load cache keeps it (plain data): slug, name, description.
TagRow = tuple[str, str, str]


def parse_tags(path: Path | str, data: bytes, report: Report) -> list[TagRow]:
    """The tags of a taxonomy file, from the bytes of the file, as the build shows them. The file's one
    reader is sitegen.content.taxonomy: the problems it finds, in the match rules too, go to `report` (so
    that `check` and `build` report what `import` would refuse), and a tag it leaves out is left out here."""
    result = parse_taxonomy(data, path)
    report.diagnostics.extend(result.diagnostics)
    return [(rule.slug, rule.name, rule.description) for rule in result.taxonomy.rules]


def _parsed(
    path: Path,
    kind: str,
    parse: Callable[[Path, bytes, Report], Any],
    report: Report,
    cache: LoadCache | None,
) -> Any:
    """`parse` of the file at `path`, through the load cache (as its `kind`) when there is one. Raises
    OSError when the file cannot be read."""
    if cache is None:
        return parse(path, read_bytes(path), report)
    return cache.fetch(path, kind, report)


def load_tags(path: Path, report: Report, cache: LoadCache | None = None) -> dict[str, Tag]:
    """Tag names and descriptions from the taxonomy file (see parse_tags); none from a missing file."""
    if not os.path.lexists(path):
        return {}  # (a folder or a broken link in its place is reported: the curator meant a taxonomy)
    try:
        rows = _parsed(path, "tags", parse_tags, report, cache)
    except OSError as exc:
        report.error(path, cannot_read(exc))
        return {}
    return {slug: Tag(slug, name, description) for slug, name, description in rows}


#: A digest record as the reader returns it, in a form the load cache can store: (ISO date, papers, sources).
Record = tuple[str, list[str], list[str]]


def parse_record(path: Path | str, data: bytes, report: Report) -> Record | None:
    """A digest record, content/digests/<YYYY-MM-DD>.yaml, from the bytes of its file: the one reader of
    records, for `build` and `check` (load_digests) and for `import` alike. None for an empty file or one
    with errors (in `report`, with the file's own lines).

    `papers` holds slugs and `sources` file names, all strings. An item written unquoted that YAML reads as
    something else (the slug `1984` as a number, `null` as null, `yes` as true: what importers before the
    quoting writer wrote for such titles) is taken as the text written, with a warning: that text is exactly
    what was meant. Anything else that is not a string is an error.
    """
    try:
        text, _ = decode(data)
        value, node = parse_yaml(text)
    except FrontMatterError as exc:
        report.error(path, exc.message, max(exc.line - 1, 1), exc.col)
        return None
    if value is None:
        return None
    day = parse_iso_date(value.get("date")) if isinstance(value, dict) else None
    if day is None:
        line, col = _record_position(node, "date")
        report.error(path, "a digest record needs 'date: YYYY-MM-DD'", line, col)
        return None
    papers = _record_list(path, value, node, "papers", report)
    sources = _record_list(path, value, node, "sources", report)
    if papers is None or sources is None:
        return None
    return day.isoformat(), papers, sources


def _record_value_node(root: Any, key: str) -> yaml.Node | None:
    if isinstance(root, yaml.MappingNode):
        for key_node, value_node in root.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value_node
    return None


def _mark(node: yaml.Node | None) -> tuple[int, int]:
    """Where a node starts in a record file (1-based line and column); the file's start if unknown."""
    return (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)


def _record_position(root: Any, key: str) -> tuple[int, int]:
    return _mark(_record_value_node(root, key))


def _record_list(
    path: Path | str, value: dict[Any, Any], root: Any, key: str, report: Report
) -> list[str] | None:
    """The strings of the list `key` of a record (see parse_record); None after reporting an error."""
    what = "slugs" if key == "papers" else "file names"
    items = value.get(key)
    if items is None:
        return []
    node = _record_value_node(root, key)
    if not isinstance(items, list):
        report.error(path, f"'{key}' must be a list of {what}", *_mark(node))
        return None
    # The item nodes hold the text as written (absent if the list came through a merge key); a plain one has
    # no style (None, or "" from the C loader).
    nodes = node.value if isinstance(node, yaml.SequenceNode) and len(node.value) == len(items) else None
    out: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            out.append(item)
            continue
        item_node = nodes[i] if nodes is not None else node
        line, col = _mark(item_node)
        plain = isinstance(item_node, yaml.ScalarNode) and not item_node.style and nodes is not None
        written = item_node.value if plain else ""
        if written and (SLUG_RE.fullmatch(written) if key == "papers" else not written.isspace()):
            report.warning(
                path,
                f"{written!r} in '{key}' reads as {_type_name(item)}, not as text: taken as written; "
                f'quote it ("{written}") or import the digest again, which rewrites the record',
                line,
                col,
            )
            out.append(written)
            continue
        message = f"'{key}' must be a list of {what}, not hold {repr(item)[:80]} ({_type_name(item)})"
        report.error(path, message, line, col)
        return None
    return out


def load_digests(folder: Path, report: Report, cache: LoadCache | None = None) -> dict[date, Digest]:
    """The per-digest order records, content/digests/<YYYY-MM-DD>.yaml (read by parse_record)."""
    digests: dict[date, Digest] = {}
    if not folder.is_dir():
        return digests
    for path in sorted(folder.glob("*.yaml")):
        try:
            record = _parsed(path, "record", parse_record, report, cache)
        except OSError as exc:
            report.error(path, cannot_read(exc))
            continue
        if record is None:
            continue
        iso, order, sources = record
        day = date.fromisoformat(iso)
        digests[day] = Digest(date=day, order=list(order), sources=list(sources))
    return digests


def _paper_listing(content_dir: Path, report: Report) -> list[tuple[str, bool]]:
    """content/papers/*.md (as glob would find them: hidden files left out), by name, each with whether it is
    a symbolic link (known from the listing, without a stat). A folder that is missing or cannot be listed is
    an error: a build without it would remove every page of the output."""
    folder = os.path.join(content_dir, "papers")
    try:
        with os.scandir(folder) as entries:
            found = sorted(
                (e.name, e.is_symlink())
                for e in entries
                if e.name.endswith(".md") and not e.name.startswith(".")
            )
    except FileNotFoundError:
        hint = "import a digest with `sitegen import FILE` or create it"
        report.error(folder, f"no such folder; {hint}")
        return []
    except NotADirectoryError:
        report.error(folder, "not a folder: the paper pages go in a folder of that name")
        return []
    except OSError as exc:
        report.error(folder, f"cannot read the folder: {exc.strerror or exc}")
        return []
    prefix = os.path.join(folder, "")
    return [(prefix + name, link) for name, link in found]


def load_site(
    root: Path,
    config: SiteConfig,
    report: Report,
    drafts: bool = True,
    cache: LoadCache | None = None,
    changed: Collection[Path] | None = None,
    identities: dict[str, Identity] | None = None,
) -> Site:
    """Load and validate all content. Every problem goes to `report`; broken pages are left out.

    With a `cache`, a file whose identity (size, times, inode) is unchanged since it was last read is not read
    again: its page and its diagnostics are the cached ones. `changed` (with a cache): the files known to have
    changed since the cache was filled, as a file watcher reports them; the others are then not even looked at
    (only listed, to find new and deleted ones). `identities`: the identity of content files (see
    `identity`), by path, when the caller took them just before.
    """
    site = Site(root=root, config=config)
    content = site.content_dir
    by_slug: dict[str, Paper] = {}
    trusted = _trusted_names(content / "papers", changed) if cache is not None else None
    listing = _paper_listing(content, report)
    unchanged: dict[str, Paper] = {}
    if cache is not None:
        cache.preload([path for path, _link in listing], "paper")
        if identities is not None and trusted is None:
            unchanged = cache.unchanged([path for path, _link in listing], "paper", identities)
    for path, link in listing:
        if path in unchanged:
            paper = unchanged[path]
        elif cache is None:
            paper = load_paper(Path(path), report)
        else:
            try:
                trust = trusted is not None and not link and trusted(os.path.basename(path))
                paper = cache.fetch(path, "paper", report, trusted=trust, identities=identities)
            except OSError as exc:
                report.error(path, cannot_read(exc))
                paper = None
        if paper is None:
            continue
        if paper.slug in by_slug:
            first = os.path.basename(by_slug[paper.slug].source)
            line, col = paper.slug_position
            report.error(path, f"slug '{paper.slug}' is already used by {first}", line, col)
            continue
        by_slug[paper.slug] = paper
        if drafts or not paper.draft:
            site.papers.append(paper)
    site.tags = load_tags(content / "taxonomy.yaml", report, cache)
    site.digests = load_digests(content / "digests", report, cache)
    check_digest_records(site.digests, set(by_slug), content / "digests", report)
    for paper in site.papers:
        for day in paper.digests:
            site.digests.setdefault(day, Digest(date=day))
    if cache is not None:
        cache.finish()
    return site


def check_digest_records(
    digests: Mapping[date, Digest], slugs: Collection[str], folder: Path, report: Report
) -> None:
    """Warn of each slug a digest record lists that no page has (any page, drafts too)."""
    for day, record in sorted(digests.items()):
        missing = [slug for slug in record.order if slug not in slugs]
        if not missing:
            continue
        path = folder / f"{day.isoformat()}.yaml"
        lines = _record_lines(path)
        for slug in missing:
            line, col = _position_of(lines, slug)
            report.warning(path, f"digest record lists {shown(slug)}, but no paper has that slug", line, col)


def _record_lines(path: Path) -> list[str]:
    try:
        return read_bytes(path).decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _position_of(lines: list[str], needle: str) -> tuple[int, int]:
    """Line and column of the first occurrence of `needle` in `lines` (0, 0 if none)."""
    for number, line in enumerate(lines, start=1):
        col = line.find(needle)
        if col >= 0:
            return number, col + 1
    return 0, 0


def _trusted_names(folder: Path, changed: Collection[Path] | None) -> Callable[[str], bool] | None:
    """Which page files (by name) need not be looked at: with a list of changed files, those not in it,
    compared by real path. (Symbolic links are always looked at: their targets may change unseen.)"""
    if changed is None:
        return None
    real_folder = os.path.realpath(folder)
    named = {os.path.realpath(p) for p in changed}
    if any(p == real_folder or real_folder.startswith(p + os.sep) for p in named):
        return None  # the folder itself, or one around it: trust nothing of it
    names = {os.path.basename(p) for p in named if os.path.dirname(p) == real_folder}
    return lambda name: name not in names
