"""Dependencies recorded while rendering (after Lektor's dependency records and Hugo's identities).

Everything a template can reach of the content is a `Tracked` object: a paper, tag or digest view, the site.
Each names itself (`dep`, e.g. "p:some-slug") and sorts its attributes into facets (`FACETS`: attribute ->
facet letter). While a page renders, every attribute a template reads of a tracked object adds the key
"<dep>#<facet>" to the page's read set; every template it loads (itself, what it extends, includes or
imports) adds "T:<name>". A facet has a version, a short string that changes whenever any attribute of the
facet may show something else (`Tracked.version(facet)`); a template's version is a hash of its source.

A page's key is a hash of the site-wide stamp (code, settings, options, assets), the page's own context
(`context_key`: its plain values, and the names of the tracked objects it was given) and the versions of
everything it read. The next build computes that hash again from the read set the manifest kept: a page is
made again if and only if something it read changed. No key is written by hand for a kind of page, so a
template that shows something new is followed without a change here.

An attribute a template reads that no facet declares is refused (an undefined-variable error naming it):
an untracked read would be a page that goes stale silently.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

import jinja2
from markupsafe import Markup

from sitegen.store.files import text_fingerprint

#: The facet of an attribute that shows nothing that can change between builds (a constant, or what the
#: site-wide stamp covers): reading it records nothing.
CONSTANT = ""
#: A view's version of a facet it lacks (named by another sitegen's manifest): equal to no version, so remade.
UNKNOWN_FACET = "\0unknown facet"


class Tracked:
    """Base of the objects templates can reach. Subclasses set `FACETS` and give `dep` and `version()`."""

    __slots__ = ()
    FACETS: ClassVar[Mapping[str, str]] = {}

    @property
    def dep(self) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def version(self, facet: str) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


class Reads:
    """The read set of what is being rendered now; `stack` holds the sets of the renderings it interrupted
    (a fragment rendered on first use inside a page)."""

    __slots__ = ("current", "stack")

    def __init__(self) -> None:
        self.current: set[str] | None = None
        self.stack: list[set[str] | None] = []

    def begin(self) -> set[str]:
        self.stack.append(self.current)
        self.current = set()
        return self.current

    def end(self) -> set[str]:
        done = self.current if self.current is not None else set()
        self.current = self.stack.pop()
        return done

    def add_all(self, keys: Iterable[str]) -> None:
        if self.current is not None:
            self.current.update(keys)


class TrackingEnvironment(jinja2.Environment):
    """A Jinja environment that records, into `reads`, what the template being rendered reads of tracked
    objects and which templates it loads. Templates reach attributes only through getattr and getitem (also
    in filters such as `sort(attribute=...)` and `map`), so nothing read escapes the record."""

    reads: Reads

    def getattr(self, obj: Any, attribute: str) -> Any:
        facets = getattr(type(obj), "FACETS", None)
        if facets is None or not isinstance(obj, Tracked):
            return super().getattr(obj, attribute)
        facet = facets.get(attribute)
        if facet is None:
            return self.undefined(obj=obj, name=attribute)
        if facet:
            current = self.reads.current
            if current is not None:
                current.add(obj.dep + "#" + facet)
        return getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Tracked) and isinstance(argument, str):
            return self.getattr(obj, argument)
        return super().getitem(obj, argument)

    def _load_template(self, name: str, globals: Any) -> jinja2.Template:
        current = self.reads.current
        if current is not None:
            current.add("T:" + name)
        return super()._load_template(name, globals)


class Recording:
    """A tracked object as Python code that renders an output (an Atom feed, say) sees it: attribute reads
    are recorded into `reads` as a template's would be, and tracked values it returns are wrapped too."""

    __slots__ = ("_obj", "_reads")

    def __init__(self, obj: Tracked, reads: set[str]):
        self._obj = obj
        self._reads = reads

    def __getattr__(self, attribute: str) -> Any:
        obj = self._obj
        facet = obj.FACETS.get(attribute)
        if facet is None:
            raise AttributeError(f"{type(obj).__name__}.{attribute} is not a tracked attribute")
        if facet:
            self._reads.add(f"{obj.dep}#{facet}")
        value = getattr(obj, attribute)
        # (An export reads three attributes of each of thousands of papers: plain values go back as they are.)
        return value if type(value) in _AS_IS else recording(value, self._reads)


_AS_IS = frozenset({str, Markup, bool, int, float, type(None), date})


def recording(value: Any, reads: set[str]) -> Any:
    """`value` with every tracked object in it (directly, or in a list or tuple) wrapped in a Recording."""
    if isinstance(value, Tracked):
        return Recording(value, reads)
    if isinstance(value, list | tuple) and value and isinstance(value[0], Tracked):
        return RecordedList(value, reads)
    return value


class RecordedList(Sequence[Recording]):
    """A list of tracked objects as Python code sees it: each wrapped in a Recording when taken, so that
    code that takes the first few (a feed's newest papers of ten thousand) reads those alone."""

    __slots__ = ("_items", "_reads")

    def __init__(self, items: Sequence[Tracked], reads: set[str]):
        self._items = items
        self._reads = reads

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [Recording(item, self._reads) for item in self._items[index]]
        return Recording(self._items[index], self._reads)

    def __iter__(self) -> Iterator[Recording]:
        reads = self._reads
        for item in self._items:
            yield Recording(item, reads)


@dataclasses.dataclass(frozen=True, slots=True)
class Derived:
    """A file that Python code makes from tracked views (a feed, an export): its path, a text of what else it
    depends on (its settings, its format), and its maker, which reads the views through `recording` into the
    set it is given."""

    path: str
    own: str
    make: Callable[[set[str]], bytes]
    #: About how much work making it is (the papers it lists), to share files among processes evenly.
    weight: int = 1


class Fragment:
    """Markup that a template renders once per build and many pages show (the site header, a paper's list
    item). Shown in a page, it adds what it read to that page's reads, so the page depends on what the
    fragment shows exactly as if it had rendered it itself."""

    __slots__ = ("_env", "_html", "_make", "_reads")

    def __init__(self, env: TrackingEnvironment, make: Callable[[], str]):
        self._env = env
        self._make = make
        self._html: Markup | None = None
        self._reads: frozenset[str] = frozenset()

    def render(self) -> Markup:
        reads = self._env.reads
        if self._html is None:
            reads.begin()
            try:
                html = Markup(self._make())
            finally:
                done = reads.end()
            self._html, self._reads = html, frozenset(done)
        reads.add_all(self._reads)
        return self._html

    def prepared(self, html: str, keys: Iterable[str]) -> None:
        """Set the rendering made elsewhere (another process) from the same inputs."""
        self._html, self._reads = Markup(html), frozenset(keys)

    @property
    def reads(self) -> frozenset[str]:
        return self._reads

    @property
    def done(self) -> bool:
        return self._html is not None

    def __html__(self) -> str:
        return self.render()

    def __str__(self) -> str:
        return str(self.render())

    def __bool__(self) -> bool:
        return bool(self.render())


# --- keys ---------------------------------------------------------------------------------------------------


def context_key(value: Any) -> str:
    """A text that changes whenever `value` (a page's context) may render differently, whatever template
    shows it: plain values by their repr, tracked objects by their name alone (what a template reads of
    them is recorded while it renders), containers and plain dataclasses by their parts. A value of any
    other type is refused: it could change without its key changing."""
    parts: list[str] = []
    _key_parts(value, parts)
    return "".join(parts)


_PLAIN = frozenset({str, int, float, bool, date, type(None)})


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def _key_parts(value: Any, out: list[str]) -> None:
    # Exact types first: a build keys every page's context, and most values are plain or lists of views.
    kind = type(value)
    if kind in _PLAIN:
        out.append(repr(value) + ";")
    elif kind is list or kind is tuple:
        out.append("[")
        for item in value:
            if isinstance(item, Tracked):
                out.append("@" + item.dep + ";")
            else:
                _key_parts(item, out)
        out.append("]")
    elif kind is dict:
        # In the dict's own order: a page's key is only ever compared with the same page's of another build,
        # whose context the same code made (another order makes another key, and the page is made again).
        out.append("{")
        for name, item in value.items():
            out.append(repr(name) + ":")
            if isinstance(item, Tracked):
                out.append("@" + item.dep + ";")
            else:
                _key_parts(item, out)
        out.append("}")
    elif isinstance(value, Tracked):
        out.append("@" + value.dep + ";")
    elif isinstance(value, str | int | float | bool | date):
        out.append(repr(value) + ";")  # (Markup is a str: its repr shows its type)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        out.append(type(value).__qualname__ + "(")
        for name in _field_names(type(value)):
            _key_parts(getattr(value, name), out)
        out.append(")")
    else:
        raise TypeError(f"a page context holds a {type(value).__name__}, which no key can follow")


#: Between the names of a page's templates in its one template key (no file name holds it).
TEMPLATE_SEPARATOR = "\0"


def settle(reads: Iterable[str]) -> tuple[str, ...]:
    """A read set as the manifest keeps it: sorted, the templates a page loaded as one key ("T:" and their
    names), since most pages load the same few and a site has many pages."""
    templates = sorted(key[2:] for key in reads if key.startswith("T:"))
    settled = sorted(key for key in reads if not key.startswith("T:"))
    if templates:
        settled.insert(0, "T:" + TEMPLATE_SEPARATOR.join(templates))
    return tuple(settled)


class Versions:
    """The current version of every key a page can have read, worked out on first use (tracked objects'
    facets by their `dep`, templates by their source)."""

    def __init__(self, objects: Callable[[str], Tracked | None], template: Callable[[str], str]):
        self._objects = objects
        self._template = template
        self._values: dict[str, str] = {}  # key -> its version
        self._briefs: dict[str, str] = {}  # key -> brief(its version)
        self._pairs: dict[str, str] = {}  # key -> key and brief(its version), as page keys hash them
        #: brief() of a key's version if known without working it out (see prior.Unchanged.known), or None.
        self.known: Callable[[str], str | None] = dict[str, str]().get

    def _compute(self, key: str) -> str:
        if key.startswith("T:"):
            return "\x1e".join(map(self._template, key[2:].split(TEMPLATE_SEPARATOR)))
        dep, _, facet = key.rpartition("#")
        return _facet_version(self._objects(dep), facet)

    def version(self, key: str) -> str:
        value = self._values.get(key)
        if value is None:
            value = self._values[key] = self._compute(key)
        return value

    def brief(self, key: str) -> str:
        """brief() of the version of `key` (what a Prior keeps of it)."""
        value = self._briefs.get(key)
        if value is None:
            value = self._briefs[key] = brief(self.version(key))
        return value

    def verdicts(self, keys: Sequence[str], before: Sequence[str]) -> bytes:
        """For each of `keys`, whether its brief() is the one `before` gives in the same place (SAME), another
        (CHANGED), or cannot be worked out yet (LATER: NotYet). Keeps nothing (it runs in another process);
        a table of keys comes grouped by object, each looked up once."""
        out = bytearray(len(keys))
        objects, template = self._objects, self.version
        last, version = None, _gone
        # (One loop over forty thousand keys: each step kept to a few operations, brief() inlined.)
        for i, (key, then) in enumerate(zip(keys, before, strict=True)):
            try:
                if key.startswith("T:"):
                    value = template(key)
                else:
                    dep, _, facet = key.rpartition("#")
                    if dep != last:
                        last, obj = dep, objects(dep)
                        version = _gone if obj is None else obj.version
                    value = version(facet)
            except NotYet:
                out[i] = LATER
                continue
            if (value if len(value) <= BRIEF else brief(value)) != then:
                out[i] = CHANGED
        return bytes(out)

    def changed(self, keys: Iterable[str], before: Callable[[str], str]) -> list[str]:
        """The keys among `keys` whose brief() differs from `before(key)`."""
        return [key for key in keys if self.brief(key) != before(key)]

    def page_key(self, stamp: str, own: str, reads: Sequence[str]) -> str:
        """The key of a page: the site-wide stamp, its own context and the versions (brief()) of what it read
        (`reads`, sorted, as the manifest keeps them), those `known` gives without working them out."""
        pairs, known = self._pairs, self.known
        try:  # (a build works out the keys of all its pages: the loop stays in C where it can)
            parts = [pairs[key] for key in reads]
        except KeyError:
            for key in reads:
                if key not in pairs:
                    pairs[key] = key + "\x1f" + (known(key) or self.brief(key))
            parts = [pairs[key] for key in reads]
        return text_fingerprint("\x1f".join([stamp, own, *parts]))


def _facet_version(obj: Tracked | None, facet: str) -> str:
    return _gone(facet) if obj is None else obj.version(facet)


def _gone(facet: str) -> str:
    """The version of any facet of an object that is gone: it cannot equal any earlier version."""
    return "-"


class NotYet(Exception):
    """A version that cannot be worked out yet: what it shows is still being computed elsewhere (related
    papers, in another process)."""


#: Versions.verdicts' answers.
SAME, CHANGED, LATER = 0, 1, 2


def brief(text: str) -> str:
    """`text`, or its fingerprint when longer: what a Prior keeps of a version or a file's own inputs."""
    return text if len(text) <= BRIEF else "#" + text_fingerprint(text)


#: Texts longer than this a Prior keeps as their fingerprint (a page's own inputs are shorter).
BRIEF = 160
