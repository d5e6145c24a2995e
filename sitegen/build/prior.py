"""The prior: what the files of one build were made from, kept in the cache folder for the next build, which
tells from it which files are current (`Unchanged`) by comparing each key's version once, instead of working
out every file's key (see sitegen.build.deps)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from typing import Any

from sitegen.build.deps import CHANGED, LATER, Versions, brief
from sitegen.build.manifest import Record, readers
from sitegen.build.output import Seen, seen


@dataclasses.dataclass(frozen=True, slots=True)
class Prior:
    """What the files of one build were made from, kept for the next build so that it can tell which files
    are current without working out their keys: the site-wide stamp, the keys its files read (the
    manifest's table of read keys) and the version then of each (`brief`), and each file's own inputs
    (`context_key`, brief) in the manifest's order of files (`files`). The build's manifest notes `token`:
    the two are written apart, and a prior whose token the manifest does not note describes another build
    and is not used. (The table and the files are the manifest's, kept here too: the next build compares
    the versions and looks at the files while it still reads the manifest.)"""

    token: str
    stamp: str
    table: list[str]
    versions: list[str]
    owns: list[str]
    files: list[str]

    def as_data(self) -> tuple[str, str, list[str], list[str], list[str], list[str]]:
        return (self.token, self.stamp, self.table, self.versions, self.owns, self.files)

    @classmethod
    def from_data(cls, data: Any) -> Prior | None:
        """The prior `as_data` gave; None for anything else."""
        if type(data) is not tuple or len(data) != 6:
            return None
        token, stamp, table, versions, owns, files = data
        if not (type(token) is type(stamp) is str and all(type(part) is list for part in data[2:])):
            return None
        if len(table) != len(versions) or len(owns) != len(files):
            return None
        return cls(token, stamp, table, versions, owns, files)


def compare(prior: Prior, versions: Versions) -> bytes:
    """Which keys of the prior's table have another version now (deps.Versions.verdicts of them all): run
    beside the rest of the build, in another process when it may fork."""
    return versions.verdicts(prior.table, prior.versions)


def look(prior: Prior, out: str) -> list[Seen]:
    """The size and mtime of each file of the last build, in the output folder `out` (run beside the rest
    of the build, in another process when it may fork: the build then needs to look at no file itself)."""
    return [seen(out + path) for path in prior.files]


class Unchanged:
    """Which files of the last build are current, told from its Prior: a file is current if its own inputs
    are as they were and none of the keys it read has another version now. `table` and `records`: the names
    of the keys the last build's files read and its files' records, as its manifest has them (the table must
    be the prior's). `take` gives it `compare`'s verdicts, if worked out; a key whose version could not be
    worked out then (LATER), or any key without them, is compared when a file that read it is first asked
    about (a paper's related papers, say, may still be on their way), and at most once. Once every key is
    compared, the files that read a changed key are found at once from the manifest's rows (see
    manifest.readers)."""

    __slots__ = (
        "_before",
        "_owns",
        "_prior",
        "_records",
        "_stale_files",
        "_unknown",
        "_versions",
        "stale",
        "table",
    )

    def __init__(
        self,
        prior: Prior,
        versions: Versions,
        table: list[str],
        records: Mapping[str, Record],
    ):
        self.table = table
        self._prior = prior
        self._records = records
        self._before = dict(zip(table, prior.versions, strict=True))
        self._owns = dict(zip(records, prior.owns, strict=True))
        self._versions = versions
        self._stale_files: set[str] | None = None
        self.stale: set[str] = set()
        self._unknown = set(table)

    def take(self, verdicts: bytes) -> None:
        """`compare`'s verdicts on the keys of the table (before any file is asked about)."""
        table = self.table
        if len(verdicts) == len(table):
            self.stale = {key for key, verdict in zip(table, verdicts, strict=True) if verdict == CHANGED}
            self._unknown = {key for key, verdict in zip(table, verdicts, strict=True) if verdict == LATER}

    def current(self, path: str, own: str, record: Record) -> bool | None:
        """Whether the file at `path`, whose own inputs are now `own` and whose record the last build's
        manifest has, is current; None when the prior cannot tell (a file it does not know, or whose reads
        are not names of `table`)."""
        before = self._owns.get(path)
        if before is None or record.table is not self.table:
            return None
        if before != brief(own):
            return False
        if self._unknown:
            reads = record.reads
            todo = self._unknown.intersection(reads)  # (sets: the loop over a page's reads stays in C)
            if todo:
                self._compare(todo)
            return self.stale.isdisjoint(reads)
        if self._stale_files is None:  # (every key compared: the changed ones are all known)
            self._stale_files = readers(self._records, self.table, self.stale)
        return path not in self._stale_files

    def compare_all(self) -> None:
        """Work out now the versions of every key not yet compared: once all of them can be (related papers
        are attached), one pass over the table costs less than a look at each of ten thousand pages' reads."""
        keys, self._unknown = sorted(self._unknown), set()  # (sorted: grouped by object, see verdicts)
        verdicts = self._versions.verdicts(keys, list(map(self._before.__getitem__, keys)))
        self.stale.update(itertools.compress(keys, verdicts))

    def brief(self, key: str) -> str:
        """brief() of the version of `key` now: the prior's for a key compared and found the same (its
        version was worked out elsewhere, perhaps in another process)."""
        return self.known(key) or self._versions.brief(key)

    def known(self, key: str) -> str | None:
        """brief() of the version of `key` now if the prior tells it (a key compared and found the same),
        without working the version out; None otherwise."""
        return None if key in self.stale or key in self._unknown else self._before.get(key)

    def versions_now(self) -> list[str]:
        """brief() of the version now of each key of `table`, in its order (what the next Prior keeps): the
        prior's, but for the keys found changed or not compared."""
        versions = list(self._prior.versions)
        todo = self.stale | self._unknown
        if todo:
            for i, key in enumerate(self.table):
                if key in todo:
                    versions[i] = self._versions.brief(key)
        return versions

    def _compare(self, keys: set[str]) -> None:
        self._unknown -= keys
        self.stale.update(self._versions.changed(keys, self._before.__getitem__))
