"""Diagnostics: every user-facing problem is one line, `path:line:col: message`."""

from __future__ import annotations

import difflib
import os
import re
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]

#: The longest a value quoted in a message may be, in characters: enough to recognise it, while a hostile
#: value (a megabyte-long title, a list that YAML aliases expand to millions of items) costs nothing to show.
SHOWN_CHARS = 80

# Characters that would break a diagnostic's one line or garble a terminal: C0 and C1 controls (newlines and
# tabs included), and the line and paragraph separators some terminals and editors break lines at.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def one_line(text: str) -> str:
    """`text` with every control character and line break written as an escape, so that it stays one line."""
    return _UNPRINTABLE.sub(_escape, text)


class _ShortRepr(reprlib.Repr):
    """reprlib with room for a sentence-sized value, and numbers that are never converted whole: Python
    refuses to turn an int of more than a few thousand digits into text, and converting one costs quadratic
    time."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxlist, self.maxtuple, self.maxdict, self.maxset = 3, 6, 6, 4, 6
        self.maxstring = self.maxother = SHOWN_CHARS

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() <= 256:
            return super().repr_int(x, level)
        digits = int(x.bit_length() * 0.30103) + 1  # log10(2): the digit count, give or take one
        return f"<a number of about {digits:,} digits>"

    def repr_bytes(self, x: bytes, level: int) -> str:
        text = repr(x[: self.maxstring])
        return text if len(x) <= self.maxstring else text + "..."


_SHORT = _ShortRepr()


def shown(value: Any) -> str:
    """A value as a message quotes it: its repr, cut to about SHOWN_CHARS characters without ever building the
    whole repr (every message that quotes a value from the input goes through here)."""
    text = _SHORT.repr(value)
    return text if len(text) <= SHOWN_CHARS + 10 else text[:SHOWN_CHARS] + "..."


def plural(count: int, one: str, many: str | None = None) -> str:
    """A count with its noun in the right number: `1 error`, `2 errors`, `1 anomaly`, `3 anomalies` (`many`
    for a plural that is not `one` + s)."""
    return f"{count} {one if count == 1 else many or one + 's'}"


#: A word longer than this gets no did-you-mean: no name sitegen knows is anywhere near as long.
_SUGGESTED_CHARS = 64


def did_you_mean(word: object, known: Iterable[str], what: str) -> str:
    """What to tell of an unknown name: `did you mean 'status'?` when one of `known` is close to it (a typo),
    otherwise the known names (`known fields: title, slug, ...`). `what` names the kind, in the plural."""
    choices = list(known)
    if isinstance(word, str) and len(word) <= _SUGGESTED_CHARS:
        close = difflib.get_close_matches(word, choices, n=1) or difflib.get_close_matches(
            word.lower(), choices, n=1
        )
        if close:
            return f"did you mean '{close[0]}'?"
    return f"known {what}: {', '.join(choices)}"


def display_path(path: Path | str) -> str:
    """The path as a user would type it: relative to the working folder when below it."""
    text = os.fspath(path)
    try:
        rel = os.path.relpath(text)
    except ValueError:
        return text
    return text if rel.startswith("..") else rel


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem with one input. `line` and `col` are 1-based; 0 means unknown."""

    path: str
    message: str
    line: int = 0
    col: int = 0
    severity: Severity = "error"

    def __str__(self) -> str:
        where = display_path(self.path)
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        prefix = "warning: " if self.severity == "warning" else ""
        # Escaped here, where every diagnostic is formatted, rather than by each module that makes one: a
        # file name or a quoted value may hold a newline or a control character, and a diagnostic is one line.
        return one_line(f"{where}: {prefix}{self.message}")


@dataclass(slots=True)
class Report:
    """Collects every diagnostic of a run so that all of them are shown, not only the first."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, path: Path | str, message: str, line: int = 0, col: int = 0) -> None:
        self.diagnostics.append(Diagnostic(os.fspath(path), message, line, col, "error"))

    def warning(self, path: Path | str, message: str, line: int = 0, col: int = 0) -> None:
        self.diagnostics.append(Diagnostic(os.fspath(path), message, line, col, "warning"))

    def extend(self, other: Report) -> None:
        self.diagnostics.extend(other.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def has_errors(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))


class SitegenError(Exception):
    """A problem that stops a command; the CLI prints its diagnostics and exits with `exit_code`.

    exit_code 1: the content has errors. exit_code 2: usage error or input refused as a whole.
    """

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic | str, exit_code: int = 2):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic("sitegen", diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = diagnostics
        self.exit_code = exit_code
        super().__init__("\n".join(str(d) for d in diagnostics))
