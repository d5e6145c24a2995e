"""Cache files of papers grouped by the day of their latest digest ("<prefix>-<date>", "<prefix>-undated"):
the lists an edit reaches show papers of a few neighbouring days, so a build after an edit reads a few
files, not what is kept of every paper; and a first build writes one file a day, not one a paper. The
store of rendered Markdown (textstore) keeps its entries so."""

from __future__ import annotations

from typing import Any

from sitegen.build.views import PaperView
from sitegen.store.cache import CacheFolder


class DayFiles:
    """The files of one kind (`prefix`), saved under `key`; each read at most once by a process."""

    def __init__(self, cache: CacheFolder, prefix: str, key: Any):
        self._cache = cache
        self._prefix = prefix
        self.key = key
        self._files: dict[str, dict[str, Any]] = {}  # the files read (or found missing) by this process

    def name(self, view: PaperView) -> str:
        """The file that keeps what is kept of the paper of `view`."""
        latest = view.latest
        return f"{self._prefix}-" + (latest.isoformat() if latest is not None else "undated")

    def read(self, name: str) -> dict[str, Any]:
        """The entries of a file; empty when it is missing, damaged or of another key."""
        stored = self._files.get(name)
        if stored is None:
            data = self._cache.load(name, self.key)
            stored = self._files[name] = data if type(data) is dict else {}
        return stored

    def write(self, name: str, entries: dict[str, Any]) -> None:
        if self._cache.save(name, entries, self.key):
            self._files[name] = entries
