"""content/taxonomy.yaml, its one reader: the tags (slug, name, description) and their match rules, applied
to a paper's title and abstract. Pure functions. The build shows the tags' names and descriptions
(sitegen.content.model.load_tags), the importer applies the rules; both read the file with parse_taxonomy, so
that `check`, `build` and `import` find the same problems in it.

    max_tags: 4
    tags:
      - slug: pruning                          # lowercase ASCII letters, digits and single hyphens
        name: Pruning                          # default: the slug
        description: Removing weights or units.
        match: ...

Each tag has `match` rules (none: a tag the curator assigns by hand):

    match:
      title: [pruning, prune*, sparsity]     # any of these in the title gives the tag
      abstract: [pruning, pruned]            # ... or these in the abstract, at least `abstract_min` times
      abstract_min: 2                        # default 1
      exclude: [pruning-free]                # none of these may appear in title or abstract

A pattern is a word or phrase matched at word boundaries, case-insensitively unless it contains an uppercase
letter (then exactly: "RL" does not match "rl" inside a URL-ish word, "LoRA" is not "lora"). `*` at the end of
a word matches any word ending ("prun*": prune, pruned, pruning). A pattern written "/like this/" (quoted, for
YAML) is a regular expression. A paper gets at most `max_tags` tags (top level of the file, default 4): those
matched in the title first, then the best-scoring ones, where a title hit counts 3 and each abstract hit 1.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from sitegen.content.frontmatter import FrontMatterError, decode, parse_yaml
from sitegen.content.slugs import SLUG_RE
from sitegen.errors import Diagnostic, shown
from sitegen.store.sources import cannot_read, read_bytes

DEFAULT_MAX_TAGS = 4
DEFAULT_TAXONOMY = "default_taxonomy.yaml"
TITLE_WEIGHT = 3


@dataclass(frozen=True, slots=True)
class TagRule:
    slug: str
    name: str
    description: str = ""
    title: tuple[Matcher, ...] = ()
    abstract: tuple[Matcher, ...] = ()
    abstract_min: int = 1
    exclude: tuple[Matcher, ...] = ()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    rules: tuple[TagRule, ...] = ()
    max_tags: int = DEFAULT_MAX_TAGS

    @property
    def slugs(self) -> list[str]:
        return [rule.slug for rule in self.rules]


@dataclass(slots=True)
class TaxonomyResult:
    taxonomy: Taxonomy
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def pattern_source(pattern: str) -> str:
    """The regular expression of one match pattern (see the module docstring), flags included."""
    if len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/"):
        return pattern[1:-1]
    parts = []
    for word in pattern.split():
        if word.endswith("*") and len(word) > 1:
            parts.append(re.escape(word[:-1]) + r"[\w-]*")
        else:
            parts.append(re.escape(word))
    body = r"[\s-]+".join(parts)  # "fine tuning" matches "fine-tuning" and "fine tuning"
    case = "" if any(ch.isupper() for ch in pattern) else "(?i)"
    return rf"{case}(?<!\w){body}(?!\w)"


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """One match pattern as a compiled regular expression. Raises re.error."""
    return re.compile(pattern_source(pattern))


@dataclass(frozen=True, slots=True)
class Matcher:
    """A compiled pattern and a plain substring that any match must contain (checked first: it is fast)."""

    regex: re.Pattern[str]
    needle: str | None = None

    def count(self, text: str, lowered: str) -> int:
        if self.needle is not None and self.needle not in lowered:
            return 0
        return len(self.regex.findall(text))


def matcher(pattern: str) -> Matcher:
    """A Matcher for one pattern. Raises re.error."""
    regex = compile_pattern(pattern)
    if pattern.startswith("/") and pattern.endswith("/") and len(pattern) >= 2:
        return Matcher(regex)
    return Matcher(regex, pattern.split()[0].rstrip("*").lower() or None)


def count_hits(patterns: tuple[Matcher, ...], text: str) -> int:
    lowered = text.lower()
    return sum(m.count(text, lowered) for m in patterns)


def score(rule: TagRule, title: str, abstract: str) -> int:
    """How strongly a paper matches a tag; 0 means it does not get the tag."""
    if rule.exclude and (count_hits(rule.exclude, title) or count_hits(rule.exclude, abstract)):
        return 0
    in_title = count_hits(rule.title, title)
    in_abstract = count_hits(rule.abstract, abstract)
    if in_title:
        return TITLE_WEIGHT * in_title + in_abstract
    return in_abstract if in_abstract >= rule.abstract_min else 0


def assign_tags(taxonomy: Taxonomy, title: str, abstract: str) -> list[str]:
    """The tags of a paper, at most taxonomy.max_tags: tags matched in the title first (a title says what a
    paper is about; an abstract also says what it is compared with), then by score, ties in taxonomy order."""
    ranked = []
    for i, rule in enumerate(taxonomy.rules):
        value = score(rule, title, abstract)
        if value:
            in_title = bool(count_hits(rule.title, title))  # value > 0: not excluded
            ranked.append((not in_title, -value, i, rule.slug))
    ranked.sort()
    return [slug for *_, slug in ranked[: taxonomy.max_tags]]


# --- loading ------------------------------------------------------------------------------------------------


def _line(node: yaml.Node | None) -> tuple[int, int]:
    """File position of a node; parse_yaml counts as if a '---' line came first, a data file has none."""
    if node is None:
        return 1, 1
    return node.start_mark.line + 1, node.start_mark.column + 1


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return {str(k.value): (k, v) for k, v in node.value} if isinstance(node, yaml.MappingNode) else {}


def _null(node: yaml.Node) -> bool:
    """Whether a node is YAML's null (`~`, `null` or nothing), which a key's absence means too."""
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")


def _text(node: yaml.Node | None) -> str:
    """A scalar's text as written ("" for none, null, or a list or mapping in its place)."""
    if node is None or _null(node) or not isinstance(node, yaml.ScalarNode):
        return ""
    return str(node.value)


class _Loader:
    def __init__(self, path: Path | str):
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    def error(self, node: yaml.Node | None, message: str) -> None:
        line, col = _line(node)
        self.diagnostics.append(Diagnostic(str(self.path), message, line, col))

    def warning(self, node: yaml.Node | None, message: str) -> None:
        line, col = _line(node)
        self.diagnostics.append(Diagnostic(str(self.path), message, line, col, "warning"))

    def patterns(self, node: yaml.Node | None, what: str) -> tuple[Matcher, ...]:
        if node is None or _null(node):
            return ()
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        good = []
        for item in items:
            if not isinstance(item, yaml.ScalarNode) or not str(item.value).strip():
                self.error(item, f"'{what}' patterns must be words, phrases or /regular expressions/")
                continue
            try:
                good.append(matcher(str(item.value).strip()))
            except re.error as exc:
                self.error(item, f"bad regular expression {shown(item.value)}: {exc}")
        return tuple(good)

    def rule(self, entry: yaml.Node) -> TagRule | None:
        fields = _mapping(entry)
        if not fields:
            self.error(entry, "a tag is a mapping with 'slug', 'name', 'description' and 'match'")
            return None
        slug_node = fields.get("slug", (None, None))[1]
        slug = slug_node.value if isinstance(slug_node, yaml.ScalarNode) else None
        if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug):
            self.error(
                slug_node or entry,
                f"tag slug {shown(slug)} may hold only lowercase ASCII letters, digits and single hyphens",
            )
            return None
        for key, (key_node, _) in fields.items():
            if key not in ("slug", "name", "description", "match"):
                known = "slug, name, description, match"
                self.warning(key_node, f"unknown key {shown(key)} in tag '{slug}' (known: {known})")
        name = _text(fields.get("name", (None, None))[1]) or slug
        description = _text(fields.get("description", (None, None))[1])
        match_node = fields.get("match", (None, None))[1]
        if match_node is None or _null(match_node):
            return TagRule(slug, name, description)  # a tag the curator assigns by hand
        if isinstance(
            match_node, yaml.SequenceNode
        ):  # a plain list: the same patterns for title and abstract
            patterns = self.patterns(match_node, "match")
            return TagRule(slug, name, description, patterns, patterns, 1)
        rules = _mapping(match_node)
        if not rules:
            self.error(
                match_node,
                f"'match' of tag '{slug}' must be a list of patterns or a mapping with "
                "'title', 'abstract', 'abstract_min', 'exclude'",
            )
            return None
        for key, (key_node, _) in rules.items():
            if key not in ("title", "abstract", "abstract_min", "exclude"):
                self.warning(key_node, f"unknown key {shown(key)} in the match rules of tag '{slug}'")
        minimum = 1
        min_node = rules.get("abstract_min", (None, None))[1]
        if min_node is not None:
            if not (
                isinstance(min_node, yaml.ScalarNode)
                and str(min_node.value).isdigit()
                and int(min_node.value) >= 1
            ):
                self.error(min_node, "'abstract_min' must be a whole number of at least 1")
            else:
                minimum = int(min_node.value)
        return TagRule(
            slug,
            name,
            description,
            self.patterns(rules.get("title", (None, None))[1], "title"),
            self.patterns(rules.get("abstract", (None, None))[1], "abstract"),
            minimum,
            self.patterns(rules.get("exclude", (None, None))[1], "exclude"),
        )


def default_taxonomy() -> bytes:
    """The taxonomy sitegen ships (the sample site's), for a site that has none yet."""
    return resources.files("sitegen.content").joinpath(DEFAULT_TAXONOMY).read_bytes()


def load_taxonomy(path: Path) -> TaxonomyResult:
    """Read the taxonomy file; a missing file is an empty taxonomy. Problems come back as diagnostics."""
    if not os.path.lexists(path):
        return TaxonomyResult(Taxonomy())
    try:
        data = read_bytes(path)
    except OSError as exc:
        return TaxonomyResult(Taxonomy(), [Diagnostic(str(path), cannot_read(exc))])
    return parse_taxonomy(data, path)


def parse_taxonomy(data: bytes, path: Path | str) -> TaxonomyResult:
    """Taxonomy file contents -> tags and their rules; `path` is only used to name the file in diagnostics.
    A tag with an error is left out (a bad pattern only: the tag is kept without it)."""
    loader = _Loader(path)
    try:
        text, _ = decode(data)
        _data, root = parse_yaml(text)
    except FrontMatterError as exc:
        return TaxonomyResult(Taxonomy(), [Diagnostic(str(path), exc.message, max(exc.line - 1, 1), exc.col)])
    if root is None:
        # An empty file (or one of comments only): no tags yet, as a missing file has none (a site may start
        # so); the importer then tags nothing.
        return TaxonomyResult(Taxonomy(), [])
    top = _mapping(root)
    tags_node = top.get("tags", (None, None))[1]
    if not isinstance(tags_node, yaml.SequenceNode):
        loader.error(tags_node or root, "the taxonomy must have a 'tags:' list")
        return TaxonomyResult(Taxonomy(), loader.diagnostics)
    max_tags = DEFAULT_MAX_TAGS
    max_node = top.get("max_tags", (None, None))[1]
    if max_node is not None:
        if (
            isinstance(max_node, yaml.ScalarNode)
            and str(max_node.value).isdigit()
            and int(max_node.value) >= 1
        ):
            max_tags = int(max_node.value)
        else:
            loader.error(max_node, "'max_tags' must be a whole number of at least 1")
    rules: list[TagRule] = []
    seen: set[str] = set()
    for entry in tags_node.value:
        rule = loader.rule(entry)
        if rule is None:
            continue
        if rule.slug in seen:
            loader.error(entry, f"tag '{rule.slug}' is defined twice")
            continue
        seen.add(rule.slug)
        rules.append(rule)
    loader.diagnostics.sort(key=lambda d: (d.line, d.col))
    return TaxonomyResult(Taxonomy(tuple(rules), max_tags), loader.diagnostics)


def coverage(taxonomy: Taxonomy, papers: list[tuple[str, str]]) -> tuple[float, dict[str, int]]:
    """(share of papers with at least one tag, papers per tag) over (title, abstract) pairs."""
    counts = dict.fromkeys(taxonomy.slugs, 0)
    tagged = 0
    for title, abstract in papers:
        tags = assign_tags(taxonomy, title, abstract)
        tagged += bool(tags)
        for tag in tags:
            counts[tag] += 1
    return (tagged / len(papers) if papers else 0.0), counts
