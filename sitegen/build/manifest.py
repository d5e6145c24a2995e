"""The output manifest, `.sitegen-manifest.json` in the output folder: what sitegen wrote there (each file's
fingerprint, size and mtime after writing, the key of the inputs it was made from, and what it read), and
what the last build noted about itself. Its one reader and one writer.

JSON with one file per line, easy to read and to diff; the keys files read are numbers into one table of
names at the end (a key is read by many pages). A manifest with any row sitegen would not write (damaged, or
edited by hand) is not used at all: the build then compares bytes.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
import zlib
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from json.encoder import encode_basestring_ascii as _json_string
from operator import itemgetter
from pathlib import Path
from typing import Any

from sitegen.store.files import atomic_write

MANIFEST = ".sitegen-manifest.json"


class Record:
    """What the manifest remembers of a written file: content hash, size and mtime after writing, and the key
    of the inputs it was made from ("" when unknown: the file is then made again and compared). A build reads
    and writes one for each of its ten thousand files."""

    __slots__ = ("_reads", "fingerprint", "key", "mtime_ns", "row", "size", "table")

    def __init__(
        self,
        fingerprint: str,
        size: int,
        mtime_ns: int,
        key: str = "",
        reads: tuple[str, ...] | None = (),
        row: str = "",
        table: list[str] | None = None,
    ):
        self.fingerprint = fingerprint
        self.size = size
        self.mtime_ns = mtime_ns
        self.key = key
        self._reads = reads
        #: The record's row as the manifest it was read from has it, and that manifest's table of read keys
        #: (the next manifest, when it keeps that table, writes the row as it was: most files of a build are
        #: kept). With reads None, they are read from the row when first asked for.
        self.row = row
        self.table = table

    @property
    def reads(self) -> tuple[str, ...]:
        """What the file was made from (see sitegen.build.deps): the keys its key hashes the versions of."""
        reads = self._reads
        if reads is None:
            reads = self._reads = _row_reads(self.row, self.table or [])
        return reads

    def fields(self) -> tuple[str, int, int, str, tuple[str, ...]]:
        return (self.fingerprint, self.size, self.mtime_ns, self.key, self.reads)

    def with_row(self, row: str, table: list[str]) -> Record:
        return Record(self.fingerprint, self.size, self.mtime_ns, self.key, self._reads, row, table)

    def __eq__(self, other: object) -> bool:  # (row and table are how it was stored, not what it says)
        return self is other or (isinstance(other, Record) and self.fields() == other.fields())

    def __hash__(self) -> int:
        return hash(self.fields())

    def __repr__(self) -> str:
        return f"Record{self.fields()!r}"


#: The reads of a row that does not hold numbers of its table (a manifest made by hand to look like
#: sitegen's): a key no object has, whose version never equals one a page was made with.
_UNREADABLE = ("\0unreadable#",)


def _row_reads(row: str, table: list[str]) -> tuple[str, ...]:
    """The read keys of a manifest row as _manifest_row writes it, named by `table`."""
    inner = row[row.rfind("[") + 1 : -2]
    if not inner:
        return ()
    try:
        return _named(list(map(int, inner.split(","))), table)
    except (ValueError, IndexError):
        return _UNREADABLE


def _named(numbers: list[Any], table: list[str]) -> tuple[str, ...]:
    """The names of `table` that a row's read numbers stand for; IndexError for a number that is not a place
    in it (a negative one included), TypeError for one that is no number."""
    # (itemgetter, which gives a tuple of two or more: the rows hold hundreds of thousands of numbers)
    names = itemgetter(*numbers)(table) if len(numbers) > 1 else tuple(table[i] for i in numbers)
    if numbers and min(numbers) < 0:
        raise IndexError("a negative read number")
    return names


def read_manifest(out: Path) -> dict[str, Record]:
    return load_manifest(out)[0]


def load_manifest_notes(out: Path) -> dict[str, Any]:
    """What the last build noted about itself (see load_manifest), from the manifest's first line alone: a
    build needs it before it has read the records of ten thousand files."""
    try:
        with open(out / MANIFEST, "rb") as file:
            head = _head(file.readline())
    except OSError:
        return {}
    return _notes(head) if head is not None else {}


def _head(line: bytes) -> dict[str, Any] | None:
    """The manifest's first line, read as the object it opens (see _text); None if it is not one."""
    try:
        head = json.loads(line.rstrip().removesuffix(b",") + b"}")
    except ValueError:
        return None
    return head if type(head) is dict else None


def _notes(manifest: dict[str, Any]) -> dict[str, Any]:
    """What the build that wrote a manifest (its head, or the whole of it) noted about itself."""
    build = manifest.get("build")
    return build if isinstance(build, dict) else {}


def load_manifest(out: Path) -> tuple[dict[str, Record], dict[str, Any]]:
    """The records of the files sitegen wrote into `out`, and what the build that wrote them noted about
    itself (see Staging.commit); empty when there is no usable manifest. A manifest with any row that sitegen
    would not write (a damaged or hand-edited one) is not used at all: the build then compares bytes."""
    try:
        data = (out / MANIFEST).read_bytes()
        checked = _checked(data)
        if checked is not None:
            return checked
        text = data.decode("utf-8")
        files = json.loads(text)
        return _records(files["files"], files.get("reads", []), text), _notes(files)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}, {}


def _checked(data: bytes) -> tuple[dict[str, Record], dict[str, Any]] | None:
    """The records and notes of a manifest whose text after its first line is the one the first line's
    checksum was made of (as sitegen wrote it, untouched), read without a full parse: each row's fields
    split off its text, its reads left to be read when asked for (a build keeps most files, and tells which
    read a changed key from the rows' text, see readers). None for any other manifest (see _records)."""
    end = data.find(b"\n")
    head = _head(data[:end]) if end > 0 else None
    check = head.get("check") if head is not None else None
    if type(check) is not int or zlib.crc32(memoryview(data)[end + 1 :]) != check:
        return None
    # (Split where JSON text holds no line break: the rows, then the table. No slice of the megabytes of the
    # text is taken: each copy would be fresh memory, a page fault per 4 KB.)
    rows = str(memoryview(data)[end + 1 :], "utf-8").split(",\n")
    tail = rows.pop()
    if not (rows and rows[0].startswith(_FILES) and rows[-1].endswith("\n}") and tail.startswith(_READS)):
        return None
    try:
        table, stop = _DECODER.raw_decode(tail, len(_READS))
    except ValueError:
        return None
    if type(table) is not list or tail[stop:] != "}\n":
        return None
    rows[0] = rows[0][len(_FILES) :]
    rows[-1] = rows[-1][:-2]
    records = {}
    for row in rows if rows != [""] else ():
        start = row.find('":["')
        fields = row[start + 3 :].split(",", 4)
        if start < 1 or row[0] != '"' or len(fields) != 5 or "\\" in row:
            return None  # (an escape in a path or key, or a row of odd types: rare, and read in full)
        fingerprint_, size, mtime_ns, key, _ = fields
        records[row[1:start]] = Record(
            fingerprint_[1:-1], int(size), int(mtime_ns), key[1:-1], None, row, table
        )
    return records, _notes(head)


#: What opens the rows, what opens the table of read keys, and what comes between the last row and it.
_FILES, _READS = '"files":{\n', '"reads":'
_TABLE = "\n},\n" + _READS
_DECODER = json.JSONDecoder()


def _records(files: dict[str, Any], names: list[str], text: str = "") -> dict[str, Record]:
    """The manifest's rows as records; ValueError for a row that is not `[fingerprint, size, mtime, key(,
    reads)]` of the right types, or a path that no file can have. A row's read keys are numbers into the
    manifest's table of names. `text`: the manifest, whose lines give each record its row as written."""
    if type(names) is not list or not all(type(n) is str for n in names):
        raise ValueError("the manifest's table of reads is not a list of names")
    records = {}
    lines = _row_lines(text, files)
    for (path, row), line in zip(files.items(), lines or itertools.repeat(""), strict=False):
        if type(row) is not list or len(row) not in (4, 5):
            raise ValueError(f"bad manifest row for {path!r}")
        fingerprint_, size, mtime_ns, key = row[:4]
        indices = row[4] if len(row) == 5 else []
        if not (
            type(fingerprint_) is str
            and type(key) is str
            and isinstance(size, int | float)
            and isinstance(mtime_ns, int | float)
            and type(indices) is list
            and "\0" not in path
        ):
            raise ValueError(f"bad manifest row for {path!r}")
        if not path.isascii():
            os.fsencode(path)  # (UnicodeEncodeError, a ValueError, for a lone surrogate)
        try:
            reads = _named(indices, names)
        except (IndexError, TypeError):  # not a number, or not one of the table's
            raise ValueError(f"bad manifest row for {path!r}") from None
        records[path] = Record(fingerprint_, size, mtime_ns, key, reads, line, names if line else None)
    return records


def _row_lines(text: str, files: dict[str, Any]) -> list[str] | None:
    """The lines of the manifest `text` that hold the rows of `files`, in order, each as _manifest_row
    writes it; None unless the text is laid out as _write_manifest lays it out."""
    lines = text.split("\n")
    try:
        start = lines.index('"files":{') + 1
    except ValueError:
        return None
    rows = [line.removesuffix(",") for line in lines[start : start + len(files)]]
    if len(rows) != len(files) or not all(
        row.startswith(_json_string(path) + ":[") for row, path in zip(rows, files, strict=True)
    ):
        return None
    return rows


def _write_manifest(
    out: Path, records: dict[str, Record], build: dict[str, Any] | None = None
) -> dict[str, Record]:
    """JSON with one file per line, easy to read and to diff. Each row's read keys are numbers into one
    table of names at the end (a key is read by many pages). Returns the records, each with its row as
    written (see Record.row: the next manifest of a process that goes on, `serve`, writes it as it is)."""
    items = sorted(records.items())
    table, base = _table(records)
    rows = _rows(items, table, base)
    atomic_write(out / MANIFEST, _text(build, rows, table))
    written = dict(items)
    for row, (path, record) in zip(rows, items, strict=True):
        if record.row is not row or record.table is not table:
            written[path] = record.with_row(row, table)
    return written


def _rows(items: list[tuple[str, Record]], table: list[str], base: list[str] | None) -> list[str]:
    """The manifest's rows of `items` (sorted by path), their reads numbered by `table`; the rows of records
    read with `base` as they were read."""
    numbers: dict[str, int] = {}
    rows = []
    for path, record in items:
        # (Only the row and its table are looked at when the row is kept: a build forked the process that
        # saves its caches just before, and every object touched here is a page copied.)
        row = record.row
        if row and base is not None and record.table is base:
            rows.append(row)
            continue
        if not numbers:
            numbers = {name: number for number, name in enumerate(table)}
        rows.append(_manifest_row(path, record, numbers))
    return rows


def _text(build: dict[str, Any] | None, rows: list[str], table: list[str]) -> list[bytes]:
    """The manifest in parts: its first line the head (what the build noted, and a checksum of the rest: see
    _checked), then the rows and the table of read keys. (Parts, each encoded once: a manifest of ten
    thousand files is megabytes, and each copy of it is a fresh page of memory per 4 KB.)"""
    body = [
        _FILES.encode(),
        ",\n".join(rows).encode("utf-8"),
        _TABLE.encode(),
        json.dumps(table, separators=(",", ":")).encode("utf-8"),
        b"}\n",
    ]
    head: dict[str, Any] = {
        "generator": "sitegen",
        "comment": "files written by sitegen; the next build removes those it no longer produces",
    }
    if build:
        head["build"] = build
    head["check"] = functools.reduce(lambda crc, part: zlib.crc32(part, crc), body, 0)
    return [json.dumps(head, separators=(",", ":"))[:-1].encode("utf-8") + b",\n", *body]


def read_table(records: dict[str, Record]) -> list[str]:
    """The table of read keys the manifest of `records` has (the order of a Prior's versions)."""
    return _table(records)[0]


def _table(records: dict[str, Record]) -> tuple[list[str], list[str] | None]:
    """The table of read keys for a manifest of `records`: the table they were read with, new keys added at
    its end, so that the rows of kept files are written as they were; a new table, sorted, when the old one
    would be more than half keys no file reads any more. Also the table kept, if one was."""
    base = next((record.table for record in records.values() if record.table is not None), None)
    if base is not None:
        fresh = [record.reads for record in records.values() if record.table is not base]
        if 4 * len(fresh) < len(records):
            # Most files kept, whose reads are names of `base`: only the others' can add keys. (The table is
            # looked at again once a build makes a quarter of the files.)
            added = sorted(set().union(*fresh).difference(base))
            # (The very same list when nothing is added: the records read with it need no new one.)
            return (base + added if added else base), base
    used = set().union(*[record.reads for record in records.values()])
    if base is not None:
        known = set(base)
        if 2 * len(known & used) > len(base):
            return base + sorted(used - known), base
    return sorted(used), None


def _manifest_row(path: str, record: Record, numbers: dict[str, int]) -> str:
    """`"path":[fingerprint,size,mtime,key,[read key numbers]]` as json.dumps writes it (compact, ASCII), a
    third of its time."""
    fingerprint_, size, mtime_ns, key, reads = record.fields()
    if type(size) is int and type(mtime_ns) is int and type(fingerprint_) is str and type(key) is str:
        read_numbers = ",".join(map(str, map(numbers.__getitem__, reads)))
        head = f"{_json_string(path)}:[{_json_string(fingerprint_)},{size},{mtime_ns},{_json_string(key)}"
        return f"{head},[{read_numbers}]]"
    # (a record read from an odd manifest)
    return json.dumps({path: record.fields()[:4]}, separators=(",", ":"))[1:-1]


def readers(records: Mapping[str, Record], table: list[str], keys: AbstractSet[str]) -> set[str]:
    """The paths of `records` that read any of `keys`. A record read with `table` whose reads were not asked
    for is told by its row's text (its numbers searched for those of `keys`), without reading the row: a
    build asks this of ten thousand rows after an edit changed a few keys."""
    numbers = [str(number) for number, name in enumerate(table) if name in keys]
    if len(numbers) > _SEARCHED:  # (many alternatives: the rows are read instead)
        return {path for path, record in records.items() if not keys.isdisjoint(record.reads)}
    found = re.compile(r"[\[,](?:" + "|".join(numbers) + r")[\],]").search if numbers else None
    paths = set()
    for path, record in records.items():
        if record._reads is None and record.table is table:
            if found is not None and found(record.row, record.row.rfind("[")):
                paths.add(path)
        elif not keys.isdisjoint(record.reads):
            paths.add(path)
    return paths


#: The most numbers readers() looks for in the rows' text at once.
_SEARCHED = 24
