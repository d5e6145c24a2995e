"""Papers' rendered Markdown kept between builds, in ROOT/.sitegen-cache: a build after an edit shows the
papers of the lists the edit reached again, and their abstracts need not be rendered again (nor the math
converter imported for them).

One file per day of the papers' latest digest ("texts-<date>"): a list shows papers of a few neighbouring
days, so a build after an edit reads a few small files, not the texts of every paper. Each holds, by the
fingerprint of the paper's body (what `render_texts` makes them of: an edit of the title, tags or status
leaves them as they are, and the parser need not even be imported), its texts as `render_texts` made them;
the file's key names the settings the Markdown was rendered with (the code and the libraries are in every
cache file's stamp).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup

from sitegen.build.dayfiles import DayFiles
from sitegen.build.views import PaperTexts, PaperView
from sitegen.store.cache import CacheFolder
from sitegen.store.files import text_fingerprint

Stored = dict[str, tuple[str, str, str, str]]


class TextStore:
    """The texts of papers rendered by earlier builds; `key`: what the Markdown was rendered with."""

    def __init__(self, cache: CacheFolder, key: Any):
        self._files = DayFiles(cache, "texts", key)

    def get(self, view: PaperView) -> PaperTexts | None:
        """The texts of the paper of `view` as an earlier build rendered them from the same body."""
        found = self._files.read(self._files.name(view)).get(_key(view))
        if type(found) is not tuple or len(found) != 4:
            return None
        abstract_html, notes_html, summary, description = found
        return PaperTexts(Markup(abstract_html), Markup(notes_html), summary, description)

    def save(self, views: Iterable[PaperView]) -> None:
        """Write the files that lack the texts of a paper rendered this build, without the texts of bodies the
        build no longer shows (a paper whose latest digest changed is another file's)."""
        views = list(views)
        added: dict[str, Stored] = {}
        keys: dict[int, str] = {}  # (each body hashed once)
        for view in views:
            texts = view.texts
            if texts is None:
                continue
            name, key = self._files.name(view), _key(view)
            keys[id(view)] = key
            if key not in self._files.read(name):
                html = (str(texts.abstract_html), str(texts.notes_html))
                added.setdefault(name, {})[key] = (*html, texts.summary, texts.description)
        if not added:
            return
        shown: dict[str, set[str]] = {name: set() for name in added}
        for view in views:
            kept = shown.get(self._files.name(view))
            if kept is not None:
                key = keys.get(id(view))
                kept.add(key if key is not None else _key(view))
        for name, entries in added.items():
            new = {key: kept for key, kept in self._files.read(name).items() if key in shown[name]}
            new.update(entries)
            self._files.write(name, new)


def _key(view: PaperView) -> str:
    """What the texts of the paper of `view` are kept by: its body, all they are made of."""
    return text_fingerprint(view.paper.body)
