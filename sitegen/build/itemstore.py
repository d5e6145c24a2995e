"""Papers' list items kept between builds, in ROOT/.sitegen-cache: a list page that an edit reached shows
twenty to a hundred papers, and only the edited one's item changed. The others are shown as an earlier
build rendered them.

An item is kept with what it read while it rendered (sitegen.build.deps: the paper's facets, its tags'
names, the templates) and the version of each then. It is shown again only if every one of those versions
is the same now: the rule by which a page is kept, applied to the fragment. Each item is a file of its own
(named after a fingerprint of the slug), under the build's site-wide stamp (code, settings, assets) as the
file's key: the pages an edit reaches list papers of every part of the site, and a file of many items
would be read for one or two of them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence

from sitegen.build.views import PaperView
from sitegen.store.cache import CacheFolder
from sitegen.store.files import text_fingerprint

PREFIX = "item-"

#: The version of a key now, as a Prior keeps it (deps.brief).
Brief = Callable[[str], str]


class ItemStore:
    """The list items of papers rendered by earlier builds; `key`: the site-wide stamp they were made with."""

    def __init__(self, cache: CacheFolder, key: str):
        self._cache = cache
        self.key = key
        self._kept: set[str] = set()  # the slugs whose item this build took from here

    def begin(self) -> None:
        self._kept = set()

    def restore(self, view: PaperView, brief: Brief) -> bool:
        """Give `view` its item as an earlier build rendered it, if what it read then has the same versions
        now; whether it did."""
        found = self._cache.load(_name(view.slug), self.key)
        if type(found) is not tuple or len(found) != 4 or found[0] != view.slug:
            return False
        _, reads, briefs, html = found
        if not (type(reads) is type(briefs) is tuple and len(reads) == len(briefs) and type(html) is str):
            return False
        if not all(brief(key) == then for key, then in zip(reads, briefs, strict=True)):
            return False
        view.item_html.prepared(html, reads)
        self._kept.add(view.slug)
        return True

    def save(self, views: Sequence[PaperView], brief: Brief) -> None:
        """Keep the items this build rendered (not those it took from here), each with the versions of what
        it read. A build that rendered most of them (the first, or one after a change of the theme) also
        removes the files of papers it does not show."""
        made = [
            view
            for view in views
            if (item := view._item) is not None and item.done and view.slug not in self._kept
        ]
        for view in made:
            fragment = view.item_html
            reads = tuple(sorted(fragment.reads))
            entry = (view.slug, reads, tuple(map(brief, reads)), str(fragment.render()))
            self._cache.save(_name(view.slug), entry, self.key)
        self._kept.update(view.slug for view in made)
        if 2 * len(made) > len(views):
            shown = {_name(view.slug) + ".cache" for view in views}
            with contextlib.suppress(OSError):
                for entry in os.scandir(self._cache.folder):
                    if entry.name.startswith(PREFIX) and entry.name not in shown:
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)


def _name(slug: str) -> str:
    return PREFIX + text_fingerprint(slug, 8)
