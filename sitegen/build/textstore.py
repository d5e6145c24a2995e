"""Papers' rendered Markdown kept between builds, in ROOT/.sitegen-cache: a build after an edit shows the
papers of the lists the edit reached again, and their abstracts need not be rendered again (nor the math
converter imported for them).

One file per day of the papers' latest digest ("texts-<date>"): a list shows papers of a few neighbouring
days, so a build after an edit reads a few small files, not the texts of every paper. Each holds, by the
fingerprint of the paper's file, its texts as `render_texts` made them; the file's key names the settings
the Markdown was rendered with (the code and the libraries are in every cache file's stamp).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup

from sitegen.build.views import PaperTexts, PaperView
from sitegen.store.cache import CacheFolder

Stored = dict[str, tuple[str, str, str, str]]


class TextStore:
    """The texts of papers rendered by earlier builds; `key`: what the Markdown was rendered with."""

    def __init__(self, cache: CacheFolder, key: Any):
        self._cache = cache
        self._key = key
        self._files: dict[str, Stored] = {}  # the files read (or found missing) by this process

    def get(self, view: PaperView) -> PaperTexts | None:
        """The texts of the paper of `view` as an earlier build rendered them from the same file."""
        found = self._file(_name(view)).get(view.paper.fingerprint)
        if type(found) is not tuple or len(found) != 4:
            return None
        abstract_html, notes_html, summary, description = found
        return PaperTexts(Markup(abstract_html), Markup(notes_html), summary, description)

    def save(self, views: Iterable[PaperView]) -> None:
        """Write the files whose papers got texts this build that they do not hold (only the papers a file
        now groups are kept in it)."""
        groups: dict[str, list[PaperView]] = defaultdict(list)
        for view in views:
            groups[_name(view)].append(view)
        for name, group in groups.items():
            if all(view.texts is None for view in group):
                continue
            old = self._file(name)
            new: Stored = {}
            for view in group:
                fingerprint, texts = view.paper.fingerprint, view.texts
                if texts is not None:
                    html = (str(texts.abstract_html), str(texts.notes_html))
                    new[fingerprint] = (*html, texts.summary, texts.description)
                elif fingerprint in old:
                    new[fingerprint] = old[fingerprint]
            if new != old and self._cache.save(name, new, self._key):
                self._files[name] = new

    def _file(self, name: str) -> Stored:
        stored = self._files.get(name)
        if stored is None:
            data = self._cache.load(name, self._key)
            stored = self._files[name] = data if type(data) is dict else {}
        return stored


def _name(view: PaperView) -> str:
    latest = view.latest
    return "texts-" + (latest.isoformat() if latest is not None else "undated")
