"""The items of a JSON list, one at a time, from a file of any size.

The standard library parses JSON only from a whole string, which for a large export means the file's text and
its parsed form in memory together. Here the text is read in chunks; each item of the top-level list is found
by scanning brackets and strings (regular expressions, no per-character Python loop) and parsed on its own by
the json module, so memory holds one item at a time and every byte is parsed once. Errors carry the file's own
line and column, whichever item they are in.
"""

from __future__ import annotations

import codecs
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from sitegen.importer.readers.entry import ReaderError

_WHITESPACE = re.compile(r"[ \t\r\n]*")
_BRACKET_OR_QUOTE = re.compile(r'[\[\]{}"]')
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.S)  # after the opening quote, to the closing one
_SCALAR = re.compile(r"[^,\]}\s]*")


def utf8_text(chunks: Iterable[bytes]) -> Iterator[str]:
    """Text from byte chunks (a UTF-8 byte-order mark dropped). A byte that is not UTF-8 raises ReaderError
    at its line and column."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, col, first = 0, 0, True
    for chunk in itertools.chain(chunks, [None]):
        try:
            text = decoder.decode(chunk or b"", final=chunk is None)
        except UnicodeDecodeError as exc:
            good = exc.object[: exc.start].decode("utf-8")
            line = lines + good.count("\n") + 1
            at = (len(good) - good.rfind("\n")) if "\n" in good else col + len(good) + 1
            message = f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as UTF-8"
            raise ReaderError(message, line, at) from None
        if first and text:
            text, first = text.removeprefix("\ufeff"), False
        lines += text.count("\n")
        last = text.rfind("\n")
        col = len(text) - last - 1 if last >= 0 else col + len(text)
        if text:
            yield text


class JsonItems:
    """Iterate over (item, line, col) of a JSON document: the items of its top-level list, or the document
    itself if it is an object (then `top` is "{"). Raises ReaderError for anything that is not JSON."""

    def __init__(self, text: Iterable[str]):
        self._text = iter(text)
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._line, self._col = 1, 1  # where _buf[0] is in the file
        self.top = ""

    # -- the buffer ---------------------------------------------------------------------------------------

    def _more(self) -> bool:
        """Read more text: at least as much as the buffer holds, so that a long item costs linear time."""
        if self._eof:
            return False
        want, pieces = max(len(self._buf) - self._pos, 1 << 16), []
        got = 0
        while got < want:
            piece = next(self._text, None)
            if piece is None:
                self._eof = True
                break
            pieces.append(piece)
            got += len(piece)
        if pieces:
            self._buf += "".join(pieces)
        return bool(pieces)

    def _drop(self) -> None:
        """Forget what was read before the current position (only between items: positions then restart)."""
        if self._pos:
            self._line, self._col = self._where(self._pos)
            self._buf, self._pos = self._buf[self._pos :], 0

    def _where(self, index: int) -> tuple[int, int]:
        newlines = self._buf.count("\n", 0, index)
        if not newlines:
            return self._line, self._col + index
        return self._line + newlines, index - self._buf.rfind("\n", 0, index)

    def _skip_space(self) -> bool:
        """Move past whitespace; False at the end of the file."""
        while True:
            self._pos = _WHITESPACE.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return True
            if not self._more():
                return False

    def _error(self, message: str, index: int | None = None) -> ReaderError:
        return ReaderError(message, *self._where(len(self._buf) if index is None else index))

    # -- items --------------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[tuple[Any, int, int]]:
        if not self._skip_space():
            raise ReaderError("empty file", 1, 1)
        first = self._buf[self._pos]
        if first == "{":
            self.top = "{"
            yield self._item()
            self._expect_end("the object")
            return
        if first != "[":
            raise self._error("not JSON: a JSON file starts with '[' or '{'", self._pos)
        self.top = "["
        self._pos += 1
        count = 0
        while True:
            if not self._skip_space():
                raise self._error("the file ends before the list is closed with ']'")
            char = self._buf[self._pos]
            if char == "]":
                self._pos += 1
                break
            if count:
                if char != ",":
                    raise self._error(f"expected ',' or ']' after an item, not {char!r}", self._pos)
                comma = self._pos
                self._pos += 1
                if not self._skip_space():
                    raise self._error("the file ends before the list is closed with ']'")
                if self._buf[self._pos] == "]":
                    raise self._error("a comma before ']' (JSON allows none)", comma)
            self._drop()
            yield self._item()
            count += 1
        self._expect_end("the list")

    def _expect_end(self, what: str) -> None:
        if self._skip_space():
            raise self._error(f"more text after the end of {what}", self._pos)

    def _item(self) -> tuple[Any, int, int]:
        start = self._pos
        char = self._buf[start]
        if char in "[{":
            end = self._nested_end(start)
        elif char == '"':
            end = self._string_end(start)
        else:
            end = self._scalar_end(start)
        text = self._buf[start:] if end is None else self._buf[start:end]
        line, col = self._where(start)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            at_line = line + exc.lineno - 1
            at_col = col + exc.colno - 1 if exc.lineno == 1 else exc.colno
            raise ReaderError(f"not valid JSON: {exc.msg}", at_line, at_col) from None
        except RecursionError:
            raise ReaderError("not readable: lists or objects nested too deeply", line, col) from None
        if end is None:  # (json.loads refuses a cut item; this is for safety only)
            raise self._error("the file ends inside an item")
        self._pos = end
        return value, line, col

    def _nested_end(self, start: int) -> int | None:
        """The index after the bracket that closes the one at `start` (None: the file ends first)."""
        depth, index = 0, start
        while True:
            match = _BRACKET_OR_QUOTE.search(self._buf, index)
            if match is None:
                index = len(self._buf)
                if not self._more():
                    return None
                continue
            if match.group() == '"':
                end = _STRING_REST.match(self._buf, match.end())
                if end is None:
                    index = match.start()
                    if not self._more():
                        return None
                    continue
                index = end.end()
                continue
            depth += 1 if match.group() in "[{" else -1
            index = match.end()
            if depth == 0:
                return index

    def _string_end(self, start: int) -> int | None:
        while (end := _STRING_REST.match(self._buf, start + 1)) is None:
            if not self._more():
                return None
        return end.end()

    def _scalar_end(self, start: int) -> int | None:
        while True:
            end = _SCALAR.match(self._buf, start).end()  # type: ignore[union-attr]
            if end < len(self._buf) or not self._more():
                return end
