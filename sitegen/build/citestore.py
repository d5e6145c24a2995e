"""Papers' citations kept between builds, in ROOT/.sitegen-cache: an export lists up to every paper of a
site (the reading queue's, a large tag's), and an edit that changes the list or one of its papers makes the
file again. Its other papers' entries are then taken from here rather than made again.

A citation is made from the paper's file, its slug (the key's last resort, its page's address) and the base
URL (the page's absolute address): entries are kept by slug and the fingerprint of the file, in the shards
of one cache (CacheFolder.load_sharded) named after the base URL (the code is in every cache file's stamp).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from sitegen.build.bibtex import Citation
from sitegen.build.views import PaperView, cite
from sitegen.store.cache import SHARDS, CacheFolder, shard_of
from sitegen.store.files import text_fingerprint

NAME = "citations"


class CitationStore:
    """The citations of papers made by earlier builds; `key`: the base URL they were made for."""

    def __init__(self, cache: CacheFolder, key: str):
        self._cache = cache
        self.key = key
        #: The shards' names: the key's own, so that the saver tells a shard of another key by its name.
        self._name = f"{NAME}-{text_fingerprint(key, 4)}"
        self._entries: dict[str, Any] | None = None  # every shard, once a build asks for one citation
        self._missed: list[PaperView] = []  # papers this process asked for and the store did not hold
        self._unread: set[int] = set()  # shards this process could not read

    def begin(self) -> None:
        """Start a build: what the last one missed went to its saver (which may have been another process)."""
        self._missed = []
        self._unread = set()

    def get(self, view: PaperView) -> tuple[Citation, str] | None:
        """The citation of `view`'s paper and its BibTeX entry, as an earlier build made them from the same
        file under the same slug."""
        if self._entries is None:  # (a shard missing or damaged is written whole by the saver)
            self._entries = self._cache.load_sharded(self._name, unread=self._unread)
        found = _decode(self._entries.get(_entry_key(view)))
        if found is None:
            self._missed.append(view)
        return found

    def save(self, views: Sequence[PaperView]) -> None:
        """Keep the citations of the papers the build shows: every shard when one is missing (the first
        build, another base URL), made here for the papers whose citation the build did not make (its pages
        and exports were made in other processes); else the papers this process asked for and did not find,
        added to their shards. A shard written whole holds the papers the build shows alone; one that an
        edit after another has grown past its share is written whole (the old versions of papers leave)."""
        missed, self._missed = self._missed, []
        self._unread, unread = set(), self._unread
        names = [f"{self._name}-{number:02d}" for number in range(SHARDS)]
        if all(self._cache.path(name).exists() for name in names):
            added: dict[int, dict[str, PaperView]] = {}
            for view in missed:
                if view.paper.fingerprint:
                    entry_key = _entry_key(view)
                    added.setdefault(shard_of(entry_key), {})[entry_key] = view
            whole = unread
            for number, group in added.items():
                if number in whole:
                    continue
                have = self._shard(names[number])
                if len(have) + len(group) > len(views) // SHARDS * 5 // 4 + 8:
                    whole.add(number)
                    continue
                new = {**have, **{entry_key: _encode(*cite(view)) for entry_key, view in group.items()}}
                self._cache.save(names[number], new)
        else:
            whole = set(range(SHARDS))
            self._remove_others()
        if whole:
            self._save_whole(views, names, whole)
        self._entries = None  # (read again when next asked: it lacks what was just saved)

    def _save_whole(self, views: Sequence[PaperView], names: list[str], shards: set[int]) -> None:
        have: dict[str, Any] = {}
        for number in shards:
            have.update(self._shard(names[number]))
        entries = {}
        for view in views:
            if view.paper.fingerprint and shard_of(entry_key := _entry_key(view)) in shards:
                found = have.get(entry_key)
                entries[entry_key] = found if _decode(found) is not None else _encode(*cite(view))
        self._cache.save_sharded(self._name, entries, shards)

    def _shard(self, name: str) -> dict[str, Any]:
        have = self._cache.load(name)
        return have if type(have) is dict else {}

    def _remove_others(self) -> None:
        """Remove the shards kept for other base URLs (a site is built for one at a time)."""
        for path in self._cache.folder.glob(f"{NAME}-*.cache"):
            if not path.name.startswith(self._name + "-"):
                with contextlib.suppress(OSError):
                    path.unlink()


def _entry_key(view: PaperView) -> str:
    return view.slug + "\x1f" + view.paper.fingerprint


def _encode(cited: Citation, entry: str) -> tuple[Any, ...]:
    return (
        cited.key,
        cited.title,
        cited.year,
        cited.month,
        cited.arxiv,
        cited.url,
        cited.authors,
        cited.doi,
        cited.note,
        entry,
    )


def _decode(found: Any) -> tuple[Citation, str] | None:
    if type(found) is not tuple or len(found) != 10 or type(found[9]) is not str:
        return None
    key, title, year, month, arxiv, url, authors, doi, note, entry = found
    return Citation(key, title, year, month, arxiv, url, tuple(authors), doi, note), entry
