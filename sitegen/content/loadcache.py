"""The load cache: every content file as last read and parsed, kept between builds (in the cache folder) and,
in `serve`, in memory. A file is parsed again only when its identity (mtime, ctime, size, inode) changed, or
when it was written so recently that its mtime cannot vouch for it (a "racy" file, whose bytes are compared).
Papers are stored as plain rows (marshal), decoded only when used."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import astuple, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sitegen.content.model import Paper, parse_paper, parse_record, parse_tags
from sitegen.errors import Diagnostic, Report
from sitegen.store import parallel
from sitegen.store.files import fingerprint
from sitegen.store.sources import read_bytes, read_source

#: A file whose mtime is this close to the moment it was read may be written again within the same clock
#: tick without its mtime changing ("racy" in git's terms): its bytes are compared before it is trusted.
RACY_NS = 2_000_000_000


#: A file's mtime_ns, ctime_ns, size and inode.
Identity = tuple[int, int, int, int]


@dataclass(slots=True)
class _Loaded:
    identity: Identity
    kind: str
    value: Any
    diagnostics: tuple[Diagnostic, ...]
    racy_fingerprint: str = ""  # of the file's bytes, kept for racy files only
    checked: bool = False  # read, or found unchanged, by this process (not stored)


_PARSERS: dict[str, Callable[[str, bytes, Report], Any]] = {
    "paper": parse_paper,
    "tags": parse_tags,
    "record": parse_record,
}


class LoadCache:
    """Content files as last loaded, by file identity, so that an unchanged file is neither read nor parsed.

    Kept by a Builder across the rebuilds of `serve`, and in ROOT/.sitegen-cache between runs (to_data /
    from_data give a form that marshal can store; `changed` names the entries that changed since it was last
    stored). Files that the last load did not look up are forgotten.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Loaded] = {}
        self._raw: dict[str, tuple[Any, ...]] = {}  # entries from disk, decoded when first used
        self._seen: set[str] = set()
        self.changed: set[str] = set()
        self.reads = 0  # files read (not taken from the cache) by the last load

    def fetch(
        self,
        path: Path | str,
        kind: str,
        report: Report,
        trusted: bool = False,
        identities: dict[str, Identity] | None = None,
    ) -> Any:
        """The parsed content of `path` (a "paper", a digest "record" or the taxonomy's "tags"), its
        diagnostics added to `report`. `trusted`: the caller knows the file did not change since this process
        last read or checked it (a file watcher saw no change). Raises OSError when it cannot be read."""
        name = os.fspath(path)
        self._seen.add(name)
        entry = self._valid(name, kind, trusted, identities.get(name) if identities else None)
        if entry is None:
            entry = self._entries[name] = _read(name, kind)
            self.changed.add(name)
            self.reads += 1
        report.diagnostics.extend(entry.diagnostics)
        return entry.value

    def unchanged(
        self, names: Sequence[str], kind: str, identities: Mapping[str, Identity]
    ) -> dict[str, Any]:
        """fetch() in bulk for the files of `names` whose stored entry `identities` alone vouches for (not
        racy, no diagnostics): their content decoded straight from the stored rows, which stay as they are
        (what a save writes back unchanged). The other files are left to fetch()."""
        found: dict[str, Any] = {}
        raw = self._raw
        for name in names:
            row = raw.get(name)
            if row is None:
                continue
            try:
                known, row_kind, value, diagnostics, racy = row
                if row_kind != kind or racy or diagnostics or identities.get(name) != known:
                    continue
                found[name] = _decode_paper(name, value) if kind == "paper" else value
            except (TypeError, ValueError, IndexError, OverflowError):
                continue
        self._seen.update(found)
        return found

    def preload(self, paths: list[str], kind: str) -> None:
        """Read and parse, shared among processes (see sitegen.store.parallel), the files of `paths` the
        cache has never seen, when they are many (a first build): fetch() then finds them here."""
        unknown = [p for p in paths if p not in self._entries and p not in self._raw]
        if parallel.workers(len(unknown)) < 2:
            return

        def read_share(share: Sequence[str], here: bool) -> list[_Loaded | tuple[Any, ...] | None]:
            out: list[_Loaded | tuple[Any, ...] | None] = []
            for path in share:
                try:
                    entry = _read(path, kind)
                except OSError:
                    out.append(None)  # fetch() tries again and reports it
                    continue
                # A child sends plain tuples: pickling thousands of dataclasses costs more than reading them.
                out.append(entry if here else _row(entry))
            return out

        start = 0
        for result in parallel.map_chunks(read_share, unknown):
            for path, entry in zip(unknown[start : start + len(result)], result, strict=True):
                loaded = _from_row(path, entry) if isinstance(entry, tuple) else entry
                if loaded is not None:
                    loaded.checked = True  # read by this process's build, as if here
                    self._entries[path] = loaded
                    self.changed.add(path)
                    self.reads += 1
            start += len(result)

    def _valid(self, name: str, kind: str, trusted: bool, known: Identity | None) -> _Loaded | None:
        """The cached entry of a file, if the file did not change since (`known`: its identity, if known)."""
        entry = self._entries.get(name) or self._decode(name, kind)
        if entry is None or entry.kind != kind:
            return None
        if trusted and entry.checked:
            return entry
        if known is None:
            try:
                known = identity(os.stat(name))
            except OSError:
                return None
        if entry.identity != known:
            return None
        if entry.racy_fingerprint:  # racy: compare the bytes
            try:
                data = _read_bytes(name)
            except OSError:
                return None
            if fingerprint(data) != entry.racy_fingerprint:
                return None
            if known[0] < time.time_ns() - RACY_NS:
                entry.racy_fingerprint = ""  # no longer racy
                self.changed.add(name)
        entry.checked = True
        return entry

    def begin(self) -> None:
        self.reads = 0

    def finish(self) -> None:
        """End of a load: forget the files it did not look up (deleted or moved away)."""
        stale = [name for name in self._entries if name not in self._seen]
        stale += [name for name in self._raw if name not in self._seen]
        for name in stale:
            self._entries.pop(name, None)
            self._raw.pop(name, None)
        self.changed.update(stale)
        self._seen = set()

    # -- storage --------------------------------------------------------------------------------------------

    def to_data(self, wanted: Callable[[str], bool] | None = None) -> dict[str, tuple[Any, ...]]:
        """The entries (those whose name is `wanted`) in a form marshal can store."""
        data = {name: row for name, row in self._raw.items() if wanted is None or wanted(name)}
        for name, entry in self._entries.items():
            if wanted is None or wanted(name):
                data[name] = _row(entry)
        return data

    @classmethod
    def from_data(cls, data: Any) -> LoadCache:
        cache = cls()
        if isinstance(data, dict):
            cache._raw = data
        return cache

    def _decode(self, name: str, kind: str) -> _Loaded | None:
        row = self._raw.pop(name, None)
        if row is None:
            return None
        entry = _from_row(name, row)
        if entry is None or entry.kind != kind:
            return None
        self._entries[name] = entry
        return entry


def _read(path: str, kind: str) -> _Loaded:
    """Read and parse a content file (raises OSError), noting its identity and its diagnostics."""
    data, st = read_source(path)  # its identity from the open file: one path lookup, not two
    sub = Report()
    value = _PARSERS[kind](path, data, sub)
    racy = st.st_mtime_ns >= time.time_ns() - RACY_NS
    return _Loaded(identity(st), kind, value, tuple(sub.diagnostics), fingerprint(data) if racy else "", True)


def _row(entry: _Loaded) -> tuple[Any, ...]:
    """An entry as plain data (for marshal and pickle)."""
    value = _encode_paper(entry.value) if entry.kind == "paper" else entry.value
    return (
        entry.identity,
        entry.kind,
        value,
        tuple(astuple(d) for d in entry.diagnostics),
        entry.racy_fingerprint,
    )


def _from_row(path: str, row: Any) -> _Loaded | None:
    """The entry of a `_row`; None for one that is not what this version writes."""
    try:
        identity, kind, value, diagnostics, racy = row
        if kind == "paper":
            value = _decode_paper(path, value)
        return _Loaded(tuple(identity), kind, value, tuple(Diagnostic(*d) for d in diagnostics), racy)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _read_bytes(path: str) -> bytes:
    return read_bytes(path)


def identity(st: os.stat_result) -> Identity:
    """What tells a file's versions apart without reading it (see Identity)."""
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _encode_paper(paper: Paper | None) -> tuple[Any, ...] | None:
    if paper is None:
        return None
    return (
        paper.title,
        paper.slug,
        [d.toordinal() for d in paper.digests],
        paper.tags,
        paper.links,
        paper.draft,
        paper.status,
        paper.rating,
        paper.arxiv,
        paper.authors,
        paper.published.toordinal() if paper.published is not None else None,
        paper.doi,
        paper.upvotes,
        paper.body,
        paper.body_line,
        paper.extra,
        paper.slug_position,
        paper.fingerprint,
        paper.front_fingerprint,
    )


def _decode_paper(path: str, row: tuple[Any, ...] | None) -> Paper | None:
    if row is None:
        return None
    # (The row's fields are Paper's, in order; marshal and pickle give fresh lists and dicts to keep.)
    *fields, fp, front = row
    (
        title,
        slug,
        days,
        tags,
        links,
        draft,
        status,
        rating,
        arxiv,
        authors,
        published,
        doi,
        upvotes,
        body,
        body_line,
        extra,
        position,
    ) = fields
    if (
        type(tags) is not list
        or type(links) is not list
        or type(authors) is not list
        or type(extra) is not dict
        or type(position) is not tuple
    ):
        raise TypeError("not a row of this version")
    digests = list(map(date.fromordinal, days))
    return Paper(
        path,
        title,
        slug,
        digests,
        tags,
        links,
        draft,
        status,
        rating,
        arxiv,
        authors,
        date.fromordinal(published) if published is not None else None,
        doi,
        upvotes,
        body,
        body_line,
        extra,
        position,
        fp,
        front,
    )
