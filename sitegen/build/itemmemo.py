"""Papers' list items kept in memory from one build of `serve` to the next: a list page that an edit reached
shows twenty to a hundred papers, and only the edited one's item changed. The others are shown as the last
build rendered them.

An item is kept with what it read while it rendered (sitegen.build.deps: the paper's facets, its tags'
names, the templates) and the version of each then. It is shown again only if every one of those versions
is the same now: the rule by which a page is kept, applied to the fragment.

Only a builder that stays (`serve`'s) keeps them. A one-shot build never uses what it would keep, and
keeping the items in the cache folder for the next build cost a first build more than it saved the edits
after it (see benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sitegen.build.views import PaperView

#: The version of a key now, as a Prior keeps it (deps.brief).
Brief = Callable[[str], str]


class ItemMemo:
    """The list items of the last build; `key`: the site-wide stamp they were made with."""

    def __init__(self, key: str):
        self.key = key
        self._items: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {}
        self._kept: set[str] = set()  # the slugs whose item this build took from here

    def begin(self) -> None:
        self._kept = set()

    def restore(self, view: PaperView, brief: Brief) -> bool:
        """Give `view` its item as the last build rendered it, if what it read then has the same versions
        now; whether it did."""
        found = self._items.get(view.slug)
        if found is None:
            return False
        reads, briefs, html = found
        if not all(brief(key) == then for key, then in zip(reads, briefs, strict=True)):
            return False
        view.item_html.prepared(html, reads)
        self._kept.add(view.slug)
        return True

    def keep(self, views: Sequence[PaperView], brief: Brief) -> None:
        """Keep the items this build rendered (not those it took from here), each with the versions of what
        it read; forget those of papers it does not show."""
        shown = {view.slug for view in views}
        self._items = {slug: item for slug, item in self._items.items() if slug in shown}
        for view in views:
            fragment = view._item
            if fragment is None or not fragment.done or view.slug in self._kept:
                continue
            reads = tuple(fragment.reads)
            self._items[view.slug] = (reads, tuple(map(brief, reads)), fragment.render())
