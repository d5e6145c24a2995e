"""Papers' list items kept between builds (`.sitegen-cache/items-*.cache`).

A list item (partials/paper_item.html) is rendered once per build and paper; a list page that an edit
reaches shows dozens of them, most of papers nobody edited (adding a tag to a paper moves every later paper
of the tag's pages). An item is kept with what it read and a key of the versions of those reads, as a page
is in the manifest (sitegen.build.deps): the next build shows it again only if that key is the same now,
else renders it anew. The key holds the site-wide stamp (code, settings, assets), so an item made by other
code or settings is never shown.
"""

from __future__ import annotations

from typing import Any

from sitegen.build.deps import Versions, settle
from sitegen.build.views import ITEM_TEMPLATE, PaperView
from sitegen.store.cache import CacheFolder, shard_of

#: slug -> (key, markup as UTF-8, what it read). (As bytes, a shard reads without decoding the markup of
#: items no page shows: most of what a build after one edit reads.)
Entry = tuple[str, bytes, tuple[str, ...]]


class ItemCache:
    """The list items of earlier builds, read from the cache folder a shard at a time as a build first needs
    one of its entries (a build after one edit may need a single item); `bind` gives what one build looks
    them up and stores them through."""

    NAME = "items"

    def __init__(self, cache: CacheFolder):
        self._cache = cache
        self._shards: dict[int, dict[str, Entry]] = {}
        #: The shards whose entries changed since the last save.
        self.changed: set[int] = set()

    def shard(self, slug: str) -> dict[str, Entry]:
        number = shard_of(slug)
        found = self._shards.get(number)
        if found is None:
            found = self._shards[number] = self._cache.load_shard(self.NAME, number)
        return found

    def bind(self, versions: Versions, stamp: str) -> BoundItems:
        return BoundItems(self, versions, stamp)

    def save(self) -> None:
        """Write the shards that changed (a cache only saves time: a failed write is ignored)."""
        entries = {slug: entry for number in self.changed for slug, entry in self._shards[number].items()}
        if self.changed and self._cache.save_sharded(self.NAME, entries, self.changed):
            self.changed = set()


class BoundItems:
    """The item cache as one build uses it: an entry is shown again only if its key holds for this build's
    versions and stamp."""

    def __init__(self, cache: ItemCache, versions: Versions, stamp: str):
        self._cache = cache
        self._versions = versions
        self._stamp = stamp

    def _key(self, view: PaperView, reads: tuple[str, ...]) -> str:
        return self._versions.page_key(self._stamp, f"{ITEM_TEMPLATE}\x1f{view.dep}", settle(reads))

    def find(self, view: PaperView) -> tuple[str, tuple[str, ...]] | None:
        """The markup and reads of the paper's item as an earlier build made it, if it is still what the item
        would show now."""
        entry = self._cache.shard(view.slug).get(view.slug)
        if not _valid(entry):  # (none, or not what this code writes)
            return None
        key, html, reads = entry
        if key != self._key(view, reads):
            return None
        try:
            return html.decode("utf-8"), reads
        except UnicodeDecodeError:
            return None

    def keep(self, view: PaperView, html: str, reads: tuple[str, ...]) -> None:
        reads = tuple(sorted(reads))
        self._cache.shard(view.slug)[view.slug] = (self._key(view, reads), html.encode("utf-8"), reads)
        self._cache.changed.add(shard_of(view.slug))


def _valid(entry: Any) -> bool:
    return (
        type(entry) is tuple
        and len(entry) == 3
        and type(entry[0]) is str
        and type(entry[1]) is bytes
        and type(entry[2]) is tuple
        and all(type(read) is str for read in entry[2])
    )
