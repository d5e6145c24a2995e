"""Papers' list items kept between builds, in ROOT/.sitegen-cache: a list page that an edit reached shows
twenty to a hundred papers, and only the edited one's item changed. The others are shown as an earlier
build rendered them.

An item is kept with what it read while it rendered (sitegen.build.deps: the paper's facets, its tags'
names, the templates) and the version of each then. It is shown again only if every one of those versions
is the same now: the rule by which a page is kept, applied to the fragment. One file per day of the papers'
latest digest (sitegen.build.dayfiles), under the build's site-wide stamp (code, settings, assets).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sitegen.build.dayfiles import DayFiles
from sitegen.build.views import PaperView
from sitegen.store.cache import CacheFolder

#: The version of a key now, as a Prior keeps it (deps.brief).
Brief = Callable[[str], str]


class ItemStore:
    """The list items of papers rendered by earlier builds; `key`: the site-wide stamp they were made with."""

    def __init__(self, cache: CacheFolder, key: str):
        self.key = key
        self._files = DayFiles(cache, "items", key)
        self._kept: set[str] = set()  # the slugs whose item this build took from here

    def begin(self) -> None:
        self._kept = set()

    def restore(self, view: PaperView, brief: Brief) -> bool:
        """Give `view` its item as an earlier build rendered it, if what it read then has the same versions
        now; whether it did."""
        found = self._files.read(self._files.name(view)).get(view.slug)
        if type(found) is not tuple or len(found) != 3:
            return False
        reads, briefs, html = found
        if not (type(reads) is type(briefs) is tuple and len(reads) == len(briefs) and type(html) is str):
            return False
        if not all(brief(key) == then for key, then in zip(reads, briefs, strict=True)):
            return False
        view.item_html.prepared(html, reads)
        self._kept.add(view.slug)
        return True

    def pending(self, views: Sequence[PaperView]) -> int:
        """How many items `save` would write."""
        return sum(1 for view in views if _made(view) and view.slug not in self._kept)

    def save(self, views: Sequence[PaperView], brief: Brief) -> None:
        """Keep the items this build rendered (not those it took from here), each with the versions of what
        it read; a file written holds papers the build shows alone."""
        made: dict[str, list[PaperView]] = {}
        for view in views:
            if _made(view) and view.slug not in self._kept:
                made.setdefault(self._files.name(view), []).append(view)
        if not made:
            return
        shown = {view.slug for view in views}
        for name, group in made.items():
            entries = {slug: kept for slug, kept in self._files.read(name).items() if slug in shown}
            for view in group:
                fragment = view.item_html
                reads = tuple(sorted(fragment.reads))
                entries[view.slug] = (reads, tuple(map(brief, reads)), str(fragment.render()))
                self._kept.add(view.slug)
            self._files.write(name, entries)


def _made(view: PaperView) -> bool:
    item = view._item
    return item is not None and item.done
