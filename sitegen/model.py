"""The content model: papers, tags and digests as plain dataclasses, loaded and validated from content/."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sitegen.config import SiteConfig, site_path
from sitegen.errors import Report
from sitegen.frontmatter import Document, FrontMatterError, decode, parse, parse_yaml

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
ARXIV_RE = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")
STATUSES = ("unread", "reading", "read")

KNOWN_FIELDS = ("title", "slug", "digests", "tags", "links", "draft", "status", "rating", "arxiv")
REQUIRED_FIELDS = ("title", "slug")


@dataclass(slots=True)
class Paper:
    """One paper page. `body` is the Markdown after the front matter: the abstract, then curator notes."""

    source: Path
    title: str
    slug: str
    digests: list[date] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    draft: bool = False
    status: str | None = None
    rating: int | None = None
    arxiv: str | None = None
    body: str = ""
    body_line: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    slug_position: tuple[int, int] = (1, 1)

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
    if isinstance(text, date):
        return text
    if not isinstance(text, str) or not DATE_RE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _type_name(value: Any) -> str:
    return {list: "a list", dict: "a mapping", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


class _Validator:
    """Turns a parsed Document into a Paper, reporting every problem with its file position."""

    def __init__(self, path: Path, doc: Document, report: Report):
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
                f"{what} {value!r} may hold only lowercase ASCII letters, digits and single hyphens",
                index,
            )
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

    def paper(self) -> Paper | None:
        fields = self.doc.fields
        title = self.string("title", required=True)
        slug_value = self.string("slug", required=True)
        slug = self.slug("slug", slug_value) if slug_value is not None else None
        digests: list[date] = []
        for i, item in enumerate(self.string_list("digests")):
            parsed = parse_iso_date(item)
            if parsed is None:
                self.error("digests", f"digest date {item!r} is not a valid date (YYYY-MM-DD)", i)
            elif parsed not in digests:
                digests.append(parsed)
        tags: list[str] = []
        for i, item in enumerate(self.string_list("tags")):
            tag = self.slug("tags", item, i)
            if tag and tag not in tags:
                tags.append(tag)
        links: list[str] = []
        for i, item in enumerate(self.string_list("links")):
            if not isinstance(item, str) or not re.match(r"https?://\S+$", item):
                self.error("links", f"link {item!r} must be an http(s) URL", i)
            else:
                links.append(item)
        draft = fields.get("draft", False)
        if not isinstance(draft, bool):
            self.error("draft", f"'draft' must be true or false, not {draft!r}")
            draft = False
        status = fields.get("status")
        if status is not None and status not in STATUSES:
            self.error("status", f"'status' must be one of {', '.join(STATUSES)}, not {status!r}")
            status = None
        rating = fields.get("rating")
        if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5):
            self.error("rating", f"'rating' must be a whole number from 1 to 5, not {rating!r}")
            rating = None
        arxiv = fields.get("arxiv")
        if isinstance(arxiv, float):
            # YAML reads 2403.01230 as a number and drops the trailing zero: the id would silently change.
            self.error("arxiv", f"write the arXiv id in quotes (YAML read it as the number {arxiv!r})")
        elif arxiv is not None:
            if not isinstance(arxiv, str) or not ARXIV_RE.fullmatch(arxiv):
                self.error("arxiv", f"'arxiv' must be an arXiv id like 2403.01234, not {arxiv!r}")
                arxiv = None
        extra = {k: v for k, v in fields.items() if k not in KNOWN_FIELDS}
        for key in extra:
            line, col = self.doc.key_positions.get(key, (1, 1))
            self.report.warning(self.path, f"unknown field '{key}' (known: {', '.join(KNOWN_FIELDS)})", line, col)
        if not self.ok or title is None or slug is None:
            return None
        return Paper(
            source=self.path,
            title=title.strip(),
            slug=slug,
            digests=sorted(digests),
            tags=tags,
            links=links,
            draft=draft,
            status=status,
            rating=rating,
            arxiv=arxiv,
            body=self.doc.body,
            body_line=self.doc.body_line,
            extra=extra,
            slug_position=self.doc.position("slug"),
        )


def load_paper(path: Path, report: Report) -> Paper | None:
    """Read one page; problems go to `report` and the page is skipped (None) if it has errors."""
    try:
        text, had_bom = decode(path.read_bytes())
        doc = parse(text)
    except FrontMatterError as exc:
        report.diagnostics.append(exc.diagnostic(path))
        return None
    except OSError as exc:
        report.error(path, f"cannot read: {exc.strerror}")
        return None
    if had_bom:
        report.warning(path, "UTF-8 byte-order mark ignored", 1, 1)
    return _Validator(path, doc, report).paper()


def _load_yaml_file(path: Path, report: Report) -> Any:
    """A plain YAML data file (no front matter); positions are shifted back to the file's own lines."""
    try:
        text, _ = decode(path.read_bytes())
        data, _node = parse_yaml(text)
    except FrontMatterError as exc:
        report.error(path, exc.message, max(exc.line - 1, 1), exc.col)
        return None
    return data


def load_tags(path: Path, report: Report) -> dict[str, Tag]:
    """Tag names and descriptions from the taxonomy file (its match rules are the importer's business)."""
    if not path.is_file():
        return {}
    data = _load_yaml_file(path, report)
    entries = data.get("tags") if isinstance(data, dict) else None
    if data is not None and not isinstance(entries, list):
        report.error(path, "the taxonomy must have a 'tags:' list", 1, 1)
        return {}
    tags: dict[str, Tag] = {}
    for entry in entries or []:
        slug = entry.get("slug") if isinstance(entry, dict) else None
        if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug):
            report.error(path, f"taxonomy entry without a valid 'slug': {entry!r}"[:200], 1, 1)
            continue
        name = entry.get("name") or slug
        tags[slug] = Tag(slug=slug, name=str(name), description=str(entry.get("description") or ""))
    return tags


def load_digests(folder: Path, report: Report) -> dict[date, Digest]:
    """The per-digest order records, content/digests/<YYYY-MM-DD>.yaml."""
    digests: dict[date, Digest] = {}
    if not folder.is_dir():
        return digests
    for path in sorted(folder.glob("*.yaml")):
        data = _load_yaml_file(path, report)
        if data is None:
            continue
        day = parse_iso_date(data.get("date")) if isinstance(data, dict) else None
        if day is None:
            report.error(path, "a digest record needs 'date: YYYY-MM-DD'", 1, 1)
            continue
        order = data.get("papers") or []
        sources = data.get("sources") or []
        if not isinstance(order, list) or not all(isinstance(s, str) for s in order):
            report.error(path, "'papers' must be a list of slugs", 1, 1)
            continue
        digests[day] = Digest(date=day, order=list(order), sources=[str(s) for s in sources])
    return digests


def paper_files(content_dir: Path) -> list[Path]:
    return sorted((content_dir / "papers").glob("*.md"))


def load_site(root: Path, config: SiteConfig, report: Report, drafts: bool = True) -> Site:
    """Load and validate all content. Every problem goes to `report`; broken pages are left out."""
    site = Site(root=root, config=config)
    content = site.content_dir
    by_slug: dict[str, Paper] = {}
    for path in paper_files(content):
        paper = load_paper(path, report)
        if paper is None:
            continue
        if paper.slug in by_slug:
            first = by_slug[paper.slug].source
            line, col = paper.slug_position
            report.error(path, f"slug '{paper.slug}' is already used by {first.name}", line, col)
            continue
        by_slug[paper.slug] = paper
        if drafts or not paper.draft:
            site.papers.append(paper)
    site.tags = load_tags(content / "taxonomy.yaml", report)
    site.digests = load_digests(content / "digests", report)
    for paper in site.papers:
        for day in paper.digests:
            site.digests.setdefault(day, Digest(date=day))
    return site

